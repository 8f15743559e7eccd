//! OData V2 query options as SAP Gateway reads them: `$filter` (see `filter`), `$select`,
//! `$top`, `$skip`, `$orderby`, `$inlinecount`, `$skiptoken`; running them over a table;
//! and rendering entities as V2 JSON and Atom.

use super::filter::{eval, parse_filter, to_naive, Expr, Lit, Op};
use super::sets::{key_predicate, Prop, Set, Table, Val};
use chrono::NaiveDateTime;
use std::cmp::Ordering;
use std::fmt::Write as _;

#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub filter: Option<Expr>,
    pub select: Option<Vec<&'static Prop>>,
    pub top: Option<usize>,
    pub skip: usize,
    pub orderby: Vec<(&'static str, bool)>,
    pub inlinecount: bool,
    pub skiptoken: Option<usize>,
    /// Options to repeat in `__next` (everything but `$skip`, `$top`, `$skiptoken`).
    pub carry: Vec<(String, String)>,
}

pub(crate) fn parse_query(pairs: &[(String, String)], set: Set) -> Result<Query, String> {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "$filter" => q.filter = Some(parse_filter(v, set)?),
            "$select" => {
                let mut props = Vec::new();
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if name == "*" {
                        props.clear();
                        props.extend(set.props().iter());
                        break;
                    }
                    props.push(
                        set.prop(name)
                            .ok_or_else(|| format!("property {name} not found in $select"))?,
                    );
                }
                q.select = Some(props);
            }
            "$top" => q.top = Some(v.parse().map_err(|_| format!("invalid $top {v}"))?),
            "$skip" => q.skip = v.parse().map_err(|_| format!("invalid $skip {v}"))?,
            "$skiptoken" => {
                q.skiptoken = Some(v.parse().map_err(|_| format!("invalid $skiptoken {v}"))?)
            }
            "$count" => match v.as_str() {
                "true" => q.inlinecount = true,
                "false" => q.inlinecount = false,
                _ => return Err(format!("invalid $count {v}")),
            },
            "$inlinecount" => match v.as_str() {
                "allpages" => q.inlinecount = true,
                "none" => q.inlinecount = false,
                _ => return Err(format!("invalid $inlinecount {v}")),
            },
            "$orderby" => {
                for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let mut words = part.split_whitespace();
                    let name = words.next().unwrap_or_default();
                    let desc = match words.next() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(o) => return Err(format!("invalid sort order {o}")),
                    };
                    let prop = set
                        .prop(name)
                        .ok_or_else(|| format!("property {name} not found in $orderby"))?;
                    if !prop.sortable {
                        return Err(format!("property {name} is not sortable"));
                    }
                    q.orderby.push((prop.name, desc));
                }
            }
            "$format" if v.starts_with("json;") || v.starts_with("application/json") => {}
            "$format" if v != "json" && v != "atom" => {
                return Err(format!(
                    "$format={v} is not supported here; use json or atom"
                ))
            }
            "$format" => {}
            k if k.starts_with('$') => {
                return Err(format!("system query option {k} is not supported"))
            }
            _ => {}
        }
        if !matches!(k.as_str(), "$skip" | "$top" | "$skiptoken") {
            q.carry.push((k.clone(), v.clone()));
        }
    }
    Ok(q)
}

