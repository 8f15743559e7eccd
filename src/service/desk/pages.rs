//! Server-rendered pages of the review desk: `/login`, `/` (the queue), `/flags/{id}` (one
//! flag in context, with the actions the user's role allows), and the forms they post.
//!
//! Forms post back here (never to the JSON API), each with the session's CSRF token, and
//! answer with a redirect, so a reload never sends an action twice. Every value shown is
//! HTML-escaped; the pages are UTF-8 throughout.

use super::actions::{self, Action, ActionError, ActionInput};
use super::api::{self, Detail, FlagView, NoteBody, QueueParams};
use super::auth::{self, Permission, Principal, Via};
use super::{client_addr, Auth, DeskState};
use crate::model::{Discrepancy, DiscrepancyStatus, NoteChannel, Rule, Scope, Severity};
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

const CSS: &str = include_str!("assets/desk.css");
const JS: &str = include_str!("assets/desk.js");

pub fn routes() -> Router<Arc<DeskState>> {
    Router::new()
        .route("/", get(queue_page))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/flags/{id}", get(flag_page))
        .route("/flags/{id}/{action}", post(flag_action))
        .route("/notes", post(note))
        .route(
            "/assets/desk.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
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

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
        .finish()
}

/// The frame around every page. `who` is `None` on the login page.
fn layout(title: &str, who: Option<&Principal>, body: &str) -> String {
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
         <title>{} · erpsync review desk</title><link rel=\"stylesheet\" href=\"/assets/desk.css\"></head>\
         <body><header class=\"top\"><a href=\"/\">erpsync · review desk</a>{user}</header>\
         <main>{body}</main><script src=\"/assets/desk.js\"></script></body></html>",
        esc(title)
    )
}

/// A page for the user; behind the SSO proxy the first page also starts a session, so the
/// forms on it have a CSRF token.
fn page(who: &Principal, status: StatusCode, title: &str, body: &str) -> Response {
    let mut response = (status, Html(layout(title, Some(who), body))).into_response();
    no_store(&mut response);
    response
}

fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The signed-in user of a page request, or the redirect to the login form.
#[allow(clippy::result_large_err)] // see api::require
fn viewer(desk: &DeskState, headers: &HeaderMap) -> Result<(Principal, Option<String>), Response> {
    match desk.authenticate(headers) {
        Auth::Ok(p) if p.via == Via::Proxy => {
            let (id, csrf) = desk.sessions.create(&p.name, p.role);
            let cookie = auth::set_cookie(
                auth::SESSION_COOKIE,
                &id,
                desk.sessions.lifetime(),
                desk.cookie_secure,
            );
            Ok((
                Principal {
                    via: Via::Session { id, csrf },
                    ..p
                },
                Some(cookie),
            ))
        }
        Auth::Ok(p) => Ok((p, None)),
        Auth::NoDeskRole(_) => Err((StatusCode::FORBIDDEN, "no review-desk role").into_response()),
        Auth::Missing | Auth::Invalid => Err(Redirect::to("/login").into_response()),
    }
}

/// The user of a form post: a session and its CSRF token, nothing else.
#[allow(clippy::result_large_err)] // see api::require
fn poster(desk: &DeskState, headers: &HeaderMap, sent_csrf: &str) -> Result<Principal, Response> {
    let who = match desk.authenticate(headers) {
        Auth::Ok(p) => p,
        _ => return Err(Redirect::to("/login").into_response()),
    };
    match who.csrf() {
        Some(csrf) if auth::same(csrf, sent_csrf) => Ok(who),
        _ => Err((
            StatusCode::FORBIDDEN,
            Html(layout(
                "Refused",
                None,
                "<div class=\"msg err\" id=\"error\">The form's security token is missing or out of date (CSRF check). Reload the page and try again.</div>",
            )),
        )
            .into_response()),
    }
}

fn with_cookie(mut r: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie {
        set_cookie(&mut r, &c);
    }
    r
}

// ---------------------------------------------------------------- login

#[derive(Deserialize, Default)]
struct LoginQuery {
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

async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    login_page(StatusCode::OK, q.error.as_deref())
}

#[derive(Deserialize)]
struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

