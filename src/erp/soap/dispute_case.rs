//! Messages of SAP's dispute-case enterprise service `DisputeManagementManageDisputeCaseIn`
//! (ESM ERP, namespace `http://sap.com/xi/ESM/ERP`).
//!
//! SAP publishes no WSDL outside a system, so the messages follow the documented operation
//! and element names and SAP's global data types, kept to what erpsync needs:
//!
//! | operation | request root | response root |
//! |---|---|---|
//! | Read | `TradeReceivablesPayablesDisputeCaseByIDQuery_sync` | `TradeReceivablesPayablesDisputeCaseByIDResponse_sync` |
//! | Update | `TradeReceivablesPayablesDisputeCaseUpdateRequest_sync` | `TradeReceivablesPayablesDisputeCaseUpdateConfirmation_sync` |
//! | Check update | `TradeReceivablesPayablesDisputeCaseUpdateCheckQuery_sync` | `TradeReceivablesPayablesDisputeCaseUpdateCheckResponse_sync` |
//!
//! `ChangeStateID` is SAP's optimistic lock: Read returns it, Update and Check must send it
//! back, and a case changed in between refuses the update. Business outcomes come back as a
//! `Log` (`Item` with `TypeID`, `SeverityCode` 1 information / 2 warning / 3 error, `Note`)
//! inside a normal response; a SOAP fault means the message itself could not be processed.

use super::xml::{self, esc, leaf, Element};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::str::FromStr;

/// Namespace of the service's messages.
pub const NAMESPACE: &str = "http://sap.com/xi/ESM/ERP";
/// Path of the service binding on the ERP host (SOAMANAGER's default naming).
pub const SERVICE_PATH: &str = "/sap/bc/srt/scs/sap/disputemanagementmanagedisputecasein";

pub const READ_QUERY: &str = "TradeReceivablesPayablesDisputeCaseByIDQuery_sync";
pub const READ_RESPONSE: &str = "TradeReceivablesPayablesDisputeCaseByIDResponse_sync";
pub const UPDATE_REQUEST: &str = "TradeReceivablesPayablesDisputeCaseUpdateRequest_sync";
pub const UPDATE_CONFIRMATION: &str = "TradeReceivablesPayablesDisputeCaseUpdateConfirmation_sync";
pub const CHECK_QUERY: &str = "TradeReceivablesPayablesDisputeCaseUpdateCheckQuery_sync";
pub const CHECK_RESPONSE: &str = "TradeReceivablesPayablesDisputeCaseUpdateCheckResponse_sync";
const CASE: &str = "TradeReceivablesPayablesDisputeCase";
const SELECTION: &str = "TradeReceivablesPayablesDisputeCaseSelectionByID";

/// Log `TypeID`s the service uses, so callers can tell the outcomes apart.
pub mod log_type {
    pub const UPDATED: &str = "DISPUTE_CASE_UPDATED";
    pub const CHECK_OK: &str = "DISPUTE_CASE_CHECK_OK";
    pub const NOT_FOUND: &str = "DISPUTE_CASE_NOT_FOUND";
    /// The case changed since the caller's Read (`ChangeStateID` differs).
    pub const CHANGE_STATE_MISMATCH: &str = "CHANGE_STATE_ID_MISMATCH";
    /// The case is closed or voided and accepts no more changes.
    pub const CASE_CLOSED: &str = "DISPUTE_CASE_CLOSED";
    pub const INVALID_STATUS: &str = "INVALID_STATUS_CODE";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    V11,
    V12,
}

impl SoapVersion {
    pub fn envelope_namespace(self) -> &'static str {
        match self {
            SoapVersion::V11 => "http://schemas.xmlsoap.org/soap/envelope/",
            SoapVersion::V12 => "http://www.w3.org/2003/05/soap-envelope",
        }
    }

    /// Content type of a message; SOAP 1.1 names the operation in a `SOAPAction` header
    /// instead, SOAP 1.2 in the `action` parameter.
    pub fn content_type(self, action: &str) -> String {
        match self {
            SoapVersion::V11 => "text/xml; charset=utf-8".to_string(),
            SoapVersion::V12 => {
                format!("application/soap+xml; charset=utf-8; action=\"{action}\"")
            }
        }
    }
}

