//! Dynamics 365 Finance and Operations terms of payment and cash discounts, turned into
//! the model's [`PaymentTerms`].
//!
//! F&O keeps the two apart: a terms-of-payment record (`PaymentTermEntity`: `Name`,
//! `PaymentMethodType`, `NumberOfDays`, `NumberOfMonths`, plus payment days, payment
//! schedules and a cut-off day) says when an invoice is due net, and a cash-discount record
//! (`CashDiscountEntity`: `CashDiscountCode`, `DiscountMethod`, `NumberOfDays`,
//! `NumberOfMonths`, `Percent`, `NextCashDiscountCode`) says what is taken off when paid
//! early. A customer names one of each (`PaymentTerms`, `PaymentCashDiscount`), so the terms
//! an invoice is billed on are the pair; [`combined_key`] names it in the model.
//!
//! Everything here is pure. A record whose meaning the model cannot hold exactly (quarter,
//! year or week ends, payment days, schedules, cut-off days, months added to a month end) is
//! rejected with the reason, never approximated: an approximate definition would make the
//! reconciler compare due dates F&O never produces.

use crate::model::payment_terms::{DayRule, DiscountTier, PaymentTerms, TermsRule};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The model can hold two cash-discount tiers per rule, as SAP's T052 does.
const MAX_TIERS: usize = 2;

/// One F&O terms-of-payment record, as read from the ERP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoPaymentTerms {
    /// `dataAreaId`: F&O keeps terms per legal entity; the model has one book for all.
    pub company: Option<String>,
    /// `Name`: the code customers and invoices refer to.
    pub name: String,
    pub description: String,
    /// `PaymentMethodType`, the enum member's name: `Net`, `CurrentMonth`,
    /// `CurrentQuarter`, `CurrentYear`, `CurrentWeek` or `COD`.
    pub method: String,
    pub days: u32,
    pub months: u32,
    /// `PaymentDayName`: due dates moved to fixed days of the week or month.
    pub payment_day: Option<String>,
    /// `PaymentScheduleName`: the amount split into instalments.
    pub payment_schedule: Option<String>,
    /// `CutoffDayOfMonth`: invoices after this day get extra months.
    pub cutoff_day: Option<u32>,
}

/// The most days and months a term or discount period may count: ten years. F&O stores
/// them as integers up to 2^31; counted from an invoice date, such a figure overflows the
/// calendar, and no real terms come near it.
const MAX_DAYS: u32 = 3_660;
const MAX_MONTHS: u32 = 120;

/// Why `days`/`months` are out of range, if they are.
fn out_of_range(days: u32, months: u32) -> Option<String> {
    (days > MAX_DAYS || months > MAX_MONTHS).then(|| {
        format!(
            "{days} days and {months} months: more than {MAX_DAYS} days or {MAX_MONTHS} \
             months is not a period erpsync counts"
        )
    })
}

/// One F&O cash-discount record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FoCashDiscount {
    /// `CashDiscountCode`.
    pub code: String,
    pub description: String,
    /// `DiscountMethod`: `Net` or `CurrentMonth` (the same calculation methods as terms).
    pub method: String,
    pub days: u32,
    pub months: u32,
    pub percent: Decimal,
    /// `NextCashDiscountCode`: the tier that applies after this one's date has passed.
    pub next: Option<String>,
}

/// Why an F&O record has no definition in the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoTermsError {
    #[error("terms of payment {name}: {reason}")]
    Terms { name: String, reason: String },
    #[error("cash discount {code}: {reason}")]
    Discount { code: String, reason: String },
    #[error("terms of payment {terms} with cash discount {code}: {reason}")]
    Combination {
        terms: String,
        code: String,
        reason: String,
    },
}

