//! The dispute-case SOAP endpoint (`DisputeManagementManageDisputeCaseIn`).
//!
//! Like SAP's SOAP runtime it wants Basic auth but no CSRF token. Business outcomes
//! (unknown case, stale `ChangeStateID`, closed case) are answered with HTTP 200 and an
//! error item in the `Log`; only a message that cannot be read gets a SOAP fault.

use super::data::{dispute_status_is_closed, DISPUTE_STATUSES};
use super::gateway::{
    apply_fault, basic_auth_ok, injected_soap_fault, soap_fault, unauthorized, xml_response,
    FaultEffect,
};
use super::state::{lock, CaseState, State};
use crate::erp::soap::dispute_case::{
    self as dc, log_type, FaultCode, LogItem, Operation, ReadResponse, Severity, SoapVersion,
    UpdateRequest, UpdateResponse,
};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Entity-set name faults and `/mock/writes` use for the SOAP service.
pub(crate) const TARGET: &str = "DisputeCase";

/// Guesses the version of a message we could not parse, to answer in kind.
fn sniff_version(body: &str) -> SoapVersion {
    if body.contains(SoapVersion::V12.envelope_namespace()) {
        SoapVersion::V12
    } else {
        SoapVersion::V11
    }
}

pub(crate) async fn handle(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !basic_auth_ok(&st, &headers) {
        return unauthorized(&st);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let effect = apply_fault(&st, TARGET).await;
    if let FaultEffect::Status(c) = effect {
        return injected_soap_fault(c, sniff_version(&text));
    }
    let (version, op) = match dc::parse_request(&text) {
        Ok(x) => x,
        Err(e) => {
            return soap_fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                sniff_version(&text),
                FaultCode::Sender,
                &e.to_string(),
            );
        }
    };
    let (root, xml) = match op {
        Operation::Read(req) => {
            let case = lock(&st.cases).get(&req.case_id).map(|c| c.case.clone());
            let log = if case.is_some() {
                Vec::new()
            } else {
                vec![not_found(&req.case_id)]
            };
            (
                dc::READ_RESPONSE,
                dc::build_read_response(version, &ReadResponse { case, log }),
            )
        }
        Operation::Update(req) => {
            let resp = update(&st, &req, false, &headers);
            (
                dc::UPDATE_CONFIRMATION,
                dc::build_update_response(version, &resp, false),
            )
        }
        Operation::Check(req) => {
            let resp = update(&st, &req, true, &headers);
            (
                dc::CHECK_RESPONSE,
                dc::build_update_response(version, &resp, true),
            )
        }
    };
    let xml = if matches!(effect, FaultEffect::Malformed) {
        let mut cut = xml.len() / 2;
        while !xml.is_char_boundary(cut) {
            cut -= 1;
        }
        xml[..cut].to_string()
    } else {
        xml
    };
    xml_response(StatusCode::OK, version, &dc::soap_action(root), xml)
}

fn not_found(case_id: &str) -> LogItem {
    LogItem::new(
        log_type::NOT_FOUND,
        Severity::Error,
        format!("Dispute case {case_id} does not exist"),
    )
}

/// Validates and (unless `simulate`) applies an update. A status change moves the
/// `ChangeStateID` on; a note alone does not (SAP counts notes as uncritical changes).
fn update(st: &State, req: &UpdateRequest, simulate: bool, headers: &HeaderMap) -> UpdateResponse {
    let mut cases = lock(&st.cases);
    let Some(entry) = cases.get_mut(&req.case_id) else {
        return UpdateResponse {
            case_id: None,
            change_state_id: None,
            status_code: None,
            log: vec![not_found(&req.case_id)],
        };
    };
    let current = |e: &CaseState, log| UpdateResponse {
        case_id: Some(e.case.case_id.clone()),
        change_state_id: Some(e.case.change_state_id.clone()),
        status_code: Some(e.case.status_code.clone()),
        log,
    };
    let error = |t: &str, msg: String| vec![LogItem::new(t, Severity::Error, msg)];
    if entry.case.closed {
        let log = error(
            log_type::CASE_CLOSED,
            format!(
                "Dispute case {} is {} and cannot be changed",
                req.case_id, entry.case.status_name
            ),
        );
        return current(entry, log);
    }
    if entry.case.change_state_id != req.change_state_id {
        let log = error(
            log_type::CHANGE_STATE_MISMATCH,
            format!(
                "Dispute case {} was changed in the meantime; read it again",
                req.case_id
            ),
        );
        return current(entry, log);
    }
    let new_status = match &req.status_code {
        Some(s) => match DISPUTE_STATUSES.iter().find(|(k, _)| k == s) {
            Some(found) => Some(*found),
            None => {
                let log = error(
                    log_type::INVALID_STATUS,
                    format!("Status {s} is not defined in the case's status profile"),
                );
                return current(entry, log);
            }
        },
        None => None,
    };
    if simulate {
        let log = vec![LogItem::new(
            log_type::CHECK_OK,
            Severity::Information,
            format!("Dispute case {} can be updated", req.case_id),
        )];
        return current(entry, log);
    }
    if let Some((code, name)) = new_status {
        if code != entry.case.status_code {
            entry.case.status_code = code.to_string();
            entry.case.status_name = name.to_string();
            entry.case.closed = dispute_status_is_closed(code);
            entry.case.change_state_id = st.next_change_state_id();
        }
    }
    if let Some(note) = &req.note {
        entry.notes.push(note.clone());
    }
    let resp = current(
        entry,
        vec![LogItem::new(
            log_type::UPDATED,
            Severity::Information,
            format!("Dispute case {} was saved", req.case_id),
        )],
    );
    drop(cases);
    st.record(
        TARGET,
        &req.case_id,
        "Update",
        serde_json::json!({
            "StatusCode": req.status_code,
            "Note": req.note,
            "ChangeStateID": req.change_state_id,
        }),
        headers,
    );
    resp
}
