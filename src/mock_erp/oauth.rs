//! An OAuth 2.0 token endpoint (client credentials) at SAP NetWeaver's path: the mock's user
//! and password are the client ID and secret; tokens it hands out are then accepted as
//! bearer tokens until they expire (the check is the Gateway's, in `gateway`).

use super::gateway::basic_auth_ok;
use super::state::{lock, State};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where SAP NetWeaver AS ABAP serves its OAuth 2.0 token endpoint.
pub(crate) const TOKEN_PATH: &str = "/sap/bc/sec/oauth2/token";

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "error": error }).to_string(),
    )
        .into_response()
}

pub(crate) async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !basic_auth_ok(&st, &headers) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let lifetime = st.oauth.lifetime_s.load(Ordering::Relaxed);
    let token =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    lock(&st.oauth.tokens).insert(
        token.clone(),
        Instant::now() + Duration::from_secs(lifetime),
    );
    st.oauth.issued.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": form.get("scope").cloned().unwrap_or_default(),
        })
        .to_string(),
    )
        .into_response()
}
