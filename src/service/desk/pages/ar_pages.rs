//! The collections pages: `/ar` (KPIs per company code and currency, aging bars, OD% trend),
//! `/ar/calls` (the call list; a collector sees their own by default) and
//! `/ar/customers/{customer}` (open items, aging, notes and promises, statement links, and
//! the log-a-call form, whose note goes to the ERP through the outbox like every note).

use super::super::ar_api::default_collector;
use super::super::auth::Permission;
use super::super::auth::Principal;
use super::super::collect_api;
use super::super::DeskState;
use super::ar_charts::{aging_bars, trend};
use super::kit::{esc, hidden, page, see_other, unavailable, with_cookie, Poster, Viewer};
use super::note::{json_reason, NoteFields};
use super::note_status::status_words;
use crate::ar::statement::fmt_amount;
use crate::ar::worklist::{Section, WorkEntry};
use crate::ar::{days_past_due, Bucket};
use crate::collections::kpis::{kpis, GroupBy, KpiQuery};
use crate::collections::snapshot::trends;
use crate::collections::worklist::{worklist, WorklistQuery};
use crate::model::CustomerId;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Days of snapshots the trend lines show.
const TREND_DAYS: u64 = 90;

fn opt_pct(v: Option<Decimal>) -> String {
    v.map(|d| format!("{d} %")).unwrap_or_else(|| "–".into())
}

fn nav() -> &'static str {
    "<nav class=\"tabs\"><a href=\"/ar\" id=\"nav-ar\">AR overview</a> \
     <a href=\"/ar/calls\" id=\"nav-calls\">Call list</a> <a href=\"/\">Review queue</a></nav>"
}

#[derive(Debug, Deserialize)]
pub(super) struct AsOf {
    as_of: Option<String>,
    collector: Option<String>,
}

fn day(raw: Option<&str>) -> NaiveDate {
    raw.and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().date_naive())
}

