//! Daily snapshots: one row per day, company code, currency and collector with the day's
//! open-item figures and credit sales, kept for trends and CEI.

use super::figures::Totals;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The figures of one day for one company code, currency and collector (`""` when the
/// customer has no accounting clerk in that company code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub as_of: NaiveDate,
    pub company_code: String,
    pub currency: String,
    pub collector: String,
    pub totals: Totals,
    /// Credit sales posted on the day; `None` without sales history.
    pub sales: Option<Decimal>,
}
