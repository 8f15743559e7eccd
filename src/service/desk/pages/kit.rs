//! The desk's HTML kit: escaping, the page frame, who is asking (page views and form
//! posts), and the small widgets every page shows (badges, money, key-value lists).

use super::super::api::FlagView;
use super::super::auth::{self, Principal, Via};
use super::super::format::NumberStyle;
use super::super::{Auth, DeskState};
use crate::model::{Discrepancy, Severity};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::fmt::Write as _;
use std::sync::Arc;

pub(super) use crate::html::esc;

pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish()
}

/// The frame around every page. `who` is `None` on the login page.
pub(super) fn layout(title: &str, who: Option<&Principal>, body: &str) -> String {
    let user = match who {
        Some(p) => {
            let logout = match p.csrf() {
                Some(csrf) => format!(
                    "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button class=\"quiet\" type=\"submit\">Log out</button></form>",
                    esc(csrf)
                ),
                None => String::new(),
            };
            format!(
                "<span class=\"who\" id=\"who\">{} · {}</span>{logout}",
                esc(&p.name),
                p.role
            )
        }
        None => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · erpsync review desk</title><link rel=\"stylesheet\" href=\"/assets/desk.css\">\
         <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"></head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\"><a href=\"/\">erpsync · review desk</a>{user}</header>\
         <main id=\"main\" tabindex=\"-1\">{body}</main><script src=\"/assets/desk.js\"></script></body></html>",
        esc(title)
    )
}

/// A page for the user; behind the SSO proxy the first page also starts a session, so the
/// forms on it have a CSRF token.
pub(super) fn page(who: &Principal, status: StatusCode, title: &str, body: &str) -> Response {
    let mut response = (status, Html(layout(title, Some(who), body))).into_response();
    no_store(&mut response);
    response
}

pub(super) fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub(super) fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The signed-in user of a page request, with the session cookie to set when the user came
/// through the SSO proxy (the first page starts a session, so its forms have a CSRF token)
/// and the number style the browser asked for. Without a user the request is answered
/// (login redirect, 403, 503) before the handler runs.
pub(super) struct Viewer {
    pub who: Principal,
    pub cookie: Option<String>,
    pub style: NumberStyle,
}

impl FromRequestParts<Arc<DeskState>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        desk: &Arc<DeskState>,
    ) -> Result<Self, Self::Rejection> {
        let style = NumberStyle::from_headers(&parts.headers);
        let (who, cookie) = match desk.authenticate(&parts.headers).await {
            Auth::Ok(p) if p.via == Via::Proxy => {
                let (id, csrf) = desk
                    .sessions
                    .create(&p.name, p.role)
                    .await
                    .map_err(unavailable)?;
                let cookie = auth::set_cookie(
                    auth::SESSION_COOKIE,
                    &id,
                    desk.sessions.lifetime(),
                    desk.cookie_secure,
                );
                let who = Principal {
                    via: Via::Session { id, csrf },
                    ..p
                };
                (who, Some(cookie))
            }
            Auth::Ok(p) => (p, None),
            Auth::NoDeskRole(_) => {
                return Err((StatusCode::FORBIDDEN, "no review-desk role").into_response())
            }
            Auth::Unavailable => return Err(unavailable("cannot check the session")),
            Auth::Missing | Auth::Invalid => return Err(Redirect::to("/login").into_response()),
        };
        Ok(Viewer { who, cookie, style })
    }
}

/// A page saying the service cannot answer now; what failed goes to the log only.
pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(error = %e, request_id = %request_id, "review desk: request failed");
    let body = format!(
        "<div class=\"msg err\" id=\"error\" role=\"alert\">The desk cannot answer right now. Try again in a moment; if it persists, give the administrator request id {request_id}.</div>"
    );
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(layout("Unavailable", None, &body)),
    )
        .into_response();
    no_store(&mut r);
    r
}

/// The signed-in user of a form post, known from the request's head: without one the post
/// is sent to the login form before a byte of its body is read. The form's CSRF token is
/// checked once the form is read ([`Poster::with_token`]).
pub(super) struct Poster {
    who: Principal,
    pub style: NumberStyle,
}

impl FromRequestParts<Arc<DeskState>> for Poster {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        desk: &Arc<DeskState>,
    ) -> Result<Self, Self::Rejection> {
        match desk.authenticate(&parts.headers).await {
            Auth::Ok(who) => Ok(Poster {
                who,
                style: NumberStyle::from_headers(&parts.headers),
            }),
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

impl Poster {
    /// The user, when the form carries their session's CSRF token (a post can only come
    /// from a session: the proxy's header alone never writes).
    #[allow(clippy::result_large_err)] // see api::require
    pub(super) fn with_token(self, sent_csrf: &str) -> Result<Principal, Response> {
        match self.who.csrf() {
            Some(csrf) if auth::same(csrf, sent_csrf) => Ok(self.who),
            _ => Err((
                StatusCode::FORBIDDEN,
                Html(layout(
                    "Refused",
                    None,
                    "<div class=\"msg err\" id=\"error\" role=\"alert\">The form's security token is missing or out of date (CSRF check). Reload the page and try again.</div>",
                )),
            )
                .into_response()),
        }
    }
}

pub(super) fn with_cookie(mut r: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie {
        set_cookie(&mut r, &c);
    }
    r
}

pub(super) fn severity_badge(s: Severity) -> String {
    format!("<span class=\"badge sev-{0}\">{0}</span>", s.as_str())
}

pub(super) fn status_text(f: &FlagView) -> String {
    if f.awaiting_approval {
        "<span class=\"st-waiting\">waived · awaiting approval</span>".into()
    } else {
        esc(f.discrepancy.status.as_str())
    }
}

/// A flag's exposure, grouped the reader's way; every currency it holds, never added up.
pub(super) fn money(style: NumberStyle, d: &Discrepancy) -> String {
    let e = &d.finding.exposure;
    if e.currency.is_empty() {
        return "–".into();
    }
    if e.by_currency.len() <= 1 {
        return esc(&style.money(e.amount, &e.currency));
    }
    e.by_currency
        .iter()
        .map(|c| esc(&style.money(c.amount, &c.currency)))
        .collect::<Vec<_>>()
        .join("<br>")
}

pub(super) fn kv(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"kv\">");
    for (k, v) in rows {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), v);
    }
    s + "</dl>"
}

pub(super) fn opt(v: &Option<String>) -> String {
    esc(v.as_deref().unwrap_or("–"))
}

pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        esc(value)
    )
}

/// A 303 to `path`: a form post answers with a redirect, so a reload never sends it twice.
pub(super) fn see_other(path: &str) -> Response {
    let mut r = Redirect::to(path).into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
    r
}

/// A page saying the request asked for something the desk does not know (a bad filter
/// value): an HTML page with the way back, where the API answers JSON.
pub(super) fn bad_request(who: &Principal, message: &str) -> Response {
    page(
        who,
        StatusCode::BAD_REQUEST,
        "Not understood",
        &format!(
            "<div class=\"msg err\" id=\"error\" role=\"alert\">The desk did not understand this address: {}</div><p><a href=\"/\">← Queue</a></p>",
            esc(message)
        ),
    )
}
