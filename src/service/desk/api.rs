//! `/api/v1/…`: the review queue as JSON, for the desk's own script and for other tools.
//!
//! Credentials: `Authorization: Bearer <token>` (`[[server.tokens]]`) or the desk's session
//! cookie plus `X-CSRF-Token` on POST. Errors are `{"error": "…"}` with 400 (bad input),
//! 401 (no or unknown credentials), 403 (role, or CSRF token missing), 404, 409 (a stale
//! version, or a move the flag's state does not allow).

use super::actions::{self, Action, ActionError, ActionInput};
use super::auth::{Permission, Principal, Via};
use super::{version_of, Auth, DeskState};
use crate::export;
use crate::model::{
    Contract, Customer, CustomerId, Discrepancy, DiscrepancyStatus, OpenItem, Rule, Severity,
    StatusChange,
};
use crate::reconcile::due_dates;
use crate::store::queue::QueueCursor;
use crate::store::{DiscrepancyFilter, StoreError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Default rows per page.
pub const PAGE: u32 = 50;
/// At most this many affected open items are listed on a flag.
const ITEMS_SHOWN: usize = 200;

pub fn routes() -> Router<Arc<DeskState>> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/discrepancies", get(list))
        .route("/api/v1/discrepancies.xlsx", get(export_xlsx))
        .route("/api/v1/discrepancies.csv", get(export_csv))
        .route("/api/v1/discrepancies/{id}", get(show))
        .route("/api/v1/discrepancies/{id}/{action}", post(act))
}

/// A JSON error response.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut r = (status, Json(json!({ "error": message.into() }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"erpsync\""),
        );
    }
    r
}

/// The store failed: the client learns that and a request id to quote, the log the
/// details (store errors can carry connection URLs, SQL and stored values).
pub fn store_error(e: StoreError) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(error = %e, request_id = %request_id, "store error while serving a request");
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the store is unavailable (request id {request_id})"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

/// The request's body as `T`, read only now: call it once the caller is authenticated (the
/// extractors) and authorised (the handler), so no one else makes the service read a body.
/// Within axum's body limit (a JSON 413 beyond it); an empty body is `empty` where given;
/// anything unreadable is a JSON 400.
pub(super) async fn body_as<T: serde::de::DeserializeOwned>(
    request: Request,
    empty: Option<T>,
) -> Result<T, Response> {
    let body = Bytes::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        if let Some(v) = empty {
            return Ok(v);
        }
    }
    serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid: {e}"),
        )
    })
}

pub fn action_error(e: ActionError) -> Response {
    let status = e.status();
    let mut body = json!({ "error": e.to_string() });
    if let ActionError::Stale {
        current, status: s, ..
    } = &e
    {
        body["current_version"] = json!(current);
        body["current_status"] = json!(s);
    }
    (status, Json(body)).into_response()
}

/// The caller of an API endpoint; POSTs made with a session carry its CSRF token.
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<DeskState>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        desk: &Arc<DeskState>,
    ) -> Result<Self, Self::Rejection> {
        let who = match desk.authenticate(&parts.headers).await {
            Auth::Ok(p) => p,
            Auth::Unavailable => {
                return Err(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "cannot check credentials now",
                ))
            }
            Auth::Missing => return Err(error(StatusCode::UNAUTHORIZED, "credentials needed")),
            Auth::Invalid => return Err(error(StatusCode::UNAUTHORIZED, "unknown credentials")),
            Auth::NoDeskRole(name) => {
                return Err(error(
                    StatusCode::FORBIDDEN,
                    format!("token {name} has no review-desk role"),
                ))
            }
        };
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            match (&who.via, sent) {
                (Via::Token, _) => {}
                (Via::Session { csrf, .. }, Some(sent)) if super::auth::same(csrf, sent) => {}
                _ => {
                    return Err(error(
                        StatusCode::FORBIDDEN,
                        "CSRF token missing or wrong (header X-CSRF-Token)",
                    ))
                }
            }
        }
        Ok(Caller(who))
    }
}

