//! `/`: the review queue with its views, status tabs, filters, totals, exports and pages.
//!
//! The page reads the whole filtered queue (as the exports do) and pages it here, so it can
//! total the money per currency, sort by any column, say "51–100 of 152" and link back a
//! page. Amounts in different currencies are never compared as numbers: the default order
//! ranks flags by exposure within each currency (currencies in alphabetical order), and a
//! currency filter ranks one currency alone. The JSON API keeps its keyset paging.

use super::super::api::{self, FlagView, QueueParams};
use super::super::auth::{Permission, Principal, Role};
use super::super::wording::{field_label, rule_label, scope_words};
use super::super::DeskState;
use super::kit::{
    esc, money, page, query_string, severity_badge, status_text, with_cookie, Viewer,
};
use crate::model::{CustomerId, DiscrepancyStatus, Rule, Severity};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// Rows per page, unless `per_page` (at most [`MAX_PER_PAGE`]) says otherwise.
const PAGE: usize = 50;
const MAX_PER_PAGE: usize = 500;

/// The page's query: the API's filters plus the page's own view, sort, currency and page.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct QueueQuery {
    status: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    company_code: Option<String>,
    assignee: Option<String>,
    customer: Option<String>,
    q: Option<String>,
    /// `approvals` (waivers awaiting my approval) or `mine` (assigned to me).
    view: Option<String>,
    currency: Option<String>,
    /// A column, `-` first for the reverse order.
    sort: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

impl QueueQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        vec![
            ("view", v(&self.view)),
            ("status", v(&self.status)),
            ("rule", v(&self.rule)),
            ("severity", v(&self.severity)),
            ("company_code", v(&self.company_code)),
            ("assignee", v(&self.assignee)),
            ("customer", v(&self.customer)),
            ("q", v(&self.q)),
            ("currency", v(&self.currency)),
            ("sort", v(&self.sort)),
            ("page", v(&self.page)),
            ("per_page", v(&self.per_page)),
        ]
    }

    /// This query with some keys replaced (an empty value drops the key).
    fn with(&self, replace: &[(&str, &str)]) -> String {
        let mut pairs = self.pairs();
        for (k, v) in replace {
            if let Some(p) = pairs.iter_mut().find(|(key, _)| key == k) {
                p.1 = v.to_string();
            }
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        query_string(&refs)
    }

    fn link(&self, replace: &[(&str, &str)]) -> String {
        let q = self.with(replace);
        if q.is_empty() {
            "/".into()
        } else {
            format!("/?{q}")
        }
    }

    /// The store's filter: everything but the status, which the page applies itself
    /// (an open flag includes a waiver nobody approved yet).
    fn store_params(&self) -> QueueParams {
        QueueParams {
            status: None,
            rule: self.rule.clone(),
            severity: self.severity.clone(),
            company_code: self.company_code.clone(),
            assignee: self.assignee.clone(),
            customer: self.customer.clone(),
            q: self.q.clone(),
            after: None,
            limit: None,
        }
    }
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The status tab a flag counts under: a waiver nobody approved yet is still open work.
fn tab_of(f: &FlagView) -> DiscrepancyStatus {
    if f.awaiting_approval {
        DiscrepancyStatus::Open
    } else {
        f.discrepancy.status
    }
}

fn select(name: &str, label: &str, current: Option<&str>, options: &[(String, String)]) -> String {
    let mut s = format!(
        "<label for=\"f-{name}\">{label}</label><select name=\"{name}\" id=\"f-{name}\"><option value=\"\">all</option>"
    );
    for (value, text) in options {
        let on = if current == Some(value.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<option value=\"{}\"{on}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    s + "</select>"
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::High => 2,
        Severity::Medium => 1,
        Severity::Low => 0,
    }
}

/// The default order: by currency, then largest exposure first; flags without money last.
fn by_exposure(a: &FlagView, b: &FlagView) -> Ordering {
    let (ea, eb) = (
        &a.discrepancy.finding.exposure,
        &b.discrepancy.finding.exposure,
    );
    ea.currency
        .is_empty()
        .cmp(&eb.currency.is_empty())
        .then_with(|| ea.currency.cmp(&eb.currency))
        .then_with(|| eb.amount.cmp(&ea.amount))
}

fn sort(items: &mut [FlagView], key: &str) {
    let (reverse, key) = match key.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, key),
    };
    let cmp = |a: &FlagView, b: &FlagView| -> Ordering {
        let (da, db) = (&a.discrepancy, &b.discrepancy);
        match key {
            "days" => db
                .finding
                .exposure
                .days
                .abs()
                .cmp(&da.finding.exposure.days.abs()),
            "severity" => {
                severity_rank(db.finding.severity).cmp(&severity_rank(da.finding.severity))
            }
            "customer" => da.finding.customer.cmp(&db.finding.customer),
            "rule" => rule_label(da.finding.rule).cmp(rule_label(db.finding.rule)),
            "status" => da.status.as_str().cmp(db.status.as_str()),
            "assignee" => da.assignee.cmp(&db.assignee),
            "seen" => db.last_seen.cmp(&da.last_seen),
            _ => by_exposure(a, b),
        }
        .then_with(|| by_exposure(a, b))
        .then_with(|| da.id.cmp(&db.id))
    };
    items.sort_by(|a, b| if reverse { cmp(b, a) } else { cmp(a, b) });
}

