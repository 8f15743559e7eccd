//! `/flags/{id}`: one flag in context (what differs in one sentence, both sides, what to do,
//! the money, history, the customer's other flags) with the actions the user's role allows,
//! and their form posts.

use super::super::actions::{self, Action, ActionError, ActionInput};
use super::super::api::{self, Detail};
use super::super::auth::Principal;
use super::super::format::{self, NumberStyle};
use super::super::wording::rule_label;
use super::super::DeskState;
use super::customer::customer_link;
use super::flag_forms::{action_forms, ActionForm, Kept};
use super::flag_sides::{difference, exposure, left_side, proposal, right_side};
use super::kit::{
    esc, kv, money, opt, page, see_other, severity_badge, status_text, with_cookie, Poster, Viewer,
};
use super::note::note_form;
use super::note_status::notes_list;
use super::queue::{listing, QueueQuery};
use crate::model::StatusChange;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;

/// The customer's notes a flag's page lists (newest first).
const NOTES_SHOWN: u32 = 10;

#[derive(Deserialize, Default)]
pub(super) struct FlagQuery {
    done: Option<String>,
    /// The queue's query string the user came from.
    from: Option<String>,
}

/// The queue filters a `from` value names, re-encoded from known keys only, so what comes
/// back from the browser can only ever be a query string of the queue.
pub(super) fn queue_query(from: Option<&str>) -> String {
    const KEYS: [&str; 12] = [
        "view",
        "per_page",
        "currency",
        "page",
        "status",
        "rule",
        "severity",
        "company_code",
        "assignee",
        "customer",
        "q",
        "sort",
    ];
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(from.unwrap_or("").trim_start_matches('?').as_bytes())
    {
        if KEYS.contains(&k.as_ref()) && !v.is_empty() {
            out.append_pair(&k, &v);
        }
    }
    out.finish()
}

fn queue_link(from: &str) -> String {
    if from.is_empty() {
        "/".into()
    } else {
        format!("/?{from}")
    }
}

fn flag_link(id: i64, from: &str) -> String {
    if from.is_empty() {
        format!("/flags/{id}")
    } else {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("from", from)
            .finish();
        format!("/flags/{id}?{q}")
    }
}

/// The flags before and after `id` in the queue the user came from (same view, filter and
/// order), and where it stands in it.
async fn neighbours(
    desk: &DeskState,
    who: &Principal,
    id: i64,
    from: &str,
) -> (Option<i64>, Option<i64>, usize, usize) {
    let Ok(uri) = format!("/?{from}").parse::<axum::http::Uri>() else {
        return (None, None, 0, 0);
    };
    let Ok(Query(mut q)) = Query::<QueueQuery>::try_from_uri(&uri) else {
        return (None, None, 0, 0);
    };
    let Ok(list) = listing(desk, who, &mut q).await else {
        return (None, None, 0, 0);
    };
    let list = list.items;
    match list.iter().position(|f| f.discrepancy.id == id) {
        Some(i) => (
            i.checked_sub(1).map(|p| list[p].discrepancy.id),
            list.get(i + 1).map(|f| f.discrepancy.id),
            i + 1,
            list.len(),
        ),
        None => (None, None, 0, list.len()),
    }
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "acknowledge" => "Acknowledged.",
        "resolve" => "Resolved.",
        "waive" => "Waiver proposed: the flag stays open until someone else approves it.",
        "approve" => "Waiver approved.",
        "reject" => "Waiver returned to its proposer: the flag is open again.",
        "reopen" => "Reopened.",
        "note" => "Note queued for the ERP.",
        _ => return None,
    })
}

/// How the page is drawn besides the flag: the reader's number style, where they came
/// from, and a refused form to fill in again.
pub(super) struct Drawing<'a> {
    pub(super) style: NumberStyle,
    pub(super) from: String,
    pub(super) kept: Kept<'a>,
}

fn audit_row(a: &StatusChange) -> String {
    format!(
        "<tr class=\"audit-entry\"><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td></tr>",
        format::time(a.at),
        esc(&a.actor),
        a.from.map(|s| s.as_str()).unwrap_or("–"),
        a.to.as_str(),
        esc(a.note.as_deref().unwrap_or(""))
    )
}