/// The model's key for invoices billed on `terms` with cash discount `discount`: the terms
/// code alone when there is no discount, else `TERMS+DISCOUNT` (neither F&O code may hold
/// a `+` in a way that matters here: the pair is only ever built, never split).
pub fn combined_key(terms: &str, discount: Option<&str>) -> String {
    match discount.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => format!("{}+{d}", terms.trim()),
        None => terms.trim().to_string(),
    }
}

/// Whether two legal entities' records of one terms code mean the same.
fn same_terms(a: &FoPaymentTerms, b: &FoPaymentTerms) -> bool {
    FoPaymentTerms {
        company: None,
        description: String::new(),
        ..a.clone()
    } == FoPaymentTerms {
        company: None,
        description: String::new(),
        ..b.clone()
    }
}

/// Whether two legal entities' records of one cash-discount code mean the same.
fn same_discount(a: &FoCashDiscount, b: &FoCashDiscount) -> bool {
    (
        a.method.trim(),
        a.days,
        a.months,
        a.percent.normalize(),
        a.next.as_deref(),
    ) == (
        b.method.trim(),
        b.days,
        b.months,
        b.percent.normalize(),
        b.next.as_deref(),
    )
}

/// The model definition of one terms-of-payment record (no cash discount).
pub fn terms_definition(t: &FoPaymentTerms) -> Result<PaymentTerms, FoTermsError> {
    let reject = |reason: &str| FoTermsError::Terms {
        name: t.name.clone(),
        reason: reason.to_string(),
    };
    if t.name.trim().is_empty() {
        return Err(reject("no name"));
    }
    if let Some(reason) = out_of_range(t.days, t.months) {
        return Err(reject(&reason));
    }
    if t.payment_day
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
    {
        return Err(reject(
            "a payment day moves due dates to fixed days, which erpsync does not read",
        ));
    }
    if t.payment_schedule
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
    {
        return Err(reject(
            "a payment schedule splits invoices into instalments with due dates of their own",
        ));
    }
    if t.cutoff_day.is_some_and(|d| d > 0) {
        return Err(reject(
            "a cut-off day adds months to invoices after it, which erpsync does not read",
        ));
    }
    let base = TermsRule::net_days(0);
    let rule = match t.method.trim() {
        "Net" if t.months == 0 => TermsRule {
            net: Some(DayRule::Days(t.days)),
            ..base
        },
        // Months first, then days, from the invoice date.
        "Net" => TermsRule {
            extra_months: t.months,
            net: Some(DayRule::Days(t.days)),
            ..base
        },
        // "Current month": counted from the last day of the invoice's month. With no
        // days the due date is that month end itself, written as a fixed day so the
        // baseline (and any cash discount counted from it) stays the invoice date.
        "CurrentMonth" if t.months > 0 => {
            return Err(reject(
                "current month with a number of months: the documentation does not say \
                 whether the months are added before or after moving to the month end",
            ))
        }
        "CurrentMonth" if t.days == 0 => TermsRule {
            net: Some(DayRule::FixedDay { day: 31, months: 0 }),
            ..base
        },
        "CurrentMonth" => TermsRule {
            fixed_baseline_day: Some(31),
            net: Some(DayRule::Days(t.days)),
            ..base
        },
        "COD" if t.days == 0 && t.months == 0 => TermsRule {
            net: Some(DayRule::Days(0)),
            ..base
        },
        "COD" => {
            return Err(reject(
                "cash on delivery with days or months: which of them applies is not defined",
            ))
        }
        m @ ("CurrentQuarter" | "CurrentYear" | "CurrentWeek") => {
            return Err(reject(&format!(
                "method {m}: a quarter, year or week end cannot be expressed as days or a \
                 day of the month"
            )))
        }
        other => return Err(reject(&format!("unknown payment method {other:?}"))),
    };
    Ok(PaymentTerms {
        key: t.name.trim().to_string(),
        description: t.description.clone(),
        rules: vec![rule],
    })
}

