//! `JournalEntryBulkChangeRequest_In` (namespace `http://sap.com/xi/SAPSCORE/SFIN`, WSDL
//! `JOURNALENTRYBULKCHANGEREQUEST_`): changes fields of posted journal entry items. erpsync
//! uses it for one thing: the dunning block (`DunningBlockingReasonCode`) of the items a
//! dispute case covers, set while the case is open and lifted (an empty code) once it is
//! resolved.
//!
//! The service is asynchronous: it has an input message and no answer, so SAP acknowledges
//! with HTTP 202 (or 200) and an empty body. Setting a block to the value it already has
//! changes nothing, so sending the same change again after a lost answer is harmless.

use super::xml::{self, esc, leaf};
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

pub const NAMESPACE: &str = "http://sap.com/xi/SAPSCORE/SFIN";
/// Where S/4HANA serves the service (the WSDL's endpoint, on the ERP host).
pub const SERVICE_PATH: &str = "/sap/bc/srt/scs_ext/sap/journalentrybulkchangerequest_";
pub const SOAP_ACTION: &str = "http://sap.com/xi/SAPSCORE/SFIN/JournalEntryBulkChangeRequest_In/JournalEntryBulkChangeRequest_InRequest";
/// Root element of the request body.
pub const REQUEST: &str = "JournalEntryBulkChangeRequestMessage";

/// A journal entry item (`ItemKey`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemKey {
    pub company_code: String,
    pub fiscal_year: String,
    pub accounting_document: String,
    pub item: String,
}

/// New dunning block of one item; an empty `reason` lifts the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunningBlockChange {
    pub item: ItemKey,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JournalEntryBulkChangeRequest: {0}")]
pub struct JournalEntryError(pub String);

fn message_header(out: &mut String, id: &str, at: DateTime<Utc>) {
    out.push_str("<MessageHeader>");
    leaf(out, "ID", Some(id));
    leaf(
        out,
        "CreationDateTime",
        Some(&at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    out.push_str("</MessageHeader>");
}

/// The request setting (or lifting) the dunning block of `changes`' items. `message_id`
/// (at most 35 characters) names the message in SAP's monitor.
pub fn build_request(
    message_id: &str,
    at: DateTime<Utc>,
    changes: &[DunningBlockChange],
) -> String {
    let mut body = String::new();
    let _ = write!(body, "<sfin:{REQUEST} xmlns:sfin=\"{NAMESPACE}\">");
    message_header(&mut body, message_id, at);
    for (i, c) in changes.iter().enumerate() {
        body.push_str("<JournalEntryDebtorCreditorItem>");
        message_header(&mut body, &format!("{message_id}-{}", i + 1), at);
        body.push_str("<ItemKey>");
        leaf(
            &mut body,
            "AccountingDocument",
            Some(&c.item.accounting_document),
        );
        leaf(&mut body, "CompanyCode", Some(&c.item.company_code));
        leaf(&mut body, "FiscalYear", Some(&c.item.fiscal_year));
        leaf(&mut body, "AccountingDocumentItemID", Some(&c.item.item));
        body.push_str("</ItemKey><DunningBlockingReasonCodeChange>");
        let _ = write!(
            body,
            "<DunningBlockingReasonCode>{}</DunningBlockingReasonCode>",
            esc(&c.reason)
        );
        body.push_str("<FieldValueChangeIsRequested>true</FieldValueChangeIsRequested>");
        body.push_str("</DunningBlockingReasonCodeChange></JournalEntryDebtorCreditorItem>");
    }
    let _ = write!(body, "</sfin:{REQUEST}>");
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header/><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// Reads a request back (the mock ERP's side): the dunning block changes it asks for.
/// Items whose change is not requested (`FieldValueChangeIsRequested` false) are skipped.
pub fn parse_request(input: &str) -> Result<Vec<DunningBlockChange>, JournalEntryError> {
    let err = |m: &str| JournalEntryError(m.to_string());
    let root = xml::parse(input).map_err(|e| JournalEntryError(e.to_string()))?;
    let body = root.child("Body").ok_or_else(|| err("no SOAP Body"))?;
    let msg = body
        .child(REQUEST)
        .ok_or_else(|| err("no JournalEntryBulkChangeRequestMessage in the Body"))?;
    msg.child("MessageHeader")
        .and_then(|h| h.child_text("CreationDateTime"))
        .ok_or_else(|| err("MessageHeader/CreationDateTime is required"))?;
    let mut out = Vec::new();
    for item in msg.children_named("JournalEntryDebtorCreditorItem") {
        let key = item
            .child("ItemKey")
            .ok_or_else(|| err("ItemKey is required"))?;
        let field = |n: &str| {
            key.child_text(n)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| JournalEntryError(format!("ItemKey/{n} is required")))
        };
        let Some(change) = item.child("DunningBlockingReasonCodeChange") else {
            continue;
        };
        let requested = change
            .child_text("FieldValueChangeIsRequested")
            .is_some_and(|v| v.trim() == "true");
        if !requested {
            continue;
        }
        out.push(DunningBlockChange {
            item: ItemKey {
                company_code: field("CompanyCode")?,
                fiscal_year: field("FiscalYear")?,
                accounting_document: field("AccountingDocument")?,
                item: field("AccountingDocumentItemID")?,
            },
            reason: change
                .child_text("DunningBlockingReasonCode")
                .unwrap_or_default()
                .trim()
                .to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_back_with_set_and_lifted_blocks() {
        let item = |doc: &str| ItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            accounting_document: doc.into(),
            item: "001".into(),
        };
        let changes = vec![
            DunningBlockChange {
                item: item("1800000001"),
                reason: "X".into(),
            },
            DunningBlockChange {
                item: item("1800000002"),
                reason: String::new(),
            },
        ];
        let xml = build_request("ERPSYNC-1", Utc::now(), &changes);
        assert!(xml.contains("<FieldValueChangeIsRequested>true</FieldValueChangeIsRequested>"));
        assert_eq!(parse_request(&xml).unwrap(), changes);
        assert!(parse_request("<x/>").is_err());
    }
}