/// The money behind the listed flags, per currency (an item behind two flags counts twice).
fn totals(items: &[FlagView]) -> BTreeMap<String, (Decimal, u64)> {
    let mut t: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
    for f in items {
        let e = &f.discrepancy.finding.exposure;
        if e.by_currency.is_empty() && !e.currency.is_empty() {
            let x = t.entry(e.currency.clone()).or_default();
            x.0 = x.0.saturating_add(e.amount);
            x.1 += 1;
        }
        for c in &e.by_currency {
            let x = t.entry(c.currency.clone()).or_default();
            x.0 = x.0.saturating_add(c.amount);
            x.1 += 1;
        }
    }
    t
}

fn sort_header(q: &QueueQuery, key: &str, label: &str, class: &str) -> String {
    let current = given(&q.sort).unwrap_or("exposure");
    let (next, mark, aria) = if current == key {
        (format!("-{key}"), " ▼", "descending")
    } else if current == format!("-{key}") {
        (key.to_string(), " ▲", "ascending")
    } else {
        (key.to_string(), "", "none")
    };
    let sort_attr = if aria == "none" {
        String::new()
    } else {
        format!(" aria-sort=\"{aria}\"")
    };
    format!(
        "<th scope=\"col\"{class}{sort_attr}><a class=\"sort\" id=\"sort-{key}\" href=\"{}\">{label}{mark}</a></th>",
        esc(&q.link(&[("sort", next.as_str()), ("page", "")]))
    )
}

/// The queue as the page shows it, with the counts its tabs show.
pub(super) struct Listing {
    pub(super) items: Vec<FlagView>,
    counts: BTreeMap<&'static str, usize>,
    total_all: usize,
    n_approvals: usize,
    n_mine: usize,
    /// Flags of the customers the user collects (`[collectors]`); `None` for users who
    /// collect none.
    n_customers: Option<usize>,
}

fn is_mine(f: &FlagView, who: &Principal) -> bool {
    f.discrepancy.assignee.as_deref() == Some(who.name.as_str())
        && !matches!(
            f.discrepancy.status,
            DiscrepancyStatus::Resolved | DiscrepancyStatus::Closed
        )
}

/// Still to be dealt with: open, acknowledged, or a waiver awaiting approval.
fn is_current(f: &FlagView) -> bool {
    matches!(
        tab_of(f),
        DiscrepancyStatus::Open | DiscrepancyStatus::Acknowledged
    )
}

/// A tab of the "my work" views; `on` when it is the current view.
fn view_tab(q: &QueueQuery, current: Option<&str>, view: &str, label: &str, n: usize) -> String {
    let on = if current == Some(view) {
        " class=\"on\" aria-current=\"page\""
    } else {
        ""
    };
    format!(
        "<a{on} id=\"view-{view}\" href=\"{}\">{label}<span class=\"n\">{n}</span></a>",
        esc(&q.link(&[("view", view), ("status", ""), ("page", "")]))
    )
}

