//! Open AR per group and currency: open, overdue, the buckets, OD%, AR>60 and AR>360
//! (README, "AR definitions"). A [`Totals`] is one currency's figures; callers key them by
//! (company code | collector | customer, currency) and never add two currencies together.

use super::aging::{days_past_due, Bucket};
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// A sum went past what a decimal holds (about 7.9e28): refused, never wrapped or rounded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an AR total overflows the decimal range")]
pub struct Overflow;

/// The due date aging counts from: the net due date, else the baseline date (an unlinked
/// credit memo is due at its baseline, and an item without terms is due at once).
pub fn aging_date(net_due: Option<NaiveDate>, baseline: NaiveDate) -> NaiveDate {
    net_due.unwrap_or(baseline)
}

/// One currency's open-item figures for one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub items: u64,
    /// Signed sum of every open item (credits negative).
    pub open: Decimal,
    /// Sum of the items more than 0 days past due (credits included: an overdue credit
    /// memo lowers it).
    pub overdue: Decimal,
    /// Sums per bucket, in [`Bucket::ALL`] order.
    pub buckets: [Decimal; 7],
    /// Sum of the items more than 60 days past due.
    pub over_60: Decimal,
    /// Sum of the items more than 360 days past due.
    pub over_360: Decimal,
}

fn add(a: &mut Decimal, b: Decimal) -> Result<(), Overflow> {
    *a = a.checked_add(b).ok_or(Overflow)?;
    Ok(())
}

impl Totals {
    /// Counts one open item of `amount`, `days` past due.
    pub fn add_item(&mut self, amount: Decimal, days: i64) -> Result<(), Overflow> {
        self.items += 1;
        add(&mut self.open, amount)?;
        let bucket = Bucket::of(days);
        add(&mut self.buckets[bucket.index()], amount)?;
        if days > 0 {
            add(&mut self.overdue, amount)?;
        }
        if days > 60 {
            add(&mut self.over_60, amount)?;
        }
        if days > 360 {
            add(&mut self.over_360, amount)?;
        }
        Ok(())
    }

    /// [`Totals::add_item`] with the days counted from `due` at `as_of`.
    pub fn add_due(
        &mut self,
        amount: Decimal,
        due: NaiveDate,
        as_of: NaiveDate,
    ) -> Result<(), Overflow> {
        self.add_item(amount, days_past_due(as_of, due))
    }

    /// Adds another group's totals of the same currency.
    pub fn merge(&mut self, other: &Totals) -> Result<(), Overflow> {
        self.items += other.items;
        add(&mut self.open, other.open)?;
        add(&mut self.overdue, other.overdue)?;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            add(a, b)?;
        }
        add(&mut self.over_60, other.over_60)?;
        add(&mut self.over_360, other.over_360)
    }

    /// Open AR not yet due (the `not_due` bucket): what best possible DSO counts back.
    pub fn current(&self) -> Decimal {
        self.buckets[Bucket::NotDue.index()]
    }

    /// OD% = overdue ÷ open × 100.
    pub fn overdue_percent(&self) -> Option<Decimal> {
        percent(self.overdue, self.open)
    }

    pub fn over_60_percent(&self) -> Option<Decimal> {
        percent(self.over_60, self.open)
    }

    pub fn over_360_percent(&self) -> Option<Decimal> {
        percent(self.over_360, self.open)
    }
}