pub(super) async fn overview(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, .. }: Viewer,
    Query(p): Query<AsOf>,
) -> Response {
    let as_of = day(p.as_of.as_deref());
    let q = KpiQuery {
        by: GroupBy::CompanyCode,
        company_code: None,
        collector: p.collector.clone(),
        as_of,
    };
    let rows = match kpis(desk.store.as_ref(), &desk.ar, &q).await {
        Ok(r) => r,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    let from = as_of
        .checked_sub_days(Days::new(TREND_DAYS))
        .unwrap_or(as_of);
    let trends = match trends(desk.store.as_ref(), desk.ar.dso_months, from, as_of).await {
        Ok(t) => t,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    let mut body = format!(
        "{}<h1>AR overview</h1><p class=\"muted\">as of {as_of}</p>",
        nav()
    );
    body.push_str(
        "<table class=\"kpis\" id=\"kpis\"><thead><tr><th>Company code</th><th>Currency</th>\
         <th>Items</th><th>Open</th><th>Overdue</th><th>OD%</th><th>AR&gt;60</th><th>AR&gt;60 %</th>\
         <th>AR&gt;360</th><th>AR&gt;360 %</th><th>DSO</th><th>Best DSO</th><th>ADD</th></tr></thead><tbody>",
    );
    for r in &rows {
        let days = |v: Option<Decimal>| v.map(|d| d.to_string()).unwrap_or_else(|| "–".into());
        let _ = write!(
            body,
            "<tr data-cc=\"{cc}\" data-currency=\"{cur}\"><td>{cc}</td><td>{cur}</td><td>{}</td>\
             <td class=\"n open\">{}</td><td class=\"n overdue\">{}</td><td class=\"n odp\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            r.items,
            fmt_amount(r.open_amount),
            fmt_amount(r.overdue_amount),
            opt_pct(r.overdue_percent),
            fmt_amount(r.ar_over_60_amount),
            opt_pct(r.ar_over_60_percent),
            fmt_amount(r.ar_over_360_amount),
            opt_pct(r.ar_over_360_percent),
            days(r.dso),
            days(r.best_possible_dso),
            days(r.add),
            cc = esc(&r.company_code),
            cur = esc(&r.currency),
        );
    }
    body.push_str("</tbody></table>");
    if rows.iter().all(|r| r.dso.is_none()) {
        body.push_str(
            "<p class=\"muted\" id=\"dso-note\">DSO needs the sales history (the optional \
             sales_items mapping entity); without it DSO is not shown rather than guessed.</p>",
        );
    }
    body.push_str("<h2>Aging</h2><div class=\"charts\">");
    for r in &rows {
        let b = [
            r.buckets.not_due,
            r.buckets.d1_30,
            r.buckets.d31_60,
            r.buckets.d61_90,
            r.buckets.d91_180,
            r.buckets.d181_360,
            r.buckets.over_360,
        ];
        let title = format!("{} {}", r.company_code, r.currency);
        let _ = write!(
            body,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            esc(&title),
            aging_bars(
                &format!("aging-{}-{}", r.company_code, r.currency),
                &title,
                &b
            )
        );
    }
    body.push_str("</div><h2>Trends</h2><div class=\"charts\">");
    let _ = write!(
        body,
        "<figure><figcaption>OD% by day</figcaption>{}</figure>",
        trend("trend-odp", "OD% by day", "%", &trends.overdue_percent)
    );
    if trends.dso.is_empty() {
        body.push_str(
            "<figure><figcaption>DSO by day</figcaption><p class=\"muted\" id=\"trend-dso-none\">\
             A DSO line appears once a sales history is pulled (the optional sales_items \
             mapping entity).</p></figure>",
        );
    } else {
        let _ = write!(
            body,
            "<figure><figcaption>DSO by day</figcaption>{}</figure>",
            trend("trend-dso", "DSO by day", " d", &trends.dso)
        );
    }
    body.push_str(
        "</div><p class=\"muted\">From the daily snapshots (taken after each open-items pull \
         and by <code>erpsync ar snapshot</code>), per company code and currency.</p>",
    );
    with_cookie(page(&who, StatusCode::OK, "AR overview", &body), cookie)
}

fn entry_row(e: &WorkEntry) -> String {
    let overdue: Vec<String> = e
        .overdue
        .iter()
        .map(|a| format!("{} {}", fmt_amount(a.amount), esc(&a.currency)))
        .collect();
    let promise = e
        .promise
        .as_ref()
        .map(|p| {
            format!(
                "<span class=\"promise {}\">{} {} {} by {}</span>",
                p.status.as_str(),
                p.status.as_str(),
                fmt_amount(p.amount),
                esc(&p.currency),
                p.date
            )
        })
        .unwrap_or_default();
    let note = e
        .last_note
        .as_ref()
        .map(|n| {
            format!(
                "{} {} ({}): {}",
                n.at.format("%Y-%m-%d"),
                esc(&n.author),
                esc(&n.channel),
                esc(&n.text)
            )
        })
        .unwrap_or_default();
    format!(
        "<tr data-customer=\"{c}\"><td>{}</td><td><a href=\"/ar/customers/{c}\">{c}</a></td><td>{}</td>\
         <td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{promise}</td><td>{}</td><td>{}</td><td>{note}</td></tr>",
        e.rank,
        esc(&e.name),
        esc(e.collector.as_deref().unwrap_or("")),
        overdue.join("<br>"),
        e.oldest_days_past_due,
        e.follow_up.map(|d| d.to_string()).unwrap_or_default(),
        esc(&e.open_disputes.join(" ")),
        c = esc(&e.customer),
    )
}

pub(super) async fn calls(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, .. }: Viewer,
    Query(p): Query<AsOf>,
) -> Response {
    let as_of = day(p.as_of.as_deref());
    let collector = default_collector(&who, p.collector.filter(|c| !c.is_empty()));
    let q = WorklistQuery {
        collector: collector.clone(),
        company_code: None,
        limit: 200,
        as_of,
    };
    let list = match worklist(desk.store.as_ref(), &desk.ar, &q).await {
        Ok(l) => l,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    let mut body = format!(
        "{}<h1>Call list</h1><p class=\"muted\">as of {as_of}{}</p>",
        nav(),
        collector
            .as_ref()
            .map(|c| format!(
                " · collector {} · <a href=\"/ar/calls?collector=\">everyone</a>",
                esc(c)
            ))
            .unwrap_or_default()
    );
    for (section, title) in [
        (Section::Call, "To call"),
        (Section::Promised, "Promised, not yet due"),
        (Section::Disputed, "Only disputed items overdue"),
    ] {
        let id = match section {
            Section::Call => "calls",
            Section::Promised => "promised",
            Section::Disputed => "disputed",
        };
        let _ = write!(
            body,
            "<h2>{title}</h2><table class=\"calls\" id=\"{id}\"><thead><tr><th>#</th><th>Customer</th>\
             <th>Name</th><th>Collector</th><th>Overdue</th><th>Oldest (days)</th><th>Promise</th>\
             <th>Follow up</th><th>Disputes</th><th>Last note</th></tr></thead><tbody>"
        );
        for e in list.iter().filter(|e| e.section == section) {
            body.push_str(&entry_row(e));
        }
        body.push_str("</tbody></table>");
    }
    with_cookie(page(&who, StatusCode::OK, "Call list", &body), cookie)
}

pub(super) async fn customer(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, .. }: Viewer,
    Path(raw): Path<String>,
    Query(p): Query<AsOf>,
) -> Response {
    let Ok(id) = CustomerId::parse(&raw) else {
        return with_cookie(
            page(
                &who,
                StatusCode::NOT_FOUND,
                "Not found",
                "<div class=\"msg err\">No such customer.</div>",
            ),
            cookie,
        );
    };
    let as_of = day(p.as_of.as_deref());
    let store = desk.store.as_ref();
    let (general, items, notes) = match tokio::try_join!(
        store.customer(&id),
        store.ar_items_of(std::slice::from_ref(&id), None, as_of),
        store.ar_notes_of(std::slice::from_ref(&id)),
    ) {
        Ok(v) => v,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    // Where each note stands on its way to SAP, found by the note's time and text (a note
    // added between the two reads only goes without its badge until the next view).
    let outbox = match store.notes_with_status(&id, u32::MAX).await {
        Ok(v) => v,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    let name = general.map(|c| c.general.name).unwrap_or_default();
    let mut body = format!(
        "{}<h1 id=\"customer-name\">{} <span class=\"muted\">{}</span></h1><p class=\"muted\">as of {as_of}</p>",
        nav(),
        esc(&name),
        esc(id.as_str())
    );
    let _ = write!(body, "<p><a id=\"mdm-link\" href=\"/customers/{0}\">Flags, contracts, master data and notes of customer {0}</a></p>", esc(id.as_str()));
    // Open items and aging per currency.
    let mut aging: BTreeMap<String, crate::ar::Totals> = BTreeMap::new();
    body.push_str(
        "<h2>Open items</h2><table id=\"items\"><thead><tr><th>Item</th><th>Posted</th><th>Due</th>\
         <th>Days past due</th><th>Amount</th><th>Currency</th><th>Dispute</th></tr></thead><tbody>",
    );
    for i in items.iter().filter(|i| i.open_on(as_of)) {
        let days = days_past_due(as_of, i.due);
        let _ = aging
            .entry(i.currency.clone())
            .or_default()
            .add_item(i.amount, days);
        let _ = write!(
            body,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            if days > 0 { "overdue" } else { "current" },
            esc(&i.key.to_string()),
            i.posting_date,
            i.due,
            days.max(0),
            fmt_amount(i.amount),
            esc(&i.currency),
            esc(i.dispute_case.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</tbody></table><h2>Aging</h2><table id=\"aging\"><thead><tr><th>Currency</th>");
    for b in Bucket::ALL {
        let _ = write!(body, "<th>{}</th>", b.name());
    }
    body.push_str("<th>Total</th></tr></thead><tbody>");
    for (cur, t) in &aging {
        let _ = write!(body, "<tr><td>{}</td>", esc(cur));
        for b in t.buckets {
            let _ = write!(body, "<td class=\"n\">{}</td>", fmt_amount(b));
        }
        let _ = write!(
            body,
            "<td class=\"n total\">{}</td></tr>",
            fmt_amount(t.open)
        );
    }
    body.push_str("</tbody></table>");
    // Notes and promises, newest first.
    body.push_str("<h2>Notes and promises</h2><ul id=\"notes\">");
    for (_, n) in &notes {
        let status = outbox
            .iter()
            .find(|o| o.at == n.at && o.text == n.text)
            .map(|o| {
                let (word, meaning) = status_words(o);
                format!(
                    " <span class=\"badge note-status st-{word}\" data-status=\"{word}\" title=\"{m}\">{word}</span>",
                    m = meaning.replace('"', "&quot;")
                )
            })
            .unwrap_or_default();
        let promise = n
            .promise
            .as_ref()
            .map(|p| {
                let o = crate::ar::promise::outcome(p, &items, as_of, desk.ar.promise_grace_days);
                format!(
                    " <span class=\"promise {}\">promise {} {} by {}: {}</span>",
                    o.status.as_str(),
                    fmt_amount(p.amount),
                    esc(&p.currency),
                    p.date,
                    o.status.as_str()
                )
            })
            .unwrap_or_default();
        let _ = write!(
            body,
            "<li>{} {} ({}{}): {}{}{}{status}</li>",
            n.at.format("%Y-%m-%d %H:%M"),
            esc(&n.author),
            esc(&n.channel),
            n.via
                .as_ref()
                .map(|v| format!(": {}", esc(v)))
                .unwrap_or_default(),
            esc(&n.text),
            n.follow_up
                .map(|d| format!(" [follow up {d}]"))
                .unwrap_or_default(),
            promise
        );
    }
    body.push_str("</ul>");
    // Statements: preview in the browser (print stylesheet for PDF) or download.
    let c = esc(id.as_str());
    let _ = write!(
        body,
        "<h2>Statements</h2><p id=\"statements\">\
         <a href=\"/api/v1/ar/customers/{c}/statement?format=html&amp;lang=en&amp;as_of={as_of}\" id=\"statement-en\">Statement (EN)</a> · \
         <a href=\"/api/v1/ar/customers/{c}/statement?format=html&amp;lang=zh&amp;as_of={as_of}\" id=\"statement-zh\">对账单 (ZH)</a> · \
         <a href=\"/api/v1/ar/customers/{c}/statement?format=html&amp;lang=en&amp;kind=reminder&amp;as_of={as_of}\" id=\"reminder-en\">Reminder (EN)</a> · \
         <a href=\"/api/v1/ar/customers/{c}/statement?format=html&amp;lang=zh&amp;kind=reminder&amp;as_of={as_of}\" id=\"reminder-zh\">付款提醒 (ZH)</a> · \
         <a href=\"/api/v1/ar/customers/{c}/statement?format=xlsx&amp;lang=en&amp;as_of={as_of}\">XLSX</a></p>"
    );
    if who.role.may(Permission::Collect) {
        // The case to offer: the one on the customer's open items when there is just one.
        let mut cases: Vec<&str> = items
            .iter()
            .filter(|i| i.open_on(as_of))
            .filter_map(|i| i.dispute_case.as_deref())
            .collect();
        cases.sort_unstable();
        cases.dedup();
        let case = if cases.len() == 1 { cases[0] } else { "" };
        body.push_str(&call_form(
            &who,
            id.as_str(),
            case,
            &desk,
            &CallForm::default(),
        ));
    }
    with_cookie(
        page(&who, StatusCode::OK, &format!("AR {}", id.as_str()), &body),
        cookie,
    )
}

/// The log-a-call form for `customer`, filled with what `kept` holds (a refused call's
/// fields). Its note goes to the ERP's customer texts, its dispute status to the dispute
/// case, both through the outbox.
fn call_form(
    who: &Principal,
    customer: &str,
    case: &str,
    desk: &DeskState,
    kept: &CallForm,
) -> String {
    let statuses = &desk.dispute_rules.statuses;
    let v = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    // The configured statuses as a list; without `[disputes] statuses`, a key typed in.
    let status_field = if statuses.is_empty() {
        format!(
            "<input name=\"dispute_status\" id=\"call-dispute-status\" size=\"8\" maxlength=\"8\" value=\"{}\">",
            v(&kept.dispute_status)
        )
    } else {
        let mut options = String::from("<option value=\"\">(no change)</option>");
        for st in statuses {
            let on = if kept.dispute_status.as_deref() == Some(st.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(options, "<option{on}>{}</option>", esc(st));
        }
        format!("<select name=\"dispute_status\" id=\"call-dispute-status\">{options}</select>")
    };
    let case = kept.dispute_case.as_deref().unwrap_or(case);
    format!(
        "<div class=\"card actions no-print\" id=\"log-call\"><h2>Log a call</h2>\
         <form method=\"post\" action=\"/ar/customers/{c}/call\">{}{}{}\
         <fieldset><legend>Dispute status (optional: case and status)</legend>\
         <label>Case<input name=\"dispute_case\" id=\"call-dispute-case\" size=\"12\" maxlength=\"40\" value=\"{}\"></label>\
         <label>Status{status_field}</label></fieldset>\
         <button type=\"submit\" id=\"log-call-submit\">Log the call</button></form>\
         <p class=\"muted\">The note is written into the ERP's customer texts, a dispute status \
         onto the dispute case (with the note as its comment), both by the outbox.</p></div>",
        hidden("csrf", who.csrf().unwrap_or("")),
        hidden("customer", customer),
        kept.note.inputs("call", "What was said", desk.settings.note_max_chars),
        esc(case),
        c = esc(customer),
    )
}

#[derive(Debug, Deserialize, Default, Clone)]
pub(super) struct CallForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    note: NoteFields,
    dispute_case: Option<String>,
    dispute_status: Option<String>,
}

/// `POST /ar/customers/{customer}/call`: the note (with its promise) is queued as every
/// note is; a dispute status, when both case and status are given, as the API queues one.
pub(super) async fn log_call(
    State(desk): State<Arc<DeskState>>,
    poster: Poster,
    Path(raw): Path<String>,
    Form(form): Form<CallForm>,
) -> Response {
    let who = match poster.with_token(&form.csrf) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(id) = CustomerId::parse(&raw) else {
        return page(
            &who,
            StatusCode::NOT_FOUND,
            "Not found",
            "<div class=\"msg err\">No such customer.</div>",
        );
    };
    let back = format!("/ar/customers/{}", id.as_str());
    let given = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let dispute = match (given(&form.dispute_case), given(&form.dispute_status)) {
        (Some(case), Some(status)) => Some((case, status)),
        (None, None) | (Some(_), None) => None,
        (None, Some(_)) => {
            return refused(
                &desk,
                &who,
                id.as_str(),
                &form,
                StatusCode::BAD_REQUEST,
                "a dispute status needs the dispute case it is for",
            )
        }
    };
    let note = form.note.clone().input(id.as_str().to_string());
    if let Err(r) = collect_api::queue_note(&desk, &who, note).await {
        let (status, reason) = json_reason(r, "the note was not accepted").await;
        return refused(&desk, &who, id.as_str(), &form, status, &reason);
    }
    if let Some((case, status)) = dispute {
        let text = form.note.text.trim();
        if let Err(r) =
            collect_api::queue_dispute_status(&desk, &who, &case, &status, Some(text)).await
        {
            let (code, reason) = json_reason(r, "the dispute status was not accepted").await;
            let kept = CallForm {
                note: NoteFields::default(),
                ..form
            };
            let body = format!(
                "<div class=\"msg err\" id=\"error\" role=\"alert\">The note was queued; the \
                 dispute status was not: {}.</div><p><a href=\"{}\">← Back to the customer</a></p>{}",
                esc(&reason),
                esc(&back),
                call_form(&who, id.as_str(), "", &desk, &kept)
            );
            return page(&who, code, "Dispute status refused", &body);
        }
        return see_other(&format!("{back}?done=call"));
    }
    see_other(&format!("{back}?done=note"))
}

/// A page with the reason and the form as it was filled; nothing was queued.
fn refused(
    desk: &DeskState,
    who: &Principal,
    customer: &str,
    form: &CallForm,
    status: StatusCode,
    reason: &str,
) -> Response {
    let body = format!(
        "<div class=\"msg err\" id=\"error\" role=\"alert\">The call was not logged: {}. \
         What you typed is kept below.</div><p><a href=\"/ar/customers/{}\">← Back to the customer</a></p>{}",
        esc(reason),
        esc(customer),
        call_form(who, customer, "", desk, form)
    );
    page(who, status, "Call refused", &body)
}
