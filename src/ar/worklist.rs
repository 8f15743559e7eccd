//! The call list (README, "Call list ranking").
//!
//! Customers with overdue money are split in three lists:
//! - `call`: to be called today, ranked (below);
//! - `promised`: the latest promise is still open and its date has not come, and no
//!   follow-up is due — nothing to chase yet;
//! - `disputed`: every overdue item is in a dispute case — the dispute is worked, not the
//!   customer.
//!
//! Ranking of `call`: first the customers whose latest promise is broken or whose
//! follow-up date has come, then the rest; within each, by overdue money weighted by age,
//! highest first: Σ over undisputed overdue items of amount × bucket weight (1 for 1–30
//! days … 6 for over 360) × the currency's ranking rate (`[ar.ranking_rates]`, 1 when not
//! set). The rates only order the list; no figure ever adds two currencies.

use super::aging::{days_past_due, Bucket};
use super::item::ArItem;
use super::promise::{outcome, Promise, PromiseOutcome, PromiseStatus};
use crate::model::CustomerId;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A note as the call list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteSummary {
    pub at: DateTime<Utc>,
    pub author: String,
    pub channel: String,
    pub via: Option<String>,
    pub text: String,
    pub follow_up: Option<NaiveDate>,
    pub promise: Option<Promise>,
}

/// What the call list knows about one customer (in the company codes asked for).
#[derive(Debug, Clone)]
pub struct CustomerCase {
    pub customer: CustomerId,
    pub name: String,
    pub collector: Option<String>,
    /// All the customer's items, open and cleared.
    pub items: Vec<ArItem>,
    /// Notes, newest first.
    pub notes: Vec<NoteSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Call,
    Promised,
    Disputed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyAmount {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromiseView {
    pub status: PromiseStatus,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
    pub made_on: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub paid: Decimal,
}

impl PromiseView {
    pub fn of(p: &Promise, o: &PromiseOutcome) -> Self {
        PromiseView {
            status: o.status,
            amount: p.amount,
            currency: p.currency.clone(),
            date: p.date,
            made_on: p.made_on,
            paid: o.paid,
        }
    }
}

/// One line of the call list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkEntry {
    pub rank: usize,
    pub section: Section,
    pub customer: String,
    pub name: String,
    pub collector: Option<String>,
    /// Overdue per currency (every overdue item, disputed ones included).
    pub overdue: Vec<CurrencyAmount>,
    pub oldest_days_past_due: i64,
    pub last_note: Option<NoteSummary>,
    /// The latest promise, when it is open or broken.
    pub promise: Option<PromiseView>,
    /// Dispute cases of the overdue items.
    pub open_disputes: Vec<String>,
    pub follow_up: Option<NaiveDate>,
    /// The ranking score (see the module documentation).
    #[serde(with = "rust_decimal::serde::str")]
    pub priority: Decimal,
    /// Why the customer is at the top: `broken_promise`, `follow_up_due`, or none.
    pub urgent: Option<&'static str>,
}

/// Ranking settings: the grace days of promises and the per-currency ranking rates.
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    pub promise_grace_days: u32,
    pub rates: BTreeMap<String, Decimal>,
}

