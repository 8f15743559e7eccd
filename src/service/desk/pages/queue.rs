//! `/`: the review queue with its status tabs, filters, exports and pages.

use super::super::api::{self, QueueParams};
use super::super::DeskState;
use super::kit::{
    esc, money, page, query_string, severity_badge, status_text, viewer, with_cookie,
};
use crate::model::{DiscrepancyStatus, Rule};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::fmt::Write as _;
use std::sync::Arc;

fn select(name: &str, label: &str, current: Option<&str>, options: &[(String, String)]) -> String {
    let mut s = format!(
        "<label>{label}<select name=\"{name}\" id=\"f-{name}\"><option value=\"\">all</option>"
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
    s + "</select></label>"
}

fn param(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn filter_pairs(p: &QueueParams) -> Vec<(&'static str, String)> {
    vec![
        ("status", param(&p.status).to_string()),
        ("rule", param(&p.rule).to_string()),
        ("severity", param(&p.severity).to_string()),
        ("company_code", param(&p.company_code).to_string()),
        ("assignee", param(&p.assignee).to_string()),
        ("customer", param(&p.customer).to_string()),
        ("q", param(&p.q).to_string()),
    ]
}

fn link_with(
    p: &QueueParams,
    path: &str,
    extra: &[(&str, &str)],
    replace_status: Option<&str>,
) -> String {
    let mut pairs: Vec<(&str, String)> = filter_pairs(p);
    if let Some(s) = replace_status {
        pairs.retain(|(k, _)| *k != "status");
        pairs.push(("status", s.to_string()));
    }
    let mut refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    refs.extend_from_slice(extra);
    let q = query_string(&refs);
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

pub(super) async fn queue_page(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Query(mut params): Query<QueueParams>,
) -> Response {
    let (who, cookie) = match viewer(&desk, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The desk opens on the work to do.
    if params.status.is_none() {
        params.status = Some("open".into());
    }
    if params.status.as_deref() == Some("all") {
        params.status = None;
    }
    let view = match api::queue(&desk, &params).await {
        Ok(v) => v,
        Err(r) => return with_cookie(r, cookie),
    };
    let mut body = String::from("<h1>Review queue</h1>");
    body += "<nav class=\"tabs\" id=\"status-tabs\">";
    let all: u64 = view.counts.values().sum();
    let current = params.status.clone().unwrap_or_else(|| "all".into());
    for (status, n) in
        std::iter::once(("all".to_string(), all)).chain(DiscrepancyStatus::ALL.iter().map(|s| {
            (
                s.as_str().to_string(),
                view.counts.get(s.as_str()).copied().unwrap_or(0),
            )
        }))
    {
        let on = if status == current {
            " class=\"on\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<a{on} href=\"{}\" data-status=\"{status}\">{status}<span class=\"n\">{n}</span></a>",
            esc(&link_with(&params, "/", &[], Some(&status)))
        );
    }
    body += "</nav>";

    let rules: Vec<(String, String)> = Rule::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.as_str().replace('_', " ")))
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
    let _ = write!(
        body,
        "<div class=\"card\"><form class=\"filters\" method=\"get\" action=\"/\" id=\"filters\">\
         <input type=\"hidden\" name=\"status\" value=\"{}\">\
         <label>Customer number or name<input name=\"q\" id=\"f-q\" value=\"{}\" placeholder=\"0000100001 / Müller / 上海\"></label>\
         {}{}<label>Company code<input name=\"company_code\" id=\"f-company_code\" size=\"6\" value=\"{}\"></label>{}\
         <button type=\"submit\" id=\"apply\">Filter</button>\
         <a class=\"button quiet\" href=\"/?status={}\">Clear</a>\
         <span class=\"spacer\"></span>\
         <a class=\"button quiet\" id=\"export-xlsx\" href=\"{}\">Export XLSX</a>\
         <a class=\"button quiet\" id=\"export-csv\" href=\"{}\">Export CSV</a>\
         </form></div>",
        esc(&current),
        esc(param(&params.q)),
        select("rule", "Rule", params.rule.as_deref(), &rules),
        select("severity", "Severity", params.severity.as_deref(), &severities),
        esc(param(&params.company_code)),
        select("assignee", "Assignee", params.assignee.as_deref(), &assignees),
        esc(&current),
        esc(&link_with(&params, "/api/v1/discrepancies.xlsx", &[], None)),
        esc(&link_with(&params, "/api/v1/discrepancies.csv", &[], None)),
    );

    let _ = write!(
        body,
        "<div class=\"card\"><p class=\"muted\" id=\"total\">{} flag{} match, largest exposure first.</p>",
        view.total,
        if view.total == 1 { "" } else { "s" }
    );
    if view.items.is_empty() {
        body += "<p id=\"empty\">Nothing to review here.</p>";
    } else {
        body += "<table id=\"queue\"><thead><tr><th class=\"num\">Exposure</th><th class=\"num\">Days</th>\
                 <th>Severity</th><th>Customer</th><th>Rule · scope</th><th>Contract</th><th>Master</th>\
                 <th>Status</th><th>Assignee</th></tr></thead><tbody>";
        for f in &view.items {
            let d = &f.discrepancy;
            let _ = write!(
                body,
                "<tr class=\"flag\" data-id=\"{id}\"><td class=\"num\"><a href=\"/flags/{id}\">{}</a></td>\
                 <td class=\"num\">{}</td><td>{}</td><td><a href=\"/flags/{id}\">{}</a><br><span class=\"muted\">{}</span></td>\
                 <td>{}<br><span class=\"muted\">{} · {}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                money(d),
                d.finding.exposure.days,
                severity_badge(d.finding.severity),
                esc(d.finding.customer.as_str()),
                esc(f.customer_name.as_deref().unwrap_or("")),
                esc(&d.finding.rule.as_str().replace('_', " ")),
                esc(&d.finding.scope.to_string()),
                esc(&d.finding.field),
                esc(&d.finding.contract_value),
                esc(&d.finding.master_value),
                status_text(f),
                esc(d.assignee.as_deref().unwrap_or("")),
                id = d.id,
            );
        }
        body += "</tbody></table>";
    }
    body += "<div class=\"pager\">";
    if params.after.is_some() {
        let _ = write!(
            body,
            "<a class=\"button quiet\" href=\"{}\">First page</a>",
            esc(&link_with(&params, "/", &[], None))
        );
    }
    if let Some(next) = &view.next {
        let _ = write!(
            body,
            "<a class=\"button quiet\" id=\"next-page\" href=\"{}\">Next page</a>",
            esc(&link_with(&params, "/", &[("after", next)], None))
        );
    }
    body += "</div></div>";
    with_cookie(page(&who, StatusCode::OK, "Queue", &body), cookie)
}
