//! The parts of a flag's page that say what differs and what it costs: the sentence, the
//! two cards whose headlines are the values compared, the proposed change, and the money.

use super::super::api::Detail;
use super::super::format::NumberStyle;
use super::super::wording::SapPlace;
use super::super::DeskState;
use super::kit::{esc, kv, opt};
use crate::model::{Exposure, Rule, Scope};
use std::fmt::Write as _;

/// The sentence, and the rule's own wording (raw names included) for those who want it.
pub(super) fn difference(detail: &Detail) -> String {
    let f = &detail.flag.discrepancy.finding;
    format!(
        "<div class=\"diff\" id=\"difference\"><p id=\"sentence\">{}</p>\
         <details><summary>Technical detail</summary><p class=\"muted\">Rule <code>{}</code> · field <code>{}</code> · scope <code>{}</code>: {}</p></details></div>",
        esc(&detail.wording.sentence),
        esc(f.rule.as_str()),
        esc(&f.field),
        esc(&f.scope.to_string()),
        esc(&f.explanation)
    )
}

fn headline(id: &str, title: &str, value: &str) -> String {
    format!(
        "<div class=\"side card\" id=\"{id}\"><h2 class=\"side-title\">{}</h2><p class=\"value\">{}</p>",
        esc(title),
        esc(value)
    )
}