/// The tiers of a cash discount: the code itself, then its next code (at most two).
pub fn discount_chain<'a>(
    code: &str,
    all: &'a BTreeMap<String, FoCashDiscount>,
) -> Result<Vec<&'a FoCashDiscount>, FoTermsError> {
    let reject = |reason: String| FoTermsError::Discount {
        code: code.to_string(),
        reason,
    };
    let mut chain: Vec<&FoCashDiscount> = Vec::new();
    let mut next = Some(code.trim().to_string());
    while let Some(c) = next.filter(|c| !c.is_empty()) {
        if chain.iter().any(|d| d.code == c) {
            return Err(reject(format!("next discount codes loop back to {c}")));
        }
        let d = all
            .get(&c)
            .ok_or_else(|| reject(format!("next discount code {c} has no definition")))?;
        chain.push(d);
        if chain.len() > MAX_TIERS {
            return Err(reject(format!(
                "more than {MAX_TIERS} tiers; erpsync compares at most {MAX_TIERS}"
            )));
        }
        next = d.next.as_deref().map(|n| n.trim().to_string());
    }
    Ok(chain)
}

/// One cash-discount tier as the model holds it, counted from the invoice date.
fn tier(d: &FoCashDiscount) -> Result<DiscountTier, FoTermsError> {
    let reject = |reason: &str| FoTermsError::Discount {
        code: d.code.clone(),
        reason: reason.to_string(),
    };
    if d.percent <= Decimal::ZERO {
        return Err(reject("no percentage"));
    }
    if let Some(reason) = out_of_range(d.days, d.months) {
        return Err(reject(&reason));
    }
    let due = match (d.method.trim(), d.days, d.months) {
        ("Net", days, 0) => DayRule::Days(days),
        ("Net", _, _) => {
            return Err(reject(
                "months on a discount period: the model counts discount periods in days",
            ))
        }
        ("CurrentMonth", 0, 0) => DayRule::FixedDay { day: 31, months: 0 },
        ("CurrentMonth", _, _) => {
            return Err(reject(
                "current month plus days or months cannot be a discount deadline in the model",
            ))
        }
        (other, _, _) => return Err(reject(&format!("unknown discount method {other:?}"))),
    };
    Ok(DiscountTier {
        percent: d.percent,
        due,
    })
}

/// The definition of invoices billed on `terms` with the cash-discount `chain` (from
/// [`discount_chain`]), keyed by [`combined_key`].
pub fn with_discount(
    terms: &FoPaymentTerms,
    chain: &[&FoCashDiscount],
) -> Result<PaymentTerms, FoTermsError> {
    let mut def = terms_definition(terms)?;
    let Some(first) = chain.first() else {
        return Ok(def);
    };
    let reject = |reason: String| FoTermsError::Combination {
        terms: terms.name.clone(),
        code: first.code.clone(),
        reason,
    };
    let rule = &mut def.rules[0];
    // F&O counts the discount period from the invoice date; the model counts tiers from
    // the (moved) baseline, so terms that move it cannot carry a discount faithfully.
    if rule.fixed_baseline_day.is_some() || rule.extra_months > 0 {
        return Err(reject(
            "the terms count from a later date than the invoice date, the discount from the \
             invoice date; the model counts both from one date"
                .into(),
        ));
    }
    for d in chain {
        rule.discounts
            .push(tier(d).map_err(|e| reject(e.to_string()))?);
    }
    def.key = combined_key(&terms.name, Some(&first.code));
    def.description = format!("{} / {}", terms.description, first.description);
    Ok(def)
}