async fn login(State(desk): State<Arc<DeskState>>, request: Request) -> Response {
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
    let mut r = Redirect::to("/").into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
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
struct CsrfForm {
    csrf: String,
}

async fn logout(
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
    let mut r = Redirect::to("/login").into_response();
    *r.status_mut() = StatusCode::SEE_OTHER;
    set_cookie(
        &mut r,
        &auth::set_cookie(auth::SESSION_COOKIE, "", Duration::ZERO, desk.cookie_secure),
    );
    r
}

// ---------------------------------------------------------------- the queue

fn severity_badge(s: Severity) -> String {
    format!("<span class=\"badge sev-{0}\">{0}</span>", s.as_str())
}

fn status_text(f: &FlagView) -> String {
    if f.awaiting_approval {
        "<span class=\"st-waiting\">waived · awaiting approval</span>".into()
    } else {
        esc(f.discrepancy.status.as_str())
    }
}

fn money(d: &Discrepancy) -> String {
    let e = &d.finding.exposure;
    if e.currency.is_empty() {
        "no open items".into()
    } else {
        format!(
            "{} {}",
            esc(&e.amount.round_dp(2).to_string()),
            esc(&e.currency)
        )
    }
}

fn select(name: &str, label: &str, current: Option<&str>, options: &[(String, String)]) -> String {
    let mut s = format!(
        "<label>{label}<select name=\"{name}\" id=\"f-{name}\"><option value=\"\">all</option>"
    );
    for (value, text) in options {
        let on = if current == Some(value.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{on}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    s + "</select></label>"
}

fn param(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn filter_pairs(p: &QueueParams) -> Vec<(&'static str, String)> {
    vec![
        ("status", param(&p.status).to_string()),
        ("rule", param(&p.rule).to_string()),
        ("severity", param(&p.severity).to_string()),
        ("company_code", param(&p.company_code).to_string()),
        ("assignee", param(&p.assignee).to_string()),
        ("customer", param(&p.customer).to_string()),
        ("q", param(&p.q).to_string()),
    ]
}

fn link_with(
    p: &QueueParams,
    path: &str,
    extra: &[(&str, &str)],
    replace_status: Option<&str>,
) -> String {
    let mut pairs: Vec<(&str, String)> = filter_pairs(p);
    if let Some(s) = replace_status {
        pairs.retain(|(k, _)| *k != "status");
        pairs.push(("status", s.to_string()));
    }
    let mut refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    refs.extend_from_slice(extra);
    let q = query_string(&refs);
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

async fn queue_page(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Query(mut params): Query<QueueParams>,
) -> Response {
    let (who, cookie) = match viewer(&desk, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The desk opens on the work to do.
    if params.status.is_none() {
        params.status = Some("open".into());
    }
    if params.status.as_deref() == Some("all") {
        params.status = None;
    }
    let view = match api::queue(&desk, &params).await {
        Ok(v) => v,
        Err(r) => return with_cookie(r, cookie),
    };
    let mut body = String::from("<h1>Review queue</h1>");
    body += "<nav class=\"tabs\" id=\"status-tabs\">";
    let all: u64 = view.counts.values().sum();
    let current = params.status.clone().unwrap_or_else(|| "all".into());
    for (status, n) in
        std::iter::once(("all".to_string(), all)).chain(DiscrepancyStatus::ALL.iter().map(|s| {
            (
                s.as_str().to_string(),
                view.counts.get(s.as_str()).copied().unwrap_or(0),
            )
        }))
    {
        let on = if status == current {
            " class=\"on\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<a{on} href=\"{}\" data-status=\"{status}\">{status}<span class=\"n\">{n}</span></a>",
            esc(&link_with(&params, "/", &[], Some(&status)))
        );
    }
    body += "</nav>";

    let rules: Vec<(String, String)> = Rule::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.as_str().replace('_', " ")))
        .collect();
    let severities: Vec<(String, String)> = ["high", "medium", "low"]
        .iter()
        .map(|s| (s.to_string(), s.to_string()))
        .collect();
    let assignees: Vec<(String, String)> = desk
        .users
        .iter()
        .map(|u| (u.name.clone(), u.name.clone()))
        .collect();
    let _ = write!(
        body,
        "<div class=\"card\"><form class=\"filters\" method=\"get\" action=\"/\" id=\"filters\">\
         <input type=\"hidden\" name=\"status\" value=\"{}\">\
         <label>Customer number or name<input name=\"q\" id=\"f-q\" value=\"{}\" placeholder=\"0000100001 / Müller / 上海\"></label>\
         {}{}<label>Company code<input name=\"company_code\" id=\"f-company_code\" size=\"6\" value=\"{}\"></label>{}\
         <button type=\"submit\" id=\"apply\">Filter</button>\
         <a class=\"button quiet\" href=\"/?status={}\">Clear</a>\
         <span style=\"margin-left:auto\"></span>\
         <a class=\"button quiet\" id=\"export-xlsx\" href=\"{}\">Export XLSX</a>\
         <a class=\"button quiet\" id=\"export-csv\" href=\"{}\">Export CSV</a>\
         </form></div>",
        esc(&current),
        esc(param(&params.q)),
        select("rule", "Rule", params.rule.as_deref(), &rules),
        select("severity", "Severity", params.severity.as_deref(), &severities),
        esc(param(&params.company_code)),
        select("assignee", "Assignee", params.assignee.as_deref(), &assignees),
        esc(&current),
        esc(&link_with(&params, "/api/v1/discrepancies.xlsx", &[], None)),
        esc(&link_with(&params, "/api/v1/discrepancies.csv", &[], None)),
    );

    let _ = write!(
        body,
        "<div class=\"card\"><p class=\"muted\" id=\"total\">{} flag{} match, largest exposure first.</p>",
        view.total,
        if view.total == 1 { "" } else { "s" }
    );
    if view.items.is_empty() {
        body += "<p id=\"empty\">Nothing to review here.</p>";
    } else {
        body += "<table id=\"queue\"><thead><tr><th class=\"num\">Exposure</th><th class=\"num\">Days</th>\
                 <th>Severity</th><th>Customer</th><th>Rule · scope</th><th>Contract</th><th>Master</th>\
                 <th>Status</th><th>Assignee</th></tr></thead><tbody>";
        for f in &view.items {
            let d = &f.discrepancy;
            let _ = write!(
                body,
                "<tr class=\"flag\" data-id=\"{id}\"><td class=\"num\"><a href=\"/flags/{id}\">{}</a></td>\
                 <td class=\"num\">{}</td><td>{}</td><td><a href=\"/flags/{id}\">{}</a><br><span class=\"muted\">{}</span></td>\
                 <td>{}<br><span class=\"muted\">{} · {}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                money(d),
                d.finding.exposure.days,
                severity_badge(d.finding.severity),
                esc(d.finding.customer.as_str()),
                esc(f.customer_name.as_deref().unwrap_or("")),
                esc(&d.finding.rule.as_str().replace('_', " ")),
                esc(&d.finding.scope.to_string()),
                esc(&d.finding.field),
                esc(&d.finding.contract_value),
                esc(&d.finding.master_value),
                status_text(f),
                esc(d.assignee.as_deref().unwrap_or("")),
                id = d.id,
            );
        }
        body += "</tbody></table>";
    }
    body += "<div class=\"pager\">";
    if params.after.is_some() {
        let _ = write!(
            body,
            "<a class=\"button quiet\" href=\"{}\">First page</a>",
            esc(&link_with(&params, "/", &[], None))
        );
    }
    if let Some(next) = &view.next {
        let _ = write!(
            body,
            "<a class=\"button quiet\" id=\"next-page\" href=\"{}\">Next page</a>",
            esc(&link_with(&params, "/", &[("after", next)], None))
        );
    }
    body += "</div></div>";
    with_cookie(page(&who, StatusCode::OK, "Queue", &body), cookie)
}

// ---------------------------------------------------------------- one flag

#[derive(Deserialize, Default)]
struct FlagQuery {
    done: Option<String>,
}

fn kv(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"kv\">");
    for (k, v) in rows {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), v);
    }
    s + "</dl>"
}

fn opt(v: &Option<String>) -> String {
    esc(v.as_deref().unwrap_or("–"))
}

fn contract_side(detail: &Detail) -> String {
    let f = &detail.flag.discrepancy.finding;
    let mut s = format!(
        "<div class=\"side card\" id=\"contract-side\"><h3>Contract</h3><p class=\"value\">{}</p>",
        esc(&f.contract_value)
    );
    if detail.contracts.is_empty() {
        s += "<p class=\"muted\">No current contract held for this customer.</p>";
    }
    for c in &detail.contracts {
        let scope = Scope::covered_by(&c.scope)
            .iter()
            .map(Scope::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        s += &kv(&[
            ("Contract", esc(&format!("{} ({})", c.id, c.source))),
            ("Scope", esc(if scope.is_empty() { "all" } else { &scope })),
            ("Payment terms", opt(&c.payment_terms)),
            ("Currency", opt(&c.currency)),
            (
                "Credit limit",
                esc(&c
                    .credit_limit
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "–".into())),
            ),
            (
                "Valid",
                esc(&format!(
                    "{} – {}",
                    c.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                    c.valid_to.map(|d| d.to_string()).unwrap_or_default()
                )),
            ),
            (
                "Billing address",
                esc(&c
                    .billing_address
                    .as_ref()
                    .map(|a| {
                        format!(
                            "{}, {}, {} {}, {}",
                            a.name, a.street, a.postal_code, a.city, a.country
                        )
                    })
                    .unwrap_or_else(|| "–".into())),
            ),
        ]);
    }
    s + "</div>"
}

fn master_side(detail: &Detail) -> String {
    let f = &detail.flag.discrepancy.finding;
    let mut s = format!(
        "<div class=\"side card\" id=\"master-side\"><h3>Master</h3><p class=\"value\">{}</p>",
        esc(&f.master_value)
    );
    let Some(c) = &detail.customer else {
        return s + "<p class=\"muted\">The customer is not in the master.</p></div>";
    };
    let g = &c.general;
    let mut flags = Vec::new();
    if g.posting_block {
        flags.push("posting block");
    }
    if g.deletion_flag {
        flags.push("marked for deletion");
    }
    s += &kv(&[
        ("Customer", esc(&format!("{} {}", g.customer, g.name))),
        (
            "Address",
            esc(&g
                .address
                .as_ref()
                .map(|a| {
                    format!(
                        "{}, {}, {} {}, {}",
                        a.name, a.street, a.postal_code, a.city, a.country
                    )
                })
                .unwrap_or_else(|| "–".into())),
        ),
        (
            "Blocks",
            esc(if flags.is_empty() { "none" } else { "" }) + &esc(&flags.join(", ")),
        ),
    ]);
    if !c.company_codes.is_empty() {
        s += "<table><thead><tr><th>Company code</th><th>Payment terms</th><th>Clerk</th></tr></thead><tbody>";
        for cc in &c.company_codes {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&cc.company_code),
                opt(&cc.payment_terms),
                opt(&cc.accounting_clerk)
            );
        }
        s += "</tbody></table>";
    }
    if !c.sales_areas.is_empty() {
        s += "<table><thead><tr><th>Sales area</th><th>Payment terms</th><th>Currency</th></tr></thead><tbody>";
        for sa in &c.sales_areas {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&sa.area.to_string()),
                opt(&sa.payment_terms),
                opt(&sa.currency)
            );
        }
        s += "</tbody></table>";
    }
    s + "</div>"
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        esc(value)
    )
}

