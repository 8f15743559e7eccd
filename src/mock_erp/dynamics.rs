//! A Dynamics 365 Finance and Operations face of the mock: the same customers, open items
//! and planted mismatches as the SAP services, as F&O data entities under `/data/`.
//!
//! Served sets (names as in `mappings/dynamics365-fo-odata-v4.toml`): `CustomersV3` (one
//! row per customer and legal entity, key `dataAreaId` + `CustomerAccount`), `PaymentTerms`
//! and `CashDiscounts` (per legal entity), and `CustomerOpenTransactions` (open customer
//! items). F&O's conventions, as the client meets them:
//!
//! - without `cross-company=true` only the default legal entity's rows are answered;
//! - pages of at most `Prefer: odata.maxpagesize` (or the mock's page size) entities, the
//!   next one at `@odata.nextLink` (`$skiptoken`, the request's other options kept);
//! - `$count=true` (`@odata.count`), `$select`, `$top`, `$skip`, `$orderby` by the key, and
//!   `$filter` with comparisons joined by `and`; `/$count` and `$metadata`;
//! - enum members as their names (`"PaymentMethodType": "Net"`), dates as
//!   `Edm.DateTimeOffset` at noon UTC as F&O sends date fields, decimals as strings under
//!   `IEEE754Compatible=true`, `@odata.etag` on every entity.
//!
//! SAP's payment-terms keys become F&O codes of the same name; the discount of `0002`,
//! `ZB10` and `0003` moves to the customer's cash-discount code, as F&O keeps it apart.
//! `CQ30` (current quarter) is a code no customer uses that erpsync must refuse.
//! The company codes become legal entities; sales areas and sales contracts have no F&O
//! counterpart and are not served, so findings on them cannot arise here.

use super::dynamics_entities::*;
// F&O compares with the same six operators as Gateway.
use super::filter::Op as Cmp;
use super::gateway::{basic_auth_ok, bearer_ok, query_pairs};
use super::state::State;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

/// Where F&O serves its data entities.
pub(crate) const DATA_PREFIX: &str = "/data/";
const NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";
// ---------------------------------------------------------------------------------------
// Queries

struct Term {
    prop: &'static str,
    op: Cmp,
    value: V,
}

/// `Prop op literal`, joined by `or` within parentheses and by `and` between them (a
/// mapping's filter and the customers a page asks addresses for): what erpsync sends.
/// Anything else is refused, so a mapping that needs more shows up here rather than as
/// wrong data. The result is a conjunction of disjunctions.
fn parse_filter(set: Set, text: &str) -> Result<Vec<Vec<Term>>, String> {
    text.split(" and ")
        .map(|group| {
            let group = group.trim();
            let group = group
                .strip_prefix('(')
                .and_then(|g| g.strip_suffix(')'))
                .unwrap_or(group);
            parse_terms(set, group.split(" or "))
        })
        .collect()
}

fn parse_terms<'t>(set: Set, parts: impl Iterator<Item = &'t str>) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    for part in parts {
        let part = part.trim();
        let mut words = part.splitn(3, ' ');
        let (Some(name), Some(op), Some(lit)) = (words.next(), words.next(), words.next()) else {
            return Err(format!("cannot read the filter term {part:?}"));
        };
        let prop = set
            .prop(name)
            .ok_or_else(|| format!("{} has no property {name}", set.type_name()))?;
        let op = match op {
            "eq" => Cmp::Eq,
            "ne" => Cmp::Ne,
            "gt" => Cmp::Gt,
            "ge" => Cmp::Ge,
            "lt" => Cmp::Lt,
            "le" => Cmp::Le,
            other => return Err(format!("the mock does not support the operator {other}")),
        };
        let lit = lit.trim();
        let value = if let Some(inner) = lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
            V::S(inner.replace("''", "'"))
        } else if let Ok(d) = NaiveDate::parse_from_str(lit.get(..10).unwrap_or(lit), "%Y-%m-%d") {
            V::Date(d)
        } else if let Ok(n) = lit.parse::<i64>() {
            V::I(n)
        } else if let Ok(d) = lit.parse::<Decimal>() {
            V::D(d)
        } else {
            return Err(format!("cannot read the literal {lit:?}"));
        };
        terms.push(Term {
            prop: prop.name,
            op,
            value,
        });
    }
    Ok(terms)
}

