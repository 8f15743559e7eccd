//! Notes as OData `$batch` requests (`[push] batch = true`).
//!
//! The notes of one drain are grouped by the text they go to: one change set per customer
//! text carries every pending note for it (a single PATCH with `If-Match`, or a POST for a
//! new text), so two notes for one customer never race each other for the ETag. Up to
//! `[push] batch_size` notes travel in one request. Before every request the texts are read
//! and only parts whose marker is missing are written, so a batch whose answer was lost
//! (timeout, crash, 5xx) is never applied twice when sent again.
//!
//! Each change set's answer decides for its notes alone: 2xx sent; 409/412 (the text
//! changed meanwhile) re-read and sent again in a follow-up batch of just those texts;
//! other 4xx failed with the ERP's message; 429/5xx left pending for the next drain.
//!
//! Every change set is repeatable: it carries `Repeatability-Request-ID` (derived from its
//! notes' idempotency keys and the write itself: [`batch::Repeatability::of`]) and
//! `Repeatability-First-Sent`. A service that honours them says so with
//! `Repeatability-Result: accepted` in its answers; to such a service a request whose
//! answer was lost (the connection dropped, the answer arrived cut off) is sent again as it
//! was, at once, and the service answers the parts it already ran from its record instead
//! of running them twice. To any other service, and when the repeats are used up, the
//! outcome stays unknown and the next drain's read decides, by the markers.

use super::notes;
use crate::erp::mapping::NotesTarget;
use crate::erp::odata::batch::{self, BatchWrite, PartResult};
use crate::erp::odata::json::sap_error_message;
use crate::erp::odata::query::with_sap_client;
use crate::erp::odata::{ErpError, ODataClient};
use crate::erp::writer::{Outcome, WriteError};
use crate::model::note::CollectorNote;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// Rounds of re-reading texts that changed between read and write.
const CONFLICT_ROUNDS: usize = 3;

/// How often a request whose answer was lost is sent again to a service that honours
/// repeatability, before the outcome is left to the next drain.
const REPEATS: u32 = 2;

/// `$batch` endpoints whose last answer to repeatable writes said
/// `Repeatability-Result: accepted`, in this process: only to these is a request whose
/// answer was lost sent again unread.
static HONOURS_REPEATABILITY: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Whether a batch whose answer was lost may be sent again: as the mapping says, else as
/// the service's answers have shown.
fn honours_repeatability(target: &NotesTarget, batch_url: &url::Url) -> bool {
    target.repeatability.unwrap_or_else(|| {
        HONOURS_REPEATABILITY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(batch_url.as_str())
    })
}

/// Remembers what the service's answers to repeatable writes said about them.
fn learn_repeatability(batch_url: &url::Url, results: &[PartResult]) {
    if results.is_empty() {
        return;
    }
    let accepted = results
        .iter()
        .any(|r| r.repeatability.as_deref() == Some("accepted"));
    let mut known = HONOURS_REPEATABILITY
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if accepted {
        known.insert(batch_url.to_string());
    } else {
        known.remove(batch_url.as_str());
    }
}

/// The outcome of one `$batch` request.
enum Answer {
    /// An answer per change set.
    Parts(Vec<PartResult>),
    /// No usable answer, and the writes may have run: the connection failed or timed out,
    /// or the answer was cut off or unreadable.
    Lost(WriteError),
    /// The service refused the request as a whole (an HTTP status): nothing ran.
    Refused(WriteError),
}

async fn post_batch(
    client: &ODataClient,
    what: &str,
    root: &url::Url,
    batch_url: &url::Url,
    request: &batch::BatchRequest,
    writes: usize,
) -> Answer {
    match client
        .post_raw(what, root, batch_url, &request.content_type, &request.body)
        .await
    {
        Ok(resp) => {
            let ct = resp.content_type.clone().unwrap_or_default();
            match batch::parse_response(&ct, &String::from_utf8_lossy(&resp.body), writes) {
                Ok(parts) => Answer::Parts(parts),
                // The request may have been applied: repeatability or the markers decide.
                Err(e) => Answer::Lost(WriteError::Transient(format!(
                    "{what} $batch: unreadable answer: {e}"
                ))),
            }
        }
        Err(e @ (ErpError::Unreachable { .. } | ErpError::Truncated { .. })) => {
            Answer::Lost(WriteError::from(e))
        }
        Err(e) => Answer::Refused(WriteError::from(e)),
    }
}

