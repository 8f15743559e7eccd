//! The HTTP side: SAP Gateway behaviour (Basic auth, `sap-client`, CSRF tokens bound to a
//! session cookie, ETags, SAP error bodies) in front of the data set.

use super::data::{Dataset, TextRec};
use super::faults::{FaultKind, Faults, TIMEOUT_HOLD};
use super::odata::{is_key_order, json_str, parse_query, render_atom_entry, render_entity, run};
use super::sets::{edmx, quote, DsTable, Service, Set, Table, TextTable, Val};
use super::{MockErpConfig, WriteRecord};
use crate::erp::soap::dispute_case::{self as dc, DisputeCase, DisputedItem};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use chrono::Utc;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// SAP system ID used in cookie names and the auth realm.
const SID: &str = "S4H";
const ODATA_PREFIX: &str = "/sap/opu/odata/sap/";
/// Where S/4HANA serves OData V4 services; the mock serves the same services there.
const ODATA4_PREFIX: &str = "/sap/opu/odata4/sap/";

pub(crate) struct CaseState {
    pub case: DisputeCase,
    pub notes: Vec<String>,
}

pub(crate) struct State {
    pub config: MockErpConfig,
    pub ds: Arc<Dataset>,
    pub faults: Mutex<Faults>,
    /// Session id → CSRF token.
    sessions: Mutex<HashMap<String, String>>,
    /// Canonical key predicate → text, per text set.
    pub(crate) customer_texts: Mutex<BTreeMap<String, TextRec>>,
    company_texts: Mutex<BTreeMap<String, TextRec>>,
    pub cases: Mutex<BTreeMap<String, CaseState>>,
    pub writes: Mutex<Vec<WriteRecord>>,
    pub cancel: CancellationToken,
    change_seq: AtomicU64,
    /// Answer collections in Atom whatever `$format` says, like a Gateway behind a proxy
    /// that drops the query option.
    pub atom_only: AtomicBool,
    /// V4: send decimals as JSON numbers even when `IEEE754Compatible=true` is asked for.
    pub v4_numbers: AtomicBool,
    /// Answer a collection in one piece (bounded only by `$top`), without next links, like a
    /// server that leaves paging to the client.
    pub no_server_paging: AtomicBool,
    pub oauth: super::oauth::OAuthState,
    /// Sent as `sap-message` with every successful OData answer, when set.
    pub sap_message: Mutex<Option<String>>,
    pub delta: super::delta::DeltaState,
    /// `$inlinecount` results by set, query options and change-tracking version: a client
    /// paging through a million rows asks for the same count on every page, and counting
    /// anew each time would make the mock, not the client, the cost of a large pull.
    counts: Mutex<HashMap<String, usize>>,
}

/// Locks a mutex; a panicked holder cannot leave these maps half-written in a way that
/// matters to a test double, so poisoning is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn text_key(t: &TextRec) -> String {
    match &t.company_code {
        Some(cc) => format!(
            "Customer={},CompanyCode={},Language={},LongTextID={}",
            quote(&t.customer),
            quote(cc),
            quote(&t.language),
            quote(&t.long_text_id)
        ),
        None => format!(
            "Customer={},Language={},LongTextID={}",
            quote(&t.customer),
            quote(&t.language),
            quote(&t.long_text_id)
        ),
    }
}

/// A weak ETag derived from the content, so equal content gives an equal tag.
fn text_etag(t: &TextRec) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text_key(t).bytes().chain([0]).chain(t.long_text.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("W/\"'{h:016X}'\"")
}

