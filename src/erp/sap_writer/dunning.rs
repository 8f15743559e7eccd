//! Dunning block while a dispute is open (`[push] dunning_block`): after a case's status
//! reached the ERP, the items the case covers get the configured dunning block through
//! `JournalEntryBulkChangeRequest_In`, or have it lifted when the case, as the ERP holds it,
//! is in one of `[push] dunning_lift_statuses` or closed (also when SAP closed it itself and
//! refused our status change).
//!
//! The items come from the case as the ERP holds it (a Read), so items added to the case
//! in the ERP are covered too. Setting a block an item already has changes nothing, so this
//! step runs again whenever the status entry is sent again; the status entry is marked sent
//! only after it succeeded.

use super::disputes;
use crate::erp::mapping::DisputeTarget;
use crate::erp::soap::client::SoapClient;
use crate::erp::soap::journal_entry::{self as je, DunningBlockChange, ItemKey};
use crate::erp::writer::{DunningPolicy, WriteError};
use crate::model::DisputeStatusChange;
use chrono::Utc;

const WHAT: &str = "JournalEntryBulkChange";

/// Sets or lifts the dunning block of the case's items, as its new status says.
pub async fn apply(
    client: &SoapClient,
    target: &DisputeTarget,
    change: &DisputeStatusChange,
    policy: &DunningPolicy,
) -> Result<(), WriteError> {
    let block = &policy.block;
    let case = disputes::read_case(client, target, &change.case_id)
        .await?
        .ok_or_else(|| {
            WriteError::Permanent(format!(
                "{WHAT}: dispute case {} not found in the ERP",
                change.case_id
            ))
        })?;
    let lift = case.closed
        || policy
            .lift_statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&case.status_code));
    let reason = if lift { String::new() } else { block.clone() };
    let changes: Vec<DunningBlockChange> = case
        .items
        .iter()
        .map(|i| DunningBlockChange {
            item: ItemKey {
                company_code: i.company_code.clone(),
                fiscal_year: i.fiscal_year.clone(),
                accounting_document: i.accounting_document.clone(),
                item: i.accounting_document_item.clone(),
            },
            reason: reason.clone(),
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    // SAP keeps at most 35 characters of a message ID.
    let id: String = format!("ERPSYNC-{}", change.idempotency_key)
        .chars()
        .take(35)
        .collect();
    let body = je::build_request(&id, Utc::now(), &changes);
    let answer = client
        .call(WHAT, je::SERVICE_PATH, je::SOAP_ACTION, body)
        .await?;
    let status = answer.status;
    match status {
        200..=299 => {
            tracing::info!(
                case = %change.case_id,
                items = changes.len(),
                block = %reason,
                "dunning block {}",
                if lift { "lifted" } else { "set" }
            );
            Ok(())
        }
        408 | 429 | 500..=599 => Err(WriteError::Transient(format!(
            "{WHAT}: HTTP {status} for case {}",
            change.case_id
        ))),
        _ => Err(WriteError::Permanent(format!(
            "{WHAT}: HTTP {status} for case {}: {}",
            change.case_id,
            crate::erp::error_text::excerpt(answer.body.as_bytes()).unwrap_or_default()
        ))),
    }
}