fn entry(case: &CustomerCase, as_of: NaiveDate, ranking: &Ranking) -> Option<WorkEntry> {
    let overdue_items: Vec<&ArItem> = case
        .items
        .iter()
        .filter(|i| i.open_on(as_of) && days_past_due(as_of, i.due) > 0)
        .collect();
    let mut overdue: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut undisputed = Decimal::ZERO;
    let mut priority = Decimal::ZERO;
    let mut oldest = 0;
    let mut disputes: Vec<String> = Vec::new();
    for i in &overdue_items {
        let days = days_past_due(as_of, i.due);
        let sum = overdue.entry(&i.currency).or_default();
        *sum = sum.saturating_add(i.amount);
        if i.amount > Decimal::ZERO {
            oldest = oldest.max(days);
        }
        match &i.dispute_case {
            Some(case_id) => {
                if !disputes.contains(case_id) {
                    disputes.push(case_id.clone());
                }
            }
            None => {
                undisputed = undisputed.saturating_add(i.amount);
                let rate = ranking
                    .rates
                    .get(&i.currency)
                    .copied()
                    .unwrap_or(Decimal::ONE);
                let weight = Decimal::from(Bucket::of(days).rank_weight());
                priority =
                    priority.saturating_add(i.amount.saturating_mul(weight).saturating_mul(rate));
            }
        }
    }
    if !overdue.values().any(|a| *a > Decimal::ZERO) {
        return None;
    }
    let follow_up = case
        .notes
        .iter()
        .filter(|n| n.at.date_naive() <= as_of)
        .find_map(|n| n.follow_up);
    let latest_promise = case
        .notes
        .iter()
        .filter(|n| n.at.date_naive() <= as_of)
        .find_map(|n| n.promise.as_ref());
    let promise = latest_promise.map(|p| {
        let o = outcome(p, &case.items, as_of, ranking.promise_grace_days);
        PromiseView::of(p, &o)
    });
    let broken = promise
        .as_ref()
        .is_some_and(|p| p.status == PromiseStatus::Broken);
    let follow_up_due = follow_up.is_some_and(|f| f <= as_of);
    let waiting = promise
        .as_ref()
        .is_some_and(|p| p.status == PromiseStatus::Open && p.date >= as_of);
    let section = if !disputes.is_empty() && undisputed <= Decimal::ZERO {
        Section::Disputed
    } else if waiting && !follow_up_due {
        Section::Promised
    } else {
        Section::Call
    };
    let urgent = if broken {
        Some("broken_promise")
    } else if follow_up_due {
        Some("follow_up_due")
    } else {
        None
    };
    Some(WorkEntry {
        rank: 0,
        section,
        customer: case.customer.to_string(),
        name: case.name.clone(),
        collector: case.collector.clone(),
        overdue: overdue
            .into_iter()
            .map(|(c, a)| CurrencyAmount {
                currency: c.to_string(),
                amount: a,
            })
            .collect(),
        oldest_days_past_due: oldest,
        last_note: case
            .notes
            .iter()
            .find(|n| n.at.date_naive() <= as_of)
            .cloned(),
        promise: promise.filter(|p| p.status != PromiseStatus::Kept),
        open_disputes: disputes,
        follow_up,
        priority,
        urgent: if section == Section::Call {
            urgent
        } else {
            None
        },
    })
}

