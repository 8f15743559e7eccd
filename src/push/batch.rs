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

use super::{notes, record_failure, record_sent, Outcome, PushError, PushReport};
use crate::config::PushConfig;
use crate::erp::mapping::NotesTarget;
use crate::erp::odata::batch::{self, BatchWrite, PartResult};
use crate::erp::odata::json::sap_error_message;
use crate::erp::odata::query::with_sap_client;
use crate::erp::odata::{ErpError, ODataClient};
use crate::model::note::CollectorNote;
use crate::store::{OutboxEntry, Store, StoreError};
use serde_json::json;
use std::collections::BTreeSet;
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
    Lost(PushError),
    /// The service refused the request as a whole (an HTTP status): nothing ran.
    Refused(PushError),
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
                Err(e) => Answer::Lost(PushError::Transient(format!(
                    "{what} $batch: unreadable answer: {e}"
                ))),
            }
        }
        Err(e @ (ErpError::Unreachable { .. } | ErpError::Truncated { .. })) => {
            Answer::Lost(PushError::from(e))
        }
        Err(e) => Answer::Refused(PushError::from(e)),
    }
}

/// The pending notes for one customer text.
struct Group {
    key: String,
    notes: Vec<(OutboxEntry, CollectorNote, Vec<String>)>,
}

/// Sends `entries` (notes, oldest first) in `$batch` requests; returns those now sent.
pub async fn send_notes(
    store: &dyn Store,
    client: &ODataClient,
    target: &NotesTarget,
    config: &PushConfig,
    entries: Vec<(OutboxEntry, CollectorNote)>,
    report: &mut PushReport,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for (entry, cn) in entries {
        let parts = match cn.erp_parts(target.max_length) {
            Ok(p) => p,
            Err(e) => {
                let e = PushError::Permanent(format!("{}: {e}", target.entity_set));
                record_failure(store, &entry, &e, config, report).await?;
                continue;
            }
        };
        if let Err(e) = notes::check_target(target, &cn.note) {
            record_failure(store, &entry, &e, config, report).await?;
            continue;
        }
        let key = notes::text_key(target, &cn.note);
        let i = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                key,
                notes: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].notes.push((entry, cn, parts));
    }
    let mut sent = Vec::new();
    let mut chunk: Vec<Group> = Vec::new();
    let mut in_chunk = 0;
    for g in groups {
        in_chunk += g.notes.len();
        chunk.push(g);
        if in_chunk >= config.batch_size {
            send_chunk(
                store,
                client,
                target,
                config,
                std::mem::take(&mut chunk),
                report,
                &mut sent,
            )
            .await?;
            in_chunk = 0;
        }
    }
    if !chunk.is_empty() {
        send_chunk(store, client, target, config, chunk, report, &mut sent).await?;
    }
    Ok(sent)
}

async fn fail_group(
    store: &dyn Store,
    group: &Group,
    e: &PushError,
    config: &PushConfig,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    for (entry, _, _) in &group.notes {
        record_failure(store, entry, e, config, report).await?;
    }
    Ok(())
}

async fn sent_group(
    store: &dyn Store,
    group: Group,
    outcome: Outcome,
    report: &mut PushReport,
    sent: &mut Vec<OutboxEntry>,
) -> Result<(), StoreError> {
    for (entry, _, _) in group.notes {
        record_sent(store, &entry, outcome, report).await?;
        sent.push(entry);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // the drain's context, passed through
async fn send_chunk(
    store: &dyn Store,
    client: &ODataClient,
    target: &NotesTarget,
    config: &PushConfig,
    mut pending: Vec<Group>,
    report: &mut PushReport,
    sent: &mut Vec<OutboxEntry>,
) -> Result<(), StoreError> {
    let what = target.entity_set.as_str();
    let root = client.service_root(&target.service);
    let batch_url = with_sap_client(
        root.join("$batch").expect("$batch is a valid segment"),
        client.sap_client(),
    );
    for _ in 0..CONFLICT_ROUNDS {
        if pending.is_empty() {
            return Ok(());
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
                    fail_group(store, group, &e, config, report).await?;
                }
                return Ok(());
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
                sent_group(store, group, Outcome::AlreadyThere, report, sent).await?;
                continue;
            }
            let entry = missing.join("\n");
            let keys: Vec<&str> = group
                .notes
                .iter()
                .map(|(e, _, _)| e.idempotency_key.as_str())
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
            return Ok(());
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
        let results = match answer {
            Answer::Parts(r) => {
                learn_repeatability(&batch_url, &r);
                r
            }
            Answer::Lost(e) | Answer::Refused(e) => {
                for group in &written {
                    fail_group(store, group, &e, config, report).await?;
                }
                return Ok(());
            }
        };
        for (group, result) in written.into_iter().zip(results) {
            if result.ok() {
                sent_group(store, group, Outcome::Sent, report, sent).await?;
                continue;
            }
            let message = sap_error_message(result.body.as_bytes())
                .map(|(code, m)| {
                    if code.is_empty() {
                        m
                    } else {
                        format!("{code} {m}")
                    }
                })
                .unwrap_or_else(|| result.body.chars().take(200).collect());
            let e = format!(
                "{what} {}: the ERP answered HTTP {} in $batch: {message}",
                group.key, result.status
            );
            match result.status {
                // Someone changed or created the text since it was read: read it again.
                409 | 412 => pending.push(group),
                408 | 429 | 500..=599 => {
                    fail_group(store, &group, &PushError::Transient(e), config, report).await?
                }
                _ => fail_group(store, &group, &PushError::Permanent(e), config, report).await?,
            }
        }
    }
    for group in &pending {
        let e = PushError::Transient(format!(
            "{what} {}: the text kept changing while writing; will try again",
            group.key
        ));
        fail_group(store, group, &e, config, report).await?;
    }
    Ok(())
}
