//! Writes to the long-text sets (`A_CustomerText`, `A_CustomerCompanyText`): create, and
//! change or delete under an ETag precondition. Every accepted write is recorded.

use super::data::TextRec;
use super::gateway::{bad_request, check_if_match, json_ok, not_found, sap_error};
use super::odata::render_entity;
use super::request::{text_etag, Ctx};
use super::sets::{quote, Set, TextTable};
use super::state::{lock, text_key};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::HashMap;

fn key_fields(set: Set) -> Vec<&'static str> {
    set.keys().map(|p| p.name).collect()
}

/// The body of a create or change: a JSON object naming only the set's properties (what is
/// wrong with it, otherwise).
fn read_body(set: Set, body: &[u8]) -> Result<Value, String> {
    let json = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Err("Request body must be a JSON object".into()),
        Err(e) => return Err(format!("Malformed request body: {e}")),
    };
    let obj = json.as_object().map(Map::keys).into_iter().flatten();
    for k in obj {
        if k != "__metadata" && set.prop(k).is_none() {
            return Err(format!("Property {k} not found in {}", set.type_name()));
        }
    }
    Ok(json)
}

pub(crate) fn create_text(ctx: &Ctx<'_>, set: Set, body: &[u8]) -> Response {
    let json = match read_body(set, body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    let obj = json.as_object().cloned().unwrap_or_default();
    let mut vals = HashMap::new();
    for k in key_fields(set) {
        match obj.get(k).and_then(|v| v.as_str()) {
            Some(v) if !v.is_empty() => {
                vals.insert(k, v.to_string());
            }
            _ => return bad_request(&format!("Property {k} is required")),
        }
    }
    let customer = vals["Customer"].clone();
    let ds = &ctx.st.ds;
    let Some(ci) = ds.customers.iter().position(|c| c.customer == customer) else {
        return bad_request(&format!("Customer {customer} does not exist"));
    };
    if set == Set::CustomerCompanyText {
        let cc = &vals["CompanyCode"];
        if !ds
            .company_codes
            .iter()
            .any(|c| c.customer as usize == ci && c.company_code == cc)
        {
            return bad_request(&format!(
                "Customer {customer} is not created in company code {cc}"
            ));
        }
    }
    let text = TextRec {
        customer,
        company_code: vals.get("CompanyCode").cloned(),
        language: vals["Language"].clone(),
        long_text_id: vals["LongTextID"].clone(),
        long_text: obj
            .get("LongText")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
    };
    let key = text_key(&text);
    {
        let mut texts = lock(ctx.st.texts(set));
        if texts.contains_key(&key) {
            return sap_error(
                StatusCode::CONFLICT,
                "/IWBEP/CM_MGW_RT/025",
                &format!("{}({key}) already exists", set.name()),
            );
        }
        texts.insert(key.clone(), text.clone());
    }
    ctx.st
        .record(set.name(), &key, "POST", json.clone(), ctx.headers);
    let rows = [text];
    let table = TextTable { rows: &rows };
    let etag = text_etag(&rows[0]);
    let mut out = String::from("{\"d\":");
    render_entity(
        &mut out,
        &ctx.service_url,
        set,
        &table,
        0,
        None,
        Some(&etag),
    );
    out.push('}');
    let mut r = json_ok(StatusCode::CREATED, out);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{}/{}({key})", ctx.service_url, set.name())) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(crate) fn change_text(
    ctx: &Ctx<'_>,
    set: Set,
    key: &[String],
    method: &str,
    body: &[u8],
) -> Response {
    let names = key_fields(set);
    let canonical = names
        .iter()
        .zip(key)
        .map(|(n, v)| format!("{n}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(",");
    let json = if method == "DELETE" {
        Value::Null
    } else {
        match read_body(set, body) {
            Ok(v) => v,
            Err(e) => return bad_request(&e),
        }
    };
    if let Some(obj) = json.as_object() {
        for (k, v) in obj {
            if let Some(pos) = names.iter().position(|n| n == k) {
                if v.as_str() != Some(key[pos].as_str()) {
                    return bad_request(&format!("Key property {k} cannot be changed"));
                }
            }
        }
    }
    let new_etag;
    {
        let mut texts = lock(ctx.st.texts(set));
        let Some(current) = texts.get_mut(&canonical) else {
            return not_found(&format!(
                "Resource not found for the segment '{}'",
                set.name()
            ));
        };
        if let Some(r) = check_if_match(ctx.headers, &text_etag(current)) {
            return r;
        }
        if method == "DELETE" {
            texts.remove(&canonical);
            new_etag = None;
        } else {
            let text = json.get("LongText").and_then(|v| v.as_str());
            match (method, text) {
                (_, Some(t)) => current.long_text = t.to_string(),
                // PUT replaces the whole entity: an absent property becomes initial.
                ("PUT", None) => current.long_text.clear(),
                _ => {}
            }
            new_etag = Some(text_etag(current));
        }
    }
    ctx.st
        .record(set.name(), &canonical, method, json, ctx.headers);
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = new_etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}