impl State {
    pub fn new(config: MockErpConfig, ds: Arc<Dataset>, cancel: CancellationToken) -> State {
        let texts = |rows: &[TextRec]| -> BTreeMap<String, TextRec> {
            rows.iter().map(|t| (text_key(t), t.clone())).collect()
        };
        let cases = ds
            .dispute_cases
            .iter()
            .map(|c| {
                let item = &ds.open_items[c.item];
                let name = super::data::DISPUTE_STATUSES
                    .iter()
                    .find(|(k, _)| *k == c.status)
                    .map(|(_, n)| *n)
                    .unwrap_or_default();
                let case = DisputeCase {
                    case_id: c.case_id.clone(),
                    case_guid: c.case_guid.clone(),
                    case_type: "F_DM".into(),
                    change_state_id: c.change_state_id.clone(),
                    status_code: c.status.into(),
                    status_name: name.into(),
                    closed: super::data::dispute_status_is_closed(c.status),
                    customer_id: ds.customers[c.customer as usize].customer.clone(),
                    company_code: item.company_code.into(),
                    disputed_amount: c.amount,
                    currency: c.currency.into(),
                    title: c.title.clone(),
                    reason_code: c.reason_code.into(),
                    items: vec![DisputedItem {
                        company_code: item.company_code.into(),
                        fiscal_year: item.fiscal_year.to_string(),
                        accounting_document: format!("{:010}", item.document),
                        accounting_document_item: format!("{:03}", item.item),
                    }],
                };
                (
                    c.case_id.clone(),
                    CaseState {
                        case,
                        notes: Vec::new(),
                    },
                )
            })
            .collect();
        State {
            faults: Mutex::new(Faults::new(&config.faults)),
            customer_texts: Mutex::new(texts(&ds.customer_texts)),
            company_texts: Mutex::new(texts(&ds.company_texts)),
            config,
            ds,
            sessions: Mutex::new(HashMap::new()),
            cases: Mutex::new(cases),
            writes: Mutex::new(Vec::new()),
            cancel,
            change_seq: AtomicU64::new(0),
            atom_only: AtomicBool::new(false),
            v4_numbers: AtomicBool::new(false),
            no_server_paging: AtomicBool::new(false),
            oauth: Default::default(),
            sap_message: Mutex::new(None),
            delta: Default::default(),
            counts: Mutex::new(HashMap::new()),
        }
    }

    pub fn next_change_state_id(&self) -> String {
        let n = self.change_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}.{n:07}", Utc::now().format("%Y%m%d%H%M%S"))
    }

    pub fn record(
        &self,
        entity_set: &str,
        key: &str,
        method: &str,
        body: serde_json::Value,
        headers: &HeaderMap,
    ) {
        let request_id = ["repeatability-request-id", "x-request-id"]
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
            .map(str::to_string);
        lock(&self.writes).push(WriteRecord {
            entity_set: entity_set.to_string(),
            key: key.to_string(),
            method: method.to_string(),
            body,
            received_at: Utc::now(),
            request_id,
        });
    }

    fn texts(&self, set: Set) -> &Mutex<BTreeMap<String, TextRec>> {
        if set == Set::CustomerCompanyText {
            &self.company_texts
        } else {
            &self.customer_texts
        }
    }
}

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/mock/writes", get(writes_handler))
        .route(super::oauth::TOKEN_PATH, post(super::oauth::token))
        .route(dc::SERVICE_PATH, post(super::soap::handle))
        .route(
            "/sap/opu/odata/sap/API_BUSINESS_PARTNER/$batch",
            post(super::batch::handle),
        )
        .route(
            crate::erp::soap::journal_entry::SERVICE_PATH,
            post(super::journal_entry::handle),
        )
        .route("/data", get(super::dynamics::handle))
        .route("/data/", get(super::dynamics::handle))
        .route("/data/{*rest}", get(super::dynamics::handle))
        .fallback(odata_handler)
        .with_state(state)
}

async fn writes_handler(AxState(st): AxState<Arc<State>>) -> Response {
    let writes = lock(&st.writes).clone();
    axum::Json(writes).into_response()
}

// ---------------------------------------------------------------------------------------
// Shared checks

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

pub(crate) fn with_retry_after(mut r: Response, status: u16) -> Response {
    if status == 429 || status == 503 {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

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

fn bad_request(msg: &str) -> Response {
    sap_error(StatusCode::BAD_REQUEST, "/IWBEP/CM_MGW_RT/022", msg)
}

fn not_found(msg: &str) -> Response {
    sap_error(StatusCode::NOT_FOUND, "/IWBEP/CM_MGW_RT/020", msg)
}

fn json_ok(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::HeaderName::from_static("dataserviceversion"), "2.0"),
        ],
        body,
    )
        .into_response()
}

