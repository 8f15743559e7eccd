//! DSO by the count-back method over credit sales, best possible DSO and ADD
//! (README, "AR definitions").
//!
//! Count-back: start from the AR balance at the as-of date and walk back month by month,
//! newest first — the as-of month counts only its days up to and including the as-of date.
//! While the balance covers a month's credit sales, subtract them and add the month's
//! days; the month that exhausts it adds the covered fraction of its days. A balance
//! larger than every month of the window has no DSO within the window: `None`, never an
//! extrapolation. Credit sales are the customer debit items posted in a month, cleared or
//! not; without that history there is no DSO at all.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// One month of the window: its first and last day counted, and its credit sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SalesPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sales: Decimal,
}

impl SalesPeriod {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// The window's months, newest first: the as-of month from its first day to the as-of
/// date, then `months − 1` whole months before it. Sales start at zero.
pub fn periods(as_of: NaiveDate, months: u32) -> Vec<SalesPeriod> {
    let mut out = Vec::with_capacity(months as usize);
    let first = as_of.with_day(1).unwrap_or(as_of);
    let mut to = as_of;
    let mut from = first;
    for _ in 0..months {
        out.push(SalesPeriod {
            from,
            to,
            sales: Decimal::ZERO,
        });
        let Some(prev) = from.checked_sub_months(Months::new(1)) else {
            break;
        };
        to = from.pred_opt().unwrap_or(from);
        from = prev;
    }
    out
}

/// The first day of the window (what a sales query must reach back to).
pub fn window_start(as_of: NaiveDate, months: u32) -> NaiveDate {
    periods(as_of, months)
        .last()
        .map(|p| p.from)
        .unwrap_or(as_of)
}

/// Adds a debit item posted on `posted` to the period holding it. Credits and items
/// outside the window are not credit sales of the window and are ignored.
pub fn add_sale(periods: &mut [SalesPeriod], posted: NaiveDate, amount: Decimal) {
    if amount <= Decimal::ZERO {
        return;
    }
    if let Some(p) = periods
        .iter_mut()
        .find(|p| p.from <= posted && posted <= p.to)
    {
        p.sales = p.sales.checked_add(amount).unwrap_or(Decimal::MAX);
    }
}

/// Days of credit sales the balance represents, counted back; two places.
pub fn count_back(balance: Decimal, periods: &[SalesPeriod]) -> Option<Decimal> {
    if balance <= Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    let mut remaining = balance;
    let mut days = Decimal::ZERO;
    for p in periods {
        let period_days = Decimal::from(p.days());
        if remaining > p.sales {
            remaining -= p.sales;
            days += period_days;
            continue;
        }
        let part = remaining.checked_mul(period_days)?.checked_div(p.sales)?;
        days += part;
        return Some(days.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero));
    }
    None
}

/// DSO, best possible DSO and ADD of one group and currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DsoFigures {
    pub dso: Option<Decimal>,
    pub best_possible_dso: Option<Decimal>,
    pub add: Option<Decimal>,
}

/// `sales` is `None` when no sales history is configured: then every figure is `None`.
/// Best possible DSO counts back the current (not yet due) AR over the same sales; ADD
/// (average days delinquent) is DSO − best possible DSO.
pub fn figures(open: Decimal, current: Decimal, sales: Option<&[SalesPeriod]>) -> DsoFigures {
    let Some(sales) = sales else {
        return DsoFigures::default();
    };
    let dso = count_back(open, sales);
    let best = count_back(current, sales);
    let add = match (dso, best) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    DsoFigures {
        dso,
        best_possible_dso: best,
        add,
    }
}

