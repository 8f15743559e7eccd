//! The rules: what a contract says against what the master records say.
//!
//! Pure functions over one customer at a time (its levels, contracts and open items), so a
//! run streams customers in pages and never holds the whole master in memory.

use super::billed_terms::billed_terms;
use super::credit_limit::credit_limit;
use super::expired_terms::expired_special_terms;
use super::exposure::{exposure_of, ItemFilter};
use super::levels::{terms_levels, TermsLevel};
use super::terms_book::TermsBook;
use crate::model::payment_terms::describe;
use crate::model::{Contract, Customer, Finding, OpenItem, PaymentTerms, Rule, Scope, Severity};
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
        // Keyed by the scope's text, so findings come out in the order they always did.
        found
            .entry((f.rule, f.scope.to_string(), f.field.clone()))
            .or_insert(f);
    };
    unknown_keys(customer, items, book, &mut add);
    company_vs_sales_area(customer, items, book, &mut add);

    let mut active: Vec<&Contract> = contracts
        .iter()
        .filter(|c| c.customer == *customer.id() && c.is_active_on(today))
        .collect();
    active.sort_by(|a, b| a.id.cmp(&b.id));
    for contract in active {
        if let Some(raw) = contract.payment_terms.as_deref() {
            match book.resolve_contract_terms(raw) {
                Ok(terms) => {
                    payment_terms(customer, contract, &terms, items, book, &mut add);
                    billed_terms(customer, contract, &terms, items, book, &mut add);
                }
                Err(reason) => add(unreadable(customer, contract, raw, &reason, items)),
            }
        }
        currency(customer, contract, items, &mut add);
        credit_limit(customer, contract, items, &mut add);
        billing_address(customer, contract, &mut add);
        blocked(customer, contract, items, &mut add);
    }
    expired_special_terms(customer, contracts, items, book, today, &mut add);
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
            scope: Scope::Contract(c.id.clone()),
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
                Scope::CompanyCode(cc.company_code.clone()),
                cc.payment_terms.as_deref(),
                Some(cc.company_code.as_str()),
            )
        })
        .chain(customer.sales_areas.iter().map(|sa| {
            (
                Scope::SalesArea(sa.area.clone()),
                sa.payment_terms.as_deref(),
                None,
            )
        }));
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
    for TermsLevel {
        scope,
        key,
        company_code,
    } in terms_levels(customer, &contract.scope, &[])
    {
        let rule = if company_code.is_some() {
            Rule::PaymentTermsCompanyCode
        } else {
            Rule::PaymentTermsSalesArea
        };
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
        let Some(diff) = book.compare(agreed, &master) else {
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
        scope: Scope::Contract(contract.id.clone()),
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
            scope: Scope::SalesArea(sa.area.clone()),
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

/// A sales area whose terms mean something else than its company code's: SD bills on one,
/// FI expects the other. The sales organisation is taken to belong to the company code of
/// the same number, as in SAP's reference set-up (1010 → 1010).
fn company_vs_sales_area(
    customer: &Customer,
    items: &[OpenItem],
    book: &TermsBook,
    add: &mut impl FnMut(Finding),
) {
    for sa in &customer.sales_areas {
        let Some(cc) = customer
            .company_codes
            .iter()
            .find(|cc| cc.company_code == sa.area.sales_org)
        else {
            continue;
        };
        let (Some(cc_key), Some(sa_key)) =
            (cc.payment_terms.as_deref(), sa.payment_terms.as_deref())
        else {
            continue;
        };
        let (Some(cc_terms), Some(sa_terms)) = (book.get(cc_key), book.get(sa_key)) else {
            continue; // unknown keys are their own flag
        };
        let Some(diff) = book.compare(cc_terms, sa_terms) else {
            continue;
        };
        let days = if diff.max_net_shift_days.abs() >= diff.min_net_shift_days.abs() {
            diff.max_net_shift_days
        } else {
            diff.min_net_shift_days
        };
        add(Finding {
            rule: Rule::PaymentTermsCompanyVsSalesArea,
            severity: if days.abs() >= HIGH_SEVERITY_DAYS { Severity::High } else { Severity::Medium },
            customer: customer.id().clone(),
            scope: Scope::SalesArea(sa.area.clone()),
            field: "payment_terms".into(),
            contract_id: None,
            contract_value: format!("CC {}: {cc_key}", cc.company_code),
            master_value: sa_key.to_string(),
            explanation: format!(
                "company code {} has {}, sales area {} has {}: invoices billed in the sales area fall due up to {} day(s) {}",
                cc.company_code,
                describe_key(book, cc_key),
                sa.area,
                describe_key(book, sa_key),
                days.abs(),
                if days >= 0 { "later" } else { "earlier" }
            ),
            exposure: exposure_of(items, &ItemFilter { company_code: None, terms_key: Some(sa_key) }, days),
        });
    }
}

/// A customer blocked for posting or marked for deletion while a contract is active: either
/// the contract or the block is wrong, and either way invoices and payments stall.
fn blocked(
    customer: &Customer,
    contract: &Contract,
    items: &[OpenItem],
    add: &mut impl FnMut(Finding),
) {
    let g = &customer.general;
    let states = [
        (g.deletion_flag, "deletion_flag", "marked for deletion"),
        (g.posting_block, "posting_block", "blocked for posting"),
    ];
    for (set, field, words) in states {
        if !set {
            continue;
        }
        add(Finding {
            rule: Rule::CustomerBlocked,
            severity: Severity::High,
            customer: customer.id().clone(),
            scope: Scope::Customer,
            field: field.into(),
            contract_id: Some(contract.id.clone()),
            contract_value: format!("active contract {}", contract.id),
            master_value: words.into(),
            explanation: format!(
                "customer {} is {words} while contract {} is active (valid {} to {})",
                customer.id(),
                contract.id,
                contract
                    .valid_from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into()),
                contract
                    .valid_to
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into()),
            ),
            exposure: exposure_of(items, &ItemFilter::default(), 0),
        });
    }
}

