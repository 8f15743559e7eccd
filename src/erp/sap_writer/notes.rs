//! Notes → the customer's long text in SAP (`A_CustomerText` of `API_BUSINESS_PARTNER`).
//!
//! Each note is appended as a dated, signed line that ends with `[erpsync:KEY]`; a note
//! longer than the target's `max_length` is split into parts that each carry
//! `[erpsync:KEY#i/n]`. Before writing, the current text is read: parts whose marker is
//! already there (an earlier attempt reached SAP but its answer was lost) are not written
//! again. The update carries the
//! ETag of what was read (`If-Match`), so a text changed in between is re-read, not
//! overwritten.

use crate::erp::mapping::{NotesTarget, TextLevel};
use crate::erp::odata::batch::{BatchWrite, Repeatability};
use crate::erp::odata::client::Write;
use crate::erp::odata::page::{Field, Layout};
use crate::erp::odata::query::{any_of, string_literal, with_sap_client};
use crate::erp::odata::{ErpError, ODataClient};
use crate::erp::writer::{NoteReadBack, Outcome, WriteError};
use crate::model::note::CollectorNote;
use crate::model::Note;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;

/// Concurrent edits of the same text: re-read and re-append at most this often.
const CONFLICT_RETRIES: usize = 3;

/// The key predicate of the text a note goes to, e.g.
/// `A_CustomerText(Customer='0000004711',Language='EN',LongTextID='Z001')`: what the ERP
/// calls it, recorded on the outbox entry once read back.
pub fn text_key(target: &NotesTarget, note: &Note) -> String {
    let company = match target.level {
        TextLevel::Customer => String::new(),
        TextLevel::CompanyCode => format!(
            ",CompanyCode={}",
            string_literal(&company_code(target, note).unwrap_or_default())
        ),
    };
    format!(
        "{}(Customer={}{company},Language={},LongTextID={})",
        target.entity_set,
        string_literal(note.customer.as_str()),
        string_literal(&target.language),
        string_literal(&target.long_text_id)
    )
}

/// At the company-code level: the company code of the note's open item, else the target's.
fn company_code(target: &NotesTarget, note: &Note) -> Option<String> {
    note.item
        .as_ref()
        .map(|i| i.company_code.clone())
        .or_else(|| target.company_code.clone())
}

/// Refuses, for good, a note the target cannot place: at the company-code level, one
/// without an open item when no default company code is configured.
pub fn check_target(target: &NotesTarget, note: &Note) -> Result<(), WriteError> {
    if target.level == TextLevel::CompanyCode && company_code(target, note).is_none() {
        return Err(WriteError::Permanent(format!(
            "{}: the note names no open item and [targets.notes] company_code is not set, so \
             no company code's text can take it",
            target.entity_set
        )));
    }
    Ok(())
}

/// How [`read_texts`] names the text a note goes to: the customer, and at the
/// company-code level also the company code.
pub fn text_id(target: &NotesTarget, note: &Note) -> String {
    match target.level {
        TextLevel::Customer => note.customer.as_str().to_string(),
        TextLevel::CompanyCode => format!(
            "{}/{}",
            note.customer.as_str(),
            company_code(target, note).unwrap_or_default()
        ),
    }
}

/// The body that creates the text a note goes to, holding `long_text`.
pub fn create_body(target: &NotesTarget, note: &Note, long_text: &str) -> Value {
    let mut body = json!({
        "Customer": note.customer.as_str(),
        "Language": target.language,
        "LongTextID": target.long_text_id,
        "LongText": long_text,
    });
    if target.level == TextLevel::CompanyCode {
        body["CompanyCode"] = json!(company_code(target, note).unwrap_or_default());
    }
    body
}

/// The entries of a note that `text` does not hold yet, in order.
pub fn missing_parts(cn: &CollectorNote, parts: &[String], text: &str) -> Vec<String> {
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .filter(|(i, _)| !text.contains(&cn.part_marker(i + 1, n)))
        .map(|(_, p)| p.clone())
        .collect()
}

/// The URL of the text a note goes to.
fn text_url(
    client: &ODataClient,
    target: &NotesTarget,
    note: &Note,
) -> Result<url::Url, WriteError> {
    let key = text_key(target, note);
    let url = client
        .service_root(&target.service)
        .join(&key)
        .map_err(|e| WriteError::Permanent(format!("{}: bad key {key}: {e}", target.entity_set)))?;
    Ok(with_sap_client(url, client.sap_client()))
}

/// The text a note goes to and its ETag; `None` when the ERP has no such text yet.
pub async fn read_text_etag(
    client: &ODataClient,
    target: &NotesTarget,
    note: &Note,
) -> Result<Option<(String, Option<String>)>, WriteError> {
    let url = text_url(client, target, note)?;
    Ok(client
        .get_entity(&target.entity_set, &url)
        .await?
        .map(|(e, etag)| {
            let text = e.get("LongText").and_then(Value::as_str).unwrap_or("");
            (text.to_string(), etag)
        }))
}

/// Customers per collection read in [`read_texts`]: keeps the `$filter` URL short.
const READ_CHUNK: usize = 40;