fn percent_decode(s: &str) -> String {
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

fn is_write(m: &Method) -> bool {
    matches!(m.as_str(), "POST" | "PUT" | "PATCH" | "MERGE" | "DELETE")
}

/// Parses `'A'` or `Name='A',Other='B'` into the set's key values, in key order.
fn parse_key(set: Set, raw: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut parts: Vec<(Option<String>, String)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let mut name = None;
        if chars[i] != '\'' {
            let start = i;
            while i < chars.len() && chars[i] != '=' {
                i += 1;
            }
            name = Some(
                chars[start..i]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string(),
            );
            i += 1;
        }
        if chars.get(i) != Some(&'\'') {
            return Err(format!("invalid key predicate ({raw})"));
        }
        i += 1;
        let mut v = String::new();
        loop {
            match chars.get(i) {
                None => return Err(format!("invalid key predicate ({raw})")),
                Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                    v.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    v.push(*c);
                    i += 1;
                }
            }
        }
        parts.push((name, v));
        match chars.get(i) {
            Some(',') => i += 1,
            None => {}
            Some(_) => return Err(format!("invalid key predicate ({raw})")),
        }
    }
    let keys: Vec<&'static str> = set.keys().map(|p| p.name).collect();
    if parts.len() == 1 && parts[0].0.is_none() && keys.len() == 1 {
        return Ok(vec![parts[0].1.clone()]);
    }
    if parts.len() != keys.len() {
        return Err(format!("key of {} needs {}", set.name(), keys.join(", ")));
    }
    keys.iter()
        .map(|k| {
            parts
                .iter()
                .find(|(n, _)| n.as_deref() == Some(k))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("key property {k} is missing"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// OData

struct Ctx<'a> {
    st: &'a State,
    service: Service,
    service_url: String,
    headers: &'a HeaderMap,
    pairs: Vec<(String, String)>,
    /// Reached under the V4 prefix: V4 JSON and `$metadata`.
    v4: bool,
}

pub(crate) async fn odata_handler(
    AxState(st): AxState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rest, v4) = match (
        uri.path().strip_prefix(ODATA_PREFIX),
        uri.path().strip_prefix(ODATA4_PREFIX),
    ) {
        (Some(r), _) => (r, false),
        (None, Some(r)) => (r, true),
        (None, None) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    if !basic_auth_ok(&st, &headers) && !super::oauth::bearer_ok(&st, &headers) {
        return unauthorized(&st);
    }
    let pairs: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
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
        Some(c) if c == st.config.sap_client => {}
        Some(c) => {
            return sap_error(
                StatusCode::UNAUTHORIZED,
                "/IWFND/CM_CONSUMER/101",
                &format!("Client {c} is not available in this system"),
            )
        }
        None => {
            return sap_error(
                StatusCode::BAD_REQUEST,
                "/IWFND/CM_CONSUMER/100",
                "Query parameter sap-client is required",
            )
        }
    }
    let (service_name, resource) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(service) = Service::from_name(service_name) else {
        return sap_error(
            StatusCode::NOT_FOUND,
            "/IWFND/MED/170",
            &format!("No service found for namespace '', name '{service_name}', version '0001'"),
        );
    };
    let resource = percent_decode(resource);
    // SAP accepts MERGE/PUT/DELETE tunnelled through POST.
    let method = match headers
        .get("x-http-method")
        .and_then(|v| v.to_str().ok())
        .and_then(|m| Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).ok())
    {
        Some(m) if method == Method::POST => m,
        _ => method,
    };
    let target = resource
        .split('(')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();

    let effect = apply_fault(&st, &target).await;
    if let FaultEffect::Status(c) = effect {
        let status = StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let r = sap_error(
            status,
            "/IWBEP/CM_MGW_RT/004",
            &format!("Injected fault: HTTP {c} on {target}"),
        );
        return with_retry_after(r, c);
    }

    // CSRF: a fetch hands out the session's token; writes must present it.
    let session_cookie = format!("SAP_SESSIONID_{SID}_{}", st.config.sap_client);
    let mut extra_headers: Vec<(header::HeaderName, String)> = Vec::new();
    let wants_token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("fetch"));
    if method == Method::GET && wants_token {
        let existing = cookie(&headers, &session_cookie);
        let mut sessions = lock(&st.sessions);
        let (_sid, token) = match existing.and_then(|s| sessions.get(&s).map(|t| (s, t.clone()))) {
            Some(found) => found,
            None => {
                let sid = uuid::Uuid::new_v4().simple().to_string();
                let token = base64::engine::general_purpose::STANDARD
                    .encode(uuid::Uuid::new_v4().as_bytes());
                sessions.insert(sid.clone(), token.clone());
                extra_headers.push((
                    header::SET_COOKIE,
                    format!("{session_cookie}={sid}; path=/; HttpOnly"),
                ));
                extra_headers.push((
                    header::SET_COOKIE,
                    format!(
                        "sap-XSRF_{SID}_{}={}{}; path=/sap/opu/odata/; HttpOnly",
                        st.config.sap_client,
                        urlencode(&token),
                        Utc::now().format("%Y%m%d%H%M%S")
                    ),
                ));
                extra_headers.push((
                    header::SET_COOKIE,
                    format!(
                        "sap-usercontext=sap-client={}; path=/",
                        st.config.sap_client
                    ),
                ));
                (sid, token)
            }
        };
        drop(sessions);
        extra_headers.push((header::HeaderName::from_static("x-csrf-token"), token));
    }
    if is_write(&method) {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        let sid = cookie(&headers, &session_cookie);
        let valid = match (&sid, sent) {
            (Some(sid), Some(sent)) => lock(&st.sessions).get(sid).is_some_and(|t| t == sent),
            _ => false,
        };
        if !valid {
            return csrf_required();
        }
        if lock(&st.faults).take(&target, true).is_some() {
            if let Some(sid) = sid {
                lock(&st.sessions).remove(&sid);
            }
            return csrf_required();
        }
    }

    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let ctx = Ctx {
        st: &st,
        service,
        service_url: format!(
            "http://{host}{}{}",
            if v4 { ODATA4_PREFIX } else { ODATA_PREFIX },
            service.name()
        ),
        headers: &headers,
        pairs,
        v4,
    };
    let mut resp = dispatch(&ctx, &method, &resource, &body);
    if matches!(effect, FaultEffect::Malformed) && resp.status() == StatusCode::OK {
        resp = malformed(resp).await;
    }
    if matches!(effect, FaultEffect::Dropped) && resp.status() == StatusCode::OK {
        resp = super::faults::dropped(resp).await;
    }
    for (k, v) in extra_headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(k, v);
        }
    }
    if resp.status().is_success() {
        if let Some(m) = lock(&st.sap_message).clone() {
            if let Ok(v) = HeaderValue::from_str(&m) {
                resp.headers_mut().insert("sap-message", v);
            }
        }
    }
    resp
}

