//! What SAP's front end does to every request before a service sees it, and the shapes of
//! its refusals: Basic and OAuth bearer logon, the `sap-client` check, CSRF tokens bound to
//! the cookie session, injected faults, SAP error bodies (Gateway JSON and SOAP faults) and
//! ETag preconditions.
//!
//! Every handler builds on this module; it imports no handler, so the checks are the same
//! whichever service a request reaches.

use super::faults::{FaultKind, TIMEOUT_HOLD};
use super::state::{lock, State};
use crate::erp::soap::dispute_case::{self as dc, FaultCode, SoapVersion};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Utc;
use std::time::{Duration, Instant};

/// SAP system ID used in cookie names and the auth realm.
const SID: &str = "S4H";
/// Where S/4HANA serves OData V2 services.
pub(crate) const ODATA_PREFIX: &str = "/sap/opu/odata/sap/";
/// Where S/4HANA serves OData V4 services; the mock serves the same services there.
pub(crate) const ODATA4_PREFIX: &str = "/sap/opu/odata4/sap/";

// ---------------------------------------------------------------------------------------
// Logon

/// Basic auth with the mock's user (any case, as SAP user names are) and password.
pub(crate) fn basic_auth_ok(st: &State, headers: &HeaderMap) -> bool {
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(b64) = raw
        .strip_prefix("Basic ")
        .or_else(|| raw.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let Ok(pair) = String::from_utf8(bytes) else {
        return false;
    };
    pair.split_once(':')
        .is_some_and(|(u, p)| u.eq_ignore_ascii_case(&st.config.user) && p == st.config.password)
}

/// A bearer token the OAuth endpoint issued and that has not expired.
pub(crate) fn bearer_ok(st: &State, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    lock(&st.oauth.tokens)
        .get(token.trim())
        .is_some_and(|expires| Instant::now() < *expires)
}

pub(crate) fn unauthorized(st: &State) -> Response {
    let realm = format!(
        "Basic realm=\"SAP NetWeaver Application Server [{SID}/{}]\"",
        st.config.sap_client
    );
    let mut r = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><head><title>Logon Error Message</title></head><body>Logon failed</body></html>",
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&realm) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The client from `sap-client` (query first, then header) must be the mock's; the
/// refusal when it is not.
pub(crate) fn check_client(
    st: &State,
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Option<Response> {
    let client = pairs
        .iter()
        .find(|(k, _)| k == "sap-client")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            headers
                .get("sap-client")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    match client {
        Some(c) if c == st.config.sap_client => None,
        Some(c) => Some(sap_error(
            StatusCode::UNAUTHORIZED,
            "/IWFND/CM_CONSUMER/101",
            &format!("Client {c} is not available in this system"),
        )),
        None => Some(sap_error(
            StatusCode::BAD_REQUEST,
            "/IWFND/CM_CONSUMER/100",
            "Query parameter sap-client is required",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// CSRF

fn session_cookie(st: &State) -> String {
    format!("SAP_SESSIONID_{SID}_{}", st.config.sap_client)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn is_write(m: &Method) -> bool {
    matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "MERGE" | "DELETE")
}

/// A `GET` with `x-csrf-token: fetch` gets its session's token, and a new session (with
/// SAP's cookies) when it has none. Returns the headers to add to the answer.
pub(crate) fn csrf_fetch(
    st: &State,
    method: &Method,
    headers: &HeaderMap,
) -> Vec<(HeaderName, String)> {
    let wants_token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("fetch"));
    if method != Method::GET || !wants_token {
        return Vec::new();
    }
    let session_cookie = session_cookie(st);
    let mut extra = Vec::new();
    let existing = cookie(headers, &session_cookie);
    let mut sessions = lock(&st.sessions);
    let token = match existing.and_then(|s| sessions.get(&s).cloned()) {
        Some(token) => token,
        None => {
            let sid = uuid::Uuid::new_v4().simple().to_string();
            let token =
                base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes());
            sessions.insert(sid.clone(), token.clone());
            extra.push((
                header::SET_COOKIE,
                format!("{session_cookie}={sid}; path=/; HttpOnly"),
            ));
            extra.push((
                header::SET_COOKIE,
                format!(
                    "sap-XSRF_{SID}_{}={}{}; path=/sap/opu/odata/; HttpOnly",
                    st.config.sap_client,
                    urlencode(&token),
                    Utc::now().format("%Y%m%d%H%M%S")
                ),
            ));
            extra.push((
                header::SET_COOKIE,
                format!(
                    "sap-usercontext=sap-client={}; path=/",
                    st.config.sap_client
                ),
            ));
            token
        }
    };
    drop(sessions);
    extra.push((HeaderName::from_static("x-csrf-token"), token));
    extra
}

/// A write must present its session's token; a `csrf` fault on `target` ends the session
/// first, as an expired token would. The refusal, if any.
pub(crate) fn csrf_check(
    st: &State,
    method: &Method,
    headers: &HeaderMap,
    target: &str,
) -> Option<Response> {
    if !is_write(method) {
        return None;
    }
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let sid = cookie(headers, &session_cookie(st));
    let valid = match (&sid, sent) {
        (Some(sid), Some(sent)) => lock(&st.sessions).get(sid).is_some_and(|t| t == sent),
        _ => false,
    };
    if !valid {
        return Some(csrf_required());
    }
    if lock(&st.faults).take(target, true).is_some() {
        if let Some(sid) = sid {
            lock(&st.sessions).remove(&sid);
        }
        return Some(csrf_required());
    }
    None
}

fn csrf_required() -> Response {
    (
        StatusCode::FORBIDDEN,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (HeaderName::from_static("x-csrf-token"), "Required"),
        ],
        "CSRF token validation failed",
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Faults

/// Waits `d`, or less if the server is shutting down.
pub(crate) async fn hold(st: &State, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = st.cancel.cancelled() => {}
    }
}

/// What a non-CSRF fault does to a request.
pub(crate) enum FaultEffect {
    None,
    Status(u16),
    Malformed,
    /// Half the body, then the connection closes.
    Dropped,
}

/// Applies delays here; returns what is left for the caller to do.
pub(crate) async fn apply_fault(st: &State, target: &str) -> FaultEffect {
    let kind = lock(&st.faults).take(target, false);
    match kind {
        Some(FaultKind::Status(c)) => FaultEffect::Status(c),
        Some(FaultKind::Timeout) => {
            hold(st, TIMEOUT_HOLD).await;
            FaultEffect::None
        }
        Some(FaultKind::Delay(d)) => {
            hold(st, d).await;
            FaultEffect::None
        }
        Some(FaultKind::Malformed) => FaultEffect::Malformed,
        Some(FaultKind::Drop) => FaultEffect::Dropped,
        Some(FaultKind::CsrfExpire) | None => FaultEffect::None,
    }
}

fn fault_status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An injected status fault on an OData target, as a Gateway error.
pub(crate) fn injected_fault(code: u16, target: &str) -> Response {
    let r = sap_error(
        fault_status(code),
        "/IWBEP/CM_MGW_RT/004",
        &format!("Injected fault: HTTP {code} on {target}"),
    );
    with_retry_after(r, code)
}

/// An injected status fault on a SOAP service, as a SOAP fault.
pub(crate) fn injected_soap_fault(code: u16, version: SoapVersion) -> Response {
    let r = soap_fault(
        fault_status(code),
        version,
        FaultCode::Receiver,
        &format!("Injected fault: HTTP {code}"),
    );
    with_retry_after(r, code)
}

pub(crate) fn with_retry_after(mut r: Response, status: u16) -> Response {
    if status == 429 || status == 503 {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// Cuts the body in half: what a client sees when a proxy drops the connection mid-page.
pub(crate) async fn malformed(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    Response::from_parts(parts, axum::body::Body::from(bytes.slice(..cut)))
}

// ---------------------------------------------------------------------------------------
// Answers

/// An error in SAP Gateway's V2 JSON shape.
pub(crate) fn sap_error(status: StatusCode, code: &str, message: &str) -> Response {
    let tid = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let body = serde_json::json!({
        "error": {
            "code": code,
            "message": { "lang": "en", "value": message },
            "innererror": {
                "application": { "component_id": "", "service_namespace": "/SAP/", "service_id": "", "service_version": "0001" },
                "transactionid": tid,
                "timestamp": Utc::now().format("%Y%m%d%H%M%S").to_string(),
                "errordetails": [
                    { "code": code, "message": message, "propertyref": "", "severity": "error", "target": "" }
                ]
            }
        }
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn bad_request(msg: &str) -> Response {
    sap_error(StatusCode::BAD_REQUEST, "/IWBEP/CM_MGW_RT/022", msg)
}

pub(crate) fn not_found(msg: &str) -> Response {
    sap_error(StatusCode::NOT_FOUND, "/IWBEP/CM_MGW_RT/020", msg)
}

pub(crate) fn method_not_allowed() -> Response {
    sap_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "/IWBEP/CM_MGW_RT/021",
        "The operation is not supported for this resource",
    )
}

/// A V2 JSON answer.
pub(crate) fn json_ok(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (HeaderName::from_static("dataserviceversion"), "2.0"),
        ],
        body,
    )
        .into_response()
}

/// A SOAP message in `version`'s content type (`action` only matters to SOAP 1.2).
pub(crate) fn xml_response(
    status: StatusCode,
    version: SoapVersion,
    action: &str,
    body: String,
) -> Response {
    let mut r = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&version.content_type(action)) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn soap_fault(
    status: StatusCode,
    version: SoapVersion,
    code: FaultCode,
    text: &str,
) -> Response {
    xml_response(status, version, "", dc::build_fault(version, code, text))
}

/// Adds the configured `sap-message` to a successful answer.
pub(crate) fn with_sap_message(st: &State, mut resp: Response) -> Response {
    if resp.status().is_success() {
        if let Some(m) = lock(&st.sap_message).clone() {
            if let Ok(v) = HeaderValue::from_str(&m) {
                resp.headers_mut().insert("sap-message", v);
            }
        }
    }
    resp
}

// ---------------------------------------------------------------------------------------
// ETags

/// A weak ETag derived from content (FNV-1a over the parts, NUL between them), so equal
/// content gives an equal tag.
pub(crate) fn weak_etag(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let sep: &[u8] = if i == 0 { &[] } else { &[0] };
        for &b in sep.iter().chain(part.as_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("W/\"'{h:016X}'\"")
}

/// A change must send `If-Match` (428 without), naming the entity's current tag or `*`
/// (412 otherwise). The refusal, if any.
pub(crate) fn check_if_match(headers: &HeaderMap, current: &str) -> Option<Response> {
    let Some(if_match) = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return Some(sap_error(
            StatusCode::PRECONDITION_REQUIRED,
            "/IWBEP/CM_MGW_RT/101",
            "Precondition required: send If-Match with the entity's ETag",
        ));
    };
    if if_match != "*" && if_match != current {
        return Some(sap_error(
            StatusCode::PRECONDITION_FAILED,
            "/IWBEP/CM_MGW_RT/102",
            "Precondition failed: the entity was changed by someone else",
        ));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Requests

/// The decoded query pairs of a request.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Decodes `%XX` escapes in a path; anything else stays as it is.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("A_Customer(%270001%27)"),
            "A_Customer('0001')"
        );
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn weak_etags_follow_content() {
        assert_eq!(weak_etag(&["a", "b"]), weak_etag(&["a", "b"]));
        assert_ne!(weak_etag(&["a", "b"]), weak_etag(&["ab", ""]));
        assert!(weak_etag(&["a"]).starts_with("W/\"'"));
    }
}
