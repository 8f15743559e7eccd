//! `JournalEntryBulkChangeRequest_In`: the asynchronous SOAP service that changes journal
//! entry items. The mock accepts the dunning block changes erpsync sends, records each item's
//! change in `/mock/writes` (`entity_set` `JournalEntryBulkChange`, `key`
//! `COMPANY/YEAR/DOCUMENT/ITEM`, `method` `DunningBlock`, `body` the new
//! `DunningBlockingReasonCode`, empty when lifted) and acknowledges with `202` and no body,
//! as SAP does for an asynchronous inbound service. A message it cannot read gets a SOAP
//! fault (`500`). The open items the mock serves over OData do not change.

use super::gateway::{
    apply_fault, basic_auth_ok, injected_soap_fault, soap_fault, unauthorized, FaultEffect,
};
use super::state::State;
use crate::erp::soap::dispute_case::{FaultCode, SoapVersion};
use crate::erp::soap::journal_entry as je;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Target name for faults and `/mock/writes`.
pub(crate) const TARGET: &str = "JournalEntryBulkChange";

pub(crate) async fn handle(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !basic_auth_ok(&st, &headers) {
        return unauthorized(&st);
    }
    if let FaultEffect::Status(c) = apply_fault(&st, TARGET).await {
        return injected_soap_fault(c, SoapVersion::V11);
    }
    let text = String::from_utf8_lossy(&body);
    let changes = match je::parse_request(&text) {
        Ok(c) => c,
        Err(e) => {
            return soap_fault(
                StatusCode::INTERNAL_SERVER_ERROR,
                SoapVersion::V11,
                FaultCode::Sender,
                &e.to_string(),
            )
        }
    };
    for c in &changes {
        let key = format!(
            "{}/{}/{}/{}",
            c.item.company_code, c.item.fiscal_year, c.item.accounting_document, c.item.item
        );
        st.record(
            TARGET,
            &key,
            "DunningBlock",
            serde_json::json!({ "DunningBlockingReasonCode": c.reason }),
            &headers,
        );
    }
    StatusCode::ACCEPTED.into_response()
}
