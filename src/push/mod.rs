//! Push: the outbox worker that writes collectors' notes and dispute statuses into the ERP.
//!
//! It keeps the outbox's states, claims, retries, dead letters and the read-back; the ERP's
//! protocol is the [`ErpWriter`]'s, which answers in outcomes and transient or permanent
//! errors. Every command was stored with its outbox entry in one transaction, so nothing is lost
//! between the user and the ERP. Each send first checks whether an earlier attempt already
//! arrived (a marker in the note text; the case's current status), so a retry after a lost
//! answer never writes twice. Transient failures stay pending with their error; permanent
//! ones (the ERP's validation) become `failed`; too many attempts become `dead`.

pub mod config;
pub mod verify;

pub use crate::erp::writer::{Outcome, WriteError as PushError};
pub use config::{PushConfig, PushMode};

use crate::erp::writer::ErpWriter;
use crate::model::note::CollectorNote;
use crate::model::DisputeStatusChange;
use crate::store::{OutboxEntry, OutboxKind, OutboxStatus, Store, StoreError};
use chrono::Utc;
use serde::Serialize;
use std::collections::HashSet;

/// Entries taken per drain: bounds one drain's work; the next drain takes the rest.
const DRAIN_LIMIT: u32 = 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub notes: u64,
    pub dispute_statuses: u64,
    pub already_there: u64,
    pub simulated: u64,
    pub retry_later: u64,
    pub failed: u64,
    pub dead: u64,
    /// Sent entries the read-back found in the ERP (their ERP ids recorded).
    pub verified: u64,
    /// Sent entries the read-back did not find, queued again.
    pub requeued: u64,
}

/// A writer that writes nothing (a mapping without `[targets]` reads from its ERP only):
/// what is queued stays in the outbox (nothing is lost) until one that writes is configured.
fn writes_back(writer: &dyn ErpWriter) -> bool {
    match writer.read_only() {
        Some(why) => {
            tracing::warn!("{why}");
            false
        }
        None => true,
    }
}

/// Sends what is pending, oldest first. Store errors stop the drain (the entry stays
/// pending); ERP errors are recorded on the entry and the drain goes on.
pub async fn drain(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    config: &PushConfig,
) -> Result<PushReport, StoreError> {
    let Some(mut run) = Drain::start(store, writer, config) else {
        return Ok(PushReport::default());
    };
    run.round(store.outbox_due(DRAIN_LIMIT).await?).await?;
    Ok(run.report)
}

/// Entries one claim takes: small, so an instance that dies holds few entries hostage
/// until its claim expires, and a claim is done long before it expires.
const CLAIM_BATCH: u32 = 50;

/// Like [`drain`], for the service where several instances may drain one store: entries
/// are claimed for `claimer` (until `claim_for` from now) batch by batch, so no two
/// instances send the same entry at the same time. An entry of a killed instance is
/// claimed again after its claim expired; the send's check for an earlier arrival keeps
/// that from writing twice. Claims not finished are released at the end.
pub async fn drain_claimed(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    config: &PushConfig,
    claimer: &str,
    claim_for: std::time::Duration,
) -> Result<PushReport, StoreError> {
    let Some(mut run) = Drain::start(store, writer, config) else {
        return Ok(PushReport::default());
    };
    let claim_for =
        chrono::Duration::from_std(claim_for).unwrap_or_else(|_| chrono::Duration::minutes(2));
    let mut taken = 0u32;
    let result = async {
        while taken < DRAIN_LIMIT {
            let now = Utc::now();
            let entries = store
                .outbox_claim(claimer, now, now + claim_for, CLAIM_BATCH)
                .await?;
            if entries.is_empty() {
                break;
            }
            taken += entries.len() as u32;
            run.round(entries).await?;
            // Entries left pending stay claimed by us until released below, so the next
            // claim moves on to newer ones instead of taking them again.
        }
        Ok::<(), StoreError>(())
    }
    .await;
    // Entries left pending (retry later, blocked case) become claimable again at once.
    store.outbox_release_claims(claimer).await?;
    result.map(|()| run.report)
}

/// One drain: where it sends, and what it has done so far.
struct Drain<'a> {
    store: &'a dyn Store,
    writer: &'a dyn ErpWriter,
    config: &'a PushConfig,
    report: PushReport,
    /// Cases an update of which failed in this drain: their later updates wait.
    blocked_cases: HashSet<String>,
}

impl<'a> Drain<'a> {
    /// `None` when the writer writes nothing (it says why).
    fn start(
        store: &'a dyn Store,
        writer: &'a dyn ErpWriter,
        config: &'a PushConfig,
    ) -> Option<Self> {
        writes_back(writer).then(|| Drain {
            store,
            writer,
            config,
            report: PushReport::default(),
            blocked_cases: HashSet::new(),
        })
    }

