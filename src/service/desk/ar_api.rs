//! `/api/v1/ar/…`: the collections figures, call list, statements and snapshots as JSON
//! (and statements as HTML or XLSX) — the same use cases `erpsync ar …` runs, so the API
//! and the command line agree. Credentials and errors as in `api.rs`.

use super::api::{error, require, store_error, Caller};
use super::auth::{Permission, Principal, Role};
use super::DeskState;
use crate::ar::statement::{Kind, Lang};
use crate::collections::kpis::{kpis, GroupBy, KpiQuery};
use crate::collections::statement::{document, html, xlsx, StatementQuery};
use crate::collections::worklist::{worklist, WorklistQuery, DEFAULT_LIMIT, MAX_LIMIT};
use crate::collections::CollectionsError;
use crate::model::CustomerId;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use std::sync::Arc;

/// Snapshots one request may return: a year of days for a few dozen series.
const MAX_SNAPSHOT_DAYS: i64 = 400;

pub fn routes() -> Router<Arc<DeskState>> {
    Router::new()
        .route("/api/v1/ar/kpis", get(get_kpis))
        .route("/api/v1/ar/worklist", get(get_worklist))
        .route("/api/v1/ar/snapshots", get(get_snapshots))
        .route(
            "/api/v1/ar/customers/{customer}/statement",
            get(get_statement),
        )
        .layer(axum::middleware::from_fn(super::json_errors::json_errors))
}