/// Escapes a query-string part the way SAP writes `__next`: `$`, quotes and parentheses
/// stay readable, spaces become `%20`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$'(),:*".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn csrf_required() -> Response {
    (
        StatusCode::FORBIDDEN,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::HeaderName::from_static("x-csrf-token"), "Required"),
        ],
        "CSRF token validation failed",
    )
        .into_response()
}

/// Cuts the body in half: what a client sees when a proxy drops the connection mid-page.
async fn malformed(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = bytes.len() / 2;
    Response::from_parts(parts, axum::body::Body::from(bytes.slice(..cut)))
}

fn dispatch(ctx: &Ctx<'_>, method: &Method, resource: &str, body: &[u8]) -> Response {
    let resource = resource.trim_end_matches('/');
    if resource.is_empty() {
        if method != Method::GET {
            return method_not_allowed();
        }
        if ctx.v4 {
            return super::v4::json_ok(super::v4::service_document(ctx.service));
        }
        let mut out = String::from("{\"d\":{\"EntitySets\":[");
        for (i, s) in ctx.service.sets().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(&mut out, s.name());
        }
        out.push_str("]}}");
        return json_ok(StatusCode::OK, out);
    }
    if resource == "$metadata" {
        if method != Method::GET {
            return method_not_allowed();
        }
        let doc = if ctx.v4 {
            super::v4::edmx(ctx.service)
        } else {
            edmx(ctx.service)
        };
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml")],
            doc,
        )
            .into_response();
    }
    let (name, key) = match resource.split_once('(') {
        Some((n, k)) => match k.strip_suffix(')') {
            Some(k) => (n, Some(k)),
            None => return bad_request(&format!("Invalid resource path {resource}")),
        },
        None => (resource, None),
    };
    let Some(set) = ctx
        .service
        .sets()
        .iter()
        .copied()
        .find(|s| s.name() == name)
    else {
        return not_found(&format!("Resource not found for segment '{name}'"));
    };
    let key = match key.map(|k| parse_key(set, k)).transpose() {
        Ok(k) => k,
        Err(e) => return bad_request(&e),
    };
    match (method.as_str(), key) {
        ("GET", None) => collection(ctx, set),
        ("GET", Some(k)) => single(ctx, set, &k),
        ("POST", None) if set.is_text() => create_text(ctx, set, body),
        ("PUT" | "PATCH" | "MERGE" | "DELETE", Some(k)) if set.is_text() => {
            change_text(ctx, set, &k, method.as_str(), body)
        }
        _ => method_not_allowed(),
    }
}