async fn flag_body(
    desk: &DeskState,
    who: &Principal,
    detail: &Detail,
    message: Option<(bool, String)>,
    drawing: &Drawing<'_>,
) -> String {
    let f = &detail.flag;
    let d = &f.discrepancy;
    let fi = &d.finding;
    let w = &detail.wording;
    let from = drawing.from.as_str();
    let mut body = String::new();
    if let Some((ok, text)) = message {
        let _ = write!(
            body,
            "<div class=\"msg {}\" id=\"{}\" role=\"{}\">{}</div>",
            if ok { "ok" } else { "err" },
            if ok { "done" } else { "error" },
            if ok { "status" } else { "alert" },
            text
        );
    }
    let (prev, next, position, of) = neighbours(desk, who, d.id, from).await;
    let _ = write!(
        body,
        "<nav class=\"flagnav\" aria-label=\"Queue\"><a id=\"back\" href=\"{}\">← Queue</a>",
        esc(&queue_link(from))
    );
    if position > 0 {
        let _ = write!(
            body,
            "<span class=\"muted\" id=\"position\">{position} of {of}</span>"
        );
    }
    if let Some(p) = prev {
        let _ = write!(
            body,
            "<a id=\"prev-flag\" href=\"{}\">← Previous flag</a>",
            esc(&flag_link(p, from))
        );
    }
    if let Some(n) = next {
        let _ = write!(
            body,
            "<a id=\"next-flag\" href=\"{}\">Next flag →</a>",
            esc(&flag_link(n, from))
        );
    }
    body += "</nav>";
    let _ = write!(
        body,
        "<h1>Flag {} · <a id=\"customer-link\" href=\"{}\">{}</a> {}</h1><p class=\"lead\">{}</p>",
        d.id,
        esc(&customer_link(&fi.customer)),
        esc(fi.customer.as_str()),
        esc(f.customer_name.as_deref().unwrap_or("")),
        esc(w.rule_label)
    );
    body += &difference(detail);
    body += "<div class=\"grid2\">";
    body += &left_side(detail);
    body += &right_side(detail);
    body += "</div>";
    body += &proposal(desk, detail);
    let _ = write!(
        body,
        "<div class=\"card\">{}</div>",
        kv(&[
            (
                "Status",
                format!("<span id=\"status\">{}</span>", status_text(f))
            ),
            ("Rule", esc(rule_label(fi.rule))),
            ("Severity", severity_badge(fi.severity)),
            (
                "Where · what",
                esc(&format!("{} · {}", w.scope_label, w.field_label))
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
                            .unwrap_or_else(|| ", awaiting approval (counts as open)".into())
                    )),
                    _ => "–".into(),
                },
            ),
            (
                "Seen",
                format!(
                    "first {} · last {}",
                    format::time(d.first_seen),
                    format::time(d.last_seen)
                ),
            ),
        ])
    );

    body += &exposure(drawing.style, detail);
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
            "<div class=\"scroll\"><table id=\"items\"><thead><tr><th scope=\"col\">Item</th><th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\">Terms</th>\
             <th scope=\"col\">Baseline</th><th scope=\"col\">Net due (master)</th>{}<th scope=\"col\">Dispute</th></tr></thead><tbody>",
            if by_contract {
                "<th scope=\"col\">Net due (contract)</th><th scope=\"col\" class=\"num\">Shift (days)</th>"
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
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td>{contract}<td>{}</td></tr>",
                esc(&i.key.to_string()),
                esc(&drawing.style.money(i.amount, &i.currency)),
                opt(&i.payment_terms),
                i.baseline_date,
                i.net_due_date.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
                opt(&i.dispute_case),
            );
        }
        body += "</tbody></table></div>";
    }
    body += "</div>";

    body += "<div class=\"grid2\"><div>";
    body += &action_forms(desk, who, detail, from, drawing.kept);
    body += &note_form(
        who,
        detail,
        &flag_link(d.id, from),
        desk.settings.note_max_chars,
    );
    body += "<div class=\"card\" id=\"flag-notes\"><h2>The customer's latest notes</h2>";
    match desk
        .store
        .notes_with_status(&fi.customer, NOTES_SHOWN)
        .await
    {
        Ok(notes) => body += &notes_list(&notes),
        Err(e) => {
            tracing::warn!(error = %e, "review desk: cannot read the customer's notes");
            body += "<p class=\"muted\">The notes cannot be read right now.</p>";
        }
    }
    let _ = write!(
        body,
        "<p><a href=\"{}\">All of this customer: flags, contracts, master data, notes</a></p></div>",
        esc(&customer_link(&fi.customer))
    );
    body += "</div><div>";
    body += "<div class=\"card\" id=\"audit\"><h2>History</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">Change</th><th scope=\"col\">Note</th></tr></thead><tbody>";
    for a in &detail.audit {
        body += &audit_row(a);
    }
    body += "</tbody></table></div></div>";
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
                esc(rule_label(od.finding.rule)),
                esc(&super::super::wording::scope_words(&od.finding.scope)),
                status_text(o),
                money(drawing.style, od)
            );
        }
        body += "</tbody></table>";
    }
    body += "</div></div></div>";
    body
}

