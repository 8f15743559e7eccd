//! Server-rendered pages of the review desk: `/login`, `/` (the queue), `/flags/{id}` (one
//! flag in context, with the actions the user's role allows), `/customers/{customer}` (all
//! of one customer: flags, contracts, master levels, notes with their outbox status), and
//! the forms they post.
//!
//! Forms post back here (never to the JSON API), each with the session's CSRF token, and
//! answer with a redirect, so a reload never sends an action twice. Every value shown is
//! HTML-escaped; the pages are UTF-8 throughout.

mod ar_charts;
mod ar_pages;
mod customer;
mod flag;
mod flag_forms;
mod flag_sides;
mod kit;
mod login;
mod note;
mod note_status;
pub(super) mod queue;

use super::DeskState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

const CSS: &str = include_str!("../assets/desk.css");
const JS: &str = include_str!("../assets/desk.js");
const ICON: &str = include_str!("../assets/favicon.svg");

pub fn routes() -> Router<Arc<DeskState>> {
    Router::new()
        .route("/", get(queue::queue_page))
        .route(
            "/login",
            get(login::login_form)
                .post(login::login.layer(DefaultBodyLimit::max(login::LOGIN_BODY_LIMIT))),
        )
        .route("/logout", post(login::logout))
        .route("/flags/{id}", get(flag::flag_page))
        .route("/flags/{id}/{action}", post(flag::flag_action))
        .route("/customers/{customer}", get(customer::customer_page))
        .route("/notes", post(note::note))
        .route("/ar", get(ar_pages::overview))
        .route("/ar/calls", get(ar_pages::calls))
        .route("/ar/customers/{customer}", get(ar_pages::customer))
        .route("/ar/customers/{customer}/call", post(ar_pages::log_call))
        .route(
            "/assets/desk.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
        )
        .route("/assets/favicon.svg", get(|| asset("image/svg+xml", ICON)))
        .route(
            crate::collections::statement::STYLESHEET_PATH,
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    crate::collections::statement::STYLE,
                )
            }),
        )
        .route(
            "/assets/desk.js",
            get(|| asset("text/javascript; charset=utf-8", JS)),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}