fn method_not_allowed() -> Response {
    sap_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "/IWBEP/CM_MGW_RT/021",
        "The operation is not supported for this resource",
    )
}

/// Runs `f` against the set's rows: live texts for the text sets, the data set otherwise.
fn with_table<R>(ctx: &Ctx<'_>, set: Set, f: impl FnOnce(&dyn Table) -> R) -> R {
    if set.is_text() {
        let rows: Vec<TextRec> = lock(ctx.st.texts(set)).values().cloned().collect();
        f(&TextTable { rows: &rows })
    } else {
        let cleared = ctx.st.delta.cleared();
        f(&DsTable {
            ds: &ctx.st.ds,
            set,
            cleared: Some(&cleared),
        })
    }
}

fn etag_of(set: Set, table: &dyn Table, row: usize) -> Option<String> {
    if !set.is_text() {
        return None;
    }
    let s = |p: &str| match table.value(row, p) {
        Val::Str(s) => s.into_owned(),
        _ => String::new(),
    };
    let t = TextRec {
        customer: s("Customer"),
        company_code: (set == Set::CustomerCompanyText).then(|| s("CompanyCode")),
        language: s("Language"),
        long_text_id: s("LongTextID"),
        long_text: s("LongText"),
    };
    Some(text_etag(&t))
}

