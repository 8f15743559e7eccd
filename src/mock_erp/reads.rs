//! Reads of an OData service: collections (V2 JSON and Atom, V4 JSON; server paging with
//! next links, `$inlinecount`, change tracking on the open items) and single entities.

use super::delta;
use super::gateway::{bad_request, json_ok, not_found};
use super::odata::{is_key_order, json_str, parse_query, render_atom_entry, render_entity, run};
use super::request::{etag_of, with_table, Ctx};
use super::sets::{Edm, Prop, Set, Table, Val};
use super::state::lock;
use super::v4;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

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

pub(crate) fn collection(ctx: &Ctx<'_>, set: Set) -> Response {
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
        v4::wants_ieee754(accept, format) && !ctx.st.v4_numbers.load(Ordering::Relaxed);
    // Change tracking is offered on the open items (see `delta`).
    let tracked = set == Set::OpenItem;
    if let Some(token) = delta::token(&ctx.pairs).filter(|_| tracked) {
        let since = match token {
            Ok(t) => t,
            Err(e) => return bad_request(&e),
        };
        let req = delta::DeltaRequest {
            ds: &ctx.st.ds,
            service_url: &ctx.service_url,
            set,
            pairs: &ctx.pairs,
            since,
            v4: ctx.v4,
            decimals_as_strings,
        };
        return match delta::respond(&ctx.st.delta, &req) {
            Ok(body) if ctx.v4 => v4::json_ok(body),
            Ok(body) => json_ok(StatusCode::OK, body),
            Err(e) => bad_request(&e),
        };
    }
    let track_from = tracked
        .then(|| {
            let prefer = ctx.headers.get("prefer").and_then(|v| v.to_str().ok());
            match ctx.pairs.iter().find(|(k, _)| k == delta::TRACK_FROM) {
                Some((_, v)) => v.parse().ok(),
                None => delta::wants_tracking(prefer).then(|| ctx.st.delta.version()),
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
            .filter(|k| !set.is_text() && k.ty == Edm::String)
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
                track_from.filter(|_| !pairs.iter().any(|(k, _)| k == delta::TRACK_FROM))
            {
                pairs.push((delta::TRACK_FROM.into(), v.to_string()));
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
            .map(|v| delta::link(&ctx.service_url, set, &ctx.pairs, v, ctx.v4));
        if ctx.v4 {
            let parts = v4::PageParts {
                service_url: &ctx.service_url,
                set,
                count: page.count,
                next,
                delta,
                decimals_as_strings,
            };
            let body = v4::render_page(&parts, &page.rows, |out, row| {
                let etag = etag_of(set, table, row);
                v4::render_entity(
                    out,
                    set,
                    table,
                    row,
                    q.select.as_deref(),
                    etag.as_deref(),
                    parts.decimals_as_strings,
                );
            });
            return v4::json_ok(body);
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
                write_entity(
                    &mut out,
                    render_atom_entry,
                    ctx,
                    set,
                    table,
                    row,
                    q.select.as_deref(),
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
            write_entity(
                &mut out,
                render_entity,
                ctx,
                set,
                table,
                row,
                q.select.as_deref(),
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

pub(crate) fn single(ctx: &Ctx<'_>, set: Set, key: &[String]) -> Response {
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
        let mut out = String::from("{\"d\":");
        let etag = write_entity(
            &mut out,
            render_entity,
            ctx,
            set,
            table,
            row,
            q.select.as_deref(),
        );
        out.push('}');
        let mut r = json_ok(StatusCode::OK, out);
        if let Some(e) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            r.headers_mut().insert(header::ETAG, e);
        }
        r
    })
}

/// How a V2 entity is written (JSON or Atom): `render_entity` or `render_atom_entry`.
type RenderV2 =
    fn(&mut String, &str, Set, &dyn Table, usize, Option<&[&'static Prop]>, Option<&str>);

/// Writes a row as a V2 entity with its ETag, and returns the ETag.
fn write_entity(
    out: &mut String,
    render: RenderV2,
    ctx: &Ctx<'_>,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
) -> Option<String> {
    let etag = etag_of(set, table, row);
    render(
        out,
        &ctx.service_url,
        set,
        table,
        row,
        select,
        etag.as_deref(),
    );
    etag
}