fn matches(rows: &Rows<'_>, row: usize, filter: &[Vec<Term>]) -> bool {
    filter
        .iter()
        .all(|any| any.iter().any(|t| term_holds(rows, row, t)))
}

fn term_holds(rows: &Rows<'_>, row: usize, t: &Term) -> bool {
    let Some(o) = rows.value(row, t.prop).cmp(&t.value) else {
        return false;
    };
    match t.op {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Ne => o != Ordering::Equal,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Le => o != Ordering::Greater,
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "error": { "code": "", "message": message, "innererror": { "message": message, "type": "Microsoft.Dynamics.Platform.Integration.Services.OData.ODataException" } }
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            "application/json; odata.metadata=minimal",
        )],
        body.to_string(),
    )
        .into_response()
}

fn ok(content_type: &'static str, body: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::HeaderName::from_static("odata-version"), "4.0"),
        ],
        body,
    )
        .into_response()
}

fn json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::String(s.to_string()).to_string());
}

fn render(out: &mut String, prop: &Prop, v: &V, ieee754: bool) {
    match (v, prop.ty) {
        (V::S(s), _) => json_str(out, s),
        (V::I(n), Ty::Int64) if ieee754 => {
            let _ = write!(out, "\"{n}\"");
        }
        (V::I(n), _) => {
            let _ = write!(out, "{n}");
        }
        (V::D(d), _) if ieee754 => {
            let _ = write!(out, "\"{d}\"");
        }
        (V::D(d), _) => {
            let _ = write!(out, "{d}");
        }
        // F&O sends date fields as a date-time at noon UTC.
        (V::Date(d), _) => {
            let _ = write!(out, "\"{}T12:00:00Z\"", d.format("%Y-%m-%d"));
        }
    }
}

