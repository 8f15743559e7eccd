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

use super::{notes, record_failure, record_sent, Outcome, PushError, PushReport};
use crate::config::PushConfig;
use crate::erp::mapping::NotesTarget;
use crate::erp::odata::batch::{self, BatchWrite};
use crate::erp::odata::json::sap_error_message;
use crate::erp::odata::query::with_sap_client;
use crate::erp::odata::ODataClient;
use crate::model::note::CollectorNote;
use crate::store::{OutboxEntry, Store, StoreError};
use serde_json::json;

/// Rounds of re-reading texts that changed between read and write.
const CONFLICT_ROUNDS: usize = 3;

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
            writes.push(match current {
                Some((text, etag)) => BatchWrite {
                    method: "PATCH".into(),
                    resource: group.key.clone(),
                    body: Some(json!({
                        "LongText": if text.is_empty() { entry } else { format!("{text}\n{entry}") }
                    })),
                    if_match: etag,
                },
                None => BatchWrite {
                    method: "POST".into(),
                    resource: target.entity_set.clone(),
                    body: Some(notes::create_body(target, first, &entry)),
                    if_match: None,
                },
            });
            written.push(group);
        }
        if writes.is_empty() {
            return Ok(());
        }
        let seed = uuid::Uuid::new_v4().simple().to_string();
        let request = batch::build(&writes, &seed);
        let answer = client
            .post_raw(
                what,
                &root,
                &batch_url,
                &request.content_type,
                &request.body,
            )
            .await;
        let results = match answer {
            Ok(resp) => {
                let ct = resp.content_type.clone().unwrap_or_default();
                batch::parse_response(&ct, &String::from_utf8_lossy(&resp.body), writes.len())
                    .map_err(|e| {
                        // The request may have been applied: the markers decide next time.
                        PushError::Transient(format!("{what} $batch: unreadable answer: {e}"))
                    })
            }
            Err(e) => Err(PushError::from(e)),
        };
        let results = match results {
            Ok(r) => r,
            Err(e) => {
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
