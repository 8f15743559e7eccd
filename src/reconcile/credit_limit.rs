//! The contract's credit limit against the limits the ERP's credit management holds.
//!
//! A customer may have a limit in several credit segments (or control areas); the
//! contract's limit must be the one set in at least one of them. Where the ERP holds no
//! credit data for the customer, or the contract states no limit, there is nothing to judge.

use super::exposure::{exposure_of, ItemFilter};
use crate::model::{Contract, CreditLimit, Customer, Finding, OpenItem, Rule, Scope, Severity};

pub(super) fn credit_limit(
    customer: &Customer,
    contract: &Contract,
    items: &[OpenItem],
    add: &mut impl FnMut(Finding),
) {
    let Some(agreed) = contract.credit_limit else {
        return;
    };
    let limits = &customer.credit_limits;
    if limits.is_empty() {
        return;
    }
    let currency_ok = |l: &CreditLimit| match (&contract.currency, &l.currency) {
        (Some(c), Some(m)) => c.eq_ignore_ascii_case(m),
        // A side that names no currency cannot contradict the other.
        _ => true,
    };
    if limits
        .iter()
        .any(|l| l.amount.normalize() == agreed.normalize() && currency_ok(l))
    {
        return;
    }
    let show = |amount: rust_decimal::Decimal, currency: Option<&str>| match currency {
        Some(c) => format!("{} {c}", amount.round_dp(2)),
        None => amount.round_dp(2).to_string(),
    };
    let master = limits
        .iter()
        .map(|l| {
            format!(
                "segment {}: {}",
                l.segment,
                show(l.amount, l.currency.as_deref())
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    // More credit than agreed is the risk; less is an obstacle to agreed business.
    let above = limits.iter().any(|l| l.amount > agreed);
    add(Finding {
        rule: Rule::CreditLimit,
        severity: if above {
            Severity::High
        } else {
            Severity::Medium
        },
        customer: customer.id().clone(),
        scope: Scope::Credit,
        field: "credit_limit".into(),
        contract_id: Some(contract.id.clone()),
        contract_value: show(agreed, contract.currency.as_deref()),
        master_value: master.clone(),
        explanation: format!(
            "contract {} agrees a credit limit of {}, but credit management holds {master}",
            contract.id,
            show(agreed, contract.currency.as_deref()),
        ),
        exposure: exposure_of(items, &ItemFilter::default(), 0),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::fixtures;
    use rust_decimal::Decimal;

    fn customer(limits: &[(&str, i64, Option<&str>)]) -> Customer {
        let mut c = fixtures::customer_in_1010("NT30");
        c.company_codes.clear();
        c.credit_limits = limits
            .iter()
            .map(|(s, a, cur)| CreditLimit {
                customer: c.general.customer.clone(),
                segment: s.to_string(),
                amount: Decimal::from(*a),
                currency: cur.map(str::to_string),
            })
            .collect();
        c
    }

    fn contract(limit: Option<i64>, currency: Option<&str>) -> Contract {
        Contract {
            credit_limit: limit.map(|l| Decimal::new(l * 100, 2)),
            currency: currency.map(str::to_string),
            ..fixtures::contract(None)
        }
    }

    fn run(c: &Customer, k: &Contract) -> Vec<Finding> {
        let mut out = Vec::new();
        credit_limit(c, k, &[], &mut |f| out.push(f));
        out
    }

    #[test]
    fn a_limit_set_in_no_segment_is_flagged() {
        let c = customer(&[
            ("0000", 250_000, Some("EUR")),
            ("1000", 80_000, Some("EUR")),
        ]);
        let found = run(&c, &contract(Some(100_000), Some("EUR")));
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.rule, Rule::CreditLimit);
        assert_eq!(f.contract_value, "100000.00 EUR");
        assert_eq!(
            f.master_value,
            "segment 0000: 250000 EUR; segment 1000: 80000 EUR"
        );
        assert_eq!(
            f.severity,
            Severity::High,
            "a segment grants more than agreed"
        );
    }

    #[test]
    fn agreement_in_any_segment_or_nothing_to_judge() {
        let c = customer(&[("0000", 250_000, Some("EUR")), ("1000", 100_000, None)]);
        assert!(run(&c, &contract(Some(100_000), Some("EUR"))).is_empty());
        // The same amount in another currency is another limit.
        let usd = customer(&[("1000", 100_000, Some("USD"))]);
        assert_eq!(run(&usd, &contract(Some(100_000), Some("EUR"))).len(), 1);
        assert_eq!(
            run(&usd, &contract(Some(100_000), Some("EUR")))[0].severity,
            Severity::Medium
        );
        // No limit in the contract, or no credit data in the ERP.
        assert!(run(&c, &contract(None, Some("EUR"))).is_empty());
        assert!(run(&customer(&[]), &contract(Some(1), None)).is_empty());
    }
}
