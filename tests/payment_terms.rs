//! Payment terms: the due-date engine, comparison by meaning, the contract-text parser and
//! the built-in T052 definitions, checked against SAP's rules and each other.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;

use erpsync::contracts::terms_text;
use erpsync::erp::t052;
use erpsync::model::payment_terms::{
    compare, describe, BaselineSource, DayRule, DiscountTier, DocumentDates, PaymentTerms,
    TermsRule,
};

#[path = "payment_terms/verdicts.rs"]
mod verdicts;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn terms(key: &str, rules: Vec<TermsRule>) -> PaymentTerms {
    PaymentTerms {
        key: key.to_string(),
        description: String::new(),
        rules,
    }
}

fn standard(key: &str) -> PaymentTerms {
    t052::standard_terms()
        .into_iter()
        .find(|t| t.key == key)
        .unwrap_or_else(|| panic!("{key} is not a standard key"))
}

fn net_due(t: &PaymentTerms, d: NaiveDate) -> NaiveDate {
    t.due_dates(&DocumentDates::same_day(d), false).net
}

// ---- generators -------------------------------------------------------------------------

fn source() -> impl Strategy<Value = BaselineSource> {
    prop_oneof![
        Just(BaselineSource::DocumentDate),
        Just(BaselineSource::PostingDate),
        Just(BaselineSource::EntryDate),
    ]
}

/// Percentages with up to three decimals, as SAP stores them.
fn percent() -> impl Strategy<Value = Decimal> {
    (1i64..=10_000).prop_map(|p| Decimal::new(p, 3))
}

/// The periods of one rule, well formed as SAP demands: discount deadlines before the net
/// term, percentages falling. Either all in days, or all fixed days of later months.
fn periods() -> impl Strategy<Value = (Vec<DiscountTier>, Option<DayRule>)> {
    let in_days = (
        prop::collection::btree_set(0u32..=120, 0..=3),
        percent(),
        percent(),
        any::<bool>(),
    )
        .prop_map(|(days, p1, p2, with_net)| {
            let days: Vec<u32> = days.into_iter().collect();
            let (hi, lo) = if p1 >= p2 { (p1, p2) } else { (p2, p1) };
            let pcts = [hi, lo];
            let (tiers, net) = match days.split_last() {
                Some((last, rest)) if with_net => (rest.to_vec(), Some(DayRule::Days(*last))),
                _ => (days.clone(), None),
            };
            let discounts = tiers
                .iter()
                .take(2)
                .zip(pcts)
                .map(|(d, percent)| DiscountTier {
                    percent,
                    due: DayRule::Days(*d),
                })
                .collect();
            (discounts, net)
        });
    // Fixed days of later months: (months, day) strictly increasing keeps the order after
    // clamping to short months.
    let fixed = (1u32..=3, 1u32..=31, percent()).prop_map(|(months, day, p)| {
        let tier = DiscountTier {
            percent: p,
            due: DayRule::FixedDay {
                day,
                months: months - 1,
            },
        };
        // Day 31 of the same month is never before the baseline; earlier days are only
        // used from the next month on.
        let tier = match tier.due {
            DayRule::FixedDay { months: 0, .. } => DiscountTier {
                due: DayRule::FixedDay { day: 31, months: 0 },
                ..tier
            },
            _ => tier,
        };
        (vec![tier], Some(DayRule::FixedDay { day, months }))
    });
    prop_oneof![3 => in_days, 1 => fixed]
}

fn rule() -> impl Strategy<Value = TermsRule> {
    (source(), prop::option::of(1u32..=31), 0u32..=2, periods()).prop_map(
        |(baseline, fixed, extra_months, (discounts, net))| TermsRule {
            day_limit: None,
            baseline,
            fixed_baseline_day: fixed,
            extra_months,
            discounts,
            net,
        },
    )
}

/// One rule, or two or three split by day limits (the last at 31, as SAP requires).
fn payment_terms() -> impl Strategy<Value = PaymentTerms> {
    prop::collection::vec(rule(), 1..=3).prop_flat_map(|rules| {
        let n = rules.len();
        prop::collection::btree_set(1u32..=30, n - 1).prop_map(move |limits| {
            let mut limits: Vec<u32> = limits.into_iter().collect();
            limits.push(31);
            let mut rules = rules.clone();
            if rules.len() > 1 {
                for (r, l) in rules.iter_mut().zip(limits) {
                    r.day_limit = Some(l);
                }
            }
            terms("GEN", rules)
        })
    })
}

