//! `/flags/{id}`: one flag in context (both sides, the money, history, the customer's
//! other flags) with the actions the user's role allows, and their form posts.

use super::super::actions::{self, Action, ActionError, ActionInput};
use super::super::api::{self, Detail};
use super::super::auth::{Permission, Principal};
use super::super::DeskState;
use super::kit::{
    esc, hidden, kv, money, opt, page, poster, see_other, severity_badge, status_text, viewer,
    with_cookie,
};
use super::note::note_form;
use crate::model::Scope;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub(super) struct FlagQuery {
    done: Option<String>,
}

fn contract_side(detail: &Detail) -> String {
    let f = &detail.flag.discrepancy.finding;
    let mut s = format!(
        "<div class=\"side card\" id=\"contract-side\"><h3>Contract</h3><p class=\"value\">{}</p>",
        esc(&f.contract_value)
    );
    if detail.contracts.is_empty() {
        s += "<p class=\"muted\">No current contract held for this customer.</p>";
    }
    for c in &detail.contracts {
        let scope = Scope::covered_by(&c.scope)
            .iter()
            .map(Scope::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        s += &kv(&[
            ("Contract", esc(&format!("{} ({})", c.id, c.source))),
            ("Scope", esc(if scope.is_empty() { "all" } else { &scope })),
            ("Payment terms", opt(&c.payment_terms)),
            ("Currency", opt(&c.currency)),
            (
                "Credit limit",
                esc(&c
                    .credit_limit
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "–".into())),
            ),
            (
                "Valid",
                esc(&format!(
                    "{} – {}",
                    c.valid_from.map(|d| d.to_string()).unwrap_or_default(),
                    c.valid_to.map(|d| d.to_string()).unwrap_or_default()
                )),
            ),
            ("Billing address", address(&c.billing_address)),
        ]);
    }
    s + "</div>"
}

fn master_side(detail: &Detail) -> String {
    let f = &detail.flag.discrepancy.finding;
    let mut s = format!(
        "<div class=\"side card\" id=\"master-side\"><h3>Master</h3><p class=\"value\">{}</p>",
        esc(&f.master_value)
    );
    let Some(c) = &detail.customer else {
        return s + "<p class=\"muted\">The customer is not in the master.</p></div>";
    };
    let g = &c.general;
    let mut flags = Vec::new();
    if g.posting_block {
        flags.push("posting block");
    }
    if g.deletion_flag {
        flags.push("marked for deletion");
    }
    s += &kv(&[
        ("Customer", esc(&format!("{} {}", g.customer, g.name))),
        ("Address", address(&g.address)),
        (
            "Blocks",
            esc(if flags.is_empty() { "none" } else { "" }) + &esc(&flags.join(", ")),
        ),
    ]);
    if !c.company_codes.is_empty() {
        s += "<table><thead><tr><th>Company code</th><th>Payment terms</th><th>Clerk</th></tr></thead><tbody>";
        for cc in &c.company_codes {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&cc.company_code),
                opt(&cc.payment_terms),
                opt(&cc.accounting_clerk)
            );
        }
        s += "</tbody></table>";
    }
    if !c.sales_areas.is_empty() {
        s += "<table><thead><tr><th>Sales area</th><th>Payment terms</th><th>Currency</th></tr></thead><tbody>";
        for sa in &c.sales_areas {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&sa.area.to_string()),
                opt(&sa.payment_terms),
                opt(&sa.currency)
            );
        }
        s += "</tbody></table>";
    }
    s + "</div>"
}

