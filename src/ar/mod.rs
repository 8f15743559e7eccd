//! Collections (accounts receivable): the figures an AR team is measured on and works from.
//!
//! Everything here is pure: no I/O and no clock reads. The as-of date is a parameter, so
//! every figure is reproducible for a past day. The store feeds rows in; the CLI, the API
//! and the desk print what comes out.
//!
//! - [`aging`]: days past due and the seven aging buckets.
//! - [`figures`]: open, overdue, buckets, OD%, AR>60 / AR>360 per group and currency.
//! - [`dso`]: DSO by count-back over credit sales, best possible DSO, ADD.
//! - [`cei`]: collection effectiveness index between two snapshots.
//! - [`promise`]: promises to pay, open, kept or broken.
//! - [`worklist`]: the ranked call list.
//! - [`settings`]: `[ar]` and `[collectors]`.
//!
//! Amounts are signed (`rust_decimal`, credits negative) and never summed across
//! currencies: every total is keyed by currency.

pub mod aging;
pub mod cei;
pub mod dso;
pub mod figures;
pub mod item;
pub mod promise;
pub mod settings;
pub mod snapshot;
pub mod statement;
pub mod worklist;

pub use aging::{days_past_due, Bucket};
pub use figures::{percent, Totals};
pub use settings::ArSettings;

/// Values written as text in the figures' table tests.
#[cfg(test)]
pub(crate) mod test_values {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    pub fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    pub fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
}
