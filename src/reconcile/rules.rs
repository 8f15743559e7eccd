//! The rules: what a contract says against what the master records say.
//!
//! Pure functions over one customer at a time (its levels, contracts and open items), so a
//! run streams customers in pages and never holds the whole master in memory.

use super::exposure::{exposure_of, ItemFilter};
use super::terms_book::TermsBook;
use crate::model::payment_terms::{compare, describe};
use crate::model::{Contract, Customer, Finding, OpenItem, PaymentTerms, Rule, Severity};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A payment-terms shift of at least this many days is high severity.
const HIGH_SEVERITY_DAYS: i64 = 15;

/// Everything found for one customer. Contracts not active on `today` are ignored.
pub fn check_customer(
    customer: &Customer,
    contracts: &[Contract],
    items: &[OpenItem],
    book: &TermsBook,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut found: BTreeMap<(Rule, String, String), Finding> = BTreeMap::new();
    let mut add = |f: Finding| {
        // One flag per rule, scope and field: the first contract (by id) speaks for a scope.
        found
            .entry((f.rule, f.scope.clone(), f.field.clone()))
            .or_insert(f);
    };
    unknown_keys(customer, items, book, &mut add);

    let mut active: Vec<&Contract> = contracts
        .iter()
        .filter(|c| c.customer == *customer.id() && c.is_active_on(today))
        .collect();
    active.sort_by(|a, b| a.id.cmp(&b.id));
    for contract in active {
        if let Some(raw) = contract.payment_terms.as_deref() {
            match book.resolve_contract_terms(raw) {
                Ok(terms) => payment_terms(customer, contract, &terms, items, book, &mut add),
                Err(reason) => add(unreadable(customer, contract, raw, &reason, items)),
            }
        }
        currency(customer, contract, items, &mut add);
    }
    found.into_values().collect()
}

/// Active contracts whose customer the master does not have.
pub fn check_orphan_contracts(contracts: &[Contract], today: NaiveDate) -> Vec<Finding> {
    contracts
        .iter()
        .filter(|c| c.is_active_on(today))
        .map(|c| Finding {
            rule: Rule::CustomerMissing,
            severity: Severity::High,
            customer: c.customer.clone(),
            scope: format!("contract {}", c.id),
            field: "customer".into(),
            contract_id: Some(c.id.clone()),
            contract_value: c.customer.to_string(),
            master_value: "-".into(),
            explanation: format!(
                "contract {} is for customer {}, which the master does not have",
                c.id, c.customer
            ),
            exposure: Default::default(),
        })
        .collect()
}

fn unknown_keys(
    customer: &Customer,
    items: &[OpenItem],
    book: &TermsBook,
    add: &mut impl FnMut(Finding),
) {
    let levels = customer
        .company_codes
        .iter()
        .map(|cc| {
            (
                format!("CC {}", cc.company_code),
                cc.payment_terms.as_deref(),
                Some(cc.company_code.as_str()),
            )
        })
        .chain(
            customer
                .sales_areas
                .iter()
                .map(|sa| (format!("SA {}", sa.area), sa.payment_terms.as_deref(), None)),
        );
    for (scope, key, company_code) in levels {
        let Some(key) = key else { continue };
        if book.get(key).is_some() {
            continue;
        }
        add(Finding {
            rule: Rule::UnknownPaymentTerms,
            severity: Severity::Medium,
            customer: customer.id().clone(),
            scope,
            field: "payment_terms".into(),
            contract_id: None,
            contract_value: "-".into(),
            master_value: key.to_string(),
            explanation: format!(
                "the master names payment terms key {key}, which has no definition: due dates cannot be checked"
            ),
            exposure: exposure_of(items, &ItemFilter { company_code, terms_key: Some(key) }, 0),
        });
    }
}