// The refusal is the response itself, as axum handlers return it; boxing it would only add
// an allocation to the path that refuses.
#[allow(clippy::result_large_err)]
pub(super) fn require(who: &Principal, p: Permission, what: &str) -> Result<(), Response> {
    if who.role.may(p) {
        Ok(())
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            format!("{} (role {}) may not {what}", who.name, who.role),
        ))
    }
}

/// The queue's filters as query parameters (the pages use the same names).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct QueueParams {
    pub status: Option<String>,
    pub rule: Option<String>,
    pub severity: Option<String>,
    pub company_code: Option<String>,
    pub assignee: Option<String>,
    pub customer: Option<String>,
    /// Customer number or name.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl QueueParams {
    pub fn filter(&self) -> Result<DiscrepancyFilter, String> {
        fn parse<T: std::str::FromStr>(v: &Option<String>) -> Result<Option<T>, String>
        where
            T::Err: std::fmt::Display,
        {
            given(v)
                .map(|s| s.parse::<T>().map_err(|e| e.to_string()))
                .transpose()
        }
        Ok(DiscrepancyFilter {
            status: parse::<DiscrepancyStatus>(&self.status)?,
            rule: parse::<Rule>(&self.rule)?,
            severity: parse::<Severity>(&self.severity)?,
            company_code: given(&self.company_code).map(str::to_string),
            assignee: given(&self.assignee).map(str::to_string),
            customer: given(&self.customer)
                .map(|c| CustomerId::parse(c).map_err(|e| e.to_string()))
                .transpose()?,
            search: given(&self.q).map(str::to_string),
            limit: None,
        })
    }

    pub fn cursor(&self) -> Result<Option<QueueCursor>, String> {
        given(&self.after)
            .map(|a| QueueCursor::decode(a).ok_or_else(|| format!("after {a:?} is not a cursor")))
            .transpose()
    }
}

/// A flag as the API shows it: the stored discrepancy plus what a reviewer needs beside it.
#[derive(Debug, Clone, Serialize)]
pub struct FlagView {
    #[serde(flatten)]
    pub discrepancy: Discrepancy,
    /// Send it back with an action: a flag changed since is not touched (409).
    pub version: String,
    pub customer_name: Option<String>,
    /// Waived, and the second person has not approved yet.
    pub awaiting_approval: bool,
}

impl FlagView {
    pub fn new(d: Discrepancy, customer_name: Option<String>) -> FlagView {
        FlagView {
            version: version_of(&d),
            awaiting_approval: d.status == DiscrepancyStatus::Waived
                && d.waiver_approved_by.is_none(),
            discrepancy: d,
            customer_name,
        }
    }
}

pub async fn views(desk: &DeskState, list: Vec<Discrepancy>) -> Result<Vec<FlagView>, StoreError> {
    let mut customers: Vec<CustomerId> = list.iter().map(|d| d.finding.customer.clone()).collect();
    customers.sort();
    customers.dedup();
    let names = desk.store.customer_names(&customers).await?;
    Ok(list
        .into_iter()
        .map(|d| {
            let name = names.get(&d.finding.customer).cloned();
            FlagView::new(d, name)
        })
        .collect())
}

/// One page of the queue with the counts per status.
#[derive(Debug, Serialize)]
pub struct QueueView {
    pub items: Vec<FlagView>,
    pub next: Option<String>,
    pub total: u64,
    pub counts: BTreeMap<String, u64>,
}

pub async fn queue(desk: &DeskState, params: &QueueParams) -> Result<QueueView, Response> {
    let filter = params
        .filter()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let after = params
        .cursor()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    let page = desk
        .store
        .queue_page(&filter, after, params.limit.unwrap_or(PAGE))
        .await
        .map_err(store_error)?;
    let counts = desk
        .store
        .queue_status_counts(&filter)
        .await
        .map_err(store_error)?;
    let mut all: BTreeMap<String, u64> = DiscrepancyStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    all.extend(counts.into_iter().map(|(s, n)| (s.as_str().to_string(), n)));
    let total = match filter.status {
        Some(s) => all.get(s.as_str()).copied().unwrap_or(0),
        None => all.values().sum(),
    };
    Ok(QueueView {
        items: views(desk, page.items).await.map_err(store_error)?,
        next: page.next,
        total,
        counts: all,
    })
}

