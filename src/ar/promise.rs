//! Promises to pay (README, "AR definitions"). A promise is made in a collector note: an
//! amount in a currency by a date. It covers the note's item, else the customer's items in
//! the promise's currency that were overdue the day it was made. It is
//! - *kept* once the covered items cleared, plus payments on account posted since it was
//!   made, reach its amount by the promise date + `promise_grace_days`;
//! - *open* until that deadline while not yet kept;
//! - *broken* after it.
//!
//! A clearing is dated by the pull that first no longer saw the item open, so the grace
//! days also absorb the time between pulls.

use super::item::ArItem;
use crate::model::OpenItemKey;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseStatus {
    Open,
    Kept,
    Broken,
}

impl PromiseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseStatus::Open => "open",
            PromiseStatus::Kept => "kept",
            PromiseStatus::Broken => "broken",
        }
    }
}

/// A promise as recorded with its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promise {
    pub amount: Decimal,
    pub currency: String,
    pub date: NaiveDate,
    /// The day the note was written.
    pub made_on: NaiveDate,
    /// The note's item, when the note was about one.
    pub item: Option<OpenItemKey>,
}

/// What a promise came to at the as-of date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromiseOutcome {
    pub status: PromiseStatus,
    /// What was paid against it by the deadline (or by the as-of date, if earlier).
    pub paid: Decimal,
    /// The promise date plus the grace days.
    pub deadline: NaiveDate,
}

/// The items a promise covers, from all of the customer's items (open and cleared).
pub fn covered<'a>(promise: &Promise, items: &'a [ArItem]) -> Vec<&'a ArItem> {
    if let Some(key) = &promise.item {
        return items.iter().filter(|i| &i.key == key).collect();
    }
    items
        .iter()
        .filter(|i| {
            i.currency == promise.currency
                && i.amount > Decimal::ZERO
                && i.due < promise.made_on
                && i.posting_date <= promise.made_on
                // Still open when the promise was made (a clearing seen that day counts:
                // the pull may have run after the call).
                && i.cleared_on.is_none_or(|c| c >= promise.made_on)
        })
        .collect()
}