    /// Sends `entries`, then reads back what was sent.
    async fn round(&mut self, entries: Vec<OutboxEntry>) -> Result<(), StoreError> {
        let (store, writer, config) = (self.store, self.writer, self.config);
        let report = &mut self.report;
        let sent = send_entries(
            store,
            writer,
            config,
            entries,
            report,
            &mut self.blocked_cases,
        )
        .await?;
        read_back(store, writer, config, sent, report).await
    }
}

/// Confirms that the ERP holds what this drain sent, recording the ERP's ids; a note it
/// does not hold goes back to pending. An ERP that cannot be read now is left to the
/// periodic check; only store errors stop the drain.
async fn read_back(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    config: &PushConfig,
    sent: Vec<OutboxEntry>,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    if !config.read_back || sent.is_empty() {
        return Ok(());
    }
    let mut found = verify::VerifyReport::default();
    match verify::verify_entries(store, writer, sent, &mut found).await {
        Ok(()) => {}
        Err(verify::VerifyError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "read-back after push failed; the periodic check will retry")
        }
    }
    report.verified += found.confirmed;
    report.requeued += found.requeued.len() as u64;
    for f in &found.differing {
        tracing::warn!(outbox_id = f.outbox_id, case = %f.target, why = %f.why, "dispute case differs in the ERP");
    }
    Ok(())
}

/// Sends `entries` in order; returns those the ERP now holds (marked sent). With
/// `[push] batch`, notes go many at once (see [`ErpWriter::write_notes`]); dispute
/// statuses are always sent one by one, in order per case.
async fn send_entries(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    config: &PushConfig,
    entries: Vec<OutboxEntry>,
    report: &mut PushReport,
    blocked_cases: &mut HashSet<String>,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let simulate = config.mode == PushMode::Simulate;
    let dunning = config.dunning_policy();
    let mut sent = Vec::new();
    let mut batched = Vec::new();
    // Updates of one case must land in order: after a failure, later ones wait.
    for entry in entries {
        let result = match entry.kind {
            OutboxKind::Note => match decode::<CollectorNote>(&entry) {
                Ok(note) if config.batch && !simulate => {
                    batched.push((entry, note));
                    continue;
                }
                Ok(note) => writer.write_note(&note, simulate).await,
                Err(e) => Err(e),
            },
            OutboxKind::DisputeStatus => match decode::<DisputeStatusChange>(&entry) {
                Ok(change) if blocked_cases.contains(&change.case_id) => {
                    report.retry_later += 1;
                    continue;
                }
                Ok(change) => {
                    let r = writer
                        .set_dispute_status(&change, &config.dispute_rules, simulate)
                        .await;
                    let r = match (r, &dunning) {
                        (Ok(o @ (Outcome::Sent | Outcome::AlreadyThere)), Some(policy)) => writer
                            .apply_dunning_block(&change, policy)
                            .await
                            .map(|()| o),
                        // Refused for good (e.g. SAP closed the case itself): the items must
                        // still follow the case, so a closed case has its block lifted.
                        (Err(e @ PushError::Permanent(_)), Some(policy)) => {
                            if let Err(d) = writer.apply_dunning_block(&change, policy).await {
                                tracing::warn!(case = %change.case_id, error = %d, "dunning block not updated");
                            }
                            Err(e)
                        }
                        (r, _) => r,
                    };
                    if r.is_err() {
                        blocked_cases.insert(change.case_id.clone());
                    }
                    r
                }
                Err(e) => Err(e),
            },
        };
        settle(store, entry, result, config, report, &mut sent).await?;
    }
    if !batched.is_empty() {
        send_batched(store, writer, config, batched, report, &mut sent).await?;
    }
    Ok(sent)
}

/// Sends notes many at once, in the requests the writer groups them into; each request's
/// outcomes are recorded before the next is sent.
async fn send_batched(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    config: &PushConfig,
    batched: Vec<(OutboxEntry, CollectorNote)>,
    report: &mut PushReport,
    sent: &mut Vec<OutboxEntry>,
) -> Result<(), StoreError> {
    let (entries, notes): (Vec<OutboxEntry>, Vec<CollectorNote>) = batched.into_iter().unzip();
    let mut entries: Vec<Option<OutboxEntry>> = entries.into_iter().map(Some).collect();
    for request in writer.note_batches(&notes, config.batch_size) {
        let these: Vec<CollectorNote> = request.iter().map(|&i| notes[i].clone()).collect();
        let results = writer.write_notes(&these).await;
        for (&i, result) in request.iter().zip(results) {
            if let Some(entry) = entries[i].take() {
                settle(store, entry, result, config, report, sent).await?;
            }
        }
    }
    Ok(())
}

