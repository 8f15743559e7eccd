//! Change tracking for the open items, as OData offers it: a client that asks with
//! `Prefer: odata.track-changes` gets a delta link on the last page (V4 `@odata.deltaLink`
//! with `$deltatoken`, V2 `__delta` with SAP's `!deltatoken`); reading that link later gives
//! what changed since, with entities that left the query (cleared items) as removed
//! entries, and a new delta link.

use super::filter::eval;
use super::odata::{json_str, parse_query, render_entity};
use super::sets::{key_predicate, DsTable, Set, Table, Val};
use super::v4;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct DeltaState {
    version: AtomicU64,
    /// (version, row) of every change, oldest first.
    changes: Mutex<Vec<(u64, usize)>>,
    /// Open items cleared since the data set was made.
    pub cleared: Mutex<BTreeMap<usize, NaiveDate>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl DeltaState {
    /// Clears open item `row` on `on`, as a payment posted in the ERP would.
    pub fn clear(&self, row: usize, on: NaiveDate) {
        lock(&self.cleared).insert(row, on);
        let v = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&self.changes).push((v, row));
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// A snapshot of the cleared rows, to read the items through.
    pub fn cleared(&self) -> BTreeMap<usize, NaiveDate> {
        lock(&self.cleared).clone()
    }
}

/// A query parameter the mock adds to the next links of a tracked read: the version the
/// read started at, so the delta link covers changes made while it was paging.
pub(crate) const TRACK_FROM: &str = "sap-track-from";

/// Whether the request asks for change tracking.
pub(crate) fn wants_tracking(prefer: Option<&str>) -> bool {
    prefer.is_some_and(|p| p.to_ascii_lowercase().contains("odata.track-changes"))
}

/// The token of a delta request (`$deltatoken` or SAP's `!deltatoken='…'`), if it is one.
pub(crate) fn token(pairs: &[(String, String)]) -> Option<Result<u64, String>> {
    pairs
        .iter()
        .find(|(k, _)| k == "$deltatoken" || k == "!deltatoken")
        .map(|(_, v)| {
            v.trim_matches('\'')
                .parse()
                .map_err(|_| format!("invalid delta token {v}"))
        })
}

/// The delta link for the query `pairs` (paging options left out) at `version`.
pub(crate) fn link(
    service_url: &str,
    set: Set,
    pairs: &[(String, String)],
    version: u64,
    v4: bool,
) -> String {
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "$skip"
                    | "$top"
                    | "$skiptoken"
                    | "$deltatoken"
                    | "!deltatoken"
                    | "$count"
                    | "$inlinecount"
                    | TRACK_FROM
            )
        })
        .map(|(k, v)| {
            format!(
                "{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect();
    if v4 {
        query.push(format!("$deltatoken={version}"));
    } else {
        query.push(format!("!deltatoken='{version}'"));
    }
    format!("{service_url}/{}?{}", set.name(), query.join("&"))
}

/// A delta request: the query it repeats and the dialect to answer in.
pub(crate) struct DeltaRequest<'a> {
    pub ds: &'a super::data::Dataset,
    pub service_url: &'a str,
    pub set: Set,
    pub pairs: &'a [(String, String)],
    pub since: u64,
    pub v4: bool,
    pub decimals_as_strings: bool,
}

/// Answers a delta request: what changed after `since`, in the dialect asked for.
pub(crate) fn respond(state: &DeltaState, req: &DeltaRequest<'_>) -> Result<String, String> {
    let DeltaRequest {
        ds: table_ds,
        service_url,
        set,
        pairs,
        since,
        v4: v4_dialect,
        decimals_as_strings,
    } = *req;
    let rest: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "$deltatoken" && k != "!deltatoken")
        .cloned()
        .collect();
    let q = parse_query(&rest, set)?;
    let cleared = state.cleared();
    let table = DsTable {
        ds: table_ds,
        set,
        cleared: Some(&cleared),
    };
    let version = state.version();
    let mut rows: Vec<usize> = lock(&state.changes)
        .iter()
        .filter(|(v, _)| *v > since && *v <= version)
        .map(|(_, r)| *r)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let (present, removed): (Vec<usize>, Vec<usize>) = rows
        .into_iter()
        .partition(|&r| q.filter.as_ref().is_none_or(|f| eval(f, &table, r)));
    let next = link(service_url, set, &rest, version, v4_dialect);
    let keys = |out: &mut String, row: usize| {
        for (i, k) in set.keys().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(out, k.name);
            out.push(':');
            match table.value(row, k.name) {
                Val::Str(s) => json_str(out, &s),
                _ => out.push_str("null"),
            }
        }
    };
    let mut out = String::new();
    if v4_dialect {
        out.push_str("{\"@odata.context\":");
        json_str(
            &mut out,
            &format!("{service_url}/$metadata#{}/$delta", set.name()),
        );
        out.push_str(",\"value\":[");
        let mut first = true;
        for &row in &present {
            if !first {
                out.push(',');
            }
            first = false;
            v4::render_entity(
                &mut out,
                set,
                &table,
                row,
                q.select.as_deref(),
                None,
                decimals_as_strings,
            );
        }
        for &row in &removed {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("{\"@removed\":{\"reason\":\"changed\"},\"@id\":");
            json_str(
                &mut out,
                &format!("{}{}", set.name(), key_predicate(set, &table, row)),
            );
            out.push(',');
            keys(&mut out, row);
            out.push('}');
        }
        out.push_str("],\"@odata.deltaLink\":");
        json_str(&mut out, &next);
        out.push('}');
    } else {
        out.push_str("{\"d\":{\"results\":[");
        for (i, &row) in present.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            render_entity(
                &mut out,
                service_url,
                set,
                &table,
                row,
                q.select.as_deref(),
                None,
            );
        }
        out.push_str("],\"__deleted\":[");
        for (i, &row) in removed.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            keys(&mut out, row);
            out.push('}');
        }
        out.push_str("],\"__delta\":");
        json_str(&mut out, &next);
        out.push_str("}}");
    }
    Ok(out)
}