/// The left card: what the flag measures against (usually the contract).
pub(super) fn left_side(detail: &Detail) -> String {
    let w = &detail.wording;
    let f = &detail.flag.discrepancy.finding;
    let mut s = headline("contract-side", &w.left.title, &w.left.value);
    // Both sides of this rule are master levels: the right card holds them.
    if f.rule == Rule::PaymentTermsCompanyVsSalesArea || f.rule == Rule::UnknownPaymentTerms {
        return s + "</div>";
    }
    if detail.contracts.is_empty() {
        s += "<p class=\"muted\">No current contract held for this customer.</p>";
    }
    for c in &detail.contracts {
        s += &kv(&[
            ("Contract", esc(&c.id)),
            ("Scope", esc(&contract_scope(c))),
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

/// The right card: the master as it stands, the level the flag is about marked.
pub(super) fn right_side(detail: &Detail) -> String {
    let w = &detail.wording;
    let f = &detail.flag.discrepancy.finding;
    let mut s = headline("master-side", &w.right.title, &w.right.value);
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
    // The row a flag is about is marked, so the table and the headline read together.
    let hit = |yes: bool| if yes { " class=\"hit\"" } else { "" };
    let cc_of_area = match &f.scope {
        Scope::SalesArea(sa) if f.rule == Rule::PaymentTermsCompanyVsSalesArea => {
            Some(sa.sales_org.as_str())
        }
        _ => None,
    };
    if !c.company_codes.is_empty() {
        s += "<table class=\"levels\"><thead><tr><th scope=\"col\">Company code</th><th scope=\"col\">Payment terms</th><th scope=\"col\">Clerk</th></tr></thead><tbody>";
        for cc in &c.company_codes {
            let on = f.scope.company_code() == Some(cc.company_code.as_str())
                || cc_of_area == Some(cc.company_code.as_str());
            let _ = write!(
                s,
                "<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>",
                hit(on),
                esc(&cc.company_code),
                opt(&cc.payment_terms),
                opt(&cc.accounting_clerk)
            );
        }
        s += "</tbody></table>";
    }
    if !c.sales_areas.is_empty() {
        s += "<table class=\"levels\"><thead><tr><th scope=\"col\">Sales area</th><th scope=\"col\">Payment terms</th><th scope=\"col\">Currency</th></tr></thead><tbody>";
        for sa in &c.sales_areas {
            let on = f.scope.sales_area() == Some(&sa.area);
            let _ = write!(
                s,
                "<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>",
                hit(on),
                esc(&sa.area.to_string()),
                opt(&sa.payment_terms),
                opt(&sa.currency)
            );
        }
        s += "</tbody></table>";
    }
    s + "</div>"
}

/// "What to do": the change, where to make it, and the configured link to the SAP app.
pub(super) fn proposal(desk: &DeskState, detail: &Detail) -> String {
    let Some(p) = &detail.wording.proposal else {
        return String::new();
    };
    let f = &detail.flag.discrepancy.finding;
    let (cc, org, channel, division) = match &f.scope {
        Scope::CompanyCode(cc) => (cc.as_str(), "", "", ""),
        Scope::SalesArea(sa) => (
            sa.sales_org.as_str(),
            sa.sales_org.as_str(),
            sa.distribution_channel.as_str(),
            sa.division.as_str(),
        ),
        _ => ("", "", "", ""),
    };
    let link = if p.place.is_master() || p.place == SapPlace::Credit {
        desk.settings.link(&[
            ("customer", f.customer.as_str()),
            ("company_code", cc),
            ("sales_org", org),
            ("distribution_channel", channel),
            ("division", division),
            ("transaction", p.place.code()),
        ])
    } else {
        None
    };
    let mut s = format!(
        "<div class=\"card todo\" id=\"proposal\"><h2>What to do</h2><p id=\"proposal-text\">{}</p><p class=\"muted\">In SAP: <span id=\"proposal-where\">{}</span></p>",
        esc(&p.text),
        esc(p.transaction)
    );
    if let Some(url) = link {
        let _ = write!(
            s,
            "<p><a class=\"button quiet\" id=\"sap-link\" href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">Open in SAP</a></p>",
            esc(&url)
        );
    }
    s + "</div>"
}

fn per_currency(style: NumberStyle, e: &Exposure) -> String {
    if e.by_currency.is_empty() && e.items > 0 {
        return style.money(e.amount, &e.currency);
    }
    e.by_currency
        .iter()
        .map(|c| {
            format!(
                "{} ({} item{})",
                style.money(c.amount, &c.currency),
                c.items,
                if c.items == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The money at stake: what the rule measured, and always the open items it concerns.
pub(super) fn exposure(style: NumberStyle, detail: &Detail) -> String {
    let d = &detail.flag.discrepancy;
    let e = &d.finding.exposure;
    let t = &detail.affected_total;
    let measured = if e.items == 0 {
        "none measured by this rule".to_string()
    } else {
        per_currency(style, e)
    };
    let concerned = if t.items == 0 {
        "no open receivables in this scope".to_string()
    } else {
        per_currency(style, t)
    };
    let shift = match e.days {
        0 => "none: this flag does not move due dates".to_string(),
        d if d > 0 => {
            format!("+{d} days: the master lets the customer pay later than the contract")
        }
        d => format!("{d} days: the master asks for payment earlier than the contract"),
    };
    let mut rows = vec![
        (
            "Open items concerned",
            format!("<span id=\"concerned\">{}</span>", esc(&concerned)),
        ),
        (
            "Billed on the terms in question",
            format!("<span id=\"measured\">{}</span>", esc(&measured)),
        ),
        ("Due-date shift", esc(&shift)),
    ];
    if e.days != 0 && e.items > 0 {
        rows.push(("Cost of the shift", esc(&style.money(e.cost, &e.currency))));
    }
    format!(
        "<div class=\"card\" id=\"exposure\"><h2>Money at stake</h2>{}",
        kv(&rows)
    )
}

/// An address on one line, or a dash when there is none.
/// Where a contract applies, in words ("all" for no restriction).
pub(super) fn contract_scope(c: &crate::model::Contract) -> String {
    let scope = Scope::covered_by(&c.scope)
        .iter()
        .map(super::super::wording::scope_words)
        .collect::<Vec<_>>()
        .join(", ");
    if scope.is_empty() {
        "all".into()
    } else {
        scope
    }
}

pub(super) fn address(a: &Option<crate::model::Address>) -> String {
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