/// `GET /data/…`: the service document, `$metadata`, a set, or a set's `/$count`.
pub(crate) async fn handle(
    AxState(st): AxState<Arc<State>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !basic_auth_ok(&st, &headers) && !bearer_ok(&st, &headers) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let rest = uri
        .path()
        .strip_prefix(DATA_PREFIX)
        .or_else(|| uri.path().strip_prefix("/data"))
        .unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let root = format!("http://{host}/data");
    if rest.is_empty() {
        let mut out = format!("{{\"@odata.context\":\"{root}/$metadata\",\"value\":[");
        for (i, set) in SETS.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"name\":\"{0}\",\"kind\":\"EntitySet\",\"url\":\"{0}\"}}",
                set.name()
            );
        }
        out.push_str("]}");
        return ok("application/json; odata.metadata=minimal", out);
    }
    if rest == "$metadata" {
        return ok("application/xml", metadata());
    }
    let (set_name, count_only) = match rest.strip_suffix("/$count") {
        Some(s) => (s, true),
        None => (rest, false),
    };
    let Some(set) = SETS.iter().copied().find(|s| s.name() == set_name) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Resource not found for the segment '{set_name}'."),
        );
    };
    let pairs = query_pairs(&uri);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let cross_company = get("cross-company").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let rows = Rows::new(&st.ds, set, cross_company);
    let filter = match get("$filter").map(|f| parse_filter(set, f)).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let selected: Vec<usize> = rows
        .rows
        .iter()
        .copied()
        .filter(|&r| matches(&rows, r, &filter))
        .collect();
    if count_only {
        return ok("text/plain", selected.len().to_string());
    }
    if let Some(order) = get("$orderby") {
        let asked: Vec<&str> = order
            .split(',')
            .map(|o| o.trim().trim_end_matches(" asc"))
            .collect();
        if !set.keys().starts_with(&asked) {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the mock orders {} by its key only", set.name()),
            );
        }
    }
    let select: Vec<&'static Prop> = match get("$select") {
        None => set.props().iter().collect(),
        Some(list) => {
            let mut out = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let Some(p) = set.prop(name) else {
                    let ty = format!("{NAMESPACE}.{}", set.type_name());
                    let message =
                        format!("Could not find a property named '{name}' on type '{ty}'.");
                    return error(StatusCode::BAD_REQUEST, &message);
                };
                out.push(p);
            }
            out
        }
    };
    let number = |k: &str| get(k).and_then(|v| v.parse::<usize>().ok());
    let skip = number("$skip").unwrap_or(0) + number("$skiptoken").unwrap_or(0);
    let top = number("$top");
    let page_size = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
        .unwrap_or(st.config.page_size)
        .min(st.config.page_size)
        .max(1);
    let skiptoken = number("$skiptoken").unwrap_or(0);
    let window_end = top.map(|t| number("$skip").unwrap_or(0) + t);
    let start = skip.min(selected.len());
    let mut end = (start + page_size).min(selected.len());
    if let Some(w) = window_end {
        end = end.min(w.max(start));
    }
    let more = end < window_end.unwrap_or(selected.len()).min(selected.len());
    let ieee754 = [
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        get("$format"),
    ]
    .into_iter()
    .flatten()
    .any(|v| v.to_ascii_lowercase().contains("ieee754compatible=true"));

    let mut out = String::from("{\"@odata.context\":");
    json_str(&mut out, &format!("{root}/$metadata#{}", set.name()));
    if get("$count").is_some_and(|v| v == "true") {
        if ieee754 {
            let _ = write!(out, ",\"@odata.count\":\"{}\"", selected.len());
        } else {
            let _ = write!(out, ",\"@odata.count\":{}", selected.len());
        }
    }
    out.push_str(",\"value\":[");
    for (n, &row) in selected[start..end].iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let key: Vec<String> = set
            .keys()
            .iter()
            .map(|k| match rows.value(row, k) {
                V::S(s) => s,
                V::I(i) => i.to_string(),
                V::D(d) => d.to_string(),
                V::Date(d) => d.to_string(),
            })
            .collect();
        out.push_str("{\"@odata.etag\":");
        json_str(&mut out, &format!("W/\"{}\"", key.join(",")));
        for prop in &select {
            out.push(',');
            json_str(&mut out, prop.name);
            out.push(':');
            render(&mut out, prop, &rows.value(row, prop.name), ieee754);
        }
        out.push('}');
    }
    out.push(']');
    if more {
        let mut next = format!("{root}/{}?", set.name());
        let kept: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "$skiptoken")
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    k,
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect();
        next.push_str(&kept.join("&"));
        if !kept.is_empty() {
            next.push('&');
        }
        let _ = write!(next, "$skiptoken={}", skiptoken + (end - start));
        out.push_str(",\"@odata.nextLink\":");
        json_str(&mut out, &next);
    }
    out.push('}');
    ok("application/json; odata.metadata=minimal", out)
}

fn edm(ty: Ty) -> String {
    match ty {
        Ty::Str => "Edm.String".into(),
        Ty::Enum(name) => format!("{NAMESPACE}.{name}"),
        Ty::Int => "Edm.Int32".into(),
        Ty::Int64 => "Edm.Int64".into(),
        Ty::Dec => "Edm.Decimal".into(),
        Ty::Date => "Edm.DateTimeOffset".into(),
    }
}

