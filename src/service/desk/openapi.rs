//! The API described as OpenAPI 3.1, served at `/api/v1/openapi.json` (no credentials
//! needed: it describes, it reveals nothing).

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false,
           "description": description, "schema": {"type": "string"}})
}

fn errors() -> Value {
    let e = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({
        "400": {"description": "bad input", "content": e["content"]},
        "401": {"description": "no or unknown credentials", "content": e["content"]},
        "403": {"description": "the role does not allow it, or the CSRF token is missing", "content": e["content"]},
    })
}

fn with_errors(mut ok: Value, extra: &[(&str, &str)]) -> Value {
    let mut all = errors();
    for (code, what) in extra {
        all[*code] = json!({"description": what,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    }
    if let (Some(ok), Some(all)) = (ok.as_object_mut(), all.as_object()) {
        for (k, v) in all {
            ok.insert(k.clone(), v.clone());
        }
    }
    ok
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({"200": {"description": description, "content": {"application/json": {"schema": schema}}}})
}

pub fn document() -> Value {
    let filters = vec![
        query("status", "open, acknowledged, resolved, waived or closed"),
        query("rule", "a rule name, e.g. payment_terms_company_code"),
        query("severity", "low, medium or high"),
        query("company_code", "flags scoped to this company code (and sales areas of the sales organisation with the same number)"),
        query("assignee", "user the flag is assigned to"),
        query("customer", "customer number"),
        query("q", "customer number (or its start) or part of the customer's name"),
    ];
    let mut paged = filters.clone();
    paged.push(query("after", "the `next` cursor of the previous page"));
    paged.push(json!({"name": "limit", "in": "query", "required": false,
                      "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}));
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let action = json!({"name": "action", "in": "path", "required": true,
        "schema": {"type": "string", "enum": ["acknowledge", "resolve", "waive", "approve", "reject", "reopen"]}});
    let case =
        json!({"name": "case", "in": "path", "required": true, "schema": {"type": "string"}});
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "erpsync review desk API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The discrepancy review queue. Authenticate with `Authorization: Bearer <token>` ([[server.tokens]]) or the desk session cookie plus `X-CSRF-Token` on POST. Roles: viewer (read), collector (+ notes, dispute statuses), mdm (+ acknowledge, resolve, waive, reopen), approver (read + approve waivers proposed by someone else), admin (all)."
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "erpsync_session"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"},
                    "current_version": {"type": "string", "description": "409 on a stale version: the flag's version now"},
                    "current_status": {"type": "string"}
                }},
                "Flag": {"type": "object", "description": "A discrepancy (the fields of `discrepancies list --format json`) plus version, customer_name, awaiting_approval", "properties": {
                    "id": {"type": "integer"}, "rule": {"type": "string"}, "severity": {"type": "string"},
                    "status": {"type": "string"}, "customer": {"type": "string"}, "customer_name": {"type": ["string", "null"]},
                    "scope": {"type": "string"}, "field": {"type": "string"}, "contract_id": {"type": ["string", "null"]},
                    "contract_value": {"type": "string"}, "master_value": {"type": "string"}, "explanation": {"type": "string"},
                    "exposure": {"type": "object"}, "assignee": {"type": ["string", "null"]},
                    "waived_until": {"type": ["string", "null"], "format": "date"}, "waiver_by": {"type": ["string", "null"]},
                    "waiver_approved_by": {"type": ["string", "null"]}, "awaiting_approval": {"type": "boolean"},
                    "first_seen": {"type": "string", "format": "date-time"}, "last_seen": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "version": {"type": "string", "description": "send back with an action; a flag changed since answers 409"}
                }},
                "Page": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Flag"}},
                    "next": {"type": ["string", "null"]}, "total": {"type": "integer"},
                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}
                }},
                "Action": {"type": "object", "additionalProperties": false, "properties": {
                    "version": {"type": "string"},
                    "note": {"type": "string", "description": "required to resolve and to waive (the reason)"},
                    "assignee": {"type": "string", "description": "acknowledge: hand the flag to this user (default: the caller)"},
                    "until": {"type": "string", "format": "date", "description": "waive: last day the waiver holds (required)"}
                }},
                "Note": {"type": "object", "required": ["customer", "text"], "additionalProperties": false, "properties": {
                    "customer": {"type": "string"}, "item": {"type": "string", "description": "COMPANY/YEAR/DOC/ITEM"},
                    "text": {"type": "string"}, "channel": {"type": "string", "enum": ["phone", "email", "chat", "meeting", "letter"]},
                    "via": {"type": "string", "description": "the medium within the channel, e.g. WeChat"},
                    "follow_up": {"type": "string", "format": "date", "description": "when to follow up"},
                    "promise_amount": {"type": "string", "description": "promise to pay: amount as decimal text, more than zero (with promise_currency and promise_date)"},
                    "promise_currency": {"type": "string", "description": "promise to pay: ISO currency code"},
                    "promise_date": {"type": "string", "format": "date", "description": "promise to pay: by when"}
                }},
                "DisputeStatus": {"type": "object", "required": ["status"], "additionalProperties": false, "properties": {
                    "status": {"type": "string", "description": "status key, e.g. OPEN, INPR, RSLV"}, "note": {"type": "string"}
                }}
            }
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/v1/me": {"get": {"summary": "who the credentials belong to, their role and CSRF token",
                "responses": with_errors(json_ok("the caller", json!({"type": "object"})), &[])}},
            "/api/v1/discrepancies": {"get": {"summary": "the queue, largest exposure first, paged by cursor",
                "parameters": paged,
                "responses": with_errors(json_ok("one page", json!({"$ref": "#/components/schemas/Page"})), &[])}},
            "/api/v1/discrepancies.xlsx": {"get": {"summary": "the filtered queue as XLSX (as `discrepancies export --xlsx`)",
                "parameters": filters.clone(),
                "responses": with_errors(json!({"200": {"description": "workbook", "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}}), &[])}},
            "/api/v1/discrepancies.csv": {"get": {"summary": "the filtered queue as CSV (as `discrepancies export --csv`)",
                "parameters": filters,
                "responses": with_errors(json!({"200": {"description": "CSV", "content": {"text/csv": {}}}}), &[])}},
            "/api/v1/discrepancies/{id}": {"get": {"summary": "a flag with the customer's master, contracts, affected open items (`affected_total` per currency), other flags, audit history, and `wording`: the flag in plain words (`sentence`, `left`/`right` values compared, `proposal` with the SAP transaction)",
                "parameters": [id.clone()],
                "responses": with_errors(json_ok("the flag in context", json!({"type": "object"})), &[("404", "no such flag")])}},
            "/api/v1/discrepancies/{id}/{action}": {"post": {"summary": "acknowledge, resolve, waive, approve (a waiver someone else proposed), reject (return a proposed waiver, `note` required) or reopen; audited",
                "parameters": [id, action],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Action"}}}},
                "responses": with_errors(json_ok("the flag after the action", json!({"$ref": "#/components/schemas/Flag"})),
                    &[("404", "no such flag or action"), ("409", "stale version, or the flag's state does not allow it")])}},
            "/api/v1/notes": {"post": {"summary": "a note on a customer (or one open item), queued for the ERP",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}}},
                "responses": with_errors(json!({"201": {"description": "queued"}}), &[])}},
            "/api/v1/disputes/{case}/status": {
                "get": {"summary": "the status last requested for a dispute case", "parameters": [case.clone()],
                    "responses": with_errors(json_ok("status", json!({"type": "object"})), &[])},
                "post": {"summary": "request a dispute-case status in the ERP", "parameters": [case],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DisputeStatus"}}}},
                    "responses": with_errors(json!({"201": {"description": "queued"}}), &[("409", "the configured transitions do not allow it")])}}
            }
    });
    super::ar_api::describe(&mut doc);
    doc
}

pub async fn serve() -> Response {
    Json(document()).into_response()
}