fn action_forms(desk: &DeskState, who: &Principal, detail: &Detail) -> String {
    let d = &detail.flag.discrepancy;
    let csrf = who.csrf().unwrap_or("");
    let base = hidden("csrf", csrf) + &hidden("version", &detail.flag.version);
    let mut s = String::from("<div class=\"card actions\" id=\"actions\"><h2>Actions</h2>");
    let mut offered = 0;
    for action in Action::ALL {
        if !action.applies_to(d) || !who.role.may(action.permission()) {
            continue;
        }
        let form = |inner: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/flags/{}/{}\" id=\"form-{}\">{base}{inner}<button type=\"submit\" id=\"do-{}\">{label}</button></form>",
                d.id,
                action.as_str(),
                action.as_str(),
                action.as_str()
            )
        };
        let html = match action {
            Action::Acknowledge => {
                let mut opts = String::new();
                for u in desk.users.iter().filter(|u| u.role.may(Permission::Review)) {
                    let on = if u.name == who.name { " selected" } else { "" };
                    let _ = write!(opts, "<option value=\"{0}\"{on}>{0}</option>", esc(&u.name));
                }
                if !desk.users.iter().any(|u| u.name == who.name) {
                    let _ = write!(opts, "<option value=\"{0}\" selected>{0}</option>", esc(&who.name));
                }
                form(
                    &format!(
                        "<label>Assign to<select name=\"assignee\" id=\"assignee\">{opts}</select></label>\
                         <label>Note (optional)<textarea name=\"note\" id=\"ack-note\"></textarea></label>"
                    ),
                    "Acknowledge",
                )
            }
            Action::Resolve => form(
                "<label>What was done (required)<textarea name=\"note\" id=\"resolve-note\" required></textarea></label>",
                "Resolve",
            ),
            Action::Waive => {
                let until = (chrono::Utc::now().date_naive() + chrono::Days::new(90)).to_string();
                form(
                    &format!(
                        "<label>Reason (required)<textarea name=\"note\" id=\"waive-note\" required></textarea></label>\
                         <label>Waived until (required)<input type=\"date\" name=\"until\" id=\"waive-until\" value=\"{until}\" required></label>"
                    ),
                    "Propose waiver",
                )
            }
            Action::Approve => {
                if d.waiver_by.as_deref() == Some(who.name.as_str()) {
                    s += "<p class=\"muted\" id=\"own-waiver\">You proposed this waiver: someone else must approve it.</p>";
                    continue;
                }
                form(
                    &format!(
                        "<p>Waiver proposed by <b>{}</b> until {}.</p><label>Note (optional)<textarea name=\"note\" id=\"approve-note\"></textarea></label>",
                        esc(d.waiver_by.as_deref().unwrap_or("?")),
                        d.waived_until.map(|u| u.to_string()).unwrap_or_default()
                    ),
                    "Approve waiver",
                )
            }
            Action::Reopen => form(
                "<label>Why (optional)<textarea name=\"note\" id=\"reopen-note\"></textarea></label>",
                "Reopen",
            ),
        };
        s += &html;
        offered += 1;
    }
    if offered == 0 && !s.contains("own-waiver") {
        let _ = write!(
            s,
            "<p class=\"muted\" id=\"no-actions\">Nothing your role ({}) can do to this flag in its state ({}).</p>",
            who.role,
            d.status
        );
    }
    s + "</div>"
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "acknowledge" => "Acknowledged.",
        "resolve" => "Resolved.",
        "waive" => "Waiver proposed: it counts once someone else approves it.",
        "approve" => "Waiver approved.",
        "reopen" => "Reopened.",
        "note" => "Note queued for the ERP.",
        _ => return None,
    })
}