/// The pending notes for one customer text: their index in the call and their parts.
struct Group<'a> {
    key: String,
    notes: Vec<(usize, &'a CollectorNote, Vec<String>)>,
}

/// What each note of a call has come to so far (by its index).
type Results = Vec<Option<Result<Outcome, WriteError>>>;

/// The notes' parts, or why the target cannot take the note.
fn parts_of(target: &NotesTarget, cn: &CollectorNote) -> Result<Vec<String>, WriteError> {
    let parts = cn
        .erp_parts(target.max_length)
        .map_err(|e| WriteError::Permanent(format!("{}: {e}", target.entity_set)))?;
    notes::check_target(target, &cn.note)?;
    Ok(parts)
}

/// The notes that go to one text, together (so they never race each other for the
/// ETag), in order of their first note; notes the target cannot take are refused in
/// `results` and left out.
fn group<'a>(
    target: &NotesTarget,
    notes: &'a [CollectorNote],
    results: &mut Results,
) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (n, cn) in notes.iter().enumerate() {
        let parts = match parts_of(target, cn) {
            Ok(p) => p,
            Err(e) => {
                results[n] = Some(Err(e));
                continue;
            }
        };
        let key = notes::text_key(target, &cn.note);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                key,
                notes: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].notes.push((n, cn, parts));
    }
    groups
}

/// How the notes go out: whole texts per request, up to about `batch_size` notes each.
/// Notes the target cannot take travel with the first request (they are refused, not sent).
pub fn plan(target: &NotesTarget, notes: &[CollectorNote], batch_size: usize) -> Vec<Vec<usize>> {
    let mut results: Results = vec![None; notes.len()];
    let mut requests: Vec<Vec<usize>> = Vec::new();
    let mut chunk: Vec<usize> = Vec::new();
    let mut in_chunk = 0;
    for g in group(target, notes, &mut results) {
        in_chunk += g.notes.len();
        chunk.extend(g.notes.iter().map(|(n, _, _)| *n));
        if in_chunk >= batch_size {
            requests.push(std::mem::take(&mut chunk));
            in_chunk = 0;
        }
    }
    if !chunk.is_empty() {
        requests.push(chunk);
    }
    let refused = (0..notes.len()).filter(|n| results[*n].is_some());
    match requests.first_mut() {
        Some(first) => first.extend(refused),
        None => requests.push(refused.collect()),
    }
    requests.retain(|r| !r.is_empty());
    requests
}

/// Sets the outcome of every note of `group`.
fn settle(group: &Group, result: Result<Outcome, WriteError>, results: &mut Results) {
    for (n, _, _) in &group.notes {
        results[*n] = Some(result.clone());
    }
}

/// Sends `notes` (oldest first) as one `$batch` request, texts that changed meanwhile in
/// follow-up requests; one result per note.
pub async fn send_notes(
    client: &ODataClient,
    target: &NotesTarget,
    notes: &[CollectorNote],
) -> Vec<Result<Outcome, WriteError>> {
    let mut results: Results = vec![None; notes.len()];
    let pending = group(target, notes, &mut results);
    send_groups(client, target, pending, &mut results).await;
    results
        .into_iter()
        // Every note is settled above; a gap would be a bug, kept for the next drain.
        .map(|r| r.unwrap_or_else(|| Err(WriteError::Transient("no answer for this note".into()))))
        .collect()
}