/// `part` as a percentage of `whole`, two places, half away from zero. `None` when the
/// whole is zero or negative (a group in net credit has no meaningful share).
pub fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole <= Decimal::ZERO {
        return None;
    }
    let p = part.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(whole)?;
    let mut p = p.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Always two places in print ("20.00", not "20").
    p.rescale(2);
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::{d, dec};
    use std::collections::BTreeMap;

    /// A hand-worked case: one company code, two currencies, a credit memo, every bucket.
    /// As of 2026-12-31:
    ///   EUR  1000.00 due 2027-01-15  not due
    ///   EUR   500.00 due 2026-12-01  30 days  1_30
    ///   EUR  -200.00 due 2026-11-30  31 days  31_60 (credit memo, overdue)
    ///   EUR   300.00 due 2026-10-31  61 days  61_90
    ///   EUR   400.00 due 2026-07-04  180 days 91_180
    ///   EUR   250.00 due 2025-12-31  365 days over_360
    ///   CNY  8000.00 due 2026-12-31  0 days   not_due
    ///   CNY  2000.00 due 2026-09-01  121 days 91_180
    /// EUR open 2250, overdue 1250 → OD% 55.56; >60: 950 → 42.22 %; >360: 250 → 11.11 %.
    /// CNY open 10000, overdue 2000 → 20.00 %; >60 2000 → 20.00 %; >360 0 → 0.00 %.
    #[test]
    fn figures_per_currency_with_a_credit_memo() {
        let as_of = d("2026-12-31");
        let items = [
            ("EUR", "1000.00", "2027-01-15"),
            ("EUR", "500.00", "2026-12-01"),
            ("EUR", "-200.00", "2026-11-30"),
            ("EUR", "300.00", "2026-10-31"),
            ("EUR", "400.00", "2026-07-04"),
            ("EUR", "250.00", "2025-12-31"),
            ("CNY", "8000.00", "2026-12-31"),
            ("CNY", "2000.00", "2026-09-01"),
        ];
        let mut by: BTreeMap<&str, Totals> = BTreeMap::new();
        for (cur, amt, due) in items {
            by.entry(cur)
                .or_default()
                .add_due(dec(amt), d(due), as_of)
                .unwrap();
        }
        let eur = &by["EUR"];
        assert_eq!(eur.items, 6);
        assert_eq!(eur.open, dec("2250.00"));
        assert_eq!(eur.overdue, dec("1250.00"));
        assert_eq!(
            eur.buckets,
            [
                dec("1000.00"),
                dec("500.00"),
                dec("-200.00"),
                dec("300.00"),
                dec("400.00"),
                dec("0"),
                dec("250.00")
            ]
        );
        assert_eq!(eur.over_60, dec("950.00"));
        assert_eq!(eur.over_360, dec("250.00"));
        assert_eq!(eur.overdue_percent(), Some(dec("55.56")));
        assert_eq!(eur.over_60_percent(), Some(dec("42.22")));
        assert_eq!(eur.over_360_percent(), Some(dec("11.11")));
        assert_eq!(eur.current(), dec("1000.00"));

        let cny = &by["CNY"];
        assert_eq!(cny.open, dec("10000.00"));
        assert_eq!(cny.overdue_percent(), Some(dec("20.00")));
        assert_eq!(cny.over_60_percent(), Some(dec("20.00")));
        assert_eq!(cny.over_360_percent(), Some(dec("0.00")));
    }

    #[test]
    fn percentages_round_half_away_and_need_a_positive_whole() {
        assert_eq!(percent(dec("1"), dec("8")), Some(dec("12.50")));
        assert_eq!(percent(dec("1"), dec("3")), Some(dec("33.33")));
        assert_eq!(percent(dec("2"), dec("3")), Some(dec("66.67")));
        assert_eq!(percent(dec("1"), dec("5")).unwrap().to_string(), "20.00");
        assert_eq!(percent(dec("0"), dec("5")).unwrap().to_string(), "0.00");
        assert_eq!(percent(dec("1"), dec("0")), None);
        assert_eq!(percent(dec("1"), dec("-5")), None);
    }

    #[test]
    fn merging_adds_and_overflow_is_refused() {
        let mut a = Totals::default();
        a.add_item(dec("10"), 45).unwrap();
        let mut b = Totals::default();
        b.add_item(dec("5"), 400).unwrap();
        a.merge(&b).unwrap();
        assert_eq!(a.items, 2);
        assert_eq!(a.over_60, dec("5"));
        assert_eq!(a.overdue, dec("15"));
        let mut big = Totals::default();
        big.add_item(Decimal::MAX, 1).unwrap();
        assert_eq!(big.add_item(Decimal::MAX, 1), Err(Overflow));
    }

    #[test]
    fn aging_falls_back_to_the_baseline() {
        assert_eq!(aging_date(None, d("2026-01-05")), d("2026-01-05"));
        assert_eq!(
            aging_date(Some(d("2026-02-04")), d("2026-01-05")),
            d("2026-02-04")
        );
    }
}
