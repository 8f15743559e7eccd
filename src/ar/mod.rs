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
    use super::item::ArItem;
    use crate::model::{CustomerId, OpenItemKey};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    /// Item 1 of document `doc` in company code 1010, fiscal year 2026.
    pub fn key(doc: &str) -> OpenItemKey {
        OpenItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            document: doc.into(),
            item: "1".into(),
        }
    }

    /// An item of `customer` posted on 2026-09-01, undisputed.
    pub fn item(
        customer: &str,
        doc: &str,
        cur: &str,
        amt: &str,
        due: &str,
        cleared: Option<&str>,
    ) -> ArItem {
        ArItem {
            key: key(doc),
            customer: CustomerId::parse(customer).unwrap(),
            currency: cur.into(),
            amount: dec(amt),
            posting_date: d("2026-09-01"),
            due: d(due),
            cleared_on: cleared.map(d),
            dispute_case: None,
        }
    }

    pub fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    pub fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
}