fn flag_body(
    desk: &DeskState,
    who: &Principal,
    detail: &Detail,
    message: Option<(bool, String)>,
) -> String {
    let f = &detail.flag;
    let d = &f.discrepancy;
    let fi = &d.finding;
    let e = &fi.exposure;
    let mut body = String::new();
    if let Some((ok, text)) = message {
        let _ = write!(
            body,
            "<div class=\"msg {}\" id=\"{}\">{}</div>",
            if ok { "ok" } else { "err" },
            if ok { "done" } else { "error" },
            esc(&text)
        );
    }
    let _ = write!(
        body,
        "<p><a href=\"/\">← Queue</a></p><h1>Flag {} · {} {}</h1>\
         <div class=\"card\">{}</div>",
        d.id,
        esc(fi.customer.as_str()),
        esc(f.customer_name.as_deref().unwrap_or("")),
        kv(&[
            (
                "Status",
                format!("<span id=\"status\">{}</span>", status_text(f))
            ),
            ("Rule", esc(&fi.rule.as_str().replace('_', " "))),
            ("Severity", severity_badge(fi.severity)),
            (
                "Scope · field",
                esc(&format!("{} · {}", fi.scope, fi.field))
            ),
            ("Assignee", opt(&d.assignee)),
            (
                "Waiver",
                match (&d.waiver_by, d.waived_until) {
                    (Some(by), until) => esc(&format!(
                        "proposed by {by}{}{}",
                        until.map(|u| format!(", until {u}")).unwrap_or_default(),
                        d.waiver_approved_by
                            .as_ref()
                            .map(|a| format!(", approved by {a}"))
                            .unwrap_or_else(|| ", awaiting approval".into())
                    )),
                    _ => "–".into(),
                },
            ),
            (
                "Seen",
                esc(&format!(
                    "first {} · last {}",
                    d.first_seen.format("%Y-%m-%d %H:%M"),
                    d.last_seen.format("%Y-%m-%d %H:%M")
                )),
            ),
        ])
    );
    let _ = write!(
        body,
        "<div class=\"diff\" id=\"difference\">{}</div>",
        esc(&fi.explanation)
    );
    body += "<div class=\"grid2\">";
    body += &contract_side(detail);
    body += &master_side(detail);
    body += "</div>";

    // Money at stake.
    let mut by_currency = String::new();
    for c in &e.by_currency {
        let _ = write!(
            by_currency,
            "{} {} ({} items); ",
            c.amount.round_dp(2),
            c.currency,
            c.items
        );
    }
    let _ = write!(
        body,
        "<div class=\"card\" id=\"exposure\"><h2>Affected open items</h2>{}",
        kv(&[
            ("Exposure", money(d)),
            ("Items", e.items.to_string()),
            (
                "Due-date shift",
                esc(&format!(
                    "{} days ({})",
                    e.days,
                    if e.days > 0 {
                        "the master lets the customer pay later than the contract"
                    } else if e.days < 0 {
                        "the master asks for payment earlier than the contract"
                    } else {
                        "none"
                    }
                )),
            ),
            (
                "Cost of the shift",
                esc(&format!("{} {}", e.cost, e.currency))
            ),
            ("Per currency", esc(by_currency.trim_end_matches("; "))),
        ])
    );
    if detail.affected_items.is_empty() {
        body += "<p class=\"muted\">No open receivables in this scope.</p>";
    } else {
        // The contract's due date per item where the flag compares terms the desk can read.
        let by_contract = detail
            .affected_items
            .iter()
            .any(|a| a.contract_due.is_some());
        let _ = write!(
            body,
            "<table id=\"items\"><thead><tr><th>Item</th><th class=\"num\">Amount</th><th>Terms</th>\
             <th>Baseline</th><th>Net due (master)</th>{}<th>Dispute</th></tr></thead><tbody>",
            if by_contract {
                "<th>Net due (contract)</th><th class=\"num\">Shift (days)</th>"
            } else {
                ""
            }
        );
        for a in &detail.affected_items {
            let i = &a.item;
            let contract = if by_contract {
                format!(
                    "<td>{}</td><td class=\"num\">{}</td>",
                    a.contract_due
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "–".into()),
                    a.shift_days
                        .map(|x| format!("{x:+}"))
                        .unwrap_or_else(|| "–".into())
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"num\">{} {}</td><td>{}</td><td>{}</td><td>{}</td>{contract}<td>{}</td></tr>",
                esc(&i.key.to_string()),
                esc(&i.amount.to_string()),
                esc(&i.currency),
                opt(&i.payment_terms),
                i.baseline_date,
                i.net_due_date.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
                opt(&i.dispute_case),
            );
        }
        body += "</tbody></table>";
    }
    body += "</div>";

    body += "<div class=\"grid2\"><div>";
    body += &action_forms(desk, who, detail);
    body += &note_form(who, detail, &format!("/flags/{}", d.id));
    body += "</div><div>";
    body += "<div class=\"card\" id=\"audit\"><h2>History</h2><table><thead><tr><th>When (UTC)</th><th>Who</th><th>Change</th><th>Note</th></tr></thead><tbody>";
    for a in &detail.audit {
        let _ = write!(
            body,
            "<tr class=\"audit-entry\"><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
            a.at.format("%Y-%m-%d %H:%M:%S"),
            esc(&a.actor),
            a.from.map(|s| s.as_str()).unwrap_or("–"),
            a.to.as_str(),
            esc(a.note.as_deref().unwrap_or(""))
        );
    }
    body += "</tbody></table></div>";
    body += "<div class=\"card\" id=\"other-flags\"><h2>The customer's other flags</h2>";
    if detail.other_flags.is_empty() {
        body += "<p class=\"muted\">None.</p>";
    } else {
        body += "<table><tbody>";
        for o in &detail.other_flags {
            let od = &o.discrepancy;
            let _ = write!(
                body,
                "<tr><td><a href=\"/flags/{0}\">#{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td class=\"num\">{4}</td></tr>",
                od.id,
                esc(&od.finding.rule.as_str().replace('_', " ")),
                esc(&od.finding.scope.to_string()),
                status_text(o),
                money(od)
            );
        }
        body += "</tbody></table>";
    }
    body += "</div></div></div>";
    body
}