fn payment_terms(
    customer: &Customer,
    contract: &Contract,
    agreed: &PaymentTerms,
    items: &[OpenItem],
    book: &TermsBook,
    add: &mut impl FnMut(Finding),
) {
    let company_levels = customer
        .company_codes
        .iter()
        .filter(|cc| contract.scope.covers_company_code(&cc.company_code))
        .map(|cc| {
            (
                Rule::PaymentTermsCompanyCode,
                format!("CC {}", cc.company_code),
                cc.payment_terms.as_deref(),
                Some(cc.company_code.as_str()),
            )
        });
    let sales_levels = customer
        .sales_areas
        .iter()
        .filter(|sa| contract.scope.covers_sales_area(&sa.area))
        .map(|sa| {
            (
                Rule::PaymentTermsSalesArea,
                format!("SA {}", sa.area),
                sa.payment_terms.as_deref(),
                None,
            )
        });
    for (rule, scope, key, company_code) in company_levels.chain(sales_levels) {
        let master = match key {
            // A level without terms contradicts a contract that states some.
            None => PaymentTerms {
                key: "(none)".into(),
                description: "no payment terms in the master".into(),
                rules: Vec::new(),
            },
            Some(k) => match book.get(k) {
                Some(t) => t.clone(),
                None => continue, // flagged as unknown_payment_terms
            },
        };
        let Some(diff) = compare(agreed, &master) else {
            continue;
        };
        let days = diff
            .max_net_shift_days
            .abs()
            .max(diff.min_net_shift_days.abs());
        let signed_days = if diff.max_net_shift_days.abs() >= diff.min_net_shift_days.abs() {
            diff.max_net_shift_days
        } else {
            diff.min_net_shift_days
        };
        add(Finding {
            rule,
            severity: if days >= HIGH_SEVERITY_DAYS || key.is_none() {
                Severity::High
            } else {
                Severity::Medium
            },
            customer: customer.id().clone(),
            scope,
            field: "payment_terms".into(),
            contract_id: Some(contract.id.clone()),
            contract_value: contract.payment_terms.clone().unwrap_or_default(),
            master_value: key.unwrap_or("-").to_string(),
            explanation: format!("contract {}: {}", contract.id, diff.summary),
            exposure: exposure_of(
                items,
                &ItemFilter {
                    company_code,
                    terms_key: key,
                },
                signed_days,
            ),
        });
    }
}

fn unreadable(
    customer: &Customer,
    contract: &Contract,
    raw: &str,
    reason: &str,
    items: &[OpenItem],
) -> Finding {
    Finding {
        rule: Rule::ContractTermsUnreadable,
        severity: Severity::Medium,
        customer: customer.id().clone(),
        scope: format!("contract {}", contract.id),
        field: "payment_terms".into(),
        contract_id: Some(contract.id.clone()),
        contract_value: raw.to_string(),
        master_value: "-".into(),
        explanation: format!(
            "the contract's payment terms {raw:?} cannot be read with certainty: {reason}"
        ),
        exposure: exposure_of(items, &ItemFilter::default(), 0),
    }
}

fn currency(
    customer: &Customer,
    contract: &Contract,
    items: &[OpenItem],
    add: &mut impl FnMut(Finding),
) {
    let Some(agreed) = contract.currency.as_deref() else {
        return;
    };
    for sa in customer
        .sales_areas
        .iter()
        .filter(|sa| contract.scope.covers_sales_area(&sa.area))
    {
        let Some(master) = sa.currency.as_deref() else {
            continue;
        };
        if master.eq_ignore_ascii_case(agreed) {
            continue;
        }
        add(Finding {
            rule: Rule::Currency,
            severity: Severity::High,
            customer: customer.id().clone(),
            scope: format!("SA {}", sa.area),
            field: "currency".into(),
            contract_id: Some(contract.id.clone()),
            contract_value: agreed.to_string(),
            master_value: master.to_string(),
            explanation: format!(
                "contract {} is in {agreed}, but sales area {} bills in {master}",
                contract.id, sa.area
            ),
            exposure: exposure_of(items, &ItemFilter::default(), 0),
        });
    }
}

/// Plain words for a master level's terms, e.g. `NT30: net 30 days from document date`.
pub fn describe_key(book: &TermsBook, key: &str) -> String {
    match book.get(key) {
        Some(t) => format!("{key}: {}", describe(t)),
        None => format!("{key}: (no definition)"),
    }
}
