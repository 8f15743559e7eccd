//! Read-back: does the ERP hold what erpsync wrote?
//!
//! After a drain, and periodically (`erpsync outbox verify`, or the service's schedule), sent
//! entries are compared with the ERP: a note's markers must be in its customer's text; a
//! dispute case must be in the status last sent for it. What is found gets the ERP's own id
//! recorded on its entry (the text's key, the case's GUID). A note the ERP does not hold is
//! put back to pending (audited) so the next drain writes it again; the marker check keeps
//! that from doubling a note that is in fact there. A case in another status than the one
//! sent is reported, not re-sent: someone in the ERP may have moved it on since, and that
//! is theirs to decide.

use super::PushError;
use crate::erp::writer::ErpWriter;
use crate::model::note::CollectorNote;
use crate::model::DisputeStatusChange;
use crate::store::{OutboxEntry, OutboxKind, Store, StoreError};
use chrono::Utc;
use serde::Serialize;
use std::collections::BTreeMap;

/// Sent entries read per store query.
const PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ERP could not be read; nothing was changed for the entries not yet checked.
    #[error("reading back from the ERP failed: {0}")]
    Erp(String),
}

impl From<PushError> for VerifyError {
    fn from(e: PushError) -> Self {
        VerifyError::Erp(e.to_string())
    }
}

/// One entry the ERP does not hold as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub outbox_id: i64,
    pub kind: &'static str,
    /// The text key or case ID.
    pub target: String,
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub checked: u64,
    pub confirmed: u64,
    /// Notes put back to pending.
    pub requeued: Vec<Finding>,
    /// Dispute cases the ERP holds in another status (reported only).
    pub differing: Vec<Finding>,
}

/// Checks every sent entry against the ERP (the periodic check).
pub async fn verify_sent(
    store: &dyn Store,
    writer: &dyn ErpWriter,
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport::default();
    if writer.read_only().is_some() {
        // Nothing was written through this writer: there is nothing to read back.
        return Ok(report);
    }
    let mut after = 0;
    loop {
        let page = store.outbox_sent_after(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        verify_entries(store, writer, page, &mut report).await?;
    }
    Ok(report)
}

/// Checks the given sent entries: one read per customer text and per case.
pub async fn verify_entries(
    store: &dyn Store,
    writer: &dyn ErpWriter,
    entries: Vec<OutboxEntry>,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    // The latest change per case decides what the case should show.
    let mut cases: BTreeMap<String, Vec<(OutboxEntry, DisputeStatusChange)>> = BTreeMap::new();
    let mut sent_notes = Vec::new();
    for entry in entries {
        report.checked += 1;
        match entry.kind {
            OutboxKind::Note => {
                if let Ok(cn) = serde_json::from_value::<CollectorNote>(entry.payload.clone()) {
                    sent_notes.push((entry, cn));
                }
            }
            OutboxKind::DisputeStatus => {
                if let Ok(change) =
                    serde_json::from_value::<DisputeStatusChange>(entry.payload.clone())
                {
                    cases
                        .entry(change.case_id.clone())
                        .or_default()
                        .push((entry, change));
                }
            }
        }
    }
    // All texts in a few collection reads.
    let (entries, notes): (Vec<OutboxEntry>, Vec<CollectorNote>) = sent_notes.into_iter().unzip();
    let found = writer.read_back_notes(&notes).await?;
    for (entry, note) in entries.iter().zip(found) {
        let now = Utc::now();
        if note.missing_parts == 0 {
            store
                .outbox_mark_verified(entry.id, &note.erp_ref, now)
                .await?;
            report.confirmed += 1;
        } else {
            let why = format!(
                "read-back: {} of {} part(s) of the note are not in {}",
                note.missing_parts, note.parts, note.erp_ref
            );
            tracing::warn!(outbox_id = entry.id, %why, "note missing in the ERP; queued again");
            store.outbox_requeue(entry.id, &why, now).await?;
            report.requeued.push(Finding {
                outbox_id: entry.id,
                kind: OutboxKind::Note.as_str(),
                target: note.erp_ref,
                why,
            });
        }
    }
    for (case_id, changes) in cases {
        let case = writer.read_case(&case_id).await?;
        let latest = changes.iter().map(|(e, _)| e.id).max();
        for (entry, change) in changes {
            let now = Utc::now();
            let differs = |why: String| Finding {
                outbox_id: entry.id,
                kind: OutboxKind::DisputeStatus.as_str(),
                target: case_id.clone(),
                why,
            };
            match &case {
                None => report
                    .differing
                    .push(differs("read-back: the ERP does not know the case".into())),
                // An earlier change was overtaken by a later one of ours: the case exists,
                // which is all that can be confirmed of it.
                Some(c)
                    if Some(entry.id) != latest
                        || c.status_code.eq_ignore_ascii_case(&change.status) =>
                {
                    store
                        .outbox_mark_verified(entry.id, &c.erp_ref, now)
                        .await?;
                    report.confirmed += 1;
                }
                Some(c) => report.differing.push(differs(format!(
                    "read-back: the ERP has the case in {} ({}), erpsync sent {}",
                    c.status_code, c.status_name, change.status
                ))),
            }
        }
    }
    Ok(())
}
