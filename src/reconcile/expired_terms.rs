//! A contract ended, but the special payment terms it granted live on in the master.
//!
//! Special terms (a longer net period, an extra discount) are agreed for the life of a
//! contract. When it expires and no other contract covers the same company code or sales
//! area, the master should fall back to the standard terms; until it does, the customer
//! keeps a benefit nobody agreed to any more. Terms that mean the same as one of the
//! configured standard keys (`[rules] standard_payment_terms`) are not special.

use super::exposure::{exposure_of, ItemFilter};
use super::levels::{terms_levels, TermsLevel};
use super::terms_book::TermsBook;
use crate::model::payment_terms::describe;
use crate::model::{Contract, Customer, Finding, OpenItem, PaymentTerms, Rule, Scope, Severity};
use chrono::NaiveDate;

pub(super) fn expired_special_terms(
    customer: &Customer,
    contracts: &[Contract],
    items: &[OpenItem],
    book: &TermsBook,
    today: NaiveDate,
    add: &mut impl FnMut(Finding),
) {
    let mine = || contracts.iter().filter(|c| c.customer == *customer.id());
    let active: Vec<&Contract> = mine().filter(|c| c.is_active_on(today)).collect();
    let mut expired: Vec<&Contract> = mine()
        .filter(|c| c.valid_to.is_some_and(|end| end < today))
        .collect();
    // The contract that ended last speaks for a scope.
    expired.sort_by(|a, b| b.valid_to.cmp(&a.valid_to).then(a.id.cmp(&b.id)));
    for contract in expired {
        let Some(raw) = contract.payment_terms.as_deref() else {
            continue;
        };
        // Unreadable text is never guessed at; an expired contract raises no flag for it.
        let Ok(special) = book.resolve_contract_terms(raw) else {
            continue;
        };
        if book.is_standard(&special) {
            continue;
        }
        for TermsLevel {
            scope,
            key,
            company_code,
        } in terms_levels(customer, &contract.scope, &active)
        {
            let Some(key) = key else { continue };
            let Some(master) = book.get(key) else {
                continue; // unknown keys are their own flag
            };
            if book.compare(&special, master).is_some() {
                continue; // the master already moved away from the contract's terms
            }
            add(finding(
                customer,
                contract,
                &special,
                scope,
                key,
                exposure_of(
                    items,
                    &ItemFilter {
                        company_code,
                        terms_key: Some(key),
                    },
                    book.days_beyond_standard(master),
                ),
            ));
        }
    }
}

fn finding(
    customer: &Customer,
    contract: &Contract,
    special: &PaymentTerms,
    scope: Scope,
    key: &str,
    exposure: crate::model::Exposure,
) -> Finding {
    let ended = contract.valid_to.map(|d| d.to_string()).unwrap_or_default();
    Finding {
        rule: Rule::ContractExpiredSpecialTerms,
        severity: Severity::Medium,
        customer: customer.id().clone(),
        scope: scope.clone(),
        field: "payment_terms".into(),
        contract_id: Some(contract.id.clone()),
        contract_value: format!(
            "{} (expired {ended})",
            contract.payment_terms.as_deref().unwrap_or_default()
        ),
        master_value: key.to_string(),
        explanation: format!(
            "contract {} granted {} and expired on {ended}; no contract covers {scope} since, yet the master still has {key}: renew the contract or return the master to standard terms",
            contract.id,
            describe(special),
        ),
        exposure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContractScope;
    use crate::reconcile::fixtures::customer_in_1010 as customer;

    fn contract(id: &str, terms: &str, from: (i32, u32, u32), to: (i32, u32, u32)) -> Contract {
        Contract {
            id: id.into(),
            scope: ContractScope {
                company_code: Some("1010".into()),
                ..ContractScope::default()
            },
            valid_from: NaiveDate::from_ymd_opt(from.0, from.1, from.2),
            valid_to: NaiveDate::from_ymd_opt(to.0, to.1, to.2),
            ..crate::reconcile::fixtures::contract(Some(terms))
        }
    }

    fn run(c: &Customer, contracts: &[Contract], standard: &[&str]) -> Vec<Finding> {
        let keys: Vec<String> = standard.iter().map(|s| s.to_string()).collect();
        let (book, unknown) =
            TermsBook::new(crate::reconcile::fixtures::standard_terms()).with_standard(&keys);
        assert!(unknown.is_empty());
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let mut out = Vec::new();
        expired_special_terms(c, contracts, &[], &book, today, &mut |f| out.push(f));
        out
    }

    #[test]
    fn special_terms_left_behind_by_an_expired_contract_are_flagged() {
        let old = contract("C-OLD", "Net 60", (2023, 1, 1), (2026, 6, 30));
        let found = run(&customer("NT60"), std::slice::from_ref(&old), &["NT30"]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.rule, Rule::ContractExpiredSpecialTerms);
        assert_eq!(f.scope, "CC 1010");
        assert_eq!(f.master_value, "NT60");
        assert!(f.contract_value.contains("expired 2026-06-30"));
        assert_eq!(f.exposure.items, 0, "the customer has no open items");
    }

    #[test]
    fn no_flag_when_renewed_reset_or_standard() {
        let old = contract("C-OLD", "Net 60", (2023, 1, 1), (2026, 6, 30));
        let renewed = contract("C-NEW", "NT30", (2026, 7, 1), (2029, 12, 31));
        // A current contract covers the scope: the payment-terms rules judge it.
        assert!(run(&customer("NT60"), &[old.clone(), renewed], &["NT30"]).is_empty());
        // The master was returned to standard terms.
        assert!(run(&customer("NT30"), std::slice::from_ref(&old), &["NT30"]).is_empty());
        // Terms that mean a standard key (Z030 = net 30) are not special.
        let plain = contract("C-PLAIN", "Z030", (2023, 1, 1), (2026, 6, 30));
        assert!(run(&customer("NT30"), std::slice::from_ref(&plain), &["NT30"]).is_empty());
        // Without standard terms configured, any terms left behind are special.
        assert_eq!(run(&customer("NT30"), &[plain], &[]).len(), 1);
    }
}