async fn render_flag(
    desk: &DeskState,
    who: &Principal,
    id: i64,
    status: StatusCode,
    message: Option<(bool, String)>,
) -> Response {
    match api::detail(desk, id).await {
        Ok(Some(detail)) => {
            let body = flag_body(desk, who, &detail, message);
            page(who, status, &format!("Flag {id}"), &body)
        }
        Ok(None) => page(who,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("<div class=\"msg err\" id=\"error\">There is no flag {id}.</div><p><a href=\"/\">← Queue</a></p>"),
        ),
        Err(e) => api::store_error(e),
    }
}

pub(super) async fn flag_page(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<FlagQuery>,
) -> Response {
    let (who, cookie) = match viewer(&desk, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let message = q
        .done
        .as_deref()
        .and_then(done_message)
        .map(|m| (true, m.to_string()));
    with_cookie(
        render_flag(&desk, &who, id, StatusCode::OK, message).await,
        cookie,
    )
}

#[derive(Deserialize)]
pub(super) struct ActionForm {
    csrf: String,
    version: Option<String>,
    note: Option<String>,
    assignee: Option<String>,
    until: Option<String>,
}

pub(super) async fn flag_action(
    State(desk): State<Arc<DeskState>>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let who = match poster(&desk, &headers, &form.csrf).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(action) = action.parse::<Action>() else {
        return render_flag(
            &desk,
            &who,
            id,
            StatusCode::NOT_FOUND,
            Some((false, format!("No action {action:?}."))),
        )
        .await;
    };
    let until = match form
        .until
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                return render_flag(
                    &desk,
                    &who,
                    id,
                    StatusCode::BAD_REQUEST,
                    Some((false, format!("{s:?} is not a date (YYYY-MM-DD)."))),
                )
                .await
            }
        },
        None => None,
    };
    let input = ActionInput {
        version: form.version,
        note: form.note,
        assignee: form.assignee,
        until,
    };
    match actions::perform(&desk, &who, id, action, &input).await {
        Ok(_) => see_other(&format!("/flags/{id}?done={}", action.as_str())),
        Err(e) => {
            let status = e.status();
            let text = match &e {
                ActionError::Stale { .. } => format!(
                    "Someone changed this flag while you were looking at it; nothing was changed. Here it is as it stands now. ({e})"
                ),
                _ => e.to_string(),
            };
            render_flag(&desk, &who, id, status, Some((false, text))).await
        }
    }
}

/// An address on one line, or a dash when there is none.
fn address(a: &Option<crate::model::Address>) -> String {
    esc(&a
        .as_ref()
        .map(|a| {
            format!(
                "{}, {}, {} {}, {}",
                a.name, a.street, a.postal_code, a.city, a.country
            )
        })
        .unwrap_or_else(|| "–".into()))
}