/// The status of `promise` at `as_of`, with `items` all of the customer's items.
pub fn outcome(
    promise: &Promise,
    items: &[ArItem],
    as_of: NaiveDate,
    grace_days: u32,
) -> PromiseOutcome {
    let deadline = promise
        .date
        .checked_add_days(Days::new(u64::from(grace_days)))
        .unwrap_or(promise.date);
    let until = deadline.min(as_of);
    let mut paid = Decimal::ZERO;
    for i in covered(promise, items) {
        if i.cleared_on.is_some_and(|c| c <= until) && i.amount > Decimal::ZERO {
            paid = paid.saturating_add(i.amount);
        }
    }
    // Payments on account (open credit items, or ones cleared since) posted while the
    // promise ran reduce what is owed, whether or not they were applied to the items yet.
    if promise.item.is_none() {
        for i in items {
            if i.currency == promise.currency
                && i.amount < Decimal::ZERO
                && i.posting_date >= promise.made_on
                && i.posting_date <= until
            {
                paid = paid.saturating_add(-i.amount);
            }
        }
    }
    let status = if paid >= promise.amount {
        PromiseStatus::Kept
    } else if as_of <= deadline {
        PromiseStatus::Open
    } else {
        PromiseStatus::Broken
    };
    PromiseOutcome {
        status,
        paid,
        deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::{d, dec, key};

    fn item(doc: &str, cur: &str, amt: &str, due: &str, cleared: Option<&str>) -> ArItem {
        crate::ar::test_values::item("4711", doc, cur, amt, due, cleared)
    }
    fn promise(amount: &str, item: Option<&str>) -> Promise {
        Promise {
            amount: dec(amount),
            currency: "EUR".into(),
            date: d("2026-11-10"),
            made_on: d("2026-11-01"),
            item: item.map(key),
        }
    }

    /// Two overdue EUR items (A 600, B 400) and one not yet due (C 900) when the promise
    /// was made on 2026-11-01, a CNY item, and one cleared before the promise.
    fn items(a_cleared: Option<&str>, b_cleared: Option<&str>) -> Vec<ArItem> {
        vec![
            item("A", "EUR", "600", "2026-10-01", a_cleared),
            item("B", "EUR", "400", "2026-10-15", b_cleared),
            item("C", "EUR", "900", "2026-11-30", Some("2026-11-05")),
            item("D", "CNY", "5000", "2026-10-01", Some("2026-11-05")),
            item("E", "EUR", "700", "2026-09-01", Some("2026-10-20")),
        ]
    }

    #[test]
    fn covers_the_items_overdue_when_made_in_its_currency() {
        let all = items(None, None);
        let docs: Vec<&str> = covered(&promise("1000", None), &all)
            .iter()
            .map(|i| i.key.document.as_str())
            .collect();
        assert_eq!(docs, ["A", "B"]);
        let one: Vec<&str> = covered(&promise("400", Some("B")), &all)
            .iter()
            .map(|i| i.key.document.as_str())
            .collect();
        assert_eq!(one, ["B"]);
    }

    #[test]
    fn kept_or_broken_by_date_and_amount() {
        let grace = 3;
        // (promise amount, A cleared, B cleared, as of, expected, paid)
        let cases = [
            // Both cleared before the date: kept, even before the date.
            (
                "1000",
                Some("2026-11-08"),
                Some("2026-11-09"),
                "2026-11-09",
                PromiseStatus::Kept,
                "1000",
            ),
            // Cleared on the last day of grace (10th + 3 = 13th): kept.
            (
                "1000",
                Some("2026-11-08"),
                Some("2026-11-13"),
                "2026-12-01",
                PromiseStatus::Kept,
                "1000",
            ),
            // One day after the grace: broken (only A counts).
            (
                "1000",
                Some("2026-11-08"),
                Some("2026-11-14"),
                "2026-12-01",
                PromiseStatus::Broken,
                "600",
            ),
            // Short by amount: a promise of 1000, only A (600) paid → broken.
            (
                "1000",
                Some("2026-11-02"),
                None,
                "2026-11-20",
                PromiseStatus::Broken,
                "600",
            ),
            // A promise of 600 met by A alone: kept.
            (
                "600",
                Some("2026-11-02"),
                None,
                "2026-11-20",
                PromiseStatus::Kept,
                "600",
            ),
            // Nothing paid yet, before the deadline: open (also during the grace days).
            ("1000", None, None, "2026-11-05", PromiseStatus::Open, "0"),
            ("1000", None, None, "2026-11-13", PromiseStatus::Open, "0"),
            ("1000", None, None, "2026-11-14", PromiseStatus::Broken, "0"),
            // As of a day before the clearing: the clearing is not known yet.
            (
                "600",
                Some("2026-11-09"),
                None,
                "2026-11-08",
                PromiseStatus::Open,
                "0",
            ),
        ];
        for (amount, a, b, as_of, status, paid) in cases {
            let all = items(a, b);
            let o = outcome(&promise(amount, None), &all, d(as_of), grace);
            assert_eq!(
                (o.status, o.paid),
                (status, dec(paid)),
                "promise {amount}, A {a:?}, B {b:?}, as of {as_of}"
            );
            assert_eq!(o.deadline, d("2026-11-13"));
        }
    }

    #[test]
    fn a_payment_on_account_reduces_what_is_owed() {
        let mut all = items(Some("2026-11-04"), None);
        let mut pay = item("P", "EUR", "-400", "2026-11-06", None);
        pay.posting_date = d("2026-11-06");
        all.push(pay);
        let o = outcome(&promise("1000", None), &all, d("2026-11-30"), 3);
        assert_eq!((o.status, o.paid), (PromiseStatus::Kept, dec("1000")));
        // A CNY payment does not pay a EUR promise.
        let mut all = items(Some("2026-11-04"), None);
        let mut pay = item("P", "CNY", "-400", "2026-11-06", None);
        pay.posting_date = d("2026-11-06");
        all.push(pay);
        let o = outcome(&promise("1000", None), &all, d("2026-11-30"), 3);
        assert_eq!((o.status, o.paid), (PromiseStatus::Broken, dec("600")));
    }

    #[test]
    fn a_promise_on_one_item_looks_at_that_item() {
        let all = items(None, Some("2026-11-12"));
        let o = outcome(&promise("400", Some("B")), &all, d("2026-11-30"), 0);
        // Cleared on the 12th, deadline the 10th with no grace: broken.
        assert_eq!(o.status, PromiseStatus::Broken);
        let o = outcome(&promise("400", Some("B")), &all, d("2026-11-30"), 2);
        assert_eq!(o.status, PromiseStatus::Kept);
    }
}