fn document_dates() -> impl Strategy<Value = DocumentDates> {
    (0i64..(365 * 6), 0i64..=10, 0i64..=10).prop_map(|(d, p, e)| {
        let document = date(2026, 1, 1) + Duration::days(d);
        DocumentDates {
            document,
            posting: document + Duration::days(p),
            entry: document + Duration::days(e),
        }
    })
}

/// Simple terms whose words `describe` gives and the text parser reads.
fn simple_terms() -> impl Strategy<Value = PaymentTerms> {
    let net = (1u32..=999).prop_map(TermsRule::net_days);
    let eom = (1u32..=999).prop_map(|n| TermsRule {
        fixed_baseline_day: Some(31),
        ..TermsRule::net_days(n)
    });
    let immediate = Just(TermsRule {
        net: None,
        ..TermsRule::net_days(0)
    });
    let end_of_month = Just(TermsRule {
        net: None,
        fixed_baseline_day: Some(31),
        ..TermsRule::net_days(0)
    });
    let discounted = (
        1u32..=60,
        1u32..=60,
        61u32..=999,
        2i64..=9_999,
        1i64..=9_999,
    )
        .prop_map(|(d1, d2, n, p1, p2)| {
            let (d1, d2) = (d1.min(d2), d1.max(d2));
            let (p1, p2) = (p1.max(p2), p1.min(p2));
            let mut discounts = vec![DiscountTier {
                percent: Decimal::new(p1, 2),
                due: DayRule::Days(d1),
            }];
            if d2 > d1 && p2 < p1 {
                discounts.push(DiscountTier {
                    percent: Decimal::new(p2, 2),
                    due: DayRule::Days(d2),
                });
            }
            TermsRule {
                discounts,
                ..TermsRule::net_days(n)
            }
        });
    prop_oneof![net, eom, immediate, end_of_month, discounted]
        .prop_map(|r| terms("SIMPLE", vec![r]))
}

// ---- properties -------------------------------------------------------------------------

proptest! {
    #[test]
    fn net_due_never_before_baseline(t in payment_terms(), dates in document_dates()) {
        let due = t.due_dates(&dates, false);
        prop_assert!(due.net >= due.baseline, "{t:?} {dates:?} {due:?}");
    }

    #[test]
    fn discounts_not_after_net(t in payment_terms(), dates in document_dates()) {
        let due = t.due_dates(&dates, false);
        for (deadline, _) in &due.discounts {
            prop_assert!(*deadline <= due.net, "{t:?} {dates:?} {due:?}");
        }
        for pair in due.discounts.windows(2) {
            prop_assert!(pair[0].0 <= pair[1].0 && pair[0].1 >= pair[1].1, "{due:?}");
        }
    }

    #[test]
    fn credit_memo_due_at_baseline(t in payment_terms(), dates in document_dates()) {
        let invoice = t.due_dates(&dates, false);
        let credit = t.due_dates(&dates, true);
        prop_assert_eq!(credit.baseline, invoice.baseline);
        prop_assert_eq!(credit.net, credit.baseline);
        prop_assert!(credit.discounts.is_empty());
    }

    #[test]
    fn equal_to_itself_and_a_rekeyed_copy(t in payment_terms()) {
        prop_assert_eq!(compare(&t, &t), None);
        let mut other = t.clone();
        other.key = "ZZ99".to_string();
        other.description = "customer-defined copy".to_string();
        prop_assert_eq!(compare(&t, &other), None);
        other.rules.reverse();
        prop_assert_eq!(compare(&t, &other), None, "row order must not matter");
    }

    #[test]
    fn compare_is_antisymmetric(a in payment_terms(), b in payment_terms()) {
        let ab = compare(&a, &b);
        let ba = compare(&b, &a);
        prop_assert_eq!(ab.is_some(), ba.is_some());
        if let (Some(ab), Some(ba)) = (ab, ba) {
            prop_assert_eq!(ab.min_net_shift_days, -ba.max_net_shift_days);
            prop_assert_eq!(ab.max_net_shift_days, -ba.min_net_shift_days);
            prop_assert_eq!(ab.first_differing_date, ba.first_differing_date);
            prop_assert_eq!(ab.differing_dates, ba.differing_dates);
            prop_assert_eq!(ab.discounts_differ, ba.discounts_differ);
            prop_assert!(ab.min_net_shift_days <= ab.max_net_shift_days);
        }
    }

    #[test]
    fn described_words_read_back(t in simple_terms()) {
        let words = describe(&t);
        let read = terms_text::parse(&words)
            .map_err(|e| TestCaseError::fail(format!("{words:?}: {e}")))?;
        prop_assert_eq!(compare(&t, &read), None, "{} read as {:?}", words, read);
    }

    #[test]
    fn net_days_shift_is_the_difference(a in 0u32..=400, b in 0u32..=400) {
        let d = compare(&terms("A", vec![TermsRule::net_days(a)]), &terms("B", vec![TermsRule::net_days(b)]));
        let shift = i64::from(b) - i64::from(a);
        match d {
            None => prop_assert_eq!(shift, 0),
            Some(d) => {
                prop_assert_eq!(d.min_net_shift_days, shift);
                prop_assert_eq!(d.max_net_shift_days, shift);
                prop_assert_eq!(d.first_differing_date, date(2028, 1, 1));
                prop_assert_eq!(d.differing_dates, d.compared_dates);
                prop_assert_eq!(d.compared_dates, 731);
            }
        }
    }
}

