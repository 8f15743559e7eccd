//! `/login` (the sign-in form, rate-limited, CSRF by double submit) and `/logout`.

use super::super::auth::Via;
use super::super::{auth, client_addr, limiter, DeskState};
use super::kit::{esc, layout, no_store, see_other, set_cookie, unavailable, Poster};
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    error: Option<String>,
}

/// The messages `/login?error=CODE` may show: the query picks one, its text is never shown
/// (a link could otherwise put any words on the sign-in page).
fn error_message(code: &str) -> Option<&'static str> {
    match code {
        "expired" => Some("Your session ended. Sign in again."),
        "signed-out" => Some("You signed out."),
        "sso" => Some("Single sign-on did not name a desk user. Sign in with a password."),
        _ => None,
    }
}

fn login_page(desk: &DeskState, status: StatusCode, message: Option<&str>) -> Response {
    let token = auth::random_token();
    let msg = message
        .map(|m| {
            format!(
                "<div class=\"msg err\" id=\"error\" role=\"alert\">{}</div>",
                esc(m)
            )
        })
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
        &auth::set_cookie(
            auth::LOGIN_COOKIE,
            &token,
            Duration::from_secs(3600),
            desk.cookie_secure,
        ),
    );
    r
}

pub(super) async fn login_form(
    State(desk): State<Arc<DeskState>>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let message = q.error.as_deref().and_then(error_message);
    login_page(&desk, StatusCode::OK, message)
}

fn form_expired(desk: &DeskState) -> Response {
    login_page(
        desk,
        StatusCode::FORBIDDEN,
        Some("The sign-in form expired (CSRF check). Try again."),
    )
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

/// The most a sign-in form may hold: anyone may post it, so it is read only this far.
pub(super) const LOGIN_BODY_LIMIT: usize = 16 * 1024;

pub(super) async fn login(State(desk): State<Arc<DeskState>>, request: Request) -> Response {
    let addr = client_addr(request.extensions());
    // Double submit: the form's token must equal the cookie set with the form, which a
    // foreign site can neither read nor set. Without the cookie the form is not read at all.
    let Some(cookie_token) = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, auth::LOGIN_COOKIE))
        .map(str::to_string)
    else {
        return form_expired(&desk);
    };
    let Ok(Form(form)) = Form::<LoginForm>::from_request(request, &()).await else {
        return login_page(
            &desk,
            StatusCode::BAD_REQUEST,
            Some("Enter user and password."),
        );
    };
    if !auth::same(&cookie_token, &form.csrf) {
        return form_expired(&desk);
    }
    let user = form.user.trim().to_string();
    let addr = addr.map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
    let too_many = |desk: &DeskState, why: limiter::Refusal| {
        tracing::warn!(user = %user, addr = %addr, ?why, "review desk: sign-in refused by the rate limit");
        login_page(
            desk,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many sign-in attempts. Wait a few minutes."),
        )
    };
    // Counted before the password is checked, so concurrent attempts cannot all pass.
    if let Err(why) = desk.limiter.attempt(&addr) {
        return too_many(&desk, why);
    }
    let delay = desk.limiter.user_delay(&user);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let slot = match desk.limiter.hashing_slot() {
        Ok(slot) => slot,
        Err(why) => {
            desk.limiter.give_back(&addr);
            return too_many(&desk, why);
        }
    };
    let account = desk.user(&user).cloned();
    let hash = account
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_string());
    let password = form.password;
    // Argon2 is deliberately slow: off the async workers, holding its slot.
    let matches = tokio::task::spawn_blocking(move || {
        let matches = auth::verify_password(&hash, &password);
        drop(slot);
        matches
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|u| matches && u.password_hash.is_some()) else {
        desk.limiter.user_failed(&user);
        tracing::info!(user = %user, addr = %addr, "review desk: sign-in refused");
        return login_page(
            &desk,
            StatusCode::UNAUTHORIZED,
            Some("Unknown user or wrong password."),
        );
    };
    desk.limiter.give_back(&addr);
    desk.limiter.user_succeeded(&user);
    let (id, _) = match desk.sessions.create(&account.name, account.role).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
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
        &auth::set_cookie(auth::LOGIN_COOKIE, "", Duration::ZERO, desk.cookie_secure),
    );
    r
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(
    State(desk): State<Arc<DeskState>>,
    poster: Poster,
    Form(form): Form<CsrfForm>,
) -> Response {
    let who = match poster.with_token(&form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Via::Session { id, .. } = &who.via {
        if let Err(e) = desk.sessions.remove(id).await {
            return unavailable(e);
        }
    }
    let mut r = see_other("/login");
    set_cookie(
        &mut r,
        &auth::set_cookie(auth::SESSION_COOKIE, "", Duration::ZERO, desk.cookie_secure),
    );
    r
}