/// DSO day by day for a trend line: for each `(day, open AR)`, the count-back over the
/// window ending that day of `sales` (`(posted, credit sales that day)`, any order). Days
/// whose balance the window cannot cover are left out, as [`count_back`] gives no figure.
pub fn daily(
    balances: &[(NaiveDate, Decimal)],
    sales: &[(NaiveDate, Decimal)],
    months: u32,
) -> Vec<(NaiveDate, Decimal)> {
    balances
        .iter()
        .filter_map(|(day, open)| {
            let mut p = periods(*day, months);
            for (posted, amount) in sales.iter().filter(|(posted, _)| posted <= day) {
                add_sale(&mut p, *posted, *amount);
            }
            count_back(*open, &p).map(|dso| (*day, dso))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::{d, dec};

    /// As of 2026-03-15 with a three-month window: March counts 15 days, February 28,
    /// January 31. Sales: March 1000, February 2000, January 3100.
    fn window() -> Vec<SalesPeriod> {
        let mut p = periods(d("2026-03-15"), 3);
        add_sale(&mut p, d("2026-03-01"), dec("600"));
        add_sale(&mut p, d("2026-03-15"), dec("400"));
        add_sale(&mut p, d("2026-03-16"), dec("999")); // after the as-of date: not counted
        add_sale(&mut p, d("2026-02-28"), dec("2000"));
        add_sale(&mut p, d("2026-01-01"), dec("3100"));
        add_sale(&mut p, d("2026-01-20"), dec("-500")); // a credit memo is not a sale
        add_sale(&mut p, d("2025-12-31"), dec("777")); // before the window
        p
    }

    #[test]
    fn the_window_has_a_partial_as_of_month() {
        let p = window();
        let shape: Vec<(NaiveDate, NaiveDate, i64, Decimal)> = p
            .iter()
            .map(|p| (p.from, p.to, p.days(), p.sales))
            .collect();
        assert_eq!(
            shape,
            vec![
                (d("2026-03-01"), d("2026-03-15"), 15, dec("1000")),
                (d("2026-02-01"), d("2026-02-28"), 28, dec("2000")),
                (d("2026-01-01"), d("2026-01-31"), 31, dec("3100")),
            ]
        );
        assert_eq!(window_start(d("2026-03-15"), 3), d("2026-01-01"));
        // The last day of a month is a whole month.
        assert_eq!(periods(d("2026-02-28"), 1)[0].days(), 28);
    }

    #[test]
    fn count_back_by_hand() {
        let p = window();
        // 2500: March's 1000 (15 days), then 1500 of February's 2000 → 0.75 × 28 = 21.
        assert_eq!(count_back(dec("2500"), &p), Some(dec("36.00")));
        // Exactly March's sales: 15 days.
        assert_eq!(count_back(dec("1000"), &p), Some(dec("15.00")));
        // 400 of March's 1000: 6 days.
        assert_eq!(count_back(dec("400"), &p), Some(dec("6.00")));
        // Into January: 1000 + 2000 + 1000/3100 × 31 = 15 + 28 + 10.
        assert_eq!(count_back(dec("4000"), &p), Some(dec("53.00")));
        // More than the window's 6100 of sales: no DSO within the window.
        assert_eq!(count_back(dec("7000"), &p), None);
        // A net credit balance: nothing outstanding.
        assert_eq!(count_back(dec("-10"), &p), Some(dec("0")));
    }

    #[test]
    fn a_month_without_sales_counts_whole() {
        let mut p = periods(d("2026-03-15"), 2);
        add_sale(&mut p, d("2026-02-10"), dec("280"));
        // March has no sales: its 15 days, then 140/280 × 28 = 14.
        assert_eq!(count_back(dec("140"), &p), Some(dec("29.00")));
    }

    #[test]
    fn best_possible_and_add() {
        let p = window();
        let f = figures(dec("2500"), dec("800"), Some(&p));
        assert_eq!(f.dso, Some(dec("36.00")));
        // 800 of March's 1000 → 12 days.
        assert_eq!(f.best_possible_dso, Some(dec("12.00")));
        assert_eq!(f.add, Some(dec("24.00")));
        // Without sales history nothing is guessed.
        assert_eq!(
            figures(dec("2500"), dec("800"), None),
            DsoFigures::default()
        );
        // AR past the window: DSO and ADD unknown, best possible still known.
        let f = figures(dec("7000"), dec("800"), Some(&p));
        assert_eq!((f.dso, f.add), (None, None));
        assert_eq!(f.best_possible_dso, Some(dec("12.00")));
    }

    /// Day by day: each day counts back over its own window; a sale after a day does not
    /// count for it; a balance beyond the window has no point.
    #[test]
    fn daily_counts_back_each_day_over_its_own_window() {
        let sales = [
            (d("2026-02-10"), dec("2800")),
            (d("2026-03-10"), dec("1000")),
            (d("2026-03-20"), dec("3000")),
        ];
        let balances = [
            (d("2026-03-15"), dec("1500")),
            (d("2026-03-31"), dec("4000")),
            (d("2026-03-16"), dec("99999")),
        ];
        let got = daily(&balances, &sales, 2);
        // 15 March: March so far 1000 (15 days), then 500 of February's 2800 (28 days): 5.
        // 31 March: all of March's 4000 covers it: 31 days.
        assert_eq!(
            got,
            vec![
                (d("2026-03-15"), dec("20.00")),
                (d("2026-03-31"), dec("31.00"))
            ]
        );
    }
}