// ---- SAP examples ----------------------------------------------------------------------

#[test]
fn end_of_month_in_a_leap_february() {
    let eom = standard("EOM");
    assert_eq!(net_due(&eom, date(2028, 2, 29)), date(2028, 2, 29));
    assert_eq!(net_due(&eom, date(2028, 2, 1)), date(2028, 2, 29));
    assert_eq!(net_due(&eom, date(2029, 2, 1)), date(2029, 2, 28));
    let em30 = standard("EM30");
    // Baseline moves to Feb 29th, then 30 days.
    let due = em30.due_dates(&DocumentDates::same_day(date(2028, 2, 29)), false);
    assert_eq!(due.baseline, date(2028, 2, 29));
    assert_eq!(due.net, date(2028, 3, 30));
    assert_eq!(net_due(&em30, date(2029, 2, 10)), date(2029, 3, 30));
}

#[test]
fn day_limits_on_the_15th_and_16th() {
    let z015 = standard("Z015");
    assert_eq!(net_due(&z015, date(2028, 1, 15)), date(2028, 1, 31));
    assert_eq!(net_due(&z015, date(2028, 1, 16)), date(2028, 2, 29));
    assert_eq!(net_due(&z015, date(2029, 12, 16)), date(2030, 1, 31));
    assert_eq!(net_due(&z015, date(2029, 1, 31)), date(2029, 2, 28));

    // The limit is read on the date the baseline comes from, before any fixed day moves it:
    // here the posting date.
    let by_posting = terms(
        "Z215",
        vec![
            TermsRule {
                day_limit: Some(15),
                baseline: BaselineSource::PostingDate,
                fixed_baseline_day: Some(31),
                ..TermsRule::net_days(0)
            },
            TermsRule {
                day_limit: Some(31),
                baseline: BaselineSource::PostingDate,
                fixed_baseline_day: Some(15),
                extra_months: 1,
                ..TermsRule::net_days(0)
            },
        ],
    );
    let dates = DocumentDates {
        document: date(2029, 3, 10),
        posting: date(2029, 3, 16),
        entry: date(2029, 3, 10),
    };
    let due = by_posting.due_dates(&dates, false);
    assert_eq!(due.baseline, date(2029, 4, 15));
    assert_eq!(due.net, date(2029, 4, 15));
    let dates = DocumentDates {
        posting: date(2029, 3, 15),
        ..dates
    };
    assert_eq!(by_posting.due_dates(&dates, false).net, date(2029, 3, 31));
}

