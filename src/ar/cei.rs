//! Collection effectiveness index over a period, from two stored snapshots and the credit
//! sales between them (README, "AR definitions"):
//!
//! CEI = (beginning AR + credit sales − ending AR)
//!     ÷ (beginning AR + credit sales − ending current AR) × 100
//!
//! "Current" is AR not yet due at the end. 100 means everything collectable was collected.

use super::figures::percent;
use rust_decimal::Decimal;

/// The inputs of one period, one group and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeiInputs {
    pub beginning_ar: Decimal,
    /// Credit sales posted after the beginning snapshot up to the ending one.
    pub sales: Decimal,
    pub ending_ar: Decimal,
    pub ending_current_ar: Decimal,
}

/// `None` when nothing was collectable (the denominator is zero or negative) or a sum
/// leaves the decimal range.
pub fn cei(i: &CeiInputs) -> Option<Decimal> {
    let available = i.beginning_ar.checked_add(i.sales)?;
    let collected = available.checked_sub(i.ending_ar)?;
    let collectable = available.checked_sub(i.ending_current_ar)?;
    percent(collected, collectable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::dec;

    #[test]
    fn cei_by_hand() {
        // Begin 10000, sales 5000, end 8000 of which 3000 current:
        // (15000 − 8000) / (15000 − 3000) = 7000 / 12000 = 58.33 %.
        let i = CeiInputs {
            beginning_ar: dec("10000"),
            sales: dec("5000"),
            ending_ar: dec("8000"),
            ending_current_ar: dec("3000"),
        };
        assert_eq!(cei(&i), Some(dec("58.33")));
        // Everything overdue collected: 100 %.
        let all = CeiInputs {
            ending_ar: dec("3000"),
            ..i.clone()
        };
        assert_eq!(cei(&all), Some(dec("100.00")));
        // Nothing collectable.
        let none = CeiInputs {
            beginning_ar: dec("0"),
            sales: dec("0"),
            ending_ar: dec("0"),
            ending_current_ar: dec("0"),
        };
        assert_eq!(cei(&none), None);
    }
}