async fn send_groups(
    client: &ODataClient,
    target: &NotesTarget,
    mut pending: Vec<Group<'_>>,
    results: &mut Results,
) {
    let what = target.entity_set.as_str();
    let root = client.service_root(&target.service);
    let batch_url = with_sap_client(
        root.join("$batch").expect("$batch is a valid segment"),
        client.sap_client(),
    );
    for _ in 0..CONFLICT_ROUNDS {
        if pending.is_empty() {
            return;
        }
        // Read every text first (a few collection reads for the whole round): what is
        // already there is not written again.
        let customers: Vec<&str> = pending
            .iter()
            .map(|g| g.notes[0].1.note.customer.as_str())
            .collect();
        let mut texts = match notes::read_texts(client, target, &customers).await {
            Ok(t) => t,
            Err(e) => {
                for group in &pending {
                    settle(group, Err(e.clone()), results);
                }
                return;
            }
        };
        let mut writes = Vec::new();
        let mut written = Vec::new();
        // The first attempt of every write of this round; a repeat keeps it.
        let first_sent = chrono::Utc::now();
        for group in pending.drain(..) {
            let first = &group.notes[0].1.note;
            let current = texts.remove(&notes::text_id(target, first));
            let text = current.as_ref().map(|(t, _)| t.as_str()).unwrap_or("");
            let missing: Vec<String> = group
                .notes
                .iter()
                .flat_map(|(_, cn, parts)| notes::missing_parts(cn, parts, text))
                .collect();
            if missing.is_empty() {
                settle(&group, Ok(Outcome::AlreadyThere), results);
                continue;
            }
            let entry = missing.join("\n");
            let keys: Vec<&str> = group
                .notes
                .iter()
                .map(|(_, cn, _)| cn.note.idempotency_key.as_str())
                .collect();
            let write = match current {
                Some((text, etag)) => BatchWrite {
                    method: "PATCH".into(),
                    resource: group.key.clone(),
                    body: Some(json!({
                        "LongText": if text.is_empty() { entry } else { format!("{text}\n{entry}") }
                    })),
                    if_match: etag,
                    repeatability: None,
                },
                None => BatchWrite {
                    method: "POST".into(),
                    resource: target.entity_set.clone(),
                    body: Some(notes::create_body(target, first, &entry)),
                    if_match: None,
                    repeatability: None,
                },
            };
            writes.push(write.repeatable(&keys, first_sent));
            written.push(group);
        }
        if writes.is_empty() {
            return;
        }
        let seed = uuid::Uuid::new_v4().simple().to_string();
        let request = batch::build(&writes, &seed);
        let mut answer = post_batch(client, what, &root, &batch_url, &request, writes.len()).await;
        let mut repeats = 0;
        while let Answer::Lost(e) = &answer {
            if repeats == REPEATS || !honours_repeatability(target, &batch_url) {
                break;
            }
            repeats += 1;
            tracing::warn!(
                target_set = what,
                error = %e,
                writes = writes.len(),
                "the $batch answer was lost; sending the same repeatable writes again"
            );
            tokio::time::sleep(Duration::from_millis(200 * u64::from(repeats))).await;
            answer = post_batch(client, what, &root, &batch_url, &request, writes.len()).await;
        }
        let parts = match answer {
            Answer::Parts(r) => {
                learn_repeatability(&batch_url, &r);
                r
            }
            Answer::Lost(e) | Answer::Refused(e) => {
                for group in &written {
                    settle(group, Err(e.clone()), results);
                }
                return;
            }
        };
        for (group, part) in written.into_iter().zip(parts) {
            if part.ok() {
                settle(&group, Ok(Outcome::Sent), results);
                continue;
            }
            let message = sap_error_message(part.body.as_bytes())
                .map(|(code, m)| {
                    if code.is_empty() {
                        m
                    } else {
                        format!("{code} {m}")
                    }
                })
                .or_else(|| crate::erp::error_text::excerpt(part.body.as_bytes()))
                .unwrap_or_default();
            let e = format!(
                "{what} {}: the ERP answered HTTP {} in $batch: {message}",
                group.key, part.status
            );
            match part.status {
                // Someone changed or created the text since it was read: read it again.
                409 | 412 => pending.push(group),
                408 | 429 | 500..=599 => settle(&group, Err(WriteError::Transient(e)), results),
                _ => settle(&group, Err(WriteError::Permanent(e)), results),
            }
        }
    }
    for group in &pending {
        let e = WriteError::Transient(format!(
            "{what} {}: the text kept changing while writing; will try again",
            group.key
        ));
        settle(group, Err(e), results);
    }
}