fn bad(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn failed(e: CollectionsError) -> Response {
    match e {
        CollectionsError::Store(e) => store_error(e),
        CollectionsError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        other => error(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

#[allow(clippy::result_large_err)] // see api::require
fn as_of(raw: Option<&str>) -> Result<NaiveDate, Response> {
    match raw {
        None => Ok(Utc::now().date_naive()),
        Some(s) => s
            .parse()
            .map_err(|_| bad(format!("as_of {s:?} is not a date YYYY-MM-DD"))),
    }
}

/// A collector sees their own accounts unless they ask for another collector's.
pub(super) fn default_collector(who: &Principal, asked: Option<String>) -> Option<String> {
    asked.or_else(|| (who.role == Role::Collector).then(|| who.name.clone()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    pub by: Option<String>,
    pub company_code: Option<String>,
    pub collector: Option<String>,
    pub as_of: Option<String>,
}

async fn get_kpis(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(p): Query<KpiParams>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read AR figures") {
        return r;
    }
    let by = match p.by.as_deref().map(str::parse::<GroupBy>).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(e) => return bad(e),
    };
    let q = match as_of(p.as_of.as_deref()) {
        Ok(as_of) => KpiQuery {
            by,
            company_code: p.company_code,
            collector: p.collector,
            as_of,
        },
        Err(r) => return r,
    };
    match kpis(desk.store.as_ref(), &desk.ar, &q).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklistParams {
    pub collector: Option<String>,
    pub company_code: Option<String>,
    pub limit: Option<usize>,
    pub as_of: Option<String>,
}

async fn get_worklist(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(p): Query<WorklistParams>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read the call list") {
        return r;
    }
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return bad(format!("limit must be 1 to {MAX_LIMIT}"));
    }
    let as_of = match as_of(p.as_of.as_deref()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let q = WorklistQuery {
        collector: default_collector(&who, p.collector),
        company_code: p.company_code,
        limit,
        as_of,
    };
    match worklist(desk.store.as_ref(), &desk.ar, &q).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotParams {
    pub from: String,
    pub to: String,
    pub company_code: Option<String>,
}

async fn get_snapshots(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(p): Query<SnapshotParams>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read AR snapshots") {
        return r;
    }
    let (Ok(from), Ok(to)) = (p.from.parse::<NaiveDate>(), p.to.parse::<NaiveDate>()) else {
        return bad("from and to are dates YYYY-MM-DD");
    };
    if to < from || (to - from).num_days() > MAX_SNAPSHOT_DAYS {
        return bad(format!(
            "from must not be after to, and at most {MAX_SNAPSHOT_DAYS} days apart"
        ));
    }
    match desk
        .store
        .ar_snapshots(from, to, p.company_code.as_deref())
        .await
    {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementParams {
    pub company_code: Option<String>,
    pub lang: Option<String>,
    pub kind: Option<String>,
    pub as_of: Option<String>,
    /// json (default), html or xlsx.
    pub format: Option<String>,
}

async fn get_statement(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Path(customer): Path<String>,
    Query(p): Query<StatementParams>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read statements") {
        return r;
    }
    let customer = match CustomerId::parse(&customer) {
        Ok(c) => c,
        Err(e) => return bad(e.to_string()),
    };
    let lang = match p.lang.as_deref().unwrap_or("en").parse::<Lang>() {
        Ok(l) => l,
        Err(e) => return bad(e),
    };
    let kind = match p.kind.as_deref().unwrap_or("statement").parse::<Kind>() {
        Ok(k) => k,
        Err(e) => return bad(e),
    };
    let as_of = match as_of(p.as_of.as_deref()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let q = StatementQuery {
        customer,
        company_code: p.company_code,
        lang,
        kind,
        as_of,
    };
    let doc = match document(desk.store.as_ref(), &desk.ar, &q).await {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    match p.format.as_deref().unwrap_or("json") {
        "json" => Json(doc).into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html(&doc),
        )
            .into_response(),
        "xlsx" => match xlsx(&doc) {
            Ok(bytes) => (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"statement-{}.xlsx\"", doc.customer),
                    ),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => failed(e),
        },
        other => bad(format!("format {other:?}: expected json, html or xlsx")),
    }
}

/// Adds the `/api/v1/ar/…` paths to the OpenAPI document.
pub fn describe(doc: &mut serde_json::Value) {
    use serde_json::json;
    let q = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false,
               "description": description, "schema": {"type": "string"}})
    };
    let as_of = q("as_of", "YYYY-MM-DD; default today");
    let ok = |description: &str| {
        json!({"200": {"description": description, "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
               "400": {"description": "bad input"}, "401": {"description": "no or unknown credentials"},
               "403": {"description": "the role does not allow it"}})
    };
    let paths = json!({
        "/api/v1/ar/kpis": {"get": {
            "summary": "open AR, OD%, aging buckets, AR>60/360, DSO per company code (or collector, customer) and currency; the shape of `erpsync ar kpis --format json`",
            "parameters": [q("by", "company-code (default), collector or customer"), q("company_code", "one company code"),
                           q("collector", "a user named in [collectors], or an accounting clerk"), as_of.clone()],
            "responses": ok("one object per group and currency")}},
        "/api/v1/ar/worklist": {"get": {
            "summary": "the call list (collectors get their own by default); the shape of `erpsync ar worklist --format json`",
            "parameters": [q("collector", "a user or clerk"), q("company_code", "one company code"),
                           {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                           as_of.clone()],
            "responses": ok("ranked entries: call, then promised, then disputed")}},
        "/api/v1/ar/snapshots": {"get": {
            "summary": "stored daily snapshots per company code, currency and collector",
            "parameters": [q("from", "YYYY-MM-DD (required)"), q("to", "YYYY-MM-DD (required), at most 400 days after from"), q("company_code", "one company code")],
            "responses": ok("snapshots by day")}},
        "/api/v1/ar/customers/{customer}/statement": {"get": {
            "summary": "a statement of account or payment reminder",
            "parameters": [{"name": "customer", "in": "path", "required": true, "schema": {"type": "string"}},
                           q("company_code", "one company code"), q("lang", "en (default) or zh"),
                           q("kind", "statement (default) or reminder"), as_of,
                           q("format", "json (default), html or xlsx")],
            "responses": {"200": {"description": "the document"}, "404": {"description": "no such customer"},
                          "400": {"description": "bad input"}, "401": {"description": "no or unknown credentials"}}}},
    });
    if let (Some(target), Some(add)) = (
        doc.get_mut("paths").and_then(|p| p.as_object_mut()),
        paths.as_object(),
    ) {
        for (k, v) in add {
            target.insert(k.clone(), v.clone());
        }
    }
}
