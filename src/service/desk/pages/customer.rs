//! `/customers/{customer}`: one customer as MDM sees it: every flag (linked), the current
//! contracts, the master at its three levels (general, company code, sales area, credit),
//! and the collectors' notes with where each stands on its way to SAP.

use super::super::api;
use super::super::auth::Principal;
use super::super::format::NumberStyle;
use super::super::wording::{rule_label, scope_words};
use super::super::DeskState;
use super::flag_sides::{address, contract_scope};
use super::kit::{esc, kv, money, opt, page, status_text, unavailable, with_cookie, Viewer};
use super::note::customer_note_form;
use super::note_status::notes_list;
use crate::model::{Contract, Customer, CustomerId, DiscrepancyStatus};
use crate::store::DiscrepancyFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::fmt::Write as _;
use std::sync::Arc;

/// The notes a customer page lists (newest first).
const NOTES_SHOWN: u32 = 100;

#[derive(Deserialize, Default)]
pub(super) struct CustomerQuery {
    done: Option<String>,
}

/// The customer's page link, as the queue and flag pages write it.
pub(super) fn customer_link(customer: &CustomerId) -> String {
    format!("/customers/{}", customer.as_str())
}

fn not_found(who: &Principal, raw: &str) -> Response {
    page(
        who,
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "<div class=\"msg err\" id=\"error\" role=\"alert\">erpsync holds nothing for customer {}: no master data, contract or flag.</div><p><a href=\"/\">← Queue</a></p>",
            esc(raw)
        ),
    )
}