/// Whether `$orderby` asks for the order the rows are stored in: a prefix of the key
/// properties, all ascending.
pub(crate) fn is_key_order(set: Set, orderby: &[(&'static str, bool)]) -> bool {
    !orderby.is_empty()
        && orderby.len() <= set.keys().count()
        && orderby
            .iter()
            .zip(set.keys())
            .all(|((name, desc), key)| !desc && *name == key.name)
}

pub(crate) struct Page {
    pub rows: Vec<usize>,
    /// `$skiptoken` of the next page, if there is one.
    pub next: Option<usize>,
    /// `$top` left for the next page.
    pub top_left: Option<usize>,
    pub count: Option<usize>,
}

fn cmp_vals(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
        (Val::Dec(x), Val::Dec(y)) => x.cmp(y),
        _ => to_naive(a).cmp(&to_naive(b)),
    }
}

/// Runs a query: without `$orderby` the skip token is a row position in the set (rows
/// are kept in key order, as SAP pages them), so each page costs only what it scans; with
/// `$orderby` the token is an offset into the sorted result.
///
/// `natural` says the rows are stored in key order, so an `$orderby` on a prefix of the
/// key (ascending) is served by position too: that is what sync jobs send, page after
/// page, and sorting a million items per page would not do.
///
/// `first_key` names the set's leading key when rows are stored in key order: a filter
/// that pins it (`Customer eq 'A' or Customer eq 'B'`, as lookups by key send) is served
/// from those rows alone, as SAP's database serves it from the primary index, instead of
/// scanning the set.
pub(crate) fn run(
    table: &dyn Table,
    q: &Query,
    page_size: usize,
    natural: bool,
    first_key: Option<&str>,
) -> Page {
    let matches = |row: usize| q.filter.as_ref().is_none_or(|f| eval(f, table, row));
    let candidates: Option<Vec<usize>> = first_key.and_then(|key| {
        let values = pinned_values(q.filter.as_ref()?, key)?;
        Some(rows_with_key(table, key, &values))
    });
    // Rows from `start` on (a row position) that may match, in stored order.
    let scan = |start: usize| -> Box<dyn Iterator<Item = usize> + '_> {
        match &candidates {
            Some(rows) => {
                let from = rows.partition_point(|&r| r < start);
                Box::new(rows[from..].iter().copied())
            }
            None => Box::new(start..table.len()),
        }
    };
    let limit = page_size.min(q.top.unwrap_or(usize::MAX));
    let count = q
        .inlinecount
        .then(|| scan(0).filter(|&r| matches(r)).count());
    let mut rows = Vec::new();
    let mut next = None;
    if q.orderby.is_empty() || natural {
        let mut to_skip = if q.skiptoken.is_none() { q.skip } else { 0 };
        for r in scan(q.skiptoken.unwrap_or(0)) {
            if matches(r) {
                if to_skip > 0 {
                    to_skip -= 1;
                } else if rows.len() < limit {
                    rows.push(r);
                } else {
                    next = Some(r);
                    break;
                }
            }
        }
    } else {
        let mut all: Vec<usize> = scan(0).filter(|&r| matches(r)).collect();
        all.sort_by(|&a, &b| {
            for (prop, desc) in &q.orderby {
                let o = cmp_vals(&table.value(a, prop), &table.value(b, prop));
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.cmp(&b)
        });
        let offset = q.skiptoken.unwrap_or(q.skip).min(all.len());
        let end = (offset + limit).min(all.len());
        rows.extend_from_slice(&all[offset..end]);
        if end < all.len() {
            next = Some(end);
        }
    }
    let top_left = q.top.map(|t| t.saturating_sub(rows.len()));
    if top_left == Some(0) {
        next = None;
    }
    Page {
        rows,
        next,
        top_left,
        count,
    }
}

/// The string values a filter pins `prop` to: `prop eq 'v'`, a disjunction of those, or
/// either side of a conjunction that is one. `None` when rows with other values could match.
fn pinned_values<'e>(e: &'e Expr, prop: &str) -> Option<Vec<&'e str>> {
    match e {
        Expr::Cmp {
            prop: p,
            op: Op::Eq,
            lit: Lit::Str(v),
        } if *p == prop => Some(vec![v.as_str()]),
        Expr::Or(a, b) => {
            let mut values = pinned_values(a, prop)?;
            values.extend(pinned_values(b, prop)?);
            Some(values)
        }
        Expr::And(a, b) => pinned_values(a, prop).or_else(|| pinned_values(b, prop)),
        _ => None,
    }
}

