//! `/api/v1/ar/…`: the collections figures, call list, statements and snapshots as JSON
//! (the KPIs and the call list also as XLSX, statements as HTML or XLSX) — the same use cases `erpsync ar …` runs, so the API
//! and the command line agree. Credentials and errors as in `api.rs`.

use super::api::{error, require, store_error, Caller};
use super::auth::{Permission, Principal, Role};
use super::DeskState;
use crate::ar::statement::{Kind, Lang};
use crate::ar::worklist::WorkEntry;
use crate::collections::kpi_export::{kpis_xlsx, worklist_xlsx};
use crate::collections::kpis::{kpis, GroupBy, KpiQuery};
use crate::collections::statement::{document, html_linked, xlsx, StatementQuery};
use crate::collections::views::KpiRow;
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
        .route("/api/v1/ar/kpis.xlsx", get(get_kpis_xlsx))
        .route("/api/v1/ar/worklist", get(get_worklist))
        .route("/api/v1/ar/worklist.xlsx", get(get_worklist_xlsx))
        .route("/api/v1/ar/snapshots", get(get_snapshots))
        .route(
            "/api/v1/ar/customers/{customer}/statement",
            get(get_statement),
        )
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
    match kpi_rows(&desk, &who, p).await {
        Ok((rows, _)) => Json(rows).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/v1/ar/kpis.xlsx`: the same rows as `/api/v1/ar/kpis`, as `ar kpis --xlsx` writes them.
async fn get_kpis_xlsx(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(p): Query<KpiParams>,
) -> Response {
    match kpi_rows(&desk, &who, p).await {
        Ok((rows, by)) => workbook(kpis_xlsx(&rows, by), "ar-kpis.xlsx"),
        Err(r) => r,
    }
}

#[allow(clippy::result_large_err)] // see api::require
async fn kpi_rows(
    desk: &DeskState,
    who: &Principal,
    p: KpiParams,
) -> Result<(Vec<KpiRow>, GroupBy), Response> {
    require(who, Permission::Read, "read AR figures")?;
    let by =
        p.by.as_deref()
            .map(str::parse::<GroupBy>)
            .transpose()
            .map_err(bad)?
            .unwrap_or_default();
    let q = KpiQuery {
        by,
        company_code: p.company_code,
        collector: p.collector,
        as_of: as_of(p.as_of.as_deref())?,
    };
    let rows = kpis(desk.store.as_ref(), &desk.ar, &q)
        .await
        .map_err(failed)?;
    Ok((rows, by))
}

/// An XLSX download, or the error that kept it from being built.
fn workbook(bytes: crate::collections::Result<Vec<u8>>, name: &str) -> Response {
    match bytes {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
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
    match call_list(&desk, &who, p).await {
        Ok(list) => Json(list).into_response(),
        Err(r) => r,
    }
}

/// `GET /api/v1/ar/worklist.xlsx`: the call list of `/api/v1/ar/worklist` as a workbook.
async fn get_worklist_xlsx(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(p): Query<WorklistParams>,
) -> Response {
    match call_list(&desk, &who, p).await {
        Ok(list) => workbook(worklist_xlsx(&list), "ar-call-list.xlsx"),
        Err(r) => r,
    }
}

#[allow(clippy::result_large_err)] // see api::require
async fn call_list(
    desk: &DeskState,
    who: &Principal,
    p: WorklistParams,
) -> Result<Vec<WorkEntry>, Response> {
    require(who, Permission::Read, "read the call list")?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let q = WorklistQuery {
        collector: default_collector(who, p.collector),
        company_code: p.company_code,
        limit,
        as_of: as_of(p.as_of.as_deref())?,
    };
    worklist(desk.store.as_ref(), &desk.ar, &q)
        .await
        .map_err(failed)
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
            html_linked(&doc),
        )
            .into_response(),
        "xlsx" => workbook(xlsx(&doc), &format!("statement-{}.xlsx", doc.customer)),
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
    let xlsx = |description: &str| {
        json!({"200": {"description": description, "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
               "400": {"description": "bad input"}, "401": {"description": "no or unknown credentials"},
               "403": {"description": "the role does not allow it"}})
    };
    let kpi_params = json!([
        q("by", "company-code (default), collector or customer"),
        q("company_code", "one company code"),
        q(
            "collector",
            "a user named in [collectors], or an accounting clerk"
        ),
        as_of.clone()
    ]);
    let worklist_params = json!([q("collector", "a user or clerk"), q("company_code", "one company code"),
                                 {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                                 as_of.clone()]);
    let paths = json!({
        "/api/v1/ar/kpis.xlsx": {"get": {
            "summary": "the KPIs of /api/v1/ar/kpis as a workbook (sheet `KPIs`, columns named as the JSON fields, amounts as numbers in their currency's format, frozen header, filters); what `erpsync ar kpis --xlsx` writes",
            "parameters": kpi_params.clone(),
            "responses": xlsx("the workbook")}},
        "/api/v1/ar/worklist.xlsx": {"get": {
            "summary": "the call list of /api/v1/ar/worklist as a workbook (sheet `Call list`, one line per customer and overdue currency, amounts as numbers in their currency's format, dates as dates, frozen header, filters); what `erpsync ar worklist --xlsx` writes",
            "parameters": worklist_params.clone(),
            "responses": xlsx("the workbook")}},
        "/api/v1/ar/kpis": {"get": {
            "summary": "open AR, OD%, aging buckets, AR>60/360, DSO per company code (or collector, customer) and currency; the shape of `erpsync ar kpis --format json`",
            "parameters": kpi_params,
            "responses": ok("one object per group and currency")}},
        "/api/v1/ar/worklist": {"get": {
            "summary": "the call list (collectors get their own by default); the shape of `erpsync ar worklist --format json`",
            "parameters": worklist_params,
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