/// The flags `q` selects for `who`, in the page's order. Fills in the defaults it applies
/// (the landing view of the user's role, the open tab), so links keep them.
pub(super) async fn listing(
    desk: &DeskState,
    who: &Principal,
    q: &mut QueueQuery,
) -> Result<Listing, Response> {
    // Each role lands on its own work: approvers on the waivers awaiting them, collectors
    // on their customers' flags.
    let bare = q.pairs().iter().all(|(_, v)| v.is_empty());
    if bare && who.role.may(Permission::Approve) && !who.role.may(Permission::Review) {
        q.view = Some("approvals".into());
    }
    if bare && who.role == Role::Collector {
        q.view = Some("customers".into());
    }
    let collects =
        who.role == Role::Collector || desk.ar.collectors.values().any(|u| *u == who.name);
    let my_customers: Option<HashSet<CustomerId>> = if collects {
        let clerks = desk.ar.clerks_of(&who.name);
        let ids = desk
            .store
            .customers_of_clerks(&clerks)
            .await
            .map_err(api::store_error)?;
        Some(ids.into_iter().collect())
    } else {
        None
    };
    let view = given(&q.view).map(str::to_string);
    if q.status.is_none() && view.is_none() {
        q.status = Some("open".into());
    }
    let status_filter = match given(&q.status) {
        None | Some("all") => None,
        Some(s) => Some(
            s.parse::<DiscrepancyStatus>()
                .map_err(|e| super::kit::bad_request(who, &e.to_string()))?,
        ),
    };
    let filter = q
        .store_params()
        .filter()
        .map_err(|e| super::kit::bad_request(who, &e))?;
    let mut all = desk
        .store
        .queue_all(&filter)
        .await
        .map_err(api::store_error)?;
    // The store searches customer numbers and names; contract ids are matched here, so
    // "CLM-00021" finds that contract's flags too.
    if let Some(text) = given(&q.q) {
        let needle = text.to_lowercase();
        let mut wider = q.store_params();
        wider.q = None;
        let wider = wider
            .filter()
            .map_err(|e| super::kit::bad_request(who, &e))?;
        let seen: std::collections::HashSet<i64> = all.iter().map(|d| d.id).collect();
        let by_contract: Vec<_> = desk
            .store
            .queue_all(&wider)
            .await
            .map_err(api::store_error)?
            .into_iter()
            .filter(|d| !seen.contains(&d.id))
            .filter(|d| {
                d.finding
                    .contract_id
                    .as_deref()
                    .is_some_and(|c| c.to_lowercase().contains(&needle))
            })
            .collect();
        all.extend(by_contract);
    }
    let mut all = api::views(desk, all).await.map_err(api::store_error)?;
    if let Some(c) = given(&q.currency) {
        all.retain(|f| {
            let e = &f.discrepancy.finding.exposure;
            e.currency == c || e.by_currency.iter().any(|x| x.currency == c)
        });
    }
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for f in &all {
        *counts.entry(tab_of(f).as_str()).or_default() += 1;
    }
    let awaiting_me = |f: &FlagView| {
        f.awaiting_approval && f.discrepancy.waiver_by.as_deref() != Some(who.name.as_str())
    };
    let n_approvals = all.iter().filter(|f| awaiting_me(f)).count();
    let n_mine = all.iter().filter(|f| is_mine(f, who)).count();
    let of_my_customers = |f: &FlagView| {
        my_customers
            .as_ref()
            .is_some_and(|m| m.contains(&f.discrepancy.finding.customer))
            && is_current(f)
    };
    let n_customers = my_customers
        .as_ref()
        .map(|_| all.iter().filter(|f| of_my_customers(f)).count());
    let total_all = all.len();
    let mut items: Vec<FlagView> = all
        .into_iter()
        .filter(|f| match view.as_deref() {
            Some("approvals") => awaiting_me(f),
            Some("mine") => is_mine(f, who),
            Some("customers") => of_my_customers(f),
            _ => status_filter.is_none_or(|s| tab_of(f) == s),
        })
        .collect();
    sort(&mut items, given(&q.sort).unwrap_or("exposure"));
    Ok(Listing {
        items,
        counts,
        total_all,
        n_approvals,
        n_mine,
        n_customers,
    })
}

