//! `/login` (the sign-in form, rate-limited, CSRF by double submit) and `/logout`.

use super::super::auth::Via;
use super::super::{auth, client_addr, DeskState};
use super::kit::{esc, layout, no_store, poster, see_other, set_cookie};
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    error: Option<String>,
}

fn login_page(status: StatusCode, message: Option<&str>) -> Response {
    let token = auth::random_token();
    let msg = message
        .map(|m| format!("<div class=\"msg err\" id=\"error\">{}</div>", esc(m)))
        .unwrap_or_default();
    let body = format!(
        "<div class=\"login card\"><h1>Sign in</h1>{msg}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"user\">User</label><input id=\"user\" name=\"user\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form></div>"
    );
    let mut r = (status, Html(layout("Sign in", None, &body))).into_response();
    no_store(&mut r);
    set_cookie(
        &mut r,
        &auth::set_cookie(auth::LOGIN_COOKIE, &token, Duration::from_secs(3600), false),
    );
    r
}

pub(super) async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    login_page(StatusCode::OK, q.error.as_deref())
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

pub(super) async fn login(State(desk): State<Arc<DeskState>>, request: Request) -> Response {
    let addr = client_addr(request.extensions());
    let headers = request.headers().clone();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(request, &()).await else {
        return login_page(StatusCode::BAD_REQUEST, Some("Enter user and password."));
    };
    // Double submit: the form's token must equal the cookie set with the form, which a
    // foreign site can neither read nor set.
    let cookie_token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, auth::LOGIN_COOKIE));
    if cookie_token.is_none_or(|t| !auth::same(t, &form.csrf)) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("The sign-in form expired (CSRF check). Try again."),
        );
    }
    let user = form.user.trim().to_string();
    let mut keys = vec![format!("user:{user}")];
    if let Some(a) = addr {
        keys.push(format!("addr:{}", a.ip()));
    }
    if desk.limiter.blocked(&keys) {
        tracing::warn!(user = %user, "review desk: login attempts rate-limited");
        return login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed sign-ins. Wait a few minutes."),
        );
    }
    let account = desk.user(&user).cloned();
    let hash = account
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_string());
    let password = form.password;
    // Argon2 is deliberately slow: off the async workers.
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let Some(account) = account.filter(|u| matches && u.password_hash.is_some()) else {
        desk.limiter.failed(&keys);
        tracing::info!(user = %user, "review desk: sign-in refused");
        return login_page(
            StatusCode::UNAUTHORIZED,
            Some("Unknown user or wrong password."),
        );
    };
    desk.limiter.succeeded(&keys[0]);
    let (id, _) = desk.sessions.create(&account.name, account.role);
    tracing::info!(user = %account.name, role = %account.role, "review desk: signed in");
    let mut r = see_other("/");
    set_cookie(
        &mut r,
        &auth::set_cookie(
            auth::SESSION_COOKIE,
            &id,
            desk.sessions.lifetime(),
            desk.cookie_secure,
        ),
    );
    set_cookie(
        &mut r,
        &auth::set_cookie(auth::LOGIN_COOKIE, "", Duration::ZERO, false),
    );
    r
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let who = match poster(&desk, &headers, &form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Via::Session { id, .. } = &who.via {
        desk.sessions.remove(id);
    }
    let mut r = see_other("/login");
    set_cookie(
        &mut r,
        &auth::set_cookie(auth::SESSION_COOKIE, "", Duration::ZERO, desk.cookie_secure),
    );
    r
}