fn collection(ctx: &Ctx<'_>, set: Set) -> Response {
    let accept = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = ctx
        .pairs
        .iter()
        .find(|(k, _)| k == "$format")
        .map(|(_, v)| v.as_str());
    let decimals_as_strings =
        super::v4::wants_ieee754(accept, format) && !ctx.st.v4_numbers.load(Ordering::Relaxed);
    // Change tracking is offered on the open items (see `delta`).
    let tracked = set == Set::OpenItem;
    if let Some(token) = super::delta::token(&ctx.pairs).filter(|_| tracked) {
        let since = match token {
            Ok(t) => t,
            Err(e) => return bad_request(&e),
        };
        let req = super::delta::DeltaRequest {
            ds: &ctx.st.ds,
            service_url: &ctx.service_url,
            set,
            pairs: &ctx.pairs,
            since,
            v4: ctx.v4,
            decimals_as_strings,
        };
        return match super::delta::respond(&ctx.st.delta, &req) {
            Ok(body) if ctx.v4 => super::v4::json_ok(body),
            Ok(body) => json_ok(StatusCode::OK, body),
            Err(e) => bad_request(&e),
        };
    }
    let track_from = tracked
        .then(|| {
            let prefer = ctx.headers.get("prefer").and_then(|v| v.to_str().ok());
            match ctx
                .pairs
                .iter()
                .find(|(k, _)| k == super::delta::TRACK_FROM)
            {
                Some((_, v)) => v.parse().ok(),
                None => super::delta::wants_tracking(prefer).then(|| ctx.st.delta.version()),
            }
        })
        .flatten();
    let q = match parse_query(&ctx.pairs, set) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    let page_size = if ctx.st.no_server_paging.load(Ordering::Relaxed) {
        usize::MAX
    } else {
        ctx.st.config.page_size.max(1)
    };
    // The data of the other sets only changes through the delta switch.
    let count_key = (q.inlinecount && !set.is_text())
        .then(|| format!("{}|{:?}|{}", set.name(), q.carry, ctx.st.delta.version()));
    let known_count = count_key
        .as_ref()
        .and_then(|k| lock(&ctx.st.counts).get(k).copied());
    let mut q = q;
    if known_count.is_some() {
        q.inlinecount = false;
    }
    with_table(ctx, set, |table| {
        // Live text sets are small and kept in canonical-key order, not key order: sort them.
        let natural = !set.is_text() && is_key_order(set, &q.orderby);
        // Every set but the live texts is stored in key order (see `data`).
        let first_key = set
            .keys()
            .next()
            .filter(|k| !set.is_text() && k.ty == super::sets::Edm::String)
            .map(|k| k.name);
        let mut page = run(table, &q, page_size, natural, first_key);
        match (known_count, &count_key, page.count) {
            (Some(n), _, _) => page.count = Some(n),
            (None, Some(k), Some(n)) => {
                lock(&ctx.st.counts).insert(k.clone(), n);
            }
            _ => {}
        }
        let next = page.next.map(|token| {
            let mut pairs: Vec<(String, String)> = q.carry.clone();
            if let Some(t) = page.top_left {
                pairs.push(("$top".into(), t.to_string()));
            }
            if let Some(v) =
                track_from.filter(|_| !pairs.iter().any(|(k, _)| k == super::delta::TRACK_FROM))
            {
                pairs.push((super::delta::TRACK_FROM.into(), v.to_string()));
            }
            pairs.push(("$skiptoken".into(), token.to_string()));
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
                .collect();
            format!("{}/{}?{}", ctx.service_url, set.name(), query.join("&"))
        });
        let delta = track_from
            .filter(|_| next.is_none())
            .map(|v| super::delta::link(&ctx.service_url, set, &ctx.pairs, v, ctx.v4));
        if ctx.v4 {
            let parts = super::v4::PageParts {
                service_url: &ctx.service_url,
                set,
                count: page.count,
                next,
                delta,
                decimals_as_strings,
            };
            let body = super::v4::render_page(&parts, &page.rows, |out, row| {
                let etag = etag_of(set, table, row);
                super::v4::render_entity(
                    out,
                    set,
                    table,
                    row,
                    q.select.as_deref(),
                    etag.as_deref(),
                    parts.decimals_as_strings,
                );
            });
            return super::v4::json_ok(body);
        }
        if wants_atom(ctx) {
            let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            let _ = write!(
                out,
                "<feed xml:base=\"{}/\" xmlns=\"http://www.w3.org/2005/Atom\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\"><id>{}/{}</id><title type=\"text\">{}</title><updated>2026-01-01T00:00:00Z</updated><author><name/></author><link href=\"{}\" rel=\"self\" title=\"{}\"/>",
                esc(&ctx.service_url),
                esc(&ctx.service_url),
                set.name(),
                set.name(),
                set.name(),
                set.name()
            );
            if let Some(c) = page.count {
                let _ = write!(out, "<m:count>{c}</m:count>");
            }
            for &row in &page.rows {
                let etag = etag_of(set, table, row);
                render_atom_entry(
                    &mut out,
                    &ctx.service_url,
                    set,
                    table,
                    row,
                    q.select.as_deref(),
                    etag.as_deref(),
                );
            }
            if let Some(n) = next {
                let _ = write!(out, "<link href=\"{}\" rel=\"next\"/>", esc(&n));
            }
            out.push_str("</feed>");
            return (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "application/atom+xml;type=feed;charset=utf-8",
                )],
                out,
            )
                .into_response();
        }
        // About what an entity of the widest set takes, so the page is not copied as it grows.
        let mut out = String::with_capacity(256 + page.rows.len() * 1024);
        out.push_str("{\"d\":{");
        if let Some(c) = page.count {
            let _ = write!(out, "\"__count\":\"{c}\",");
        }
        out.push_str("\"results\":[");
        for (i, &row) in page.rows.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let etag = etag_of(set, table, row);
            render_entity(
                &mut out,
                &ctx.service_url,
                set,
                table,
                row,
                q.select.as_deref(),
                etag.as_deref(),
            );
        }
        out.push(']');
        if let Some(n) = next {
            out.push_str(",\"__next\":");
            json_str(&mut out, &n);
        }
        if let Some(d) = delta {
            out.push_str(",\"__delta\":");
            json_str(&mut out, &d);
        }
        out.push_str("}}");
        json_ok(StatusCode::OK, out)
    })
}

