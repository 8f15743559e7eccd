//! `$batch` on `API_BUSINESS_PARTNER`: a multipart/mixed request whose change sets are run
//! one by one through the same handler as single requests (auth, CSRF, ETags, faults and
//! `/mock/writes` behave alike), answered with a status per operation and the Content-IDs
//! the request gave.
//!
//! Like SAP Gateway, a change set answers as a whole: when one of its operations fails, the
//! change set's answer is that failure alone. Operations before the failing one are not
//! rolled back here, so the mock is exact only for change sets of one operation, which is
//! what erpsync sends.
//!
//! Repeatable operations (OASIS "Repeatable Requests 1.0"): an operation with
//! `Repeatability-Request-ID` and `Repeatability-First-Sent` is run once; the answer of
//! one that took effect is kept under its id, and the same id again is answered with
//! that answer (its Content-ID the repeat's) without running anything, so `/mock/writes`
//! shows one write however often it came. Every answer to a repeatable operation says
//! `Repeatability-Result: accepted`; an id without a valid first-sent date is
//! `rejected` (400); a repeat that arrives while the first is still running gets 409.
//! Answers that changed nothing (4xx, 5xx) are not kept.
//!
//! Faults on the request as a whole (`…@$batch`): a status answers before anything runs;
//! `drop` and `malformed` lose the answer after every operation ran (the connection drops
//! halfway through it, or it arrives cut off), as when a network or proxy fails on the
//! way back.

use super::faults::dropped;
use super::gateway::{
    apply_fault, basic_auth_ok, injected_fault, sap_error, unauthorized, FaultEffect, ODATA_PREFIX,
};
use super::odata_handler::odata_handler;
use super::state::{lock, State};
use crate::erp::odata::batch::{self, ChangeSetAnswer, OpAnswer};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// The service whose `$batch` is served.
pub(crate) const SERVICE: &str = "API_BUSINESS_PARTNER";
/// Target name faults use for the batch request as a whole (`500@$batch`, `timeout@$batch`).
const TARGET: &str = "$batch";

pub(crate) async fn handle(
    AxState(st): AxState<Arc<State>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !basic_auth_ok(&st, &headers) {
        return unauthorized(&st);
    }
    let fault = apply_fault(&st, TARGET).await;
    if let FaultEffect::Status(c) = fault {
        return injected_fault(c, TARGET);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let text = String::from_utf8_lossy(&body);
    let sets = match batch::parse_request(content_type, &text) {
        Ok(s) => s,
        Err(e) => {
            return sap_error(
                StatusCode::BAD_REQUEST,
                "/IWBEP/CM_MGW_RT/022",
                &format!("Malformed $batch request: {e}"),
            )
        }
    };
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let mut answers = Vec::with_capacity(sets.len());
    for ops in sets {
        let mut done = Vec::with_capacity(ops.len());
        let mut failed = None;
        for op in ops {
            let answer = run_once(&st, &headers, &query, &op).await;
            if (200..300).contains(&answer.status) {
                done.push(answer);
            } else {
                failed = Some(answer);
                break;
            }
        }
        answers.push(match failed {
            Some(f) => ChangeSetAnswer::Failed(f),
            None => ChangeSetAnswer::Done(done),
        });
    }
    let seed = uuid::Uuid::new_v4().simple().to_string();
    let built = batch::build_response(&answers, &seed);
    let body = match fault {
        // The answer arrives, but cut off: a proxy or the network ended it early.
        FaultEffect::Malformed => built.body[..built.body.len() / 2].to_string(),
        _ => built.body,
    };
    let mut r = (StatusCode::ACCEPTED, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&built.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    match fault {
        FaultEffect::Dropped => dropped(r).await,
        _ => r,
    }
}

/// What the mock knows of a repeatable operation.
#[derive(Clone)]
enum Record {
    /// Running now: a repeat that arrives meanwhile is told so (409), not run beside it.
    Running,
    /// Took effect; a repeat gets this answer.
    Done(OpAnswer),
}

/// Repeatable operations by `Repeatability-Request-ID`, per running mock. Kept beside the
/// mock's state rather than in it; the weak reference keeps a stopped mock's address from
/// being reused while its entry exists, and entries of stopped mocks are dropped on the
/// next use.
type Records = HashMap<String, Record>;
static RECORDS: Mutex<Vec<(Weak<State>, Records)>> = Mutex::new(Vec::new());

fn with_records<R>(st: &Arc<State>, f: impl FnOnce(&mut Records) -> R) -> R {
    let mut all = lock(&RECORDS);
    all.retain(|(mock, _)| mock.strong_count() > 0);
    let i = match all
        .iter()
        .position(|(mock, _)| std::ptr::eq(mock.as_ptr(), Arc::as_ptr(st)))
    {
        Some(i) => i,
        None => {
            all.push((Arc::downgrade(st), Records::new()));
            all.len() - 1
        }
    };
    f(&mut all[i].1)
}

/// Runs an operation, once per `Repeatability-Request-ID` when it carries one.
async fn run_once(
    st: &Arc<State>,
    outer: &HeaderMap,
    query: &str,
    op: &batch::ReceivedOp,
) -> OpAnswer {
    let Some(id) = op.header("repeatability-request-id").map(str::to_string) else {
        return run(st, outer, query, op).await;
    };
    let first_sent = op
        .header("repeatability-first-sent")
        .and_then(batch::parse_http_date);
    if first_sent.is_none() {
        return error_answer(
            op,
            StatusCode::BAD_REQUEST,
            "Repeatability-Request-ID needs Repeatability-First-Sent as an HTTP date \
             (IMF-fixdate)",
            "rejected",
        );
    }
    let seen = with_records(st, |r| match r.get(&id) {
        Some(record) => Some(record.clone()),
        None => {
            r.insert(id.clone(), Record::Running);
            None
        }
    });
    match seen {
        Some(Record::Done(done)) => {
            tracing::debug!(request_id = %id, "repeated operation answered from its record");
            return OpAnswer {
                content_id: op.content_id.clone(),
                ..done
            };
        }
        Some(Record::Running) => {
            return error_answer(
                op,
                StatusCode::CONFLICT,
                "The request with this Repeatability-Request-ID is still running",
                "accepted",
            )
        }
        None => {}
    }
    // Should this request be dropped mid-run (its client gone), the id is free again.
    let mut running = RunningGuard {
        st,
        id: Some(id.clone()),
    };
    let mut answer = run(st, outer, query, op).await;
    answer.repeatability = Some("accepted".into());
    running.id = None;
    with_records(st, |r| {
        if (200..300).contains(&answer.status) {
            r.insert(id, Record::Done(answer.clone()));
        } else {
            // Nothing changed: a repeat may run.
            r.remove(&id);
        }
    });
    answer
}

/// Frees a running id when its operation never finished.
struct RunningGuard<'a> {
    st: &'a Arc<State>,
    id: Option<String>,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            with_records(self.st, |r| r.remove(&id));
        }
    }
}

