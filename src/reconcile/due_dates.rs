//! The due dates a contract's terms give an open item, as the rules judge them. The desk
//! shows the same figures beside a flag, so they come from here and nowhere else.

use crate::model::payment_terms::{DocumentDates, DueDates};
use crate::model::{OpenItem, PaymentTerms};
use chrono::NaiveDate;

/// The dates an item's terms are read from.
pub fn document_dates(item: &OpenItem) -> DocumentDates {
    DocumentDates {
        document: item.document_date,
        posting: item.posting_date,
        // Open-item sources carry no entry date; SAP enters documents on their posting day
        // in all but back-dated cases.
        entry: item.posting_date,
    }
}

/// What `terms` give for the item's document (as an invoice, never a credit memo).
pub fn due_under(terms: &PaymentTerms, item: &OpenItem) -> DueDates {
    terms.due_dates(&document_dates(item), false)
}

/// The item's net due date under `terms`, and how many days the master's net due date
/// lies after it (positive: the customer may pay later than `terms` allow).
pub fn net_due_and_shift(terms: &PaymentTerms, item: &OpenItem) -> (NaiveDate, Option<i64>) {
    let net = due_under(terms, item).net;
    (
        net,
        item.net_due_date.map(|master| (master - net).num_days()),
    )
}