fn action_forms(desk: &DeskState, who: &Principal, detail: &Detail) -> String {
    let d = &detail.flag.discrepancy;
    let csrf = who.csrf().unwrap_or("");
    let base = hidden("csrf", csrf) + &hidden("version", &detail.flag.version);
    let mut s = String::from("<div class=\"card actions\" id=\"actions\"><h2>Actions</h2>");
    let mut offered = 0;
    for action in Action::ALL {
        if !action.applies_to(d) || !who.role.may(action.permission()) {
            continue;
        }
        let form = |inner: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/flags/{}/{}\" id=\"form-{}\">{base}{inner}<button type=\"submit\" id=\"do-{}\">{label}</button></form>",
                d.id,
                action.as_str(),
                action.as_str(),
                action.as_str()
            )
        };
        let html = match action {
            Action::Acknowledge => {
                let mut opts = String::new();
                for u in desk.users.iter().filter(|u| u.role.may(Permission::Review)) {
                    let on = if u.name == who.name { " selected" } else { "" };
                    let _ = write!(opts, "<option value=\"{0}\"{on}>{0}</option>", esc(&u.name));
                }
                if !desk.users.iter().any(|u| u.name == who.name) {
                    let _ = write!(opts, "<option value=\"{0}\" selected>{0}</option>", esc(&who.name));
                }
                form(
                    &format!(
                        "<label>Assign to<select name=\"assignee\" id=\"assignee\">{opts}</select></label>\
                         <label>Note (optional)<textarea name=\"note\" id=\"ack-note\"></textarea></label>"
                    ),
                    "Acknowledge",
                )
            }
            Action::Resolve => form(
                "<label>What was done (required)<textarea name=\"note\" id=\"resolve-note\" required></textarea></label>",
                "Resolve",
            ),
            Action::Waive => {
                let until = (chrono::Utc::now().date_naive() + chrono::Days::new(90)).to_string();
                form(
                    &format!(
                        "<label>Reason (required)<textarea name=\"note\" id=\"waive-note\" required></textarea></label>\
                         <label>Waived until (required)<input type=\"date\" name=\"until\" id=\"waive-until\" value=\"{until}\" required></label>"
                    ),
                    "Propose waiver",
                )
            }
            Action::Approve => {
                if d.waiver_by.as_deref() == Some(who.name.as_str()) {
                    s += "<p class=\"muted\" id=\"own-waiver\">You proposed this waiver: someone else must approve it.</p>";
                    continue;
                }
                form(
                    &format!(
                        "<p>Waiver proposed by <b>{}</b> until {}.</p><label>Note (optional)<textarea name=\"note\" id=\"approve-note\"></textarea></label>",
                        esc(d.waiver_by.as_deref().unwrap_or("?")),
                        d.waived_until.map(|u| u.to_string()).unwrap_or_default()
                    ),
                    "Approve waiver",
                )
            }
            Action::Reopen => form(
                "<label>Why (optional)<textarea name=\"note\" id=\"reopen-note\"></textarea></label>",
                "Reopen",
            ),
        };
        s += &html;
        offered += 1;
    }
    if offered == 0 && !s.contains("own-waiver") {
        let _ = write!(
            s,
            "<p class=\"muted\" id=\"no-actions\">Nothing your role ({}) can do to this flag in its state ({}).</p>",
            who.role,
            d.status
        );
    }
    s + "</div>"
}