fn error_answer(
    op: &batch::ReceivedOp,
    status: StatusCode,
    message: &str,
    repeatability: &str,
) -> OpAnswer {
    OpAnswer {
        content_id: op.content_id.clone(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        etag: None,
        repeatability: Some(repeatability.into()),
        content_type: Some("application/json".into()),
        body: serde_json::json!({"error": {"code": "/IWBEP/CM_MGW_RT/023",
            "message": {"lang": "en", "value": message}}})
        .to_string(),
    }
}

/// Runs one operation as a request of its own, with the batch's credentials, session and
/// CSRF token and the operation's own headers (If-Match, Content-Type).
async fn run(st: &Arc<State>, outer: &HeaderMap, query: &str, op: &batch::ReceivedOp) -> OpAnswer {
    let fail = |status: StatusCode, msg: String| OpAnswer {
        content_id: op.content_id.clone(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        etag: None,
        repeatability: None,
        content_type: Some("application/json".into()),
        body: serde_json::json!({"error": {"code": "/IWBEP/CM_MGW_RT/022",
            "message": {"lang": "en", "value": msg}}})
        .to_string(),
    };
    let resource = op.resource.trim_start_matches('/');
    let path = format!("{ODATA_PREFIX}{SERVICE}/{resource}");
    let uri: Uri = match format!("{path}{query}").parse() {
        Ok(u) => u,
        Err(e) => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("Invalid resource {resource}: {e}"),
            )
        }
    };
    let method = match Method::from_bytes(op.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                format!("Invalid method {}", op.method),
            )
        }
    };
    let mut headers = outer.clone();
    headers.remove(header::CONTENT_TYPE);
    headers.remove(header::CONTENT_LENGTH);
    for (k, v) in &op.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(k, v);
        }
    }
    let resp = odata_handler(
        AxState(st.clone()),
        method,
        uri,
        headers,
        Bytes::from(op.body.clone().into_bytes()),
    )
    .await;
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let header_text = |name: header::HeaderName| -> Option<String> {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header_text(header::ETAG);
    let content_type = header_text(header::CONTENT_TYPE);
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    OpAnswer {
        content_id: op.content_id.clone(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        etag,
        repeatability: None,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