/// Atom when asked for (`$format=atom`, or `Accept: application/atom+xml` without a
/// `$format`), or always when the mock plays a Gateway that ignores `$format`.
fn wants_atom(ctx: &Ctx<'_>) -> bool {
    if ctx.st.atom_only.load(Ordering::Relaxed) {
        return true;
    }
    match ctx.pairs.iter().find(|(k, _)| k == "$format") {
        Some((_, v)) => v == "atom",
        None => ctx
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/atom+xml")),
    }
}

fn find_row(table: &dyn Table, set: Set, key: &[String]) -> Option<usize> {
    let keys: Vec<&str> = set.keys().map(|p| p.name).collect();
    (0..table.len()).find(|&r| {
        keys.iter()
            .zip(key)
            .all(|(k, v)| matches!(table.value(r, k), Val::Str(s) if s == v.as_str()))
    })
}

fn single(ctx: &Ctx<'_>, set: Set, key: &[String]) -> Response {
    let q = match parse_query(&ctx.pairs, set) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    with_table(ctx, set, |table| {
        let Some(row) = find_row(table, set, key) else {
            return not_found(&format!(
                "Resource not found for the segment '{}'",
                set.name()
            ));
        };
        let etag = etag_of(set, table, row);
        let mut out = String::from("{\"d\":");
        render_entity(
            &mut out,
            &ctx.service_url,
            set,
            table,
            row,
            q.select.as_deref(),
            etag.as_deref(),
        );
        out.push('}');
        let mut r = json_ok(StatusCode::OK, out);
        if let Some(e) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            r.headers_mut().insert(header::ETAG, e);
        }
        r
    })
}

fn key_fields(set: Set) -> Vec<&'static str> {
    set.keys().map(|p| p.name).collect()
}