fn note_form(who: &Principal, detail: &Detail, back: &str) -> String {
    if !who.role.may(Permission::Collect) {
        return String::new();
    }
    let mut channels = String::new();
    for c in [
        NoteChannel::Phone,
        NoteChannel::Email,
        NoteChannel::Chat,
        NoteChannel::Meeting,
        NoteChannel::Letter,
    ] {
        let _ = write!(channels, "<option>{}</option>", c.as_str());
    }
    format!(
        "<div class=\"card actions\" id=\"note\"><h2>Note to the customer's file</h2>\
         <form method=\"post\" action=\"/notes\">{}{}{}\
         <label>Text<textarea name=\"text\" id=\"note-text\" required></textarea></label>\
         <label>Channel<select name=\"channel\">{channels}</select></label>\
         <button type=\"submit\" id=\"add-note\">Add note</button></form>\
         <p class=\"muted\">Written into the ERP's customer texts by the outbox.</p></div>",
        hidden("csrf", who.csrf().unwrap_or("")),
        hidden(
            "customer",
            detail.flag.discrepancy.finding.customer.as_str()
        ),
        hidden("back", back),
    )
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "acknowledge" => "Acknowledged.",
        "resolve" => "Resolved.",
        "waive" => "Waiver proposed: it counts once someone else approves it.",
        "approve" => "Waiver approved.",
        "reopen" => "Reopened.",
        "note" => "Note queued for the ERP.",
        _ => return None,
    })
}

