//! The review desk: the pages MDM contacts work the discrepancy queue in, and the JSON API
//! behind them (`/api/v1/…`), both served by `erpsync run`.
//!
//! - [`auth`]: roles, passwords, CSRF tokens, cookies.
//! - [`sessions`]: sessions in the store, by the hash of their token.
//! - [`limiter`]: the login rate limit.
//! - [`actions`]: acknowledge, resolve, waive, approve, reopen; the stale-page check.
//! - [`api`]: `/api/v1/…` JSON endpoints: the queue, a flag, its actions, exports.
//! - [`collect_api`]: collectors' notes and dispute statuses, queued for the ERP.
//! - [`ar_api`]: `/api/v1/ar/…`: the collections figures.
//! - [`pages`]: server-rendered HTML (`/`, `/login`, `/flags/{id}`), a little JavaScript.
//! - [`openapi`]: the API described, served at `/api/v1/openapi.json`.
//! - [`wording`]: a flag in plain words: sentence, the two values, the proposed change.
//!
//! Every change goes through the store's audited methods; the desk holds no state of its
//! own but the login rate limit's counters.

pub mod actions;
pub mod api;
pub mod ar_api;
pub mod auth;
pub mod collect_api;
pub mod format;
pub mod json_errors;
pub mod limiter;
pub mod openapi;
pub mod pages;
pub mod sessions;
pub mod settings;
pub mod wording;

use crate::model::{Discrepancy, DisputeRules};
use crate::service::idoc_endpoint::{resolve_tokens, EndpointToken};
use crate::service::ServiceSettings;
use crate::store::SharedStore;
use auth::{Principal, Role, Via};
use axum::http::{header, HeaderMap};
use axum::Router;
use secrecy::ExposeSecret;
use sessions::Sessions;
pub use settings::DeskSettings;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("config server.users[{index}] ({name}): {message}")]
    User {
        index: usize,
        name: String,
        message: String,
    },
    #[error("config server.tokens: {0}")]
    Token(String),
    #[error("config server.sso_header {header:?} is not a header name: {message}")]
    SsoHeader { header: String, message: String },
}

/// A configured desk user.
#[derive(Debug, Clone)]
pub struct DeskUser {
    pub name: String,
    pub role: Role,
    /// `None`: the user signs on only through the reverse proxy.
    pub password_hash: Option<String>,
}

/// An API token and its desk role (`None` for roles the desk does not know, e.g. `erp`).
#[derive(Debug, Clone)]
pub struct DeskToken {
    pub token: EndpointToken,
    pub role: Option<Role>,
}

/// What the desk's handlers share.
pub struct DeskState {
    pub store: SharedStore,
    pub users: Vec<DeskUser>,
    pub tokens: Vec<DeskToken>,
    pub sessions: Sessions,
    pub limiter: limiter::LoginLimiter,
    pub sso_header: Option<header::HeaderName>,
    /// The peers whose `sso_header` is believed.
    pub sso_trusted_proxies: Vec<ipnet::IpNet>,
    pub cookie_secure: bool,
    pub dispute_rules: DisputeRules,
    /// `[ar]` and `[collectors]`: the collections pages and API.
    pub ar: crate::ar::ArSettings,
    /// Serialises actions in this process, so the stale-page check and the change it
    /// guards cannot interleave with another action on the same flag.
    pub action_lock: tokio::sync::Mutex<()>,
    /// `[desk]`: the SAP link template, the waiver limit.
    pub settings: DeskSettings,
}

impl DeskState {
    /// Users and tokens from `[server]` (token secrets are read now, so a missing one stops
    /// the start rather than the first request).
    pub fn from_config(
        config: impl Into<ServiceSettings>,
        store: SharedStore,
    ) -> Result<DeskState, DeskError> {
        let config = config.into();
        let mut users = Vec::new();
        for (index, u) in config.server.users.iter().enumerate() {
            let fail = |message: String| DeskError::User {
                index,
                name: u.name.clone(),
                message,
            };
            let role = Role::parse(&u.role).ok_or_else(|| {
                fail(format!(
                    "role {:?} is not one of viewer, collector, mdm, approver, admin",
                    u.role
                ))
            })?;
            let hash = u.password_hash.trim();
            let password_hash = if hash.is_empty() {
                None
            } else {
                argon2::password_hash::PasswordHash::new(hash).map_err(|e| {
                    fail(format!(
                        "password_hash is not a PHC string from `erpsync users hash-password`: {e}"
                    ))
                })?;
                Some(hash.to_string())
            };
            users.push(DeskUser {
                name: u.name.clone(),
                role,
                password_hash,
            });
        }
        let tokens = resolve_tokens(config.clone(), &|k| std::env::var(k).ok())
            .map_err(|e| DeskError::Token(e.to_string()))?
            .into_iter()
            .map(|token| DeskToken {
                role: Role::parse(&token.role),
                token,
            })
            .collect();
        let sso_header = match &config.server.sso_header {
            Some(h) => Some(header::HeaderName::try_from(h.as_str()).map_err(|e| {
                DeskError::SsoHeader {
                    header: h.clone(),
                    message: e.to_string(),
                }
            })?),
            None => None,
        };
        Ok(DeskState {
            store: store.clone(),
            users,
            tokens,
            sessions: Sessions::new(
                store.clone(),
                config.server.session_lifetime,
                config.server.session_idle,
            ),
            limiter: limiter::LoginLimiter::default(),
            sso_header,
            sso_trusted_proxies: config.server.sso_trusted_proxies.clone(),
            cookie_secure: config.server.cookie_secure,
            dispute_rules: config.push.dispute_rules.clone(),
            ar: config.ar.clone(),
            action_lock: tokio::sync::Mutex::new(()),
            settings: config.desk.clone(),
        })
    }

