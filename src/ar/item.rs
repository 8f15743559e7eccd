//! An AR line item as the collections figures see it: open or cleared, with the date aging
//! counts from. Built by the store from `open_items` (which keeps cleared items).

use crate::model::{CustomerId, OpenItemKey};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArItem {
    pub key: OpenItemKey,
    pub customer: CustomerId,
    pub currency: String,
    /// Signed: debits positive, credit memos and payments on account negative.
    pub amount: Decimal,
    pub posting_date: NaiveDate,
    /// Net due date, else the baseline date (see `figures::aging_date`).
    pub due: NaiveDate,
    /// The day a pull first no longer saw the item open; `None` while open.
    pub cleared_on: Option<NaiveDate>,
    pub dispute_case: Option<String>,
}

impl ArItem {
    /// Open on `day`: not cleared yet, or cleared after it.
    pub fn open_on(&self, day: NaiveDate) -> bool {
        self.posting_date <= day && self.cleared_on.is_none_or(|c| c > day)
    }
}
