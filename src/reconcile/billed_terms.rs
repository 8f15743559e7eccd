//! Open items billed on terms other than the contract's.
//!
//! The master can agree with the contract while invoices still go out on other terms: a
//! billing clerk overrides the key on the invoice, an IDoc from another system carries its
//! own tiers (E1EDK18), a sales order kept old terms. Each item is judged by the dates it
//! was actually billed with (baseline plus the applied days, or the ERP's net due date)
//! against what the contract gives for the same document. Items that follow a master level
//! which itself contradicts the contract are left to that level's flag, so the money at
//! stake is never counted twice.

use super::due_dates::due_under;
use super::exposure::exposure_of_items;
use super::terms_book::TermsBook;
use crate::model::payment_terms::{days_after, describe};
use crate::model::{Contract, Customer, Finding, OpenItem, PaymentTerms, Rule, Scope, Severity};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A due-date shift of at least this many days is high severity (as for master terms).
const HIGH_SEVERITY_DAYS: i64 = 15;

/// What an item was billed with: net due date, and the discount deadlines when known.
#[derive(Debug, PartialEq, Eq)]
struct Billed {
    net: NaiveDate,
    /// `None` when the source gave only the net due date.
    discounts: Option<Vec<(NaiveDate, Decimal)>>,
}

/// The terms an item was billed with: its applied tiers when the source gave them (what
/// FI stored on the item), else its net due date, else its key's definition.
fn billed(item: &OpenItem, book: &TermsBook) -> Option<Billed> {
    let a = &item.applied;
    let tiers = [
        (a.discount1_days, a.discount1_percent),
        (a.discount2_days, a.discount2_percent),
    ];
    let has_tiers = tiers.iter().any(|(d, _)| d.is_some()) || a.net_days.is_some();
    if has_tiers {
        let base = item.baseline_date;
        let discounts: Vec<(NaiveDate, Decimal)> = tiers
            .iter()
            .filter_map(|(d, p)| match (d, p) {
                (Some(d), Some(p)) if !p.is_zero() => Some((days_after(base, *d), p.normalize())),
                _ => None,
            })
            .collect();
        let last = a
            .net_days
            .filter(|d| *d > 0)
            .or(a.discount2_days.filter(|d| *d > 0))
            .or(a.discount1_days)
            .unwrap_or(0);
        let net = item.net_due_date.unwrap_or_else(|| days_after(base, last));
        return Some(Billed {
            net,
            discounts: Some(discounts),
        });
    }
    if let Some(net) = item.net_due_date {
        return Some(Billed {
            net,
            discounts: None,
        });
    }
    let terms = book.get(item.payment_terms.as_deref()?)?;
    Some(expected(terms, item))
}

/// What `terms` give for the item's document.
fn expected(terms: &PaymentTerms, item: &OpenItem) -> Billed {
    let due = due_under(terms, item);
    Billed {
        net: due.net,
        discounts: Some(
            due.discounts
                .into_iter()
                .filter(|(_, p)| !p.is_zero())
                .map(|(d, p)| (d, p.normalize()))
                .collect(),
        ),
    }
}

fn agrees(billed: &Billed, wanted: &Billed) -> bool {
    billed.net == wanted.net
        && match (&billed.discounts, &wanted.discounts) {
            (Some(b), Some(w)) => b == w,
            // Only the net due date is known: judge by it alone.
            _ => true,
        }
}

/// How the billed terms of an item are named in the flag: the tiers it carries (what
/// really applies), after its key when it has one.
fn billed_label(item: &OpenItem) -> String {
    let a = &item.applied;
    let mut parts = Vec::new();
    for (d, p) in [
        (a.discount1_days, a.discount1_percent),
        (a.discount2_days, a.discount2_percent),
    ] {
        if let (Some(d), Some(p)) = (d, p) {
            if !p.is_zero() {
                parts.push(format!("{}% {d} days", p.normalize()));
            }
        }
    }
    if let Some(n) = a.net_days.filter(|n| *n > 0) {
        parts.push(format!("net {n}"));
    }
    let key = item
        .payment_terms
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    match (key, parts.is_empty()) {
        (Some(k), true) => k.to_string(),
        (Some(k), false) => format!("{k} ({})", parts.join(", ")),
        (None, false) => parts.join(", "),
        (None, true) => "(no terms on the item)".into(),
    }
}

