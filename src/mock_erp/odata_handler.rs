//! The OData services (V2 under `/sap/opu/odata/sap/`, V4 under `/sap/opu/odata4/sap/`):
//! the Gateway checks in SAP's order, then the service document, `$metadata`, reads and
//! text writes.

use super::faults::dropped;
use super::gateway::{
    apply_fault, bad_request, basic_auth_ok, bearer_ok, check_client, csrf_check, csrf_fetch,
    injected_fault, json_ok, malformed, method_not_allowed, not_found, percent_decode, query_pairs,
    sap_error, unauthorized, with_sap_message, FaultEffect, ODATA4_PREFIX, ODATA_PREFIX,
};
use super::odata::json_str;
use super::request::Ctx;
use super::sets::{edmx, Service, Set};
use super::state::State;
use super::{reads, text_writes, v4};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

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
    if !basic_auth_ok(&st, &headers) && !bearer_ok(&st, &headers) {
        return unauthorized(&st);
    }
    let pairs = query_pairs(&uri);
    if let Some(refused) = check_client(&st, &pairs, &headers) {
        return refused;
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
        return injected_fault(c, &target);
    }
    // CSRF: a fetch hands out the session's token; writes must present it.
    let extra_headers = csrf_fetch(&st, &method, &headers);
    if let Some(refused) = csrf_check(&st, &method, &headers, &target) {
        return refused;
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
        resp = dropped(resp).await;
    }
    for (k, v) in extra_headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(k, v);
        }
    }
    with_sap_message(&st, resp)
}

fn dispatch(ctx: &Ctx<'_>, method: &Method, resource: &str, body: &[u8]) -> Response {
    let resource = resource.trim_end_matches('/');
    if resource.is_empty() {
        if method != Method::GET {
            return method_not_allowed();
        }
        if ctx.v4 {
            return v4::json_ok(v4::service_document(ctx.service));
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
            v4::edmx(ctx.service)
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
        ("GET", None) => reads::collection(ctx, set),
        ("GET", Some(k)) => reads::single(ctx, set, &k),
        ("POST", None) if set.is_text() => text_writes::create_text(ctx, set, body),
        ("PUT" | "PATCH" | "MERGE" | "DELETE", Some(k)) if set.is_text() => {
            text_writes::change_text(ctx, set, &k, method.as_str(), body)
        }
        _ => method_not_allowed(),
    }
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
}