/// `message` is HTML (callers escape what they put in it).
async fn render_flag(
    desk: &DeskState,
    who: &Principal,
    id: i64,
    status: StatusCode,
    message: Option<(bool, String)>,
    drawing: &Drawing<'_>,
) -> Response {
    match api::detail(desk, id).await {
        Ok(Some(detail)) => {
            let body = flag_body(desk, who, &detail, message, drawing).await;
            page(who, status, &format!("Flag {id}"), &body)
        }
        Ok(None) => page(who,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("<div class=\"msg err\" id=\"error\" role=\"alert\">There is no flag {id}.</div><p><a href=\"{}\">← Queue</a></p>", esc(&queue_link(&drawing.from))),
        ),
        Err(e) => api::store_error(e),
    }
}

pub(super) async fn flag_page(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, style }: Viewer,
    Path(id): Path<String>,
    Query(q): Query<FlagQuery>,
) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return with_cookie(no_such_flag(&who, &id), cookie);
    };
    let message = q
        .done
        .as_deref()
        .and_then(done_message)
        .map(|m| (true, esc(m)));
    let drawing = Drawing {
        style,
        from: queue_query(q.from.as_deref()),
        kept: None,
    };
    with_cookie(
        render_flag(&desk, &who, id, StatusCode::OK, message, &drawing).await,
        cookie,
    )
}

/// The page for a flag number that is not one (`/flags/abc`).
fn no_such_flag(who: &Principal, id: &str) -> Response {
    page(
        who,
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "<div class=\"msg err\" id=\"error\" role=\"alert\">There is no flag {}: flags are numbered.</div><p><a href=\"/\">← Queue</a></p>",
            esc(id)
        ),
    )
}

/// Who changed the flag after the version the refused form was drawn from, and how.
async fn changed_meanwhile(desk: &DeskState, id: i64, seen: Option<&str>) -> String {
    let Some(seen) = seen.and_then(|v| v.trim().parse::<i64>().ok()) else {
        return String::new();
    };
    let Ok(log) = desk.store.audit_log(id).await else {
        return String::new();
    };
    let since: Vec<String> = log
        .iter()
        .filter(|a| a.at.timestamp_micros() > seen)
        .map(|a| {
            format!(
                "<li>{} {} moved it from {} to {}{}</li>",
                format::time(a.at),
                esc(&a.actor),
                a.from.map(|s| s.as_str()).unwrap_or("–"),
                a.to.as_str(),
                a.note
                    .as_deref()
                    .map(|n| format!(": \u{201c}{}\u{201d}", esc(n)))
                    .unwrap_or_default()
            )
        })
        .collect();
    if since.is_empty() {
        String::new()
    } else {
        format!("<ul id=\"meanwhile\">{}</ul>", since.join(""))
    }
}

pub(super) async fn flag_action(
    State(desk): State<Arc<DeskState>>,
    poster: Poster,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let style = poster.style;
    let who = match poster.with_token(&form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(id) = id.trim().parse::<i64>() else {
        return no_such_flag(&who, &id);
    };
    let from = queue_query(form.from.as_deref());
    let Ok(action) = action.parse::<Action>() else {
        let drawing = Drawing {
            style,
            from,
            kept: None,
        };
        return render_flag(
            &desk,
            &who,
            id,
            StatusCode::NOT_FOUND,
            Some((false, esc(&format!("No action {action:?}.")))),
            &drawing,
        )
        .await;
    };
    let drawing = Drawing {
        style,
        from: from.clone(),
        kept: Some((action, &form)),
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
                    Some((
                        false,
                        esc(&format!(
                            "{s:?} is not a date (YYYY-MM-DD). What you typed is kept below."
                        )),
                    )),
                    &drawing,
                )
                .await
            }
        },
        None => None,
    };
    let input = ActionInput {
        version: form.version.clone(),
        note: form.note.clone(),
        assignee: form.assignee.clone(),
        until,
    };
    match actions::perform(&desk, &who, id, action, &input).await {
        Ok(_) => {
            let link = flag_link(id, &from);
            let sep = if link.contains('?') { '&' } else { '?' };
            see_other(&format!("{link}{sep}done={}", action.as_str()))
        }
        Err(e) => {
            let status = e.status();
            let text = match &e {
                ActionError::Stale { .. } => format!(
                    "Someone changed this flag while you were looking at it, so nothing was changed. Here it is as it stands now; what you typed is kept below.{}",
                    changed_meanwhile(&desk, id, form.version.as_deref()).await
                ),
                _ => format!("{} What you typed is kept below.", esc(&e.to_string())),
            };
            render_flag(&desk, &who, id, status, Some((false, text)), &drawing).await
        }
    }
}