#[test]
fn fixed_baseline_day_and_extra_months() {
    let rule = |fixed: Option<u32>, months: u32, net: u32| TermsRule {
        fixed_baseline_day: fixed,
        extra_months: months,
        ..TermsRule::net_days(net)
    };
    let baseline = |r: TermsRule, d: NaiveDate| {
        terms("X", vec![r])
            .due_dates(&DocumentDates::same_day(d), false)
            .baseline
    };
    // ZFAEL overwrites the day, ZMONA moves the month; days past a month's end clamp.
    assert_eq!(
        baseline(rule(Some(15), 1, 0), date(2029, 1, 20)),
        date(2029, 2, 15)
    );
    assert_eq!(
        baseline(rule(Some(15), 0, 0), date(2029, 1, 20)),
        date(2029, 1, 15)
    );
    assert_eq!(
        baseline(rule(Some(31), 1, 0), date(2029, 1, 31)),
        date(2029, 2, 28)
    );
    assert_eq!(
        baseline(rule(Some(30), 1, 0), date(2028, 1, 5)),
        date(2028, 2, 29)
    );
    assert_eq!(
        baseline(rule(None, 1, 0), date(2029, 1, 31)),
        date(2029, 2, 28)
    );
    assert_eq!(
        baseline(rule(Some(31), 2, 0), date(2029, 12, 5)),
        date(2030, 2, 28)
    );
    // "10th of next month after 30 days": fixed baseline day 10, one extra month, net 30.
    let t = terms("X", vec![rule(Some(10), 1, 30)]);
    assert_eq!(net_due(&t, date(2029, 1, 5)), date(2029, 3, 12));
}

#[test]
fn fixed_day_terms() {
    // ZSTGn/ZSMNn: that calendar day of the month ZSMNn months after the baseline month.
    let t = terms(
        "X",
        vec![TermsRule {
            discounts: vec![DiscountTier {
                percent: Decimal::new(2, 0),
                due: DayRule::FixedDay { day: 31, months: 0 },
            }],
            net: Some(DayRule::FixedDay { day: 15, months: 1 }),
            ..TermsRule::net_days(0)
        }],
    );
    let due = t.due_dates(&DocumentDates::same_day(date(2029, 12, 20)), false);
    assert_eq!(
        due.discounts,
        vec![(date(2029, 12, 31), Decimal::new(2, 0))]
    );
    assert_eq!(due.net, date(2030, 1, 15));
    let due = t.due_dates(&DocumentDates::same_day(date(2028, 2, 3)), false);
    assert_eq!(due.discounts[0].0, date(2028, 2, 29));
    assert_eq!(due.net, date(2028, 3, 15));
}

#[test]
fn net_is_the_last_term_given() {
    // Discount only: due net at the discount deadline.
    let t = terms(
        "X",
        vec![TermsRule {
            discounts: vec![DiscountTier {
                percent: Decimal::new(3, 0),
                due: DayRule::Days(14),
            }],
            net: None,
            ..TermsRule::net_days(0)
        }],
    );
    assert_eq!(net_due(&t, date(2029, 5, 1)), date(2029, 5, 15));
    // Nothing at all: due at the baseline.
    assert_eq!(
        net_due(&standard("0001"), date(2029, 5, 1)),
        date(2029, 5, 1)
    );
    assert_eq!(
        net_due(&terms("X", vec![]), date(2029, 5, 1)),
        date(2029, 5, 1)
    );
}

#[test]
fn baseline_source_is_compared() {
    let doc = terms("A", vec![TermsRule::net_days(30)]);
    let posting = terms(
        "B",
        vec![TermsRule {
            baseline: BaselineSource::PostingDate,
            ..TermsRule::net_days(30)
        }],
    );
    let d = compare(&doc, &posting).expect("different baseline sources");
    assert!(d.baseline_source_differs);
    assert!(d.summary.contains("posting date"), "{}", d.summary);
}

// ---- the built-in definitions ---------------------------------------------------------

#[test]
fn standard_keys_with_the_same_meaning() {
    for (a, b) in [("NT30", "Z030"), ("0001", "NT00"), ("0002", "ZB10")] {
        assert_eq!(compare(&standard(a), &standard(b)), None, "{a} vs {b}");
    }
}

