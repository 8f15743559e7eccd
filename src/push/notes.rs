//! Notes → the customer's long text in SAP (`A_CustomerText` of `API_BUSINESS_PARTNER`).
//!
//! Each note is appended as a dated, signed line that ends with `[erpsync:KEY]`. Before
//! writing, the current text is read: if the marker is already there (an earlier attempt
//! reached SAP but its answer was lost), nothing is written again. The update carries the
//! ETag of what was read (`If-Match`), so a text changed in between is re-read, not
//! overwritten.

use super::{Outcome, PushError};
use crate::erp::mapping::NotesTarget;
use crate::erp::odata::client::Write;
use crate::erp::odata::query::{string_literal, with_sap_client};
use crate::erp::odata::{ErpError, ODataClient};
use crate::model::Note;
use reqwest::Method;
use serde_json::{json, Value};

/// Concurrent edits of the same text: re-read and re-append at most this often.
const CONFLICT_RETRIES: usize = 3;

pub fn marker(note: &Note) -> String {
    format!("[erpsync:{}]", note.idempotency_key)
}

pub async fn send(
    client: &ODataClient,
    target: &NotesTarget,
    note: &Note,
    simulate: bool,
) -> Result<Outcome, PushError> {
    let what = target.entity_set.as_str();
    let root = client.service_root(&target.service);
    let key = format!(
        "{}(Customer={},Language={},LongTextID={})",
        target.entity_set,
        string_literal(note.customer.as_str()),
        string_literal(&target.language),
        string_literal(&target.long_text_id)
    );
    let entity_url = with_sap_client(
        root.join(&key)
            .map_err(|e| PushError::Permanent(format!("{what}: bad key {key}: {e}")))?,
        client.sap_client(),
    );
    let entry = note.erp_text();
    for _ in 0..CONFLICT_RETRIES {
        let current = client.get_entity(what, &entity_url).await?;
        let (body, method, url, etag) = match current {
            Some((entity, etag)) => {
                let text = entity.get("LongText").and_then(Value::as_str).unwrap_or("");
                if text.contains(&marker(note)) {
                    return Ok(Outcome::AlreadyThere);
                }
                let new_text = if text.is_empty() {
                    entry.clone()
                } else {
                    format!("{text}\n{entry}")
                };
                (
                    json!({ "LongText": new_text }),
                    Method::PATCH,
                    entity_url.clone(),
                    etag,
                )
            }
            None => {
                let create_url = with_sap_client(
                    root.join(&target.entity_set)
                        .expect("entity set is a valid segment"),
                    client.sap_client(),
                );
                let body = json!({
                    "Customer": note.customer.as_str(),
                    "Language": target.language,
                    "LongTextID": target.long_text_id,
                    "LongText": entry,
                });
                (body, Method::POST, create_url, None)
            }
        };
        let length = body["LongText"]
            .as_str()
            .map(|s| s.chars().count())
            .unwrap_or(0);
        if length > target.max_length {
            return Err(PushError::Permanent(format!(
                "{what} {key}: the text would be {length} characters, over the limit of {}",
                target.max_length
            )));
        }
        if simulate {
            return Ok(Outcome::Simulated);
        }
        let write = Write {
            method,
            url: &url,
            body: &body,
            if_match: etag.as_deref(),
            headers: vec![("Repeatability-Request-ID", note.idempotency_key.clone())],
        };
        match client.write(what, &root, &write).await {
            Ok(_) => return Ok(Outcome::Sent),
            // Someone changed the text since we read it (412), or created it (409): read again.
            Err(ErpError::Status {
                status: 409 | 412, ..
            }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PushError::Transient(format!(
        "{what} {key}: the text kept changing while writing; will try again"
    )))
}