pub(super) async fn customer_page(
    State(desk): State<Arc<DeskState>>,
    Viewer { who, cookie, style }: Viewer,
    Path(raw): Path<String>,
    Query(q): Query<CustomerQuery>,
) -> Response {
    let Ok(id) = CustomerId::parse(raw.trim()) else {
        return with_cookie(not_found(&who, &raw), cookie);
    };
    let store = desk.store.as_ref();
    let filter = DiscrepancyFilter {
        customer: Some(id.clone()),
        ..Default::default()
    };
    let fetched = tokio::try_join!(
        store.customer(&id),
        store.contracts_for(std::slice::from_ref(&id)),
        store.list_discrepancies(&filter),
        store.notes_with_status(&id, NOTES_SHOWN),
    );
    let (customer, contracts, flags, notes) = match fetched {
        Ok(v) => v,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    if customer.is_none() && contracts.is_empty() && flags.is_empty() && notes.is_empty() {
        return with_cookie(not_found(&who, &raw), cookie);
    }
    let flags = match api::views(&desk, flags).await {
        Ok(f) => f,
        Err(e) => return with_cookie(unavailable(e), cookie),
    };
    let name = customer
        .as_ref()
        .map(|c| c.general.name.as_str())
        .unwrap_or("");
    let mut body = String::new();
    if q.done.as_deref() == Some("note") {
        body += "<div class=\"msg ok\" id=\"done\" role=\"status\">Note queued for the ERP.</div>";
    }
    let _ = write!(
        body,
        "<nav class=\"flagnav\" aria-label=\"Customer\"><a id=\"back\" href=\"/\">← Queue</a>\
         <a id=\"ar-link\" href=\"/ar/customers/{0}\">Collections view of this customer</a></nav>\
         <h1 id=\"customer-heading\">Customer {0} <span class=\"muted\">{1}</span></h1>",
        esc(id.as_str()),
        esc(name)
    );

    // Flags first: what MDM came for.
    let open = flags
        .iter()
        .filter(|f| {
            f.awaiting_approval
                || matches!(
                    f.discrepancy.status,
                    DiscrepancyStatus::Open | DiscrepancyStatus::Acknowledged
                )
        })
        .count();
    let _ = write!(
        body,
        "<div class=\"card\" id=\"customer-flags\"><h2>Flags <span class=\"muted\">{open} open of {}</span></h2>",
        flags.len()
    );
    if flags.is_empty() {
        body += "<p class=\"muted\">No flags for this customer.</p>";
    } else {
        body += "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Flag</th><th scope=\"col\">What differs · where</th>\
                 <th scope=\"col\">Contract</th><th scope=\"col\">Master</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Exposure</th></tr></thead><tbody>";
        for f in &flags {
            let d = &f.discrepancy;
            let _ = write!(
                body,
                "<tr class=\"flag\" data-id=\"{0}\"><td><a href=\"/flags/{0}\">#{0}</a></td><td>{1}<br><span class=\"muted\">{2}</span></td>\
                 <td>{3}</td><td>{4}</td><td>{5}</td><td class=\"num\">{6}</td></tr>",
                d.id,
                esc(rule_label(d.finding.rule)),
                esc(&scope_words(&d.finding.scope)),
                esc(&d.finding.contract_value),
                esc(&d.finding.master_value),
                status_text(f),
                money(style, d)
            );
        }
        body += "</tbody></table></div>";
    }
    body += "</div>";

    body += &contracts_card(style, &contracts);
    body += &master_card(style, customer.as_ref());

    body +=
        "<div class=\"grid2\"><div class=\"card\" id=\"customer-notes\"><h2>Collectors' notes</h2>";
    body += &notes_list(&notes);
    body += "</div><div>";
    body += &customer_note_form(&who, &id, &customer_link(&id), desk.settings.note_max_chars);
    body += "</div></div>";
    with_cookie(
        page(
            &who,
            StatusCode::OK,
            &format!("Customer {}", id.as_str()),
            &body,
        ),
        cookie,
    )
}

fn contracts_card(style: NumberStyle, contracts: &[Contract]) -> String {
    let mut s = String::from("<div class=\"card\" id=\"customer-contracts\"><h2>Contracts</h2>");
    if contracts.is_empty() {
        return s + "<p class=\"muted\">No current contract held for this customer.</p></div>";
    }
    s += "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Contract</th><th scope=\"col\">From</th><th scope=\"col\">Scope</th>\
          <th scope=\"col\">Payment terms</th><th scope=\"col\" class=\"num\">Credit limit</th><th scope=\"col\">Valid</th><th scope=\"col\">Billing address</th></tr></thead><tbody>";
    for c in contracts {
        let limit = match (c.credit_limit, &c.currency) {
            (Some(l), Some(cur)) => style.money(l, cur),
            (Some(l), None) => style.amount(l),
            (None, _) => "–".into(),
        };
        let _ = write!(
            s,
            "<tr class=\"contract\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{} – {}</td><td>{}</td></tr>",
            esc(&c.id),
            esc(&source_words(&c.source)),
            esc(&contract_scope(c)),
            opt(&c.payment_terms),
            esc(&limit),
            c.valid_from.map(|d| d.to_string()).unwrap_or_default(),
            c.valid_to.map(|d| d.to_string()).unwrap_or_default(),
            address(&c.billing_address)
        );
    }
    s + "</tbody></table></div></div>"
}

/// Where a contract came from, in words: SAP's sales contracts or a named register.
fn source_words(source: &str) -> String {
    if source == "erp" {
        "SAP sales contract".into()
    } else {
        format!("register {source}")
    }
}

fn master_card(style: NumberStyle, customer: Option<&Customer>) -> String {
    let mut s = String::from("<div class=\"card\" id=\"customer-master\"><h2>Master data</h2>");
    let Some(c) = customer else {
        return s + "<p class=\"muted\">The customer is not in the master.</p></div>";
    };
    let g = &c.general;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    s += "<h3>General</h3>";
    s += &kv(&[
        ("Name", esc(&g.name)),
        ("Address", address(&g.address)),
        ("Posting block", esc(yes_no(g.posting_block))),
        ("Marked for deletion", esc(yes_no(g.deletion_flag))),
    ]);
    let company_codes: Vec<Vec<String>> = c
        .company_codes
        .iter()
        .map(|cc| {
            let blocks = [
                (cc.posting_block, "posting block"),
                (cc.deletion_flag, "marked for deletion"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(", ");
            vec![
                esc(&cc.company_code),
                opt(&cc.payment_terms),
                opt(&cc.reconciliation_account),
                opt(&cc.accounting_clerk),
                opt(&cc.dunning_procedure),
                esc(if blocks.is_empty() { "none" } else { &blocks }),
            ]
        })
        .collect();
    s += &level_table(
        "Company codes",
        "company-codes",
        &[
            "Company code",
            "Payment terms",
            "Reconciliation account",
            "Clerk",
            "Dunning procedure",
            "Blocks",
        ],
        &company_codes,
    );
    let sales_areas: Vec<Vec<String>> = c
        .sales_areas
        .iter()
        .map(|sa| {
            vec![
                esc(&sa.area.to_string()),
                opt(&sa.payment_terms),
                opt(&sa.currency),
                opt(&sa.credit_control_area),
                esc(yes_no(sa.deletion_flag)),
            ]
        })
        .collect();
    s += &level_table(
        "Sales areas",
        "sales-areas",
        &[
            "Sales area",
            "Payment terms",
            "Currency",
            "Credit control area",
            "Marked for deletion",
        ],
        &sales_areas,
    );
    if !c.credit_limits.is_empty() {
        s += "<h3>Credit limits</h3><table id=\"credit-limits\"><thead><tr><th scope=\"col\">Segment</th><th scope=\"col\" class=\"num\">Limit</th></tr></thead><tbody>";
        for l in &c.credit_limits {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&l.segment),
                esc(&match &l.currency {
                    Some(cur) => style.money(l.amount, cur),
                    None => style.amount(l.amount),
                })
            );
        }
        s += "</tbody></table>";
    }
    s + "</div>"
}

/// One master level as a titled table; `rows` hold HTML (escaped by the caller).
fn level_table(title: &str, id: &str, heads: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("<h3>{}</h3>", esc(title));
    if rows.is_empty() {
        return s + "<p class=\"muted\">None.</p>";
    }
    let _ = write!(s, "<div class=\"scroll\"><table id=\"{id}\"><thead><tr>");
    for h in heads {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s += "</tr></thead><tbody>";
    for row in rows {
        s += "<tr>";
        for cell in row {
            let _ = write!(s, "<td>{cell}</td>");
        }
        s += "</tr>";
    }
    s + "</tbody></table></div>"
}