/// An open item with its due date as the contract's terms give it, where they can be read.
#[derive(Debug, Serialize)]
pub struct AffectedItem {
    #[serde(flatten)]
    pub item: OpenItem,
    /// The net due date under the contract's payment terms.
    pub contract_due: Option<NaiveDate>,
    /// Master's net due date minus the contract's, in days (positive: the customer may pay
    /// later than agreed).
    pub shift_days: Option<i64>,
}

/// The contract's payment terms, readable, for the flags that compare terms.
fn contract_terms(
    d: &Discrepancy,
    contracts: &[Contract],
    book: &crate::reconcile::TermsBook,
) -> Option<crate::model::PaymentTerms> {
    let compares_terms = matches!(
        d.finding.rule,
        Rule::PaymentTermsCompanyCode | Rule::PaymentTermsSalesArea | Rule::OpenItemBilledTerms
    );
    if !compares_terms {
        return None;
    }
    let raw = contracts
        .iter()
        .find(|c| Some(&c.id) == d.finding.contract_id.as_ref())?
        .payment_terms
        .as_deref()?;
    book.resolve_contract_terms(raw).ok()
}

/// A flag with its context: both sides, the money, the customer's other flags, the history.
#[derive(Debug, Serialize)]
pub struct Detail {
    pub flag: FlagView,
    /// The customer as the master holds it (all levels); `None` when it is missing there.
    pub customer: Option<Customer>,
    /// The contract the flag names, or the customer's current contracts.
    pub contracts: Vec<Contract>,
    /// The customer's open receivables the flag's scope covers (at most 200).
    pub affected_items: Vec<AffectedItem>,
    /// All the open receivables in the flag's scope (not only the 200 listed), per
    /// currency: shown where the rule itself carries no money (billing address, missing
    /// customer) or counts only the items billed on one key.
    pub affected_total: crate::model::Exposure,
    /// The flag in plain words: sentence, the two values compared, the proposed change.
    pub wording: super::wording::Wording,
    pub other_flags: Vec<FlagView>,
    pub audit: Vec<StatusChange>,
    /// What can be done to the flag in its state (the caller's role aside).
    pub actions: Vec<&'static str>,
}

pub async fn detail(desk: &DeskState, id: i64) -> Result<Option<Detail>, StoreError> {
    let store = desk.store.as_ref();
    let Some(d) = store.discrepancy(id).await? else {
        return Ok(None);
    };
    let customer_id = d.finding.customer.clone();
    let customer = store.customer(&customer_id).await?;
    let mut contracts = store
        .contracts_for(std::slice::from_ref(&customer_id))
        .await?;
    if let Some(cid) = &d.finding.contract_id {
        if contracts.iter().any(|c| &c.id == cid) {
            contracts.retain(|c| &c.id == cid);
        }
    }
    let book = crate::reconcile::TermsBook::new(store.payment_terms().await?);
    let terms = contract_terms(&d, &contracts, &book);
    let in_scope: Vec<OpenItem> = store
        .open_items_for(std::slice::from_ref(&customer_id))
        .await?
        .into_iter()
        .filter(|i| !i.is_credit())
        .filter(|i| {
            d.finding
                .scope
                .company_code()
                .is_none_or(|cc| i.key.company_code == cc)
        })
        .collect();
    let affected_total = crate::reconcile::exposure::exposure_of_items(in_scope.iter(), 0);
    let affected_items: Vec<AffectedItem> = in_scope
        .into_iter()
        .take(ITEMS_SHOWN)
        .map(|item| {
            let (contract_due, shift_days) = match &terms {
                Some(t) => {
                    let (due, shift) = due_dates::net_due_and_shift(t, &item);
                    (Some(due), shift)
                }
                None => (None, None),
            };
            AffectedItem {
                item,
                contract_due,
                shift_days,
            }
        })
        .collect();
    let others = store
        .list_discrepancies(&DiscrepancyFilter {
            customer: Some(customer_id.clone()),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|o| o.id != id)
        .collect();
    let audit = store.audit_log(id).await?;
    let actions = Action::ALL
        .into_iter()
        .filter(|a| a.applies_to(&d))
        .map(Action::as_str)
        .collect();
    let name = customer.as_ref().map(|c| c.general.name.clone());
    let wording = super::wording::word(
        &d,
        &super::wording::Context {
            customer: customer.as_ref(),
            contracts: &contracts,
            book: &book,
        },
    );
    Ok(Some(Detail {
        flag: FlagView::new(d, name),
        customer,
        contracts,
        affected_items,
        affected_total,
        wording,
        other_flags: views(desk, others).await?,
        audit,
        actions,
    }))
}

async fn me(Caller(who): Caller) -> Response {
    let may: Vec<&str> = [
        (Permission::Read, "read"),
        (Permission::Collect, "notes"),
        (Permission::Review, "review"),
        (Permission::Approve, "approve"),
    ]
    .into_iter()
    .filter(|(p, _)| who.role.may(*p))
    .map(|(_, n)| n)
    .collect();
    Json(json!({
        "name": who.name,
        "role": who.role.as_str(),
        "may": may,
        "csrf_token": who.csrf(),
    }))
    .into_response()
}

async fn list(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(params): Query<QueueParams>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read the queue") {
        return r;
    }
    match queue(&desk, &params).await {
        Ok(view) => Json(view).into_response(),
        Err(r) => r,
    }
}

