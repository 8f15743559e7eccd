//! Dispute status → SAP dispute management, through the SOAP service
//! `DisputeManagementManageDisputeCaseIn`: Read the case, then Update it with the
//! `ChangeStateID` the Read returned (SAP's optimistic lock).
//!
//! A case already in the requested status is not written again (a retry after a lost
//! answer); a case SAP closed or voided meanwhile is reported, never overwritten; a case
//! changed between Read and Update is read again.

use super::{Outcome, PushError};
use crate::erp::mapping::DisputeTarget;
use crate::erp::odata::ODataClient;
use crate::erp::soap::dispute_case::{
    self as dc, log_type, ReadRequest, SoapError, SoapVersion, UpdateRequest,
};
use crate::model::{DisputeRules, DisputeStatusChange};

const WHAT: &str = "DisputeCase";
/// Cases changed by someone else between our Read and Update: read again this often.
const CONFLICT_RETRIES: usize = 3;

async fn call<T>(
    client: &ODataClient,
    url: &url::Url,
    root: &str,
    body: String,
    parse: fn(&str) -> Result<T, SoapError>,
) -> Result<T, PushError> {
    let resp = client
        .post_xml(WHAT, url, &dc::soap_action(root), body)
        .await?;
    let text = String::from_utf8_lossy(&resp.body);
    let status = resp.status.as_u16();
    match parse(&text) {
        Ok(v) => Ok(v),
        // The gateway or the system is overloaded or restarting: try later.
        Err(e) if matches!(status, 429 | 502 | 503 | 504) => {
            Err(PushError::Transient(format!("{WHAT}: HTTP {status}: {e}")))
        }
        Err(e) if status == 401 || status == 403 => Err(PushError::Permanent(format!(
            "{WHAT}: HTTP {status}: not authorized ({e})"
        ))),
        Err(e) => Err(PushError::Permanent(format!("{WHAT}: HTTP {status}: {e}"))),
    }
}

/// The case as the ERP holds it now; `None` when the ERP does not know it.
pub async fn read_case(
    client: &ODataClient,
    target: &DisputeTarget,
    case_id: &str,
) -> Result<Option<dc::DisputeCase>, PushError> {
    let url = client.host_url(&target.path);
    let read = call(
        client,
        &url,
        dc::READ_QUERY,
        dc::build_read_request(
            SoapVersion::V11,
            &ReadRequest {
                case_id: case_id.to_string(),
            },
        ),
        dc::parse_read_response,
    )
    .await?;
    Ok(read.case)
}

pub async fn send(
    client: &ODataClient,
    target: &DisputeTarget,
    change: &DisputeStatusChange,
    rules: &DisputeRules,
    simulate: bool,
) -> Result<Outcome, PushError> {
    let url = client.host_url(&target.path);
    let case_id = change.case_id.as_str();
    for _ in 0..CONFLICT_RETRIES {
        let read = call(
            client,
            &url,
            dc::READ_QUERY,
            dc::build_read_request(
                SoapVersion::V11,
                &ReadRequest {
                    case_id: case_id.to_string(),
                },
            ),
            dc::parse_read_response,
        )
        .await?;
        let Some(case) = read.case else {
            let why: Vec<String> = read.log.iter().map(|l| l.note.clone()).collect();
            return Err(PushError::Permanent(format!(
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
            return Err(PushError::Permanent(format!(
                "{WHAT} {case_id}: the ERP has the case in {}: {why}",
                case.status_code
            )));
        }
        if case.closed {
            return Err(PushError::Permanent(format!(
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
            &url,
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
            return Err(PushError::Permanent(format!(
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
    Err(PushError::Transient(format!(
        "{WHAT} {case_id}: the case kept changing while updating; will try again"
    )))
}