/// Every definition the F&O records give: each terms record alone, and each terms record
/// with each cash discount (customers may combine any two). Records the model cannot hold
/// are returned as errors, one per record or pair, and left out.
///
/// F&O keeps both per legal entity, the model one book for all: a code defined alike in
/// several legal entities is read once; one defined differently is refused, since the
/// book cannot say which legal entity's meaning an item has.
pub fn book(
    terms: &[FoPaymentTerms],
    discounts: &[FoCashDiscount],
) -> (Vec<PaymentTerms>, Vec<FoTermsError>) {
    let mut errors = Vec::new();
    let mut by_code: BTreeMap<String, FoCashDiscount> = BTreeMap::new();
    let mut split_codes = Vec::new();
    for d in discounts {
        let code = d.code.trim().to_string();
        match by_code.get(&code) {
            Some(seen) if !same_discount(seen, d) => split_codes.push(code),
            Some(_) => {}
            None => {
                by_code.insert(code, d.clone());
            }
        }
    }
    split_codes.dedup();
    for code in split_codes {
        by_code.remove(&code);
        errors.push(FoTermsError::Discount {
            code,
            reason: "defined differently in different legal entities".into(),
        });
    }
    let mut unique: Vec<&FoPaymentTerms> = Vec::new();
    let mut split_terms: Vec<String> = Vec::new();
    for t in terms {
        match unique.iter().find(|u| u.name.trim() == t.name.trim()) {
            Some(u) if !same_terms(u, t) => {
                if !split_terms.contains(&t.name) {
                    split_terms.push(t.name.clone());
                }
            }
            Some(_) => {}
            None => unique.push(t),
        }
    }
    unique.retain(|u| !split_terms.contains(&u.name));
    for name in split_terms {
        errors.push(FoTermsError::Terms {
            name,
            reason: "defined differently in different legal entities".into(),
        });
    }
    let mut defs = Vec::new();
    let mut chains = Vec::new();
    for code in by_code.keys() {
        match discount_chain(code, &by_code) {
            Ok(chain) => chains.push(chain),
            Err(e) => errors.push(e),
        }
    }
    for t in unique {
        match terms_definition(t) {
            Ok(def) => defs.push(def),
            Err(e) => {
                errors.push(e);
                continue;
            }
        }
        for chain in &chains {
            match with_discount(t, chain) {
                Ok(def) => defs.push(def),
                Err(e) => errors.push(e),
            }
        }
    }
    (defs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::payment_terms::{compare, DocumentDates};
    use chrono::NaiveDate;

    fn terms(name: &str, method: &str, days: u32, months: u32) -> FoPaymentTerms {
        FoPaymentTerms {
            name: name.into(),
            description: name.into(),
            method: method.into(),
            days,
            months,
            ..Default::default()
        }
    }

    #[test]
    fn huge_day_and_month_counts_are_rejected_not_counted() {
        for t in [
            terms("BIG", "Net", u32::MAX, 0),
            terms("BIGM", "Net", 0, 2_000_000_000),
        ] {
            let err = terms_definition(&t).unwrap_err().to_string();
            assert!(err.contains("not a period erpsync counts"), "{err}");
        }
        let err = tier(&discount("D", "Net", u32::MAX, "2"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a period erpsync counts"), "{err}");
        assert!(terms_definition(&terms("N30", "Net", 30, 1)).is_ok());
    }

    fn discount(code: &str, method: &str, days: u32, percent: &str) -> FoCashDiscount {
        FoCashDiscount {
            code: code.into(),
            description: code.into(),
            method: method.into(),
            days,
            months: 0,
            percent: percent.parse().unwrap(),
            next: None,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn net_due(def: &PaymentTerms, on: NaiveDate) -> NaiveDate {
        def.due_dates(&DocumentDates::same_day(on), false).net
    }

    #[test]
    fn net_counts_days_and_months_from_the_invoice_date() {
        let d = terms_definition(&terms("Net30", "Net", 30, 0)).unwrap();
        assert_eq!(d.key, "Net30");
        assert_eq!(net_due(&d, date(2026, 1, 15)), date(2026, 2, 14));
        let d = terms_definition(&terms("1M10", "Net", 10, 1)).unwrap();
        assert_eq!(net_due(&d, date(2026, 1, 31)), date(2026, 3, 10));
    }

    #[test]
    fn current_month_counts_from_the_month_end() {
        let d = terms_definition(&terms("CM30", "CurrentMonth", 30, 0)).unwrap();
        assert_eq!(net_due(&d, date(2026, 2, 3)), date(2026, 3, 30));
        let eom = terms_definition(&terms("CM", "CurrentMonth", 0, 0)).unwrap();
        assert_eq!(net_due(&eom, date(2028, 2, 3)), date(2028, 2, 29));
        // The same meaning as SAP's EM30 (baseline at month end, net 30).
        let sap = PaymentTerms {
            key: "EM30".into(),
            description: String::new(),
            rules: vec![TermsRule {
                fixed_baseline_day: Some(31),
                ..TermsRule::net_days(30)
            }],
        };
        assert_eq!(compare(&sap, &d), None);
    }

    #[test]
    fn cash_on_delivery_is_due_at_the_invoice_date() {
        let d = terms_definition(&terms("COD", "COD", 0, 0)).unwrap();
        assert_eq!(net_due(&d, date(2026, 5, 5)), date(2026, 5, 5));
        assert!(terms_definition(&terms("COD5", "COD", 5, 0)).is_err());
    }

    #[test]
    fn methods_and_settings_the_model_cannot_hold_are_refused_with_the_reason() {
        for (method, months) in [
            ("CurrentQuarter", 0),
            ("CurrentYear", 0),
            ("CurrentWeek", 0),
            ("CurrentMonth", 1),
            ("Whenever", 0),
        ] {
            let err = terms_definition(&terms("X", method, 10, months))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("terms of payment X: "), "{err}");
        }
        let mut t = terms("PD", "Net", 30, 0);
        t.payment_day = Some("FRIDAY".into());
        assert!(terms_definition(&t)
            .unwrap_err()
            .to_string()
            .contains("payment day"));
        let mut t = terms("PS", "Net", 30, 0);
        t.payment_schedule = Some("3X".into());
        assert!(terms_definition(&t)
            .unwrap_err()
            .to_string()
            .contains("payment schedule"));
        let mut t = terms("CO", "Net", 30, 0);
        t.cutoff_day = Some(15);
        assert!(terms_definition(&t)
            .unwrap_err()
            .to_string()
            .contains("cut-off"));
        // An empty payment day or schedule is no setting at all.
        let mut t = terms("N30", "Net", 30, 0);
        t.payment_day = Some(String::new());
        t.cutoff_day = Some(0);
        assert!(terms_definition(&t).is_ok());
    }

    #[test]
    fn a_discount_and_its_next_code_become_two_tiers() {
        let mut first = discount("3D14", "Net", 14, "3");
        first.next = Some("2D30".into());
        let all: BTreeMap<String, FoCashDiscount> = [first, discount("2D30", "Net", 30, "2")]
            .into_iter()
            .map(|d| (d.code.clone(), d))
            .collect();
        let chain = discount_chain("3D14", &all).unwrap();
        let d = with_discount(&terms("N45", "Net", 45, 0), &chain).unwrap();
        assert_eq!(d.key, "N45+3D14");
        let due = d.due_dates(&DocumentDates::same_day(date(2026, 3, 1)), false);
        assert_eq!(
            due.discounts,
            vec![
                (date(2026, 3, 15), Decimal::new(3, 0)),
                (date(2026, 3, 31), Decimal::new(2, 0))
            ]
        );
        assert_eq!(due.net, date(2026, 4, 15));
    }

    #[test]
    fn discount_chains_that_loop_run_long_or_break_are_refused() {
        let mut a = discount("A", "Net", 5, "3");
        a.next = Some("B".into());
        let mut b = discount("B", "Net", 10, "2");
        b.next = Some("A".into());
        let all: BTreeMap<String, FoCashDiscount> = [a.clone(), b]
            .into_iter()
            .map(|d| (d.code.clone(), d))
            .collect();
        assert!(discount_chain("A", &all)
            .unwrap_err()
            .to_string()
            .contains("loop"));
        let mut b = discount("B", "Net", 10, "2");
        b.next = Some("C".into());
        let mut all: BTreeMap<String, FoCashDiscount> =
            [a, b].into_iter().map(|d| (d.code.clone(), d)).collect();
        assert!(discount_chain("A", &all)
            .unwrap_err()
            .to_string()
            .contains("C has no definition"));
        all.insert("C".into(), discount("C", "Net", 20, "1"));
        assert!(discount_chain("A", &all)
            .unwrap_err()
            .to_string()
            .contains("more than 2 tiers"));
    }

    #[test]
    fn a_discount_on_terms_that_move_the_baseline_is_refused() {
        let d = discount("2D10", "Net", 10, "2");
        let err = with_discount(&terms("CM30", "CurrentMonth", 30, 0), &[&d])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("terms of payment CM30 with cash discount 2D10: "),
            "{err}"
        );
        // Month end without days keeps the invoice date as baseline: allowed.
        assert!(with_discount(&terms("CM", "CurrentMonth", 0, 0), &[&d]).is_ok());
        let months = FoCashDiscount {
            months: 1,
            ..d.clone()
        };
        assert!(with_discount(&terms("N30", "Net", 30, 0), &[&months]).is_err());
        let none = FoCashDiscount {
            percent: Decimal::ZERO,
            ..d
        };
        assert!(with_discount(&terms("N30", "Net", 30, 0), &[&none]).is_err());
    }

    #[test]
    fn the_book_pairs_every_terms_record_with_every_discount_and_lists_refusals() {
        let (defs, errors) = book(
            &[
                terms("N30", "Net", 30, 0),
                terms("Q", "CurrentQuarter", 0, 0),
                terms("CM30", "CurrentMonth", 30, 0),
            ],
            &[discount("2D10", "Net", 10, "2")],
        );
        let keys: Vec<&str> = defs.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, vec!["N30", "N30+2D10", "CM30"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        // "2/10 net 30" in SAP's words.
        let sap = PaymentTerms {
            key: "0002".into(),
            description: String::new(),
            rules: vec![TermsRule {
                discounts: vec![DiscountTier {
                    percent: Decimal::new(2, 0),
                    due: DayRule::Days(10),
                }],
                ..TermsRule::net_days(30)
            }],
        };
        assert_eq!(compare(&sap, &defs[1]), None);
    }

    #[test]
    fn codes_alike_in_every_legal_entity_are_read_once_and_codes_that_differ_are_refused() {
        let in_company = |company: &str, t: FoPaymentTerms| FoPaymentTerms {
            company: Some(company.into()),
            ..t
        };
        let (defs, errors) = book(
            &[
                in_company("usmf", terms("N30", "Net", 30, 0)),
                in_company("demf", terms("N30", "Net", 30, 0)),
                in_company("usmf", terms("N60", "Net", 60, 0)),
                in_company("demf", terms("N60", "Net", 45, 0)),
            ],
            &[
                discount("2D10", "Net", 10, "2"),
                discount("2D10", "Net", 10, "2.00"),
                discount("1D5", "Net", 5, "1"),
                discount("1D5", "Net", 7, "1"),
            ],
        );
        let keys: Vec<&str> = defs.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, vec!["N30", "N30+2D10"]);
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            vec![
                "cash discount 1D5: defined differently in different legal entities",
                "terms of payment N60: defined differently in different legal entities",
            ]
        );
    }

    #[test]
    fn combined_keys_leave_terms_alone_without_a_discount() {
        assert_eq!(combined_key("N30", None), "N30");
        assert_eq!(combined_key("N30", Some(" ")), "N30");
        assert_eq!(combined_key("N30", Some("2D10")), "N30+2D10");
    }
}