/// Records how one send ended: sent entries join `sent`.
async fn settle(
    store: &dyn Store,
    entry: OutboxEntry,
    result: Result<Outcome, PushError>,
    config: &PushConfig,
    report: &mut PushReport,
    sent: &mut Vec<OutboxEntry>,
) -> Result<(), StoreError> {
    match result {
        Ok(Outcome::Simulated) => report.simulated += 1,
        Ok(outcome) => {
            record_sent(store, &entry, outcome, report).await?;
            sent.push(entry);
        }
        Err(e) => record_failure(store, &entry, &e, config, report).await?,
    }
    Ok(())
}

/// Marks an entry sent and counts it.
async fn record_sent(
    store: &dyn Store,
    entry: &OutboxEntry,
    outcome: Outcome,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    store.outbox_mark_sent(entry.id, Utc::now()).await?;
    if outcome == Outcome::AlreadyThere {
        report.already_there += 1;
    }
    match entry.kind {
        OutboxKind::Note => report.notes += 1,
        OutboxKind::DisputeStatus => report.dispute_statuses += 1,
    }
    tracing::info!(
        outbox_id = entry.id,
        kind = entry.kind.as_str(),
        ?outcome,
        "pushed"
    );
    Ok(())
}

/// Records a failed attempt: the ERP's refusal fails the entry at once; anything else
/// leaves it pending until `max_attempts`, then it is dead.
async fn record_failure(
    store: &dyn Store,
    entry: &OutboxEntry,
    e: &PushError,
    config: &PushConfig,
    report: &mut PushReport,
) -> Result<(), StoreError> {
    let final_status = match e {
        PushError::Permanent(_) => Some(OutboxStatus::Failed),
        PushError::Transient(_) if entry.attempts + 1 >= config.max_attempts => {
            Some(OutboxStatus::Dead)
        }
        PushError::Transient(_) => None,
    };
    match final_status {
        Some(OutboxStatus::Failed) => report.failed += 1,
        Some(_) => report.dead += 1,
        None => report.retry_later += 1,
    }
    tracing::warn!(outbox_id = entry.id, kind = entry.kind.as_str(), error = %e, "push failed");
    store
        .outbox_mark_failed(entry.id, &e.to_string(), Utc::now(), final_status)
        .await
}

fn decode<T: serde::de::DeserializeOwned>(entry: &OutboxEntry) -> Result<T, PushError> {
    serde_json::from_value(entry.payload.clone())
        .map_err(|e| PushError::Permanent(format!("outbox entry {} cannot be read: {e}", entry.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::writer::ReadOnlyWriter;
    use crate::model::note::NoteDetails;
    use crate::model::{CustomerId, Note, NoteChannel};

    /// A mapping without `[targets]`: the drain sends nothing, every entry stays pending and
    /// untouched, and the writer says why, naming the mapping.
    #[tokio::test]
    async fn a_read_only_writer_leaves_the_outbox_as_it_is_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
        let store = crate::store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let note = CollectorNote {
            note: Note {
                customer: CustomerId::parse("0000004711").unwrap(),
                item: None,
                author: "ana".into(),
                text: "Promised payment by Friday".into(),
                channel: NoteChannel::Phone,
                created_at: Utc::now(),
                idempotency_key: "read-only-note".into(),
            },
            details: NoteDetails::default(),
        };
        store.add_note(&note).await.unwrap();
        store
            .add_dispute_status(&DisputeStatusChange {
                case_id: "CASE-1".into(),
                status: "INPR".into(),
                requested_by: "ana".into(),
                note: None,
                requested_at: Utc::now(),
                idempotency_key: "read-only-case".into(),
            })
            .await
            .unwrap();
        let before = store.outbox_list(None).await.unwrap();

        let writer = ReadOnlyWriter {
            mapping: "mappings/dynamics_fo.toml".into(),
        };
        let why = writer.read_only().expect("a read-only writer says why");
        assert!(
            why.contains("mappings/dynamics_fo.toml") && why.contains("[targets]"),
            "{why}"
        );
        let config = PushConfig {
            mode: PushMode::Live,
            max_attempts: 1,
            dispute_rules: Default::default(),
            batch: false,
            batch_size: 100,
            read_back: true,
            dunning_block: Some("X".into()),
            dunning_lift_statuses: vec![],
        };
        let report = drain(store.as_ref(), &writer, &config).await.unwrap();
        assert_eq!(report, PushReport::default());
        let claimed = drain_claimed(
            store.as_ref(),
            &writer,
            &config,
            "instance-1",
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
        assert_eq!(claimed, PushReport::default());
        let verified = verify::verify_sent(store.as_ref(), &writer).await.unwrap();
        assert_eq!(verified, verify::VerifyReport::default());

        let after = store.outbox_list(None).await.unwrap();
        assert_eq!(after.len(), 2);
        for (a, b) in after.iter().zip(&before) {
            assert_eq!(a.status, OutboxStatus::Pending);
            assert_eq!((a.attempts, &a.last_error), (b.attempts, &b.last_error));
        }
    }
}