async fn exported(
    desk: &DeskState,
    who: &Principal,
    params: &QueueParams,
) -> Result<Vec<Discrepancy>, Response> {
    require(who, Permission::Read, "export the queue")?;
    let filter = params
        .filter()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    desk.store.queue_all(&filter).await.map_err(store_error)
}

fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn export_name(ext: &str) -> String {
    format!("discrepancies-{}.{ext}", Utc::now().format("%Y%m%d-%H%M"))
}

/// The filtered queue as a download, built by `build`.
async fn download(
    desk: &DeskState,
    who: &Principal,
    params: &QueueParams,
    (content_type, ext): (&'static str, &str),
    build: fn(&[Discrepancy]) -> Result<Vec<u8>, export::ExportError>,
) -> Response {
    let list = match exported(desk, who, params).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    match build(&list) {
        Ok(bytes) => attachment(content_type, &export_name(ext), bytes),
        Err(e) => {
            tracing::error!(error = %e, "review desk: cannot build the export");
            error(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the export")
        }
    }
}

pub async fn export_xlsx(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(params): Query<QueueParams>,
) -> Response {
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    download(&desk, &who, &params, (xlsx, "xlsx"), export::to_xlsx).await
}

pub async fn export_csv(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Query(params): Query<QueueParams>,
) -> Response {
    let csv = "text/csv; charset=utf-8";
    download(&desk, &who, &params, (csv, "csv"), export::to_csv).await
}

async fn show(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read flags") {
        return r;
    }
    match detail(&desk, id).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("discrepancy {id} not found")),
        Err(e) => store_error(e),
    }
}

/// The body of an action (every field optional; which are needed depends on the action).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub version: Option<String>,
    pub note: Option<String>,
    pub assignee: Option<String>,
    pub until: Option<NaiveDate>,
}

async fn act(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Path((id, action)): Path<(i64, String)>,
    request: Request,
) -> Response {
    let Ok(action) = action.parse::<Action>() else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no action {action:?}: acknowledge, resolve, waive, approve, reject or reopen"),
        );
    };
    // The role first: the body of someone who may not act is never read.
    if let Err(r) = require(&who, action.permission(), action.as_str()) {
        return r;
    }
    let body: ActionBody = match body_as(request, Some(ActionBody::default())).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let input = ActionInput {
        version: body.version,
        note: body.note,
        assignee: body.assignee,
        until: body.until,
    };
    match actions::perform(&desk, &who, id, action, &input).await {
        Ok(d) => {
            let name = desk
                .store
                .customer_names(std::slice::from_ref(&d.finding.customer))
                .await
                .ok()
                .and_then(|mut n| n.remove(&d.finding.customer));
            Json(FlagView::new(d, name)).into_response()
        }
        Err(e) => action_error(e),
    }
}