/// The `$metadata` document: entity types with their keys, enumerations, the container.
fn metadata() -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>");
    let _ = write!(
        out,
        "<Schema Namespace=\"{NAMESPACE}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    for set in SETS {
        let _ = write!(out, "<EntityType Name=\"{}\"><Key>", set.type_name());
        for k in set.keys() {
            let _ = write!(out, "<PropertyRef Name=\"{k}\"/>");
        }
        out.push_str("</Key>");
        for p in set.props() {
            let _ = write!(out, "<Property Name=\"{}\" Type=\"{}\"", p.name, edm(p.ty));
            if set.keys().contains(&p.name) {
                out.push_str(" Nullable=\"false\"");
            }
            if p.ty == Ty::Dec {
                out.push_str(" Precision=\"32\" Scale=\"6\"");
            }
            out.push_str("/>");
        }
        out.push_str("</EntityType>");
    }
    let enums: [(&str, &[&str]); 2] = [
        (
            "NetCurrent",
            &[
                "Net",
                "CurrentMonth",
                "CurrentQuarter",
                "CurrentYear",
                "CurrentWeek",
                "COD",
            ],
        ),
        (
            "CustVendorBlocked",
            &["No", "Invoice", "All", "Payment", "Requisition", "Never"],
        ),
    ];
    for (name, members) in enums {
        let _ = write!(out, "<EnumType Name=\"{name}\">");
        for (i, m) in members.iter().enumerate() {
            let _ = write!(out, "<Member Name=\"{m}\" Value=\"{i}\"/>");
        }
        out.push_str("</EnumType>");
    }
    out.push_str("<EntityContainer Name=\"Resources\">");
    for set in SETS {
        let _ = write!(
            out,
            "<EntitySet Name=\"{}\" EntityType=\"{NAMESPACE}.{}\"/>",
            set.name(),
            set.type_name()
        );
    }
    out.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock_erp::{Dataset, MockErpConfig};

    fn ds() -> Dataset {
        Dataset::generate(&MockErpConfig {
            customers: 40,
            open_items: 200,
            ..MockErpConfig::default()
        })
    }

    #[test]
    fn metadata_reads_back_with_keys_enums_and_sets() {
        let md = crate::erp::metadata::parse(&metadata()).unwrap();
        assert_eq!(md.version, crate::erp::metadata::ODataVersion::V4);
        for set in SETS {
            assert!(md.entity_set(set.name()).is_some(), "{}", set.name());
        }
        let m = md.property("PaymentTerms", "PaymentMethodType").unwrap();
        assert_eq!(m.edm_type, "Microsoft.Dynamics.DataEntities.NetCurrent");
        let a = md
            .property("CustomerOpenTransactions", "AmountCur")
            .unwrap();
        assert_eq!(a.decimal_facets(), Some((32, Some(6))));
    }

    #[test]
    fn without_cross_company_only_the_default_legal_entity_answers() {
        let ds = ds();
        let all = Rows::new(&ds, Set::Customers, true);
        let default = Rows::new(&ds, Set::Customers, false);
        assert_eq!(all.rows.len(), ds.company_codes.len());
        assert!(default.rows.len() < all.rows.len());
        assert!(default
            .rows
            .iter()
            .all(|&r| default.value(r, "dataAreaId") == V::S(DEFAULT_COMPANY.into())));
        let items = Rows::new(&ds, Set::OpenTransactions, true);
        assert_eq!(items.rows.len(), ds.open_customer_items().count());
    }

    #[test]
    fn rows_come_in_key_order() {
        let ds = ds();
        for set in SETS {
            let rows = Rows::new(&ds, set, true);
            let keys: Vec<Vec<V>> = rows
                .rows
                .iter()
                .map(|&r| set.keys().iter().map(|k| rows.value(r, k)).collect())
                .collect();
            for pair in keys.windows(2) {
                let o = pair[0]
                    .iter()
                    .zip(&pair[1])
                    .map(|(a, b)| a.cmp(b).unwrap())
                    .find(|o| *o != Ordering::Equal);
                assert_eq!(o, Some(Ordering::Less), "{}: {:?}", set.name(), pair);
            }
        }
    }

    #[test]
    fn filters_compare_by_type_and_refuse_what_they_cannot_read() {
        let ds = ds();
        let rows = Rows::new(&ds, Set::Customers, true);
        let f = parse_filter(Set::Customers, "CreditLimit gt 0").unwrap();
        let with_limit = rows.rows.iter().filter(|&&r| matches(&rows, r, &f)).count();
        assert!(with_limit > 0 && with_limit < rows.rows.len());
        let ids: Vec<V> = rows.rows[..2]
            .iter()
            .map(|&r| rows.value(r, "CustomerAccount"))
            .collect();
        let (V::S(a), V::S(b)) = (&ids[0], &ids[1]) else {
            panic!("customer accounts are text")
        };
        let f = parse_filter(
            Set::Customers,
            &format!(
                "(CustomerAccount eq '{a}' or CustomerAccount eq '{b}') and dataAreaId eq '1010'"
            ),
        )
        .unwrap();
        let picked: Vec<V> = rows
            .rows
            .iter()
            .filter(|&&r| matches(&rows, r, &f))
            .map(|&r| rows.value(r, "CustomerAccount"))
            .collect();
        assert_eq!(picked, ids);
        assert!(parse_filter(Set::Customers, "Nope eq 1").is_err());
        assert!(parse_filter(Set::Customers, "contains(OrganizationName,'x')").is_err());
    }
}