/// The SOAP action URI of an operation, `namespace:…:request root`.
pub fn soap_action(request_root: &str) -> String {
    format!("{NAMESPACE}:DisputeManagementManageDisputeCaseIn:{request_root}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    pub case_id: String,
}

/// An open item a case disputes, by its FI key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputedItem {
    pub company_code: String,
    pub fiscal_year: String,
    pub accounting_document: String,
    pub accounting_document_item: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeCase {
    /// External case number (`CaseID`, 12 characters).
    pub case_id: String,
    pub case_guid: String,
    pub case_type: String,
    pub change_state_id: String,
    /// The status key of the case's status profile (e.g. `OPEN`, `INPR`, `CLSD`).
    pub status_code: String,
    pub status_name: String,
    /// Closed or voided: no more updates.
    pub closed: bool,
    pub customer_id: String,
    pub company_code: String,
    pub disputed_amount: Decimal,
    pub currency: String,
    pub title: String,
    pub reason_code: String,
    pub items: Vec<DisputedItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    pub case_id: String,
    /// As returned by the last Read.
    pub change_state_id: String,
    /// New status key; `None` leaves the status alone (e.g. a note only).
    pub status_code: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Information = 1,
    Warning = 2,
    Error = 3,
}

impl Severity {
    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(s: &str) -> Option<Self> {
        match s.trim() {
            "1" => Some(Severity::Information),
            "2" => Some(Severity::Warning),
            "3" => Some(Severity::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogItem {
    pub type_id: String,
    pub severity: Severity,
    pub note: String,
}

impl LogItem {
    pub fn new(type_id: &str, severity: Severity, note: impl Into<String>) -> Self {
        LogItem {
            type_id: type_id.to_string(),
            severity,
            note: note.into(),
        }
    }
}

fn max_severity(log: &[LogItem]) -> Option<Severity> {
    log.iter().map(|i| i.severity).max()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadResponse {
    pub case: Option<DisputeCase>,
    pub log: Vec<LogItem>,
}

/// Outcome of an Update or a Check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateResponse {
    pub case_id: Option<String>,
    /// The case's `ChangeStateID` after the update (unchanged for a Check).
    pub change_state_id: Option<String>,
    pub status_code: Option<String>,
    pub log: Vec<LogItem>,
}

impl UpdateResponse {
    pub fn is_error(&self) -> bool {
        max_severity(&self.log) == Some(Severity::Error)
    }

    /// Whether the log carries an item of this type (see [`log_type`]).
    pub fn has(&self, type_id: &str) -> bool {
        self.log.iter().any(|i| i.type_id == type_id)
    }
}

/// What a caller asked the service to do (server side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Read(ReadRequest),
    Update(UpdateRequest),
    /// Update in simulation: validate only, change nothing.
    Check(UpdateRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("malformed SOAP message: {0}")]
    Malformed(String),
    #[error("SOAP fault {code}: {message}")]
    Fault { code: String, message: String },
}

impl From<xml::XmlError> for SoapError {
    fn from(e: xml::XmlError) -> Self {
        SoapError::Malformed(e.0)
    }
}

/// Who is to blame for a fault (`Client`/`Sender` or `Server`/`Receiver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    Sender,
    Receiver,
}

// ---------------------------------------------------------------------------------------
// Envelope

fn envelope(version: SoapVersion, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{}\"><soap:Header/><soap:Body>{body}</soap:Body></soap:Envelope>",
        version.envelope_namespace()
    )
}

/// Opens the envelope: the SOAP version and the first element inside `Body`.
fn open_envelope(input: &str) -> Result<(SoapVersion, Element), SoapError> {
    let root = xml::parse(input)?;
    if root.name != "Envelope" {
        return Err(SoapError::Malformed(format!(
            "root element is {}, not Envelope",
            root.name
        )));
    }
    let version = match root.own_namespace() {
        Some(ns) if ns == SoapVersion::V12.envelope_namespace() => SoapVersion::V12,
        Some(ns) if ns == SoapVersion::V11.envelope_namespace() => SoapVersion::V11,
        other => {
            return Err(SoapError::Malformed(format!(
                "unknown envelope namespace {other:?}"
            )))
        }
    };
    let body = root
        .child("Body")
        .ok_or_else(|| SoapError::Malformed("no Body".into()))?;
    let payload = body
        .children
        .first()
        .cloned()
        .ok_or_else(|| SoapError::Malformed("empty Body".into()))?;
    Ok((version, payload))
}

/// Turns a `Fault` payload into an error (both SOAP versions).
fn check_fault(payload: &Element) -> Result<(), SoapError> {
    if payload.name != "Fault" {
        return Ok(());
    }
    // SOAP 1.1: faultcode/faultstring; SOAP 1.2: Code/Value and Reason/Text.
    let code = payload
        .child_text("faultcode")
        .or_else(|| payload.child("Code").and_then(|c| c.child_text("Value")))
        .unwrap_or_default();
    let message = payload
        .child_text("faultstring")
        .or_else(|| payload.child("Reason").and_then(|r| r.child_text("Text")))
        .unwrap_or_default();
    Err(SoapError::Fault { code, message })
}

fn expect_root(payload: &Element, name: &str) -> Result<(), SoapError> {
    if payload.name == name {
        Ok(())
    } else {
        Err(SoapError::Malformed(format!(
            "expected {name}, found {}",
            payload.name
        )))
    }
}

fn message(root: &str, inner: &str) -> String {
    format!("<n0:{root} xmlns:n0=\"{NAMESPACE}\">{inner}</n0:{root}>")
}

// ---------------------------------------------------------------------------------------
// Log

fn write_log(out: &mut String, log: &[LogItem]) {
    out.push_str("<Log>");
    if let Some(max) = max_severity(log) {
        let _ = write!(
            out,
            "<MaximumLogItemSeverityCode>{}</MaximumLogItemSeverityCode>",
            max.code()
        );
    }
    for item in log {
        let _ = write!(
            out,
            "<Item><TypeID>{}</TypeID><SeverityCode>{}</SeverityCode><Note>{}</Note></Item>",
            esc(&item.type_id),
            item.severity.code(),
            esc(&item.note)
        );
    }
    out.push_str("</Log>");
}

fn read_log(payload: &Element) -> Vec<LogItem> {
    let Some(log) = payload.child("Log") else {
        return Vec::new();
    };
    log.children_named("Item")
        .map(|i| LogItem {
            type_id: i.child_text("TypeID").unwrap_or_default(),
            severity: i
                .child_text("SeverityCode")
                .and_then(|s| Severity::from_code(&s))
                .unwrap_or(Severity::Error),
            note: i.child_text("Note").unwrap_or_default(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Client side: requests out, responses in

pub fn build_read_request(version: SoapVersion, req: &ReadRequest) -> String {
    let mut inner = String::new();
    let _ = write!(inner, "<{SELECTION}>");
    leaf(&mut inner, "CaseID", Some(&req.case_id));
    let _ = write!(inner, "</{SELECTION}>");
    envelope(version, &message(READ_QUERY, &inner))
}

pub fn parse_read_response(input: &str) -> Result<ReadResponse, SoapError> {
    let (_, payload) = open_envelope(input)?;
    check_fault(&payload)?;
    expect_root(&payload, READ_RESPONSE)?;
    let case = payload.child(CASE).map(read_case).transpose()?;
    Ok(ReadResponse {
        case,
        log: read_log(&payload),
    })
}

/// An Update, or with `simulate` its Check counterpart (same content, nothing is saved).
pub fn build_update_request(version: SoapVersion, req: &UpdateRequest, simulate: bool) -> String {
    let mut inner = String::new();
    let _ = write!(inner, "<{CASE}>");
    leaf(&mut inner, "CaseID", Some(&req.case_id));
    leaf(&mut inner, "ChangeStateID", Some(&req.change_state_id));
    leaf(&mut inner, "StatusCode", req.status_code.as_deref());
    if let Some(note) = &req.note {
        let _ = write!(inner, "<Note languageCode=\"EN\">{}</Note>", esc(note));
    }
    let _ = write!(inner, "</{CASE}>");
    let root = if simulate {
        CHECK_QUERY
    } else {
        UPDATE_REQUEST
    };
    envelope(version, &message(root, &inner))
}

/// Parses an Update confirmation or a Check response.
pub fn parse_update_response(input: &str) -> Result<UpdateResponse, SoapError> {
    let (_, payload) = open_envelope(input)?;
    check_fault(&payload)?;
    if payload.name != UPDATE_CONFIRMATION && payload.name != CHECK_RESPONSE {
        return Err(SoapError::Malformed(format!(
            "expected {UPDATE_CONFIRMATION} or {CHECK_RESPONSE}, found {}",
            payload.name
        )));
    }
    let case = payload.child(CASE);
    Ok(UpdateResponse {
        case_id: case.and_then(|c| c.child_text("CaseID")),
        change_state_id: case.and_then(|c| c.child_text("ChangeStateID")),
        status_code: case.and_then(|c| c.child_text("StatusCode")),
        log: read_log(&payload),
    })
}

// ---------------------------------------------------------------------------------------
// Server side: requests in, responses out

pub fn parse_request(input: &str) -> Result<(SoapVersion, Operation), SoapError> {
    let (version, payload) = open_envelope(input)?;
    let op = match payload.name.as_str() {
        READ_QUERY => {
            let case_id = payload
                .child(SELECTION)
                .and_then(|s| s.child_text("CaseID"))
                .ok_or_else(|| SoapError::Malformed("CaseID is missing".into()))?;
            Operation::Read(ReadRequest { case_id })
        }
        UPDATE_REQUEST | CHECK_QUERY => {
            let case = payload
                .child(CASE)
                .ok_or_else(|| SoapError::Malformed(format!("{CASE} is missing")))?;
            let req = UpdateRequest {
                case_id: case
                    .child_text("CaseID")
                    .ok_or_else(|| SoapError::Malformed("CaseID is missing".into()))?,
                change_state_id: case
                    .child_text("ChangeStateID")
                    .ok_or_else(|| SoapError::Malformed("ChangeStateID is missing".into()))?,
                status_code: case.child_text("StatusCode"),
                note: case.child_text("Note"),
            };
            if payload.name == UPDATE_REQUEST {
                Operation::Update(req)
            } else {
                Operation::Check(req)
            }
        }
        other => {
            return Err(SoapError::Malformed(format!(
                "operation {other} is not offered by this service"
            )))
        }
    };
    Ok((version, op))
}

pub fn build_read_response(version: SoapVersion, resp: &ReadResponse) -> String {
    let mut inner = String::new();
    if let Some(case) = &resp.case {
        write_case(&mut inner, case);
    }
    write_log(&mut inner, &resp.log);
    envelope(version, &message(READ_RESPONSE, &inner))
}

pub fn build_update_response(
    version: SoapVersion,
    resp: &UpdateResponse,
    simulate: bool,
) -> String {
    let mut inner = String::new();
    if resp.case_id.is_some() {
        let _ = write!(inner, "<{CASE}>");
        leaf(&mut inner, "CaseID", resp.case_id.as_deref());
        leaf(&mut inner, "ChangeStateID", resp.change_state_id.as_deref());
        leaf(&mut inner, "StatusCode", resp.status_code.as_deref());
        let _ = write!(inner, "</{CASE}>");
    }
    write_log(&mut inner, &resp.log);
    let root = if simulate {
        CHECK_RESPONSE
    } else {
        UPDATE_CONFIRMATION
    };
    envelope(version, &message(root, &inner))
}

pub fn build_fault(version: SoapVersion, code: FaultCode, text: &str) -> String {
    let body = match version {
        SoapVersion::V11 => {
            let code = match code {
                FaultCode::Sender => "soap:Client",
                FaultCode::Receiver => "soap:Server",
            };
            format!(
                "<soap:Fault><faultcode>{code}</faultcode><faultstring xml:lang=\"en\">{}</faultstring></soap:Fault>",
                esc(text)
            )
        }
        SoapVersion::V12 => {
            let code = match code {
                FaultCode::Sender => "soap:Sender",
                FaultCode::Receiver => "soap:Receiver",
            };
            format!(
                "<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang=\"en\">{}</soap:Text></soap:Reason></soap:Fault>",
                esc(text)
            )
        }
    };
    envelope(version, &body)
}

// ---------------------------------------------------------------------------------------
// The case itself

fn write_case(out: &mut String, c: &DisputeCase) {
    let _ = write!(out, "<{CASE}>");
    leaf(out, "CaseID", Some(&c.case_id));
    leaf(out, "CaseGUID", Some(&c.case_guid));
    leaf(out, "CaseTypeCode", Some(&c.case_type));
    leaf(out, "ChangeStateID", Some(&c.change_state_id));
    leaf(out, "StatusCode", Some(&c.status_code));
    leaf(out, "StatusName", Some(&c.status_name));
    leaf(
        out,
        "ClosedIndicator",
        Some(if c.closed { "true" } else { "false" }),
    );
    leaf(out, "CustomerID", Some(&c.customer_id));
    leaf(out, "CompanyCode", Some(&c.company_code));
    let _ = write!(
        out,
        "<DisputedAmount currencyCode=\"{}\">{}</DisputedAmount>",
        esc(&c.currency),
        c.disputed_amount
    );
    leaf(out, "Title", Some(&c.title));
    leaf(out, "ReasonCode", Some(&c.reason_code));
    for i in &c.items {
        out.push_str("<DisputedItem>");
        leaf(out, "CompanyCode", Some(&i.company_code));
        leaf(out, "FiscalYear", Some(&i.fiscal_year));
        leaf(out, "AccountingDocument", Some(&i.accounting_document));
        leaf(
            out,
            "AccountingDocumentItem",
            Some(&i.accounting_document_item),
        );
        out.push_str("</DisputedItem>");
    }
    let _ = write!(out, "</{CASE}>");
}

fn read_case(el: &Element) -> Result<DisputeCase, SoapError> {
    let text = |n: &str| el.child_text(n).unwrap_or_default();
    let amount_el = el.child("DisputedAmount");
    let disputed_amount = match amount_el.map(|a| a.text.trim()).filter(|t| !t.is_empty()) {
        Some(t) => Decimal::from_str(t)
            .map_err(|e| SoapError::Malformed(format!("DisputedAmount {t:?}: {e}")))?,
        None => Decimal::ZERO,
    };
    Ok(DisputeCase {
        case_id: el
            .child_text("CaseID")
            .ok_or_else(|| SoapError::Malformed("case without CaseID".into()))?,
        case_guid: text("CaseGUID"),
        case_type: text("CaseTypeCode"),
        change_state_id: text("ChangeStateID"),
        status_code: text("StatusCode"),
        status_name: text("StatusName"),
        closed: matches!(text("ClosedIndicator").as_str(), "true" | "1" | "X"),
        customer_id: text("CustomerID"),
        company_code: text("CompanyCode"),
        disputed_amount,
        currency: amount_el
            .and_then(|a| a.attr("currencyCode"))
            .unwrap_or_default()
            .to_string(),
        title: text("Title"),
        reason_code: text("ReasonCode"),
        items: el
            .children_named("DisputedItem")
            .map(|i| DisputedItem {
                company_code: i.child_text("CompanyCode").unwrap_or_default(),
                fiscal_year: i.child_text("FiscalYear").unwrap_or_default(),
                accounting_document: i.child_text("AccountingDocument").unwrap_or_default(),
                accounting_document_item: i
                    .child_text("AccountingDocumentItem")
                    .unwrap_or_default(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> DisputeCase {
        DisputeCase {
            case_id: "100000000001".into(),
            case_guid: "0A1B".into(),
            case_type: "F_DM".into(),
            change_state_id: "20261101093000.1".into(),
            status_code: "OPEN".into(),
            status_name: "Open".into(),
            closed: false,
            customer_id: "0001000001".into(),
            company_code: "1010".into(),
            disputed_amount: Decimal::new(12345, 2),
            currency: "EUR".into(),
            title: "Price difference <5%> & more".into(),
            reason_code: "001".into(),
            items: vec![DisputedItem {
                company_code: "1010".into(),
                fiscal_year: "2026".into(),
                accounting_document: "1800000001".into(),
                accounting_document_item: "001".into(),
            }],
        }
    }

    #[test]
    fn read_round_trip_both_versions() {
        for v in [SoapVersion::V11, SoapVersion::V12] {
            let req = ReadRequest {
                case_id: "100000000001".into(),
            };
            let (ver, op) = parse_request(&build_read_request(v, &req)).unwrap();
            assert_eq!(ver, v);
            assert_eq!(op, Operation::Read(req));
            let resp = ReadResponse {
                case: Some(case()),
                log: vec![],
            };
            assert_eq!(
                parse_read_response(&build_read_response(v, &resp)).unwrap(),
                resp
            );
        }
    }

    #[test]
    fn update_and_check_round_trip() {
        let req = UpdateRequest {
            case_id: "100000000001".into(),
            change_state_id: "x".into(),
            status_code: Some("CLSD".into()),
            note: Some("Credit memo 4711 agreed; 顾客同意".into()),
        };
        let (_, op) = parse_request(&build_update_request(SoapVersion::V11, &req, false)).unwrap();
        assert_eq!(op, Operation::Update(req.clone()));
        let (_, op) = parse_request(&build_update_request(SoapVersion::V11, &req, true)).unwrap();
        assert_eq!(op, Operation::Check(req));
        let resp = UpdateResponse {
            case_id: Some("100000000001".into()),
            change_state_id: Some("y".into()),
            status_code: Some("CLSD".into()),
            log: vec![LogItem::new(
                log_type::CHANGE_STATE_MISMATCH,
                Severity::Error,
                "changed",
            )],
        };
        let parsed =
            parse_update_response(&build_update_response(SoapVersion::V12, &resp, false)).unwrap();
        assert_eq!(parsed, resp);
        assert!(parsed.is_error());
    }

    #[test]
    fn faults_become_errors() {
        for v in [SoapVersion::V11, SoapVersion::V12] {
            let err = parse_read_response(&build_fault(v, FaultCode::Sender, "bad")).unwrap_err();
            assert!(matches!(err, SoapError::Fault { ref message, .. } if message == "bad"));
        }
    }
}
