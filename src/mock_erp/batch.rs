//! `$batch` on `API_BUSINESS_PARTNER`: a multipart/mixed request whose change sets are run
//! one by one through the same handler as single requests (auth, CSRF, ETags, faults and
//! `/mock/writes` behave alike), answered with a status per operation and the Content-IDs
//! the request gave.
//!
//! Like SAP Gateway, a change set answers as a whole: when one of its operations fails, the
//! change set's answer is that failure alone. Operations before the failing one are not
//! rolled back here, so the mock is exact only for change sets of one operation, which is
//! what erpsync sends.

use super::server::{apply_fault, basic_auth_ok, sap_error, unauthorized, with_retry_after};
use super::server::{odata_handler, FaultEffect, State};
use crate::erp::odata::batch::{self, ChangeSetAnswer, OpAnswer};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

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
    if let FaultEffect::Status(c) = apply_fault(&st, TARGET).await {
        let status = StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let r = sap_error(
            status,
            "/IWBEP/CM_MGW_RT/004",
            &format!("Injected fault: HTTP {c} on $batch"),
        );
        return with_retry_after(r, c);
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
            let answer = run(&st, &headers, &query, &op).await;
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
    let mut r = (StatusCode::ACCEPTED, built.body).into_response();
    if let Ok(v) = HeaderValue::from_str(&built.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Runs one operation as a request of its own, with the batch's credentials, session and
/// CSRF token and the operation's own headers (If-Match, Content-Type).
async fn run(st: &Arc<State>, outer: &HeaderMap, query: &str, op: &batch::ReceivedOp) -> OpAnswer {
    let fail = |status: StatusCode, msg: String| OpAnswer {
        content_id: op.content_id.clone(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        etag: None,
        content_type: Some("application/json".into()),
        body: serde_json::json!({"error": {"code": "/IWBEP/CM_MGW_RT/022",
            "message": {"lang": "en", "value": msg}}})
        .to_string(),
    };
    let resource = op.resource.trim_start_matches('/');
    let path = format!("/sap/opu/odata/sap/{SERVICE}/{resource}");
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
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