/// The texts of many customers in few requests (a collection read filtered on the
/// customers), by [`text_id`]: text and ETag. A text that does not exist is absent.
pub async fn read_texts(
    client: &ODataClient,
    target: &NotesTarget,
    customers: &[&str],
) -> Result<std::collections::HashMap<String, (String, Option<String>)>, WriteError> {
    let root = client.service_root(&target.service);
    let mut out = std::collections::HashMap::new();
    for chunk in customers.chunks(READ_CHUNK) {
        let filter = format!(
            "({}) and Language eq {} and LongTextID eq {}",
            any_of("Customer", chunk),
            string_literal(&target.language),
            string_literal(&target.long_text_id)
        );
        let mut url = root
            .join(&target.entity_set)
            .map_err(|e| WriteError::Permanent(format!("{}: {e}", target.entity_set)))?;
        url.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$format", "json");
        let mut next = Some(with_sap_client(url, client.sap_client()));
        let mut seen = std::collections::HashSet::new();
        let layout = Arc::new(Layout::of(["Customer", "CompanyCode", "LongText"]));
        while let Some(url) = next.take() {
            if !seen.insert(url.clone()) {
                return Err(WriteError::Permanent(format!(
                    "{}: the next link leads back to a page already read (a loop)",
                    target.entity_set
                )));
            }
            let page = client.get_page(&target.entity_set, &url, &layout).await?;
            for e in page.entities() {
                let field = |k: &str| match e.property(k) {
                    Some(Field::Text(t)) => t,
                    _ => "",
                };
                let etag = e.etag().map(str::to_string);
                let id = match target.level {
                    TextLevel::Customer => field("Customer").to_string(),
                    TextLevel::CompanyCode => {
                        format!("{}/{}", field("Customer"), field("CompanyCode"))
                    }
                };
                out.insert(id, (field("LongText").to_string(), etag));
            }
            if let Some(n) = &page.next {
                next = Some(client.next_url(&url, n)?);
            }
        }
    }
    Ok(out)
}

/// Where each note went ([`text_key`]) and how many of its parts the ERP's text lacks,
/// read in a few collection reads for all of them.
pub async fn read_back(
    client: &ODataClient,
    target: &NotesTarget,
    notes: &[CollectorNote],
) -> Result<Vec<NoteReadBack>, WriteError> {
    let mut customers: Vec<&str> = notes.iter().map(|cn| cn.note.customer.as_str()).collect();
    customers.sort_unstable();
    customers.dedup();
    let texts = read_texts(client, target, &customers).await?;
    notes
        .iter()
        .map(|cn| {
            let text = texts
                .get(&text_id(target, &cn.note))
                .map(|(t, _)| t.as_str())
                .unwrap_or("");
            let parts = cn
                .erp_parts(target.max_length)
                .map_err(|e| WriteError::Permanent(e.to_string()))?;
            Ok(NoteReadBack {
                erp_ref: text_key(target, &cn.note),
                missing_parts: missing_parts(cn, &parts, text).len(),
                parts: parts.len(),
            })
        })
        .collect()
}

/// The text a note goes to, as the ERP holds it now (empty when there is none yet).
pub async fn read_text(
    client: &ODataClient,
    target: &NotesTarget,
    note: &Note,
) -> Result<String, WriteError> {
    Ok(read_text_etag(client, target, note)
        .await?
        .map(|(text, _)| text)
        .unwrap_or_default())
}

/// Sends a note without collector details; see [`send_collector`].
pub async fn send(
    client: &ODataClient,
    target: &NotesTarget,
    note: &Note,
    simulate: bool,
) -> Result<Outcome, WriteError> {
    let cn = CollectorNote {
        note: note.clone(),
        details: Default::default(),
    };
    send_collector(client, target, &cn, simulate).await
}

pub async fn send_collector(
    client: &ODataClient,
    target: &NotesTarget,
    cn: &CollectorNote,
    simulate: bool,
) -> Result<Outcome, WriteError> {
    let note = &cn.note;
    check_target(target, note)?;
    let what = target.entity_set.as_str();
    let root = client.service_root(&target.service);
    let key = text_key(target, note);
    let entity_url = text_url(client, target, note)?;
    let parts = cn
        .erp_parts(target.max_length)
        .map_err(|e| WriteError::Permanent(format!("{what} {key}: {e}")))?;
    for _ in 0..CONFLICT_RETRIES {
        let current = client.get_entity(what, &entity_url).await?;
        let (body, method, url, etag) = match current {
            Some((entity, etag)) => {
                let text = entity.get("LongText").and_then(Value::as_str).unwrap_or("");
                let missing = missing_parts(cn, &parts, text);
                if missing.is_empty() {
                    return Ok(Outcome::AlreadyThere);
                }
                let entry = missing.join("\n");
                let new_text = if text.is_empty() {
                    entry
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
                let body = create_body(target, note, &parts.join("\n"));
                (body, Method::POST, create_url, None)
            }
        };
        if simulate {
            return Ok(Outcome::Simulated);
        }
        // The id names this very request (the note, and the text it was built on): the same
        // request sent again keeps it, one rebuilt after a conflict gets another, so a
        // service that honours repeatability never answers it with the old conflict.
        let repeatability = Repeatability::of(
            &[note.idempotency_key.as_str()],
            &BatchWrite {
                method: method.to_string(),
                resource: url.to_string(),
                body: Some(body.clone()),
                if_match: etag.clone(),
                repeatability: None,
            },
            chrono::Utc::now(),
        );
        let write = Write {
            method,
            url: &url,
            body: &body,
            if_match: etag.as_deref(),
            headers: vec![
                ("Repeatability-Request-ID", repeatability.request_id.clone()),
                (
                    "Repeatability-First-Sent",
                    repeatability.first_sent_header(),
                ),
            ],
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
    Err(WriteError::Transient(format!(
        "{what} {key}: the text kept changing while writing; will try again"
    )))
}
