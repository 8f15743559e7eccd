//! Push: the outbox worker that writes collectors' notes and dispute statuses into the ERP.
//!
//! Every command was stored with its outbox entry in one transaction, so nothing is lost
//! between the user and the ERP. Each send first checks whether an earlier attempt already
//! arrived (a marker in the note text; the case's current status), so a retry after a lost
//! answer never writes twice. Transient failures stay pending with their error; permanent
//! ones (the ERP's validation) become `failed`; too many attempts become `dead`.

pub mod disputes;
pub mod notes;

use crate::config::{PushConfig, PushMode};
use crate::erp::mapping::Mapping;
use crate::erp::odata::{ErpError, ODataClient};
use crate::model::{DisputeStatusChange, Note};
use crate::store::{OutboxEntry, OutboxKind, OutboxStatus, Store, StoreError};
use chrono::Utc;
use serde::Serialize;
use std::collections::HashSet;

/// Entries taken per drain: bounds one drain's work; the next drain takes the rest.
const DRAIN_LIMIT: u32 = 1000;

/// How one send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// An earlier attempt had already arrived; nothing written again.
    AlreadyThere,
    /// Simulation: validated against the ERP, nothing written.
    Simulated,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PushError {
    /// Worth retrying later (network, timeouts, 5xx, 429, lock conflicts).
    #[error("{0}")]
    Transient(String),
    /// The ERP refused the command itself; retrying will not help.
    #[error("{0}")]
    Permanent(String),
}

impl From<ErpError> for PushError {
    fn from(e: ErpError) -> Self {
        if e.is_transient() {
            PushError::Transient(e.to_string())
        } else {
            PushError::Permanent(e.to_string())
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub notes: u64,
    pub dispute_statuses: u64,
    pub already_there: u64,
    pub simulated: u64,
    pub retry_later: u64,
    pub failed: u64,
    pub dead: u64,
}

/// Sends what is pending, oldest first. Store errors stop the drain (the entry stays
/// pending); ERP errors are recorded on the entry and the drain goes on.
pub async fn drain(
    store: &dyn Store,
    client: &ODataClient,
    mapping: &Mapping,
    config: &PushConfig,
) -> Result<PushReport, StoreError> {
    let simulate = config.mode == PushMode::Simulate;
    let mut report = PushReport::default();
    // Updates of one case must land in order: after a failure, later ones wait.
    let mut blocked_cases: HashSet<String> = HashSet::new();
    for entry in store.outbox_due(DRAIN_LIMIT).await? {
        let result = match entry.kind {
            OutboxKind::Note => match decode::<Note>(&entry) {
                Ok(note) => notes::send(client, &mapping.targets.notes, &note, simulate).await,
                Err(e) => Err(e),
            },
            OutboxKind::DisputeStatus => match decode::<DisputeStatusChange>(&entry) {
                Ok(change) if blocked_cases.contains(&change.case_id) => {
                    report.retry_later += 1;
                    continue;
                }
                Ok(change) => {
                    let r =
                        disputes::send(client, &mapping.targets.dispute_status, &change, simulate)
                            .await;
                    if r.is_err() {
                        blocked_cases.insert(change.case_id.clone());
                    }
                    r
                }
                Err(e) => Err(e),
            },
        };
        let now = Utc::now();
        match result {
            Ok(Outcome::Simulated) => report.simulated += 1,
            Ok(outcome) => {
                store.outbox_mark_sent(entry.id, now).await?;
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
            }
            Err(e) => {
                let final_status = match &e {
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
                    .outbox_mark_failed(entry.id, &e.to_string(), now, final_status)
                    .await?;
            }
        }
    }
    Ok(report)
}

fn decode<T: serde::de::DeserializeOwned>(entry: &OutboxEntry) -> Result<T, PushError> {
    serde_json::from_value(entry.payload.clone())
        .map_err(|e| PushError::Permanent(format!("outbox entry {} cannot be read: {e}", entry.id)))
}