#[test]
fn same_due_dates_by_another_route_are_the_same_terms() {
    // EM30 moves the baseline to month end, then 30 days; the same as a fixed-day net term
    // would be "the 30th day after month end": only the due dates count.
    let moved = PaymentTerms {
        key: "A".into(),
        description: String::new(),
        rules: vec![TermsRule {
            day_limit: None,
            baseline: BaselineSource::DocumentDate,
            fixed_baseline_day: Some(31),
            extra_months: 0,
            discounts: vec![],
            net: Some(DayRule::Days(0)),
        }],
    };
    let fixed = PaymentTerms {
        key: "B".into(),
        description: String::new(),
        rules: vec![TermsRule {
            day_limit: None,
            baseline: BaselineSource::DocumentDate,
            fixed_baseline_day: None,
            extra_months: 0,
            discounts: vec![],
            net: Some(DayRule::FixedDay { day: 31, months: 0 }),
        }],
    };
    assert_eq!(compare(&moved, &fixed), None);
}

#[test]
fn standard_keys_that_differ() {
    let d = compare(&standard("NT30"), &standard("NT45")).expect("NT30 and NT45 differ");
    assert_eq!((d.min_net_shift_days, d.max_net_shift_days), (15, 15));
    assert_eq!(d.first_differing_date, date(2028, 1, 1));
    assert!(!d.discounts_differ);
    assert!(d.summary.ends_with("due 15 days late"), "{}", d.summary);

    let d = compare(&standard("0002"), &standard("NT30")).expect("discount differs");
    assert!(d.discounts_differ);
    assert!(!d.net_differs);
    assert_eq!((d.min_net_shift_days, d.max_net_shift_days), (0, 0));

    // End of month against net 30: as late only for the 1st of a 31-day month, otherwise
    // up to 30 days earlier (December 31st).
    let d = compare(&standard("NT30"), &standard("EOM")).unwrap();
    assert_eq!((d.min_net_shift_days, d.max_net_shift_days), (-30, 0));
    // Same net date on January 1st: terms are judged by due dates, so the first
    // difference is January 2nd, although the baselines already differ on the 1st.
    assert_eq!(d.first_differing_date, date(2028, 1, 2));
    assert!(d.baseline_differs);
    assert!(
        d.summary.ends_with("due up to 30 days early"),
        "{}",
        d.summary
    );
    let d = compare(&standard("NT00"), &standard("EOM")).unwrap();
    assert_eq!((d.min_net_shift_days, d.max_net_shift_days), (0, 30));
}

#[test]
fn contract_text_against_standard_keys() {
    let defs = t052::standard_terms();
    let read = |text: &str| terms_text::resolve(text, &defs).unwrap();
    assert_eq!(compare(&read("Net 30"), &standard("NT30")), None);
    assert_eq!(compare(&read("net30"), &standard("Z030")), None);
    assert_eq!(compare(&read("月结30天"), &standard("EM30")), None);
    assert_eq!(compare(&read("30 days EOM"), &standard("EM30")), None);
    assert_eq!(compare(&read("货到付款"), &standard("0001")), None);
    assert_eq!(compare(&read("due on receipt"), &standard("NT00")), None);
    assert_eq!(compare(&read("EOM"), &standard("EOM")), None);
    assert_eq!(compare(&read("2/10 net 30"), &standard("0002")), None);
    assert_eq!(
        compare(&read("3% 14 days, 2% 30 days, net 45"), &standard("0003")),
        None
    );
    // A key names its definition.
    assert_eq!(read("nt45"), standard("NT45"));

    let d = compare(&read("Net 45"), &standard("NT30")).unwrap();
    assert_eq!(
        d.summary,
        "contract: net 45 from document date; master NT30: net 30 from document date \
         → due 15 days early"
    );
}

#[test]
fn descriptions() {
    assert_eq!(
        describe(&standard("0002")),
        "2% within 10 days, net 30 from document date"
    );
    assert_eq!(describe(&standard("EM30")), "net 30 after end of month");
    assert_eq!(describe(&standard("0001")), "due immediately");
    assert_eq!(describe(&standard("EOM")), "due at end of month");
    assert_eq!(
        describe(&standard("Z015")),
        "document day up to 15: due at end of month; document day from 16: due at end of next month"
    );
}