    pub fn user(&self, name: &str) -> Option<&DeskUser> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Who sent these headers: a bearer token first, then the session cookie, then the
    /// reverse proxy's header (which [`sso_gate`] removed unless a trusted proxy sent it).
    /// A session is only as good as its user's entry in `[[server.users]]`: a user removed
    /// from the configuration is signed out, and a changed role applies at once.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Auth {
        if let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Auth::Invalid;
            }
            let Some(t) = self
                .tokens
                .iter()
                .find(|t| auth::same(t.token.secret.expose_secret(), rest.trim()))
            else {
                return Auth::Invalid;
            };
            return match t.role {
                Some(role) => Auth::Ok(Principal {
                    name: t.token.name.clone(),
                    role,
                    via: Via::Token,
                }),
                None => Auth::NoDeskRole(t.token.name.clone()),
            };
        }
        let proxy_user = self.sso_header.as_ref().and_then(|h| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        });
        let token = headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| auth::cookie(c, auth::SESSION_COOKIE));
        let session = match token {
            Some(t) => match self.sessions.get(t).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "review desk: cannot read the session");
                    return Auth::Unavailable;
                }
            },
            None => None,
        };
        let session = session.and_then(|p| {
            let role = self.user(&p.name)?.role;
            Some(Principal { role, ..p })
        });
        if let Some(p) = session {
            // Behind the proxy, a session belongs to the user the proxy names now.
            if proxy_user.as_deref().is_none_or(|u| u == p.name) {
                return Auth::Ok(p);
            }
        }
        if let Some(name) = proxy_user {
            return match self.user(&name) {
                Some(u) => Auth::Ok(Principal {
                    name: u.name.clone(),
                    role: u.role,
                    via: Via::Proxy,
                }),
                None => Auth::Invalid,
            };
        }
        Auth::Missing
    }
}

pub enum Auth {
    Missing,
    Invalid,
    /// A valid token whose role is not a desk role.
    NoDeskRole(String),
    Ok(Principal),
    /// The store could not be asked about the session.
    Unavailable,
}

/// Removes the SSO header from requests that did not come from a trusted proxy, so that
/// nothing after this can believe it. Such a header is logged: either the proxy's address
/// is missing from `sso_trusted_proxies`, or someone bypassed the proxy.
pub async fn sso_gate(
    axum::extract::State(desk): axum::extract::State<Arc<DeskState>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Some(h) = &desk.sso_header {
        if request.headers().contains_key(h) {
            let peer = client_addr(request.extensions());
            let trusted = peer.is_some_and(|p| {
                let ip = p.ip().to_canonical();
                desk.sso_trusted_proxies.iter().any(|n| n.contains(&ip))
            });
            if !trusted {
                tracing::warn!(
                    peer = ?peer.map(|p| p.ip()),
                    header = %h,
                    "review desk: single sign-on header from an address not in \
                     server.sso_trusted_proxies: ignored"
                );
                request.headers_mut().remove(h);
            }
        }
    }
    next.run(request).await
}

/// The client's address, when the server was started with connection info.
pub fn client_addr(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The version a page or API client saw: a later change of the flag changes it (every
/// change stamps `updated_at`, to the microsecond).
pub fn version_of(d: &Discrepancy) -> String {
    d.updated_at.timestamp_micros().to_string()
}

/// `/api/v1/…`: every JSON endpoint and the description of them all; errors are JSON.
fn json_api() -> Router<Arc<DeskState>> {
    Router::new()
        .route("/api/v1/openapi.json", axum::routing::get(openapi::serve))
        .merge(api::routes())
        .merge(collect_api::routes())
        .merge(ar_api::routes())
        .layer(axum::middleware::from_fn(json_errors::json_errors))
}

/// `/api/v1/…`, `/api/v1/openapi.json`, and the pages at `/`.
/// Every response carries the browser hardening headers; the SSO header counts only from
/// trusted proxies.
pub fn router(state: Arc<DeskState>) -> Router {
    json_api()
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            sso_gate,
        ))
        .layer(axum::middleware::from_fn(crate::service::headers::harden))
        .with_state(state)
}