/// The contract's billing address against the master's, compared after normalising case,
/// spacing, punctuation and common abbreviations ("Main Street 5" = "MAIN ST. 5").
fn billing_address(customer: &Customer, contract: &Contract, add: &mut impl FnMut(Finding)) {
    let (Some(agreed), Some(master)) = (&contract.billing_address, &customer.general.address)
    else {
        return;
    };
    let a = normalized_address(agreed);
    let m = normalized_address(master);
    if a == m {
        return;
    }
    let show = |x: &crate::model::Address| {
        format!("{}, {} {}, {}", x.street, x.postal_code, x.city, x.country)
    };
    add(Finding {
        rule: Rule::BillingAddress,
        severity: Severity::Low,
        customer: customer.id().clone(),
        scope: Scope::Contract(contract.id.clone()),
        field: "billing_address".into(),
        contract_id: Some(contract.id.clone()),
        contract_value: show(agreed),
        master_value: show(master),
        explanation: format!(
            "contract {} bills to \"{}\", the master's address is \"{}\"",
            contract.id,
            show(agreed),
            show(master)
        ),
        exposure: Default::default(),
    });
}

/// Street, postal code, city and country in one comparable form.
pub fn normalized_address(a: &crate::model::Address) -> String {
    [&a.street, &a.postal_code, &a.city, &a.country]
        .iter()
        .map(|part| normalize_words(part))
        .collect::<Vec<_>>()
        .join("|")
}

fn normalize_words(text: &str) -> String {
    const ABBREVIATIONS: [(&str, &str); 16] = [
        ("STREET", "ST"),
        ("ROAD", "RD"),
        ("AVENUE", "AVE"),
        ("BOULEVARD", "BLVD"),
        ("DRIVE", "DR"),
        ("LANE", "LN"),
        ("PLACE", "PL"),
        ("SQUARE", "SQ"),
        ("SUITE", "STE"),
        ("BUILDING", "BLDG"),
        ("FLOOR", "FL"),
        ("NORTH", "N"),
        ("SOUTH", "S"),
        ("EAST", "E"),
        ("WEST", "W"),
        ("PLATZ", "PL"),
    ];
    let upper = text.to_uppercase().replace('ß', "SS");
    let spaced: String = upper
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced
        .split_whitespace()
        .map(|w| {
            // German street names: "Hauptstraße", "Hauptstrasse" and "Hauptstr." are one street.
            if let Some(stem) = w.strip_suffix("STRASSE") {
                return format!("{stem}STR");
            }
            ABBREVIATIONS
                .iter()
                .find(|(long, _)| *long == w)
                .map(|(_, short)| short.to_string())
                .unwrap_or_else(|| w.to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;

    fn addr(street: &str, postal: &str, city: &str, country: &str) -> Address {
        Address {
            name: String::new(),
            street: street.into(),
            city: city.into(),
            postal_code: postal.into(),
            country: country.into(),
        }
    }

    #[test]
    fn addresses_compare_after_normalising() {
        let same = [
            (
                addr("Main Street 5", "10115", "Berlin", "DE"),
                addr("MAIN ST. 5", "10115", "berlin", "de"),
            ),
            (
                addr("Hauptstraße 12", "80331", "München", "DE"),
                addr("Hauptstr. 12", "80331", "MÜNCHEN", "DE"),
            ),
            (
                addr("1 North  Road", "D02", "Dublin", "IE"),
                addr("1 N Rd", "D02", "Dublin", "IE"),
            ),
        ];
        for (a, b) in same {
            assert_eq!(
                normalized_address(&a),
                normalized_address(&b),
                "{a:?} vs {b:?}"
            );
        }
        assert_ne!(
            normalized_address(&addr("Main Street 5", "10115", "Berlin", "DE")),
            normalized_address(&addr("Main Street 7", "10115", "Berlin", "DE"))
        );
    }
}
