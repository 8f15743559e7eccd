//! Dispute status → SAP dispute management, through the SOAP service
//! `DisputeManagementManageDisputeCaseIn`: Read the case, then Update it with the
//! `ChangeStateID` the Read returned (SAP's optimistic lock).
//!
//! A case already in the requested status is not written again (a retry after a lost
//! answer); a case SAP closed or voided meanwhile is reported, never overwritten; a case
//! changed between Read and Update is read again.

use crate::erp::mapping::DisputeTarget;
use crate::erp::soap::client::SoapClient;
use crate::erp::soap::dispute_case::{
    self as dc, log_type, ReadRequest, SoapError, SoapVersion, UpdateRequest,
};
use crate::erp::writer::{Outcome, WriteError};
use crate::model::{DisputeRules, DisputeStatusChange};

const WHAT: &str = "DisputeCase";
/// Cases changed by someone else between our Read and Update: read again this often.
const CONFLICT_RETRIES: usize = 3;

/// One call of the service; a fault or unreadable answer is sorted by its HTTP status.
async fn call<T>(
    client: &SoapClient,
    target: &DisputeTarget,
    root: &str,
    body: String,
    parse: fn(&str) -> Result<T, SoapError>,
) -> Result<T, WriteError> {
    let answer = client
        .call(WHAT, &target.path, &dc::soap_action(root), body)
        .await?;
    let status = answer.status;
    match parse(&answer.body) {
        Ok(v) => Ok(v),
        // The gateway or the system is overloaded or restarting: try later.
        Err(e) if matches!(status, 429 | 502 | 503 | 504) => {
            Err(WriteError::Transient(format!("{WHAT}: HTTP {status}: {e}")))
        }
        Err(e) if status == 401 || status == 403 => Err(WriteError::Permanent(format!(
            "{WHAT}: HTTP {status}: not authorized ({e})"
        ))),
        Err(e) => Err(WriteError::Permanent(format!("{WHAT}: HTTP {status}: {e}"))),
    }
}

/// The case as the ERP holds it now; `None` when the ERP does not know it.
pub async fn read_case(
    client: &SoapClient,
    target: &DisputeTarget,
    case_id: &str,
) -> Result<Option<dc::DisputeCase>, WriteError> {
    Ok(read(client, target, case_id).await?.case)
}

async fn read(
    client: &SoapClient,
    target: &DisputeTarget,
    case_id: &str,
) -> Result<dc::ReadResponse, WriteError> {
    let request = ReadRequest {
        case_id: case_id.to_string(),
    };
    call(
        client,
        target,
        dc::READ_QUERY,
        dc::build_read_request(SoapVersion::V11, &request),
        dc::parse_read_response,
    )
    .await
}

/// Sets the case's status, checked against its status in the ERP; with `simulate`, only
/// asks the ERP's check operation whether it would take it.
pub async fn send(
    client: &SoapClient,
    target: &DisputeTarget,
    change: &DisputeStatusChange,
    rules: &DisputeRules,
    simulate: bool,
) -> Result<Outcome, WriteError> {
    let case_id = change.case_id.as_str();
    for _ in 0..CONFLICT_RETRIES {
        let read = read(client, target, case_id).await?;
        let Some(case) = read.case else {
            let why: Vec<String> = read.log.iter().map(|l| l.note.clone()).collect();
            return Err(WriteError::Permanent(format!(
                "{WHAT} {case_id}: not found in the ERP{}",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join("; "))
                }
            )));
        };
        if case.status_code.eq_ignore_ascii_case(&change.status) {
            return Ok(Outcome::AlreadyThere);
        }
        if let Err(why) = rules.check(Some(&case.status_code), &change.status) {
            return Err(WriteError::Permanent(format!(
                "{WHAT} {case_id}: the ERP has the case in {}: {why}",
                case.status_code
            )));
        }
        if case.closed {
            return Err(WriteError::Permanent(format!(
                "{WHAT} {case_id}: the ERP has closed the case (status {} {}); it is not overwritten",
                case.status_code, case.status_name
            )));
        }
        let note = change.note.as_deref().map(|n| {
            format!(
                "{n} ({} via erpsync, {})",
                change.requested_by,
                change.requested_at.format("%Y-%m-%d")
            )
        });
        let request = UpdateRequest {
            case_id: case_id.to_string(),
            change_state_id: case.change_state_id.clone(),
            status_code: Some(change.status.clone()),
            note,
        };
        let root = if simulate {
            dc::CHECK_QUERY
        } else {
            dc::UPDATE_REQUEST
        };
        let answer = call(
            client,
            target,
            root,
            dc::build_update_request(SoapVersion::V11, &request, simulate),
            dc::parse_update_response,
        )
        .await?;
        if answer.has(log_type::CHANGE_STATE_MISMATCH) {
            tracing::info!(
                case = case_id,
                "dispute case changed since it was read; reading again"
            );
            continue;
        }
        if answer.is_error() {
            let notes: Vec<String> = answer
                .log
                .iter()
                .map(|l| format!("{}: {}", l.type_id, l.note))
                .collect();
            return Err(WriteError::Permanent(format!(
                "{WHAT} {case_id}: the ERP refused the update: {}",
                notes.join("; ")
            )));
        }
        return Ok(if simulate {
            Outcome::Simulated
        } else {
            Outcome::Sent
        });
    }
    Err(WriteError::Transient(format!(
        "{WHAT} {case_id}: the case kept changing while updating; will try again"
    )))
}