/// One flag per company code the contract covers, listing the items billed off-contract.
pub(super) fn billed_terms(
    customer: &Customer,
    contract: &Contract,
    agreed: &PaymentTerms,
    items: &[OpenItem],
    book: &TermsBook,
    add: &mut impl FnMut(Finding),
) {
    for cc in customer
        .company_codes
        .iter()
        .filter(|cc| contract.scope.covers_company_code(&cc.company_code))
    {
        // A master level that contradicts the contract has its own flag, which already
        // carries the items billed on it.
        let contradicting_master = cc
            .payment_terms
            .as_deref()
            .and_then(|k| book.get(k))
            .filter(|m| book.compare(agreed, m).is_some());
        let mut off: Vec<(&OpenItem, i64)> = Vec::new();
        for item in items
            .iter()
            .filter(|i| i.key.company_code == cc.company_code && !i.is_credit())
        {
            let Some(was) = billed(item, book) else {
                continue;
            };
            let wanted = expected(agreed, item);
            if agrees(&was, &wanted) {
                continue;
            }
            if contradicting_master.is_some_and(|m| agrees(&was, &expected(m, item))) {
                continue;
            }
            off.push((item, (was.net - wanted.net).num_days()));
        }
        if off.is_empty() {
            continue;
        }
        let days = off
            .iter()
            .map(|(_, d)| *d)
            .max_by_key(|d| (d.abs(), *d))
            .unwrap_or(0);
        let mut labels: BTreeMap<String, u32> = BTreeMap::new();
        for (item, _) in &off {
            *labels.entry(billed_label(item)).or_default() += 1;
        }
        let billed_on = labels
            .iter()
            .map(|(l, n)| format!("{l} on {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut documents: Vec<&str> = off.iter().map(|(i, _)| i.key.document.as_str()).collect();
        documents.sort_unstable();
        documents.dedup();
        let shown = documents.len().min(5);
        let more = if documents.len() > shown {
            format!(" and {} more", documents.len() - shown)
        } else {
            String::new()
        };
        add(Finding {
            rule: Rule::OpenItemBilledTerms,
            severity: if days.abs() >= HIGH_SEVERITY_DAYS {
                Severity::High
            } else {
                Severity::Medium
            },
            customer: customer.id().clone(),
            scope: Scope::CompanyCode(cc.company_code.clone()),
            field: "payment_terms".into(),
            contract_id: Some(contract.id.clone()),
            contract_value: contract.payment_terms.clone().unwrap_or_default(),
            master_value: labels.keys().cloned().collect::<Vec<_>>().join(", "),
            explanation: format!(
                "{} open item(s) in company code {} were billed on terms other than contract {}'s ({}): {billed_on}; due up to {} day(s) {} (documents {}{more})",
                off.len(),
                cc.company_code,
                contract.id,
                describe(agreed),
                days.abs(),
                if days >= 0 { "later" } else { "earlier" },
                documents[..shown].join(", "),
            ),
            exposure: exposure_of_items(off.iter().map(|(i, _)| *i), days),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::open_item::AppliedTerms;
    use crate::model::{CustomerId, OpenItemKey};
    use crate::reconcile::fixtures::contract as contract_with;
    use crate::reconcile::fixtures::customer_in_1010 as customer;

    fn contract(terms: &str) -> Contract {
        contract_with(Some(terms))
    }

    fn book() -> TermsBook {
        TermsBook::new(crate::reconcile::fixtures::standard_terms())
    }

    fn item(
        doc: &str,
        key: Option<&str>,
        applied: AppliedTerms,
        due: Option<NaiveDate>,
    ) -> OpenItem {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        OpenItem {
            key: OpenItemKey {
                company_code: "1010".into(),
                fiscal_year: "2026".into(),
                document: doc.into(),
                item: "1".into(),
            },
            customer: CustomerId::parse("17100001").unwrap(),
            document_date: d,
            posting_date: d,
            baseline_date: d,
            payment_terms: key.map(str::to_string),
            applied,
            net_due_date: due,
            amount: Decimal::new(100_000, 2),
            currency: "EUR".into(),
            dunning_level: None,
            dunning_block: None,
            dispute_case: None,
        }
    }

    fn run(c: &Customer, k: &Contract, items: &[OpenItem]) -> Vec<Finding> {
        let b = book();
        let agreed = b
            .resolve_contract_terms(k.payment_terms.as_deref().unwrap())
            .unwrap();
        let mut out = Vec::new();
        billed_terms(c, k, &agreed, items, &b, &mut |f| out.push(f));
        out
    }

    fn net(days: u32) -> AppliedTerms {
        AppliedTerms {
            net_days: Some(days),
            ..AppliedTerms::default()
        }
    }

    #[test]
    fn an_invoice_billed_on_other_terms_is_flagged_with_its_amount() {
        let due60 = NaiveDate::from_ymd_opt(2026, 5, 9);
        let due30 = NaiveDate::from_ymd_opt(2026, 4, 9);
        let items = [
            item("1800000001", Some("NT60"), net(60), due60),
            item("1800000002", Some("NT30"), net(30), due30),
            // An IDoc invoice without a key: its E1EDK18 tiers speak.
            item("1800000003", None, net(60), None),
        ];
        let found = run(&customer("NT30"), &contract("Net 30"), &items);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.rule, Rule::OpenItemBilledTerms);
        assert_eq!(f.scope, "CC 1010");
        assert_eq!(f.exposure.items, 2);
        assert_eq!(f.exposure.amount, Decimal::new(200_000, 2));
        assert_eq!(f.exposure.days, 30);
        assert_eq!(f.master_value, "NT60 (net 60), net 60");
        assert!(
            f.explanation.contains("1800000001, 1800000003"),
            "{}",
            f.explanation
        );
        assert_eq!(f.severity, Severity::High);
    }

    #[test]
    fn items_following_a_master_that_contradicts_the_contract_are_left_to_its_flag() {
        let items = [item("1800000001", Some("NT60"), net(60), None)];
        assert!(run(&customer("NT60"), &contract("Net 30"), &items).is_empty());
        // The same item under a master that agrees with the contract is an override.
        assert_eq!(run(&customer("NT30"), &contract("Net 30"), &items).len(), 1);
    }

    #[test]
    fn synonyms_discounts_and_credit_memos() {
        // Z030 means net 30 as NT30 does: no flag.
        let same = [item("1", Some("Z030"), AppliedTerms::default(), None)];
        assert!(run(&customer("NT30"), &contract("NT30"), &same).is_empty());
        // Billed with 2 % / 10 days where the contract grants no discount.
        let discounted = AppliedTerms {
            discount1_days: Some(10),
            discount1_percent: Some(Decimal::new(2, 0)),
            net_days: Some(30),
            ..AppliedTerms::default()
        };
        let found = run(
            &customer("NT30"),
            &contract("Net 30"),
            &[item("2", None, discounted, None)],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].exposure.days, 0);
        assert_eq!(found[0].master_value, "2% 10 days, net 30");
        // Credit memos are due at baseline whatever the terms: never flagged.
        let mut credit = item("3", Some("NT60"), net(60), None);
        credit.amount = Decimal::new(-5_000, 2);
        assert!(run(&customer("NT30"), &contract("Net 30"), &[credit]).is_empty());
    }

    #[test]
    fn amounts_and_day_counts_at_their_limits_are_flagged_without_panicking() {
        // Two invoices at the largest amount an IDoc may carry, billed on a day count past
        // the calendar's end: the sum and the due date saturate, the flag still stands.
        let mut items = [
            item("1", None, net(u32::MAX), None),
            item("2", None, net(u32::MAX), None),
        ];
        for i in &mut items {
            i.amount = Decimal::MAX;
        }
        let found = run(&customer("NT30"), &contract("Net 30"), &items);
        assert_eq!(found.len(), 1, "{found:#?}");
        let e = &found[0].exposure;
        assert_eq!((e.amount, e.items), (Decimal::MAX, 2));
        assert!(e.days > 90_000_000, "{}", e.days);
        let priced = e.clone().priced(Decimal::new(8, 2));
        assert_eq!(priced.cash_days, Decimal::MAX);
        assert!(
            priced.cost > Decimal::from(1_000_000_000_000i64),
            "{}",
            priced.cost
        );
    }
}