/// The rows whose `key` (the leading key, by which rows are sorted) is one of `values`,
/// found by binary search, in stored order.
fn rows_with_key(table: &dyn Table, key: &str, values: &[&str]) -> Vec<usize> {
    let at = |r: usize| match table.value(r, key) {
        Val::Str(s) => s.into_owned(),
        _ => String::new(),
    };
    // Binary search over row positions: the table is not a slice.
    let first_not_below = |v: &str, strict: bool| {
        let (mut lo, mut hi) = (0, table.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let below = if strict {
                at(mid).as_str() <= v
            } else {
                at(mid).as_str() < v
            };
            if below {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let mut rows: Vec<usize> = values
        .iter()
        .flat_map(|v| first_not_below(v, false)..first_not_below(v, true))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// Appends a JSON string literal. Written in place: pages are rendered value by value, and
/// an allocation per value would make the mock, not the client, the slow side of a pull.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut plain = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escaped);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

fn ms(d: NaiveDateTime) -> i64 {
    d.and_utc().timestamp_millis()
}

pub(crate) fn json_val(out: &mut String, v: &Val<'_>) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Str(s) => json_str(out, s),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Date(d) => {
            let _ = write!(
                out,
                "\"/Date({})/\"",
                ms(d.and_hms_opt(0, 0, 0).unwrap_or_default())
            );
        }
        Val::Dto(d) => {
            let _ = write!(out, "\"/Date({}+0000)/\"", d.timestamp_millis());
        }
        Val::Dec(d) => {
            let _ = write!(out, "\"{d}\"");
        }
    }
}

/// The canonical URI of an entity.
pub(crate) fn entity_uri(service_url: &str, set: Set, table: &dyn Table, row: usize) -> String {
    format!(
        "{service_url}/{}{}",
        set.name(),
        key_predicate(set, table, row)
    )
}

/// Writes one entity as a V2 Atom `<entry>`: `m:properties` with `d:` values, `m:type` on
/// what is not a string and `m:null` for nulls, as SAP Gateway does.
pub(crate) fn render_atom_entry(
    out: &mut String,
    service_url: &str,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
    etag: Option<&str>,
) {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let uri = entity_uri(service_url, set, table, row);
    out.push_str("<entry");
    if let Some(e) = etag {
        let _ = write!(out, " m:etag=\"{}\"", esc(e));
    }
    let _ = write!(
        out,
        "><id>{}</id><title type=\"text\">{}</title><updated>2026-01-01T00:00:00Z</updated><category term=\"{}.{}\" scheme=\"http://schemas.microsoft.com/ado/2007/08/dataservices/scheme\"/><link href=\"{}\" rel=\"self\"/><content type=\"application/xml\"><m:properties>",
        esc(&uri),
        set.name(),
        set.service().name(),
        set.type_name(),
        esc(&uri)
    );
    let all = set.props();
    let props: Box<dyn Iterator<Item = &Prop>> = match select {
        Some(sel) if !sel.is_empty() => Box::new(sel.iter().copied()),
        _ => Box::new(all.iter()),
    };
    for p in props {
        let name = p.name;
        match table.value(row, p.name) {
            Val::Null => {
                let _ = write!(out, "<d:{name} m:null=\"true\"/>");
            }
            Val::Str(v) => {
                let _ = write!(out, "<d:{name}>{}</d:{name}>", esc(&v));
            }
            Val::Bool(b) => {
                let _ = write!(out, "<d:{name} m:type=\"Edm.Boolean\">{b}</d:{name}>");
            }
            Val::Date(d) => {
                let _ = write!(
                    out,
                    "<d:{name} m:type=\"Edm.DateTime\">{}T00:00:00</d:{name}>",
                    d.format("%Y-%m-%d")
                );
            }
            Val::Dto(d) => {
                let _ = write!(
                    out,
                    "<d:{name} m:type=\"Edm.DateTimeOffset\">{}</d:{name}>",
                    d.format("%Y-%m-%dT%H:%M:%S%.7fZ")
                );
            }
            Val::Dec(d) => {
                let _ = write!(out, "<d:{name} m:type=\"Edm.Decimal\">{d}</d:{name}>");
            }
        }
    }
    out.push_str("</m:properties></content></entry>");
}

/// Writes one entity as V2 JSON with its `__metadata`.
pub(crate) fn render_entity(
    out: &mut String,
    service_url: &str,
    set: Set,
    table: &dyn Table,
    row: usize,
    select: Option<&[&'static Prop]>,
    etag: Option<&str>,
) {
    let uri = entity_uri(service_url, set, table, row);
    out.push_str("{\"__metadata\":{\"id\":");
    json_str(out, &uri);
    out.push_str(",\"uri\":");
    json_str(out, &uri);
    let _ = write!(
        out,
        ",\"type\":\"{}.{}\"",
        set.service().name(),
        set.type_name()
    );
    if let Some(e) = etag {
        out.push_str(",\"etag\":");
        json_str(out, e);
    }
    out.push('}');
    let all = set.props();
    let props: Box<dyn Iterator<Item = &Prop>> = match select {
        Some(sel) if !sel.is_empty() => Box::new(sel.iter().copied()),
        _ => Box::new(all.iter()),
    };
    for p in props {
        out.push(',');
        json_str(out, p.name);
        out.push(':');
        json_val(out, &table.value(row, p.name));
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_does() {
        for s in [
            "",
            "plain",
            "O'Neill \"q\" \\ back",
            "tab\tnl\ncr\r\u{1}\u{1f}",
            "月结30天 €",
        ] {
            let mut out = String::new();
            json_str(&mut out, s);
            assert_eq!(
                out,
                serde_json::Value::String(s.into()).to_string(),
                "{s:?}"
            );
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
        }
    }

    #[test]
    fn key_lookups_find_what_a_scan_finds() {
        let ds = super::super::data::Dataset::generate(&super::super::MockErpConfig::default());
        for set in [
            Set::Customer,
            Set::CustomerCompany,
            Set::CustomerSalesArea,
            Set::BpAddress,
            Set::OpenItem,
            Set::SalesContract,
            Set::CreditAccount,
        ] {
            let table = super::super::sets::DsTable {
                ds: &ds,
                set,
                cleared: None,
            };
            let key = set.keys().next().unwrap().name;
            // Values that are there (first, middle, last rows) and one that is not.
            let mut wanted: Vec<String> = [0, table.len() / 2, table.len() - 1]
                .iter()
                .map(|&r| match table.value(r, key) {
                    Val::Str(s) => s.into_owned(),
                    other => panic!("{other:?}"),
                })
                .collect();
            wanted.push("NO-SUCH-KEY".into());
            let filter = wanted
                .iter()
                .map(|v| format!("{key} eq '{v}'"))
                .collect::<Vec<_>>()
                .join(" or ");
            let q = Query {
                filter: Some(parse_filter(&format!("({filter}) and {key} ne 'X'"), set).unwrap()),
                inlinecount: true,
                ..Query::default()
            };
            let indexed = run(&table, &q, 7, false, Some(key));
            let scanned = run(&table, &q, 7, false, None);
            assert!(!indexed.rows.is_empty(), "{}", set.name());
            assert_eq!(indexed.rows, scanned.rows, "{}", set.name());
            assert_eq!(indexed.count, scanned.count, "{}", set.name());
            assert_eq!(indexed.next, scanned.next, "{}", set.name());
            // Stored in key order, which the lookup relies on.
            let keys: Vec<String> = (0..table.len())
                .map(|r| match table.value(r, key) {
                    Val::Str(s) => s.into_owned(),
                    _ => String::new(),
                })
                .collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{}", set.name());
        }
    }
}