fn flag_body(
    desk: &DeskState,
    who: &Principal,
    detail: &Detail,
    message: Option<(bool, String)>,
) -> String {
    let f = &detail.flag;
    let d = &f.discrepancy;
    let fi = &d.finding;
    let e = &fi.exposure;
    let mut body = String::new();
    if let Some((ok, text)) = message {
        let _ = write!(
            body,
            "<div class=\"msg {}\" id=\"{}\">{}</div>",
            if ok { "ok" } else { "err" },
            if ok { "done" } else { "error" },
            esc(&text)
        );
    }
    let _ = write!(
        body,
        "<p><a href=\"/\">← Queue</a></p><h1>Flag {} · {} {}</h1>\
         <div class=\"card\">{}</div>",
        d.id,
        esc(fi.customer.as_str()),
        esc(f.customer_name.as_deref().unwrap_or("")),
        kv(&[
            (
                "Status",
                format!("<span id=\"status\">{}</span>", status_text(f))
            ),
            ("Rule", esc(&fi.rule.as_str().replace('_', " "))),
            ("Severity", severity_badge(fi.severity)),
            (
                "Scope · field",
                esc(&format!("{} · {}", fi.scope, fi.field))
            ),
            ("Assignee", opt(&d.assignee)),
            (
                "Waiver",
                match (&d.waiver_by, d.waived_until) {
                    (Some(by), until) => esc(&format!(
                        "proposed by {by}{}{}",
                        until.map(|u| format!(", until {u}")).unwrap_or_default(),
                        d.waiver_approved_by
                            .as_ref()
                            .map(|a| format!(", approved by {a}"))
                            .unwrap_or_else(|| ", awaiting approval".into())
                    )),
                    _ => "–".into(),
                },
            ),
            (
                "Seen",
                esc(&format!(
                    "first {} · last {}",
                    d.first_seen.format("%Y-%m-%d %H:%M"),
                    d.last_seen.format("%Y-%m-%d %H:%M")
                )),
            ),
        ])
    );
    let _ = write!(
        body,
        "<div class=\"diff\" id=\"difference\">{}</div>",
        esc(&fi.explanation)
    );
    body += "<div class=\"grid2\">";
    body += &contract_side(detail);
    body += &master_side(detail);
    body += "</div>";

    // Money at stake.
    let mut by_currency = String::new();
    for c in &e.by_currency {
        let _ = write!(
            by_currency,
            "{} {} ({} items); ",
            c.amount.round_dp(2),
            c.currency,
            c.items
        );
    }
    let _ = write!(
        body,
        "<div class=\"card\" id=\"exposure\"><h2>Affected open items</h2>{}",
        kv(&[
            ("Exposure", money(d)),
            ("Items", e.items.to_string()),
            (
                "Due-date shift",
                esc(&format!(
                    "{} days ({})",
                    e.days,
                    if e.days > 0 {
                        "the master lets the customer pay later than the contract"
                    } else if e.days < 0 {
                        "the master asks for payment earlier than the contract"
                    } else {
                        "none"
                    }
                )),
            ),
            (
                "Cost of the shift",
                esc(&format!("{} {}", e.cost, e.currency))
            ),
            ("Per currency", esc(by_currency.trim_end_matches("; "))),
        ])
    );
    if detail.affected_items.is_empty() {
        body += "<p class=\"muted\">No open receivables in this scope.</p>";
    } else {
        // The contract's due date per item where the flag compares terms the desk can read.
        let by_contract = detail
            .affected_items
            .iter()
            .any(|a| a.contract_due.is_some());
        let _ = write!(
            body,
            "<table id=\"items\"><thead><tr><th>Item</th><th class=\"num\">Amount</th><th>Terms</th>\
             <th>Baseline</th><th>Net due (master)</th>{}<th>Dispute</th></tr></thead><tbody>",
            if by_contract {
                "<th>Net due (contract)</th><th class=\"num\">Shift (days)</th>"
            } else {
                ""
            }
        );
        for a in &detail.affected_items {
            let i = &a.item;
            let contract = if by_contract {
                format!(
                    "<td>{}</td><td class=\"num\">{}</td>",
                    a.contract_due
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "–".into()),
                    a.shift_days
                        .map(|x| format!("{x:+}"))
                        .unwrap_or_else(|| "–".into())
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"num\">{} {}</td><td>{}</td><td>{}</td><td>{}</td>{contract}<td>{}</td></tr>",
                esc(&i.key.to_string()),
                esc(&i.amount.to_string()),
                esc(&i.currency),
                opt(&i.payment_terms),
                i.baseline_date,
                i.net_due_date.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
                opt(&i.dispute_case),
            );
        }
        body += "</tbody></table>";
    }
    body += "</div>";

    body += "<div class=\"grid2\"><div>";
    body += &action_forms(desk, who, detail);
    body += &note_form(who, detail, &format!("/flags/{}", d.id));
    body += "</div><div>";
    body += "<div class=\"card\" id=\"audit\"><h2>History</h2><table><thead><tr><th>When (UTC)</th><th>Who</th><th>Change</th><th>Note</th></tr></thead><tbody>";
    for a in &detail.audit {
        let _ = write!(
            body,
            "<tr class=\"audit-entry\"><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            a.at.format("%Y-%m-%d %H:%M:%S"),
            esc(&a.actor),
            a.from.map(|s| s.as_str()).unwrap_or("–"),
            a.to.as_str(),
            esc(a.note.as_deref().unwrap_or(""))
        );
    }
    body += "</tbody></table></div>";
    body += "<div class=\"card\" id=\"other-flags\"><h2>The customer's other flags</h2>";
    if detail.other_flags.is_empty() {
        body += "<p class=\"muted\">None.</p>";
    } else {
        body += "<table><tbody>";
        for o in &detail.other_flags {
            let od = &o.discrepancy;
            let _ = write!(
                body,
                "<tr><td><a href=\"/flags/{0}\">#{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td class=\"num\">{4}</td></tr>",
                od.id,
                esc(&od.finding.rule.as_str().replace('_', " ")),
                esc(&od.finding.scope.to_string()),
                status_text(o),
                money(od)
            );
        }
        body += "</tbody></table>";
    }
    body += "</div></div></div>";
    body
}