pub(super) async fn queue_page(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, style }: Viewer,
    Query(mut q): Query<QueueQuery>,
) -> Response {
    let Listing {
        items,
        counts,
        total_all,
        n_approvals,
        n_mine,
        n_customers,
    } = match listing(&desk, &who, &mut q).await {
        Ok(l) => l,
        Err(r) => return with_cookie(r, cookie),
    };
    let view = given(&q.view).map(str::to_string);

    let mut body = String::from("<h1>Review queue</h1>");
    // Views for the work waiting on this user.
    body += "<nav class=\"tabs\" id=\"views\" aria-label=\"My work\">";
    if who.role.may(Permission::Approve) {
        body += &view_tab(
            &q,
            view.as_deref(),
            "approvals",
            "Awaiting my approval",
            n_approvals,
        );
    }
    if who.role.may(Permission::Review) {
        body += &view_tab(&q, view.as_deref(), "mine", "Assigned to me", n_mine);
    }
    if let Some(n) = n_customers {
        body += &view_tab(&q, view.as_deref(), "customers", "My customers", n);
    }
    body += "</nav><nav class=\"tabs\" id=\"status-tabs\" aria-label=\"Status\">";
    let current = if view.is_some() {
        String::new()
    } else {
        given(&q.status).unwrap_or("all").to_string()
    };
    for (status, n) in std::iter::once(("all".to_string(), total_all)).chain(
        DiscrepancyStatus::ALL.iter().map(|s| {
            (
                s.as_str().to_string(),
                counts.get(s.as_str()).copied().unwrap_or(0),
            )
        }),
    ) {
        let on = if status == current {
            " class=\"on\" aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<a{on} href=\"{}\" data-status=\"{status}\">{status}<span class=\"n\">{n}</span></a>",
            esc(&q.link(&[("status", status.as_str()), ("view", ""), ("page", "")]))
        );
    }
    body += "</nav>";

    let rules: Vec<(String, String)> = Rule::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), rule_label(*r).to_string()))
        .collect();
    let severities: Vec<(String, String)> = ["high", "medium", "low"]
        .iter()
        .map(|s| (s.to_string(), s.to_string()))
        .collect();
    let assignees: Vec<(String, String)> = desk
        .users
        .iter()
        .map(|u| (u.name.clone(), u.name.clone()))
        .collect();
    let sums = totals(&items);
    let currencies: Vec<(String, String)> = {
        let mut c: Vec<String> = sums.keys().cloned().collect();
        if let Some(cur) = given(&q.currency) {
            if !c.iter().any(|x| x == cur) {
                c.push(cur.to_string());
            }
        }
        c.into_iter().map(|x| (x.clone(), x)).collect()
    };
    let _ = write!(
        body,
        "<div class=\"card\"><form class=\"filters\" method=\"get\" action=\"/\" id=\"filters\">\
         <input type=\"hidden\" name=\"status\" value=\"{}\"><input type=\"hidden\" name=\"view\" value=\"{}\"><input type=\"hidden\" name=\"sort\" value=\"{}\">\
         <div class=\"field\"><label for=\"f-q\">Customer number, name or contract</label><input name=\"q\" id=\"f-q\" value=\"{}\" placeholder=\"0000100001 / Müller / 上海\"></div>\
         <div class=\"field\">{}</div><div class=\"field\">{}</div><div class=\"field\"><label for=\"f-company_code\">Company code</label><input name=\"company_code\" id=\"f-company_code\" size=\"6\" value=\"{}\"></div><div class=\"field\">{}</div><div class=\"field\">{}</div>\
         <button type=\"submit\" id=\"apply\">Filter</button>\
         <a class=\"button quiet\" href=\"/?status={}\">Clear</a>\
         <span class=\"spacer\"></span>\
         <a class=\"button quiet\" id=\"export-xlsx\" href=\"{}\">Export XLSX</a>\
         <a class=\"button quiet\" id=\"export-csv\" href=\"{}\">Export CSV</a>\
         </form></div>",
        esc(&current),
        esc(view.as_deref().unwrap_or("")),
        esc(given(&q.sort).unwrap_or("")),
        esc(given(&q.q).unwrap_or("")),
        select("rule", "Rule", given(&q.rule), &rules),
        select("severity", "Severity", given(&q.severity), &severities),
        esc(given(&q.company_code).unwrap_or("")),
        select("assignee", "Assignee", given(&q.assignee), &assignees),
        select("currency", "Currency", given(&q.currency), &currencies),
        esc(&current),
        esc(&export_link("/api/v1/discrepancies.xlsx", &q)),
        esc(&export_link("/api/v1/discrepancies.csv", &q)),
    );

    let total = items.len();
    let per_page = given(&q.per_page)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(PAGE)
        .clamp(1, MAX_PER_PAGE);
    let pages = total.div_ceil(per_page).max(1);
    let page_no = given(&q.page)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let start = (page_no - 1) * per_page;
    let shown = &items[start.min(total)..(start + per_page).min(total)];
    let _ = write!(
        body,
        "<div class=\"card\"><p class=\"muted\" id=\"total\" aria-live=\"polite\">{}</p>",
        if total == 0 {
            "No flags match.".to_string()
        } else {
            format!(
                "{}–{} of {total} flag{} · ranked by exposure within each currency, never across currencies",
                start + 1,
                start + shown.len(),
                if total == 1 { "" } else { "s" }
            )
        }
    );
    if !sums.is_empty() {
        body += "<p id=\"totals\"><b>Exposure of these flags:</b> ";
        let parts: Vec<String> = sums
            .iter()
            .map(|(c, (amount, n))| {
                format!(
                    "<span class=\"total\" data-currency=\"{}\">{} <span class=\"muted\">({n} flag{})</span></span>",
                    esc(c),
                    esc(&style.money(*amount, c)),
                    if *n == 1 { "" } else { "s" }
                )
            })
            .collect();
        body += &parts.join(" · ");
        body += " <span class=\"muted\">(an open item behind two flags counts in both)</span></p>";
    }
    if shown.is_empty() {
        body += "<p id=\"empty\">Nothing to review here.</p>";
    } else {
        let from = q.with(&[]);
        let _ = write!(
            body,
            "<div class=\"scroll\"><table id=\"queue\"><thead><tr>{}{}{}{}{}<th scope=\"col\">Contract</th><th scope=\"col\">Master</th>{}{}</tr></thead><tbody>",
            sort_header(&q, "exposure", "Exposure", " class=\"num\""),
            sort_header(&q, "days", "Due shift<sup><a href=\"#days-legend\" aria-label=\"what the days mean\">?</a></sup>", " class=\"num\""),
            sort_header(&q, "severity", "Severity", ""),
            sort_header(&q, "customer", "Customer", ""),
            sort_header(&q, "rule", "What differs · where", ""),
            sort_header(&q, "status", "Status", ""),
            sort_header(&q, "assignee", "Assignee", ""),
        );
        for f in shown {
            let d = &f.discrepancy;
            let href = format!(
                "/flags/{}?{}",
                d.id,
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("from", &from)
                    .finish()
            );
            let days = d.finding.exposure.days;
            let _ = write!(
                body,
                "<tr class=\"flag\" data-id=\"{id}\"><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td><a class=\"customer-link\" tabindex=\"-1\" href=\"/customers/{}\">{}</a><br><span class=\"muted\">{}</span></td>\
                 <td><a class=\"flag-link\" href=\"{href}\">{}</a><br><span class=\"muted\">{} · {}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                money(style, d),
                if days == 0 { "–".to_string() } else { format!("{days:+}") },
                severity_badge(d.finding.severity),
                esc(d.finding.customer.as_str()),
                esc(d.finding.customer.as_str()),
                esc(f.customer_name.as_deref().unwrap_or("")),
                esc(rule_label(d.finding.rule)),
                esc(&scope_words(&d.finding.scope)),
                esc(field_label(&d.finding.field)),
                esc(&d.finding.contract_value),
                esc(&d.finding.master_value),
                status_text(f),
                esc(d.assignee.as_deref().unwrap_or("")),
                id = d.id,
                href = esc(&href),
            );
        }
        body += "</tbody></table></div>";
        body += "<p class=\"muted legend\" id=\"days-legend\"><b>Due shift</b>: how many days later (+) or earlier (−) \
                 the master's net due dates fall than the contract's on the affected open items; – where the flag does not move due dates. \
                 <b>Exposure</b>: the open receivables the flag concerns, in their own currency.</p>";
    }
    body += "<nav class=\"pager\" aria-label=\"Pages\">";
    if page_no > 1 {
        let _ = write!(
            body,
            "<a class=\"button quiet\" id=\"first-page\" href=\"{}\">First page</a><a class=\"button quiet\" id=\"prev-page\" href=\"{}\">Previous page</a>",
            esc(&q.link(&[("page", "")])),
            esc(&q.link(&[("page", (page_no - 1).to_string().as_str())]))
        );
    }
    if pages > 1 {
        let _ = write!(
            body,
            "<span class=\"muted\">Page {page_no} of {pages}</span>"
        );
    }
    if page_no < pages {
        let _ = write!(
            body,
            "<a class=\"button quiet\" id=\"next-page\" href=\"{}\">Next page</a>",
            esc(&q.link(&[("page", (page_no + 1).to_string().as_str())]))
        );
    }
    body += "</nav></div>";
    with_cookie(page(&who, StatusCode::OK, "Queue", &body), cookie)
}

fn export_link(path: &str, q: &QueueQuery) -> String {
    let status = match given(&q.status) {
        Some("all") | None => "",
        Some(s) => s,
    };
    let v = |o: &Option<String>| given(o).unwrap_or("").to_string();
    let pairs = [
        ("status", status.to_string()),
        ("rule", v(&q.rule)),
        ("severity", v(&q.severity)),
        ("company_code", v(&q.company_code)),
        ("assignee", v(&q.assignee)),
        ("customer", v(&q.customer)),
        ("q", v(&q.q)),
    ];
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let qs = query_string(&refs);
    if qs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{qs}")
    }
}
