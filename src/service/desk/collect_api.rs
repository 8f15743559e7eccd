//! `/api/v1/notes` and `/api/v1/disputes/{case}/status`: what collectors write into the ERP
//! through the outbox. The desk's note and log-a-call forms call the same `queue_*` functions,
//! so a note carries the same fields (channel, follow-up, promise) whichever way it came.

use super::api::{body_as, error, given, require, store_error, Caller};
use super::auth::{Permission, Principal};
use super::DeskState;
use crate::model::note::CollectorNote;
use crate::model::note_input::{FieldNames, NoteInput};
use crate::model::DisputeStatusChange;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(super) fn routes() -> Router<Arc<DeskState>> {
    Router::new().route("/api/v1/notes", post(add_note)).route(
        "/api/v1/disputes/{case}/status",
        get(dispute_status).post(set_dispute_status),
    )
}

/// Queues a note (written into the ERP by the outbox) as `who`; blank fields count as absent.
pub async fn queue_note(
    desk: &DeskState,
    who: &Principal,
    body: NoteInput,
) -> Result<(CollectorNote, i64), Response> {
    require(who, Permission::Collect, "add notes")?;
    let present = |v: Option<String>| given(&v).map(str::to_string);
    let note = NoteInput {
        author: who.name.clone(),
        item: present(body.item),
        channel: present(body.channel),
        via: present(body.via),
        follow_up: present(body.follow_up),
        promise_amount: present(body.promise_amount),
        promise_currency: present(body.promise_currency),
        promise_date: present(body.promise_date),
        ..body
    }
    .check(
        &FieldNames::FORM,
        Utc::now(),
        uuid::Uuid::new_v4().to_string(),
    )
    .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
    check_note_target(desk, &note).await?;
    let entry = desk.store.add_note(&note).await.map_err(store_error)?;
    Ok((note, entry.id))
}

/// Refuses at once what the ERP would refuse later, out of sight: a text past the limit,
/// a customer the master does not have, an item that is not one of its open items.
async fn check_note_target(desk: &DeskState, note: &CollectorNote) -> Result<(), Response> {
    let n = &note.note;
    let max = desk.settings.note_max_chars;
    let chars = n.text.chars().count();
    if chars > max {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("the note is {chars} characters long; at most {max} are accepted (desk.note_max_chars)"),
        ));
    }
    let store = desk.store.as_ref();
    if store
        .customer(&n.customer)
        .await
        .map_err(store_error)?
        .is_none()
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!(
                "customer {} is not in the master: the note would never reach the ERP",
                n.customer
            ),
        ));
    }
    if let Some(key) = &n.item {
        let items = store
            .open_items_for(std::slice::from_ref(&n.customer))
            .await
            .map_err(store_error)?;
        if !items.iter().any(|i| &i.key == key) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("item {key} is not an open item of customer {}", n.customer),
            ));
        }
    }
    Ok(())
}

async fn add_note(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    request: Request,
) -> Response {
    if let Err(r) = require(&who, Permission::Collect, "add notes") {
        return r;
    }
    let body: NoteInput = match body_as(request, None).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match queue_note(&desk, &who, body).await {
        Ok((note, outbox_id)) => (
            StatusCode::CREATED,
            Json(json!({ "note": note, "outbox_id": outbox_id })),
        )
            .into_response(),
        Err(r) => r,
    }
}

async fn dispute_status(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Path(case): Path<String>,
) -> Response {
    if let Err(r) = require(&who, Permission::Read, "read dispute statuses") {
        return r;
    }
    match desk.store.last_dispute_status(&case).await {
        Ok(status) => Json(json!({ "case": case, "status": status })).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    pub status: String,
    pub note: Option<String>,
}

async fn set_dispute_status(
    State(desk): State<Arc<DeskState>>,
    Caller(who): Caller,
    Path(case): Path<String>,
    request: Request,
) -> Response {
    if let Err(r) = require(&who, Permission::Collect, "set dispute statuses") {
        return r;
    }
    let body: DisputeBody = match body_as(request, None).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match queue_dispute_status(&desk, &who, &case, &body.status, body.note.as_deref()).await {
        Ok((change, id)) => (
            StatusCode::CREATED,
            Json(json!({ "change": change, "outbox_id": id })),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// Queues a dispute-case status change (written into the ERP by the outbox) as `who`,
/// after checking the status key and the configured transitions; the API and the desk's
/// log-a-call form both come here.
pub async fn queue_dispute_status(
    desk: &DeskState,
    who: &Principal,
    case: &str,
    status: &str,
    note: Option<&str>,
) -> Result<(DisputeStatusChange, i64), Response> {
    require(who, Permission::Collect, "set dispute statuses")?;
    let wanted = status.trim().to_ascii_uppercase();
    if wanted.is_empty()
        || wanted.len() > 8
        || !wanted
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!(
                "status {status:?} is not a status key (1-8 letters or digits, e.g. OPEN, INPR, RSLV)"
            ),
        ));
    }
    let case = case.trim().to_string();
    if case.is_empty() || case.chars().count() > 40 {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "a dispute case ID has 1-40 characters",
        ));
    }
    let last = desk
        .store
        .last_dispute_status(&case)
        .await
        .map_err(store_error)?;
    if let Err(e) = desk.dispute_rules.check(last.as_deref(), &wanted) {
        return Err(error(
            StatusCode::CONFLICT,
            format!("dispute case {case}: {e}"),
        ));
    }
    let change = DisputeStatusChange {
        case_id: case,
        status: wanted,
        requested_by: who.name.clone(),
        note: note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        requested_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    };
    let entry = desk
        .store
        .add_dispute_status(&change)
        .await
        .map_err(store_error)?;
    Ok((change, entry.id))
}