fn create_text(ctx: &Ctx<'_>, set: Set, body: &[u8]) -> Response {
    let json: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("Malformed request body: {e}")),
    };
    let Some(obj) = json.as_object() else {
        return bad_request("Request body must be a JSON object");
    };
    for k in obj.keys() {
        if k != "__metadata" && set.prop(k).is_none() {
            return bad_request(&format!("Property {k} not found in {}", set.type_name()));
        }
    }
    let mut vals = HashMap::new();
    for k in key_fields(set) {
        match obj.get(k).and_then(|v| v.as_str()) {
            Some(v) if !v.is_empty() => {
                vals.insert(k, v.to_string());
            }
            _ => return bad_request(&format!("Property {k} is required")),
        }
    }
    let customer = vals["Customer"].clone();
    let ds = &ctx.st.ds;
    let Some(ci) = ds.customers.iter().position(|c| c.customer == customer) else {
        return bad_request(&format!("Customer {customer} does not exist"));
    };
    if set == Set::CustomerCompanyText {
        let cc = &vals["CompanyCode"];
        if !ds
            .company_codes
            .iter()
            .any(|c| c.customer as usize == ci && c.company_code == cc)
        {
            return bad_request(&format!(
                "Customer {customer} is not created in company code {cc}"
            ));
        }
    }
    let text = TextRec {
        customer,
        company_code: vals.get("CompanyCode").cloned(),
        language: vals["Language"].clone(),
        long_text_id: vals["LongTextID"].clone(),
        long_text: obj
            .get("LongText")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
    };
    let key = text_key(&text);
    {
        let mut texts = lock(ctx.st.texts(set));
        if texts.contains_key(&key) {
            return sap_error(
                StatusCode::CONFLICT,
                "/IWBEP/CM_MGW_RT/025",
                &format!("{}({key}) already exists", set.name()),
            );
        }
        texts.insert(key.clone(), text.clone());
    }
    ctx.st
        .record(set.name(), &key, "POST", json.clone(), ctx.headers);
    let rows = [text];
    let table = TextTable { rows: &rows };
    let etag = text_etag(&rows[0]);
    let mut out = String::from("{\"d\":");
    render_entity(
        &mut out,
        &ctx.service_url,
        set,
        &table,
        0,
        None,
        Some(&etag),
    );
    out.push('}');
    let mut r = json_ok(StatusCode::CREATED, out);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{}/{}({key})", ctx.service_url, set.name())) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn change_text(ctx: &Ctx<'_>, set: Set, key: &[String], method: &str, body: &[u8]) -> Response {
    let names = key_fields(set);
    let canonical = names
        .iter()
        .zip(key)
        .map(|(n, v)| format!("{n}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(",");
    let json: serde_json::Value = if method == "DELETE" {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => return bad_request("Request body must be a JSON object"),
            Err(e) => return bad_request(&format!("Malformed request body: {e}")),
        }
    };
    if let Some(obj) = json.as_object() {
        for (k, v) in obj {
            if k == "__metadata" {
                continue;
            }
            if set.prop(k).is_none() {
                return bad_request(&format!("Property {k} not found in {}", set.type_name()));
            }
            if let Some(pos) = names.iter().position(|n| n == k) {
                if v.as_str() != Some(key[pos].as_str()) {
                    return bad_request(&format!("Key property {k} cannot be changed"));
                }
            }
        }
    }
    let if_match = ctx
        .headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let new_etag;
    {
        let mut texts = lock(ctx.st.texts(set));
        let Some(current) = texts.get_mut(&canonical) else {
            return not_found(&format!(
                "Resource not found for the segment '{}'",
                set.name()
            ));
        };
        let Some(if_match) = if_match else {
            return sap_error(
                StatusCode::PRECONDITION_REQUIRED,
                "/IWBEP/CM_MGW_RT/101",
                "Precondition required: send If-Match with the entity's ETag",
            );
        };
        let etag = text_etag(current);
        if if_match.trim() != "*" && if_match.trim() != etag {
            return sap_error(
                StatusCode::PRECONDITION_FAILED,
                "/IWBEP/CM_MGW_RT/102",
                "Precondition failed: the entity was changed by someone else",
            );
        }
        if method == "DELETE" {
            texts.remove(&canonical);
            new_etag = None;
        } else {
            let text = json.get("LongText").and_then(|v| v.as_str());
            match (method, text) {
                (_, Some(t)) => current.long_text = t.to_string(),
                // PUT replaces the whole entity: an absent property becomes initial.
                ("PUT", None) => current.long_text.clear(),
                _ => {}
            }
            new_etag = Some(text_etag(current));
        }
    }
    ctx.st
        .record(set.name(), &canonical, method, json, ctx.headers);
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = new_etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_predicates() {
        assert_eq!(
            parse_key(Set::Customer, "'0001000001'").unwrap(),
            vec!["0001000001"]
        );
        assert_eq!(
            parse_key(
                Set::CustomerText,
                "LongTextID='TX01',Customer='O''N',Language='EN'"
            )
            .unwrap(),
            vec!["O'N", "EN", "TX01"]
        );
        assert!(parse_key(Set::CustomerText, "'x'").is_err());
        assert!(parse_key(Set::Customer, "'x").is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            percent_decode("A_Customer(%270001%27)"),
            "A_Customer('0001')"
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}