/// The call list at `as_of`: `call` entries ranked (rank 1 first), then `promised`, then
/// `disputed`, each of those by priority too.
pub fn worklist(cases: &[CustomerCase], as_of: NaiveDate, ranking: &Ranking) -> Vec<WorkEntry> {
    let mut out: Vec<WorkEntry> = cases
        .iter()
        .filter_map(|c| entry(c, as_of, ranking))
        .collect();
    out.sort_by(|a, b| {
        let key = |e: &WorkEntry| {
            (
                match e.section {
                    Section::Call => 0,
                    Section::Promised => 1,
                    Section::Disputed => 2,
                },
                e.urgent.is_none(),
            )
        };
        key(a)
            .cmp(&key(b))
            .then(b.priority.cmp(&a.priority))
            .then(a.customer.cmp(&b.customer))
    });
    for (i, e) in out.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::{d, dec};
    use chrono::TimeZone;

    fn item(cust: &str, doc: &str, cur: &str, amt: &str, due: &str) -> ArItem {
        ArItem {
            posting_date: d("2026-01-01"),
            ..crate::ar::test_values::item(cust, doc, cur, amt, due, None)
        }
    }
    fn case(cust: &str, items: Vec<ArItem>, notes: Vec<NoteSummary>) -> CustomerCase {
        CustomerCase {
            customer: CustomerId::parse(cust).unwrap(),
            name: format!("Customer {cust}"),
            collector: Some("01".into()),
            items,
            notes,
        }
    }
    fn note(day: u32, follow_up: Option<&str>, promise: Option<(&str, &str)>) -> NoteSummary {
        NoteSummary {
            at: Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap(),
            author: "ana".into(),
            channel: "phone".into(),
            via: None,
            text: "called".into(),
            follow_up: follow_up.map(d),
            promise: promise.map(|(amt, date)| Promise {
                amount: dec(amt),
                currency: "EUR".into(),
                date: d(date),
                made_on: d(&format!("2026-11-{day:02}")),
                item: None,
            }),
        }
    }

    #[test]
    fn ranks_urgent_first_then_by_money_weighted_by_age() {
        let as_of = d("2026-12-01");
        let ranking = Ranking {
            promise_grace_days: 3,
            rates: [("CNY".to_string(), dec("0.13"))].into_iter().collect(),
        };
        let mut disputed = item("5", "D1", "EUR", "9000", "2026-10-01");
        disputed.dispute_case = Some("CASE-1".into());
        let cases = vec![
            // 1000 EUR 1–30 days: 1000 × 1 = 1000.
            case(
                "1",
                vec![item("1", "A", "EUR", "1000", "2026-11-20")],
                vec![],
            ),
            // 300 EUR over 360 days: 300 × 6 = 1800.
            case(
                "2",
                vec![item("2", "B", "EUR", "300", "2025-11-01")],
                vec![],
            ),
            // 10000 CNY 31–60 days: 10000 × 2 × 0.13 = 2600.
            case(
                "3",
                vec![item("3", "C", "CNY", "10000", "2026-10-15")],
                vec![],
            ),
            // Small, but a broken promise (due 2026-11-20 + 3 days, nothing paid).
            case(
                "4",
                vec![item("4", "E", "EUR", "50", "2026-11-01")],
                vec![note(5, None, Some(("50", "2026-11-20")))],
            ),
            // Only disputed overdue items: listed apart.
            case("5", vec![disputed], vec![]),
            // An open promise not yet due: listed apart.
            case(
                "6",
                vec![item("6", "F", "EUR", "5000", "2026-11-01")],
                vec![note(28, None, Some(("5000", "2026-12-05")))],
            ),
            // A follow-up due today: urgent.
            case(
                "7",
                vec![item("7", "G", "EUR", "10", "2026-11-25")],
                vec![note(20, Some("2026-12-01"), None)],
            ),
            // Nothing overdue (a credit and a not-due item): not listed.
            case(
                "8",
                vec![
                    item("8", "H", "EUR", "-100", "2026-11-01"),
                    item("8", "I", "EUR", "100", "2026-12-31"),
                ],
                vec![],
            ),
        ];
        let list = worklist(&cases, as_of, &ranking);
        let order: Vec<(&str, Section, Option<&str>)> = list
            .iter()
            .map(|e| (e.customer.as_str(), e.section, e.urgent))
            .collect();
        assert_eq!(
            order,
            vec![
                ("0000000004", Section::Call, Some("broken_promise")),
                ("0000000007", Section::Call, Some("follow_up_due")),
                ("0000000003", Section::Call, None),
                ("0000000002", Section::Call, None),
                ("0000000001", Section::Call, None),
                ("0000000006", Section::Promised, None),
                ("0000000005", Section::Disputed, None),
            ]
        );
        let ranks: Vec<usize> = list.iter().map(|e| e.rank).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5, 6, 7]);
        let c3 = &list[2];
        assert_eq!(c3.priority, dec("2600.00"));
        assert_eq!(c3.oldest_days_past_due, 47);
        assert_eq!(
            c3.overdue,
            vec![CurrencyAmount {
                currency: "CNY".into(),
                amount: dec("10000")
            }]
        );
        let c4 = &list[0];
        let p = c4.promise.as_ref().unwrap();
        assert_eq!(p.status, PromiseStatus::Broken);
        assert_eq!(list[6].open_disputes, vec!["CASE-1".to_string()]);
        assert_eq!(list[1].follow_up, Some(d("2026-12-01")));
        assert_eq!(
            list[5].promise.as_ref().unwrap().status,
            PromiseStatus::Open
        );
    }
}