async fn render_flag(
    desk: &DeskState,
    who: &Principal,
    id: i64,
    status: StatusCode,
    message: Option<(bool, String)>,
) -> Response {
    match api::detail(desk, id).await {
        Ok(Some(detail)) => {
            let body = flag_body(desk, who, &detail, message);
            page(who, status, &format!("Flag {id}"), &body)
        }
        Ok(None) => page(who,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("<div class=\"msg err\" id=\"error\">There is no flag {id}.</div><p><a href=\"/\">← Queue</a></p>"),
        ),
        Err(e) => api::store_error(e),
    }
}

async fn flag_page(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<FlagQuery>,
) -> Response {
    let (who, cookie) = match viewer(&desk, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let message = q
        .done
        .as_deref()
        .and_then(done_message)
        .map(|m| (true, m.to_string()));
    with_cookie(
        render_flag(&desk, &who, id, StatusCode::OK, message).await,
        cookie,
    )
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
    version: Option<String>,
    note: Option<String>,
    assignee: Option<String>,
    until: Option<String>,
}

async fn flag_action(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let who = match poster(&desk, &headers, &form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(action) = action.parse::<Action>() else {
        return render_flag(
            &desk,
            &who,
            id,
            StatusCode::NOT_FOUND,
            Some((false, format!("No action {action:?}."))),
        )
        .await;
    };
    let until = match form
        .until
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                return render_flag(
                    &desk,
                    &who,
                    id,
                    StatusCode::BAD_REQUEST,
                    Some((false, format!("{s:?} is not a date (YYYY-MM-DD)."))),
                )
                .await
            }
        },
        None => None,
    };
    let input = ActionInput {
        version: form.version,
        note: form.note,
        assignee: form.assignee,
        until,
    };
    match actions::perform(&desk, &who, id, action, &input).await {
        Ok(_) => {
            let mut r =
                Redirect::to(&format!("/flags/{id}?done={}", action.as_str())).into_response();
            *r.status_mut() = StatusCode::SEE_OTHER;
            r
        }
        Err(e) => {
            let status = match &e {
                ActionError::Forbidden { .. } => StatusCode::FORBIDDEN,
                ActionError::NotFound(_) => StatusCode::NOT_FOUND,
                ActionError::Stale { .. } | ActionError::Refused(_) => StatusCode::CONFLICT,
                ActionError::Invalid(_) => StatusCode::BAD_REQUEST,
                ActionError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            let text = match &e {
                ActionError::Stale { .. } => format!(
                    "Someone changed this flag while you were looking at it; nothing was changed. Here it is as it stands now. ({e})"
                ),
                _ => e.to_string(),
            };
            render_flag(&desk, &who, id, status, Some((false, text))).await
        }
    }
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    customer: String,
    text: String,
    channel: Option<String>,
    back: Option<String>,
}

async fn note(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Form(form): Form<NoteForm>,
) -> Response {
    let who = match poster(&desk, &headers, &form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    // Only back to a page of this desk, never to another site.
    let back = form
        .back
        .filter(|b| b.starts_with("/flags/") && !b.contains("//"))
        .unwrap_or_else(|| "/".into());
    let body = NoteBody {
        customer: form.customer,
        item: None,
        text: form.text,
        channel: form.channel,
    };
    match api::queue_note(&desk, &who, body).await {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            let mut r = Redirect::to(&format!("{back}{sep}done=note")).into_response();
            *r.status_mut() = StatusCode::SEE_OTHER;
            r
        }
        Err(r) => r,
    }
}
