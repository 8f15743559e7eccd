//! The optional sales history DSO counts back over: customer items by posting date,
//! cleared or not (mapping entity `sales_items`: the same SAP cube as open items, with a
//! filter that keeps cleared items). Without the entity nothing is pulled and DSO stays
//! null.
//!
//! Incremental by posting date: the first pull reads `months` back from today; later pulls
//! read from the latest posting date stored, less an overlap for late postings. Items read
//! twice are upserted twice, which changes nothing. The cursor is written with the last
//! batch, so it never moves past rows that were not stored.

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::odata::Connection;
use crate::erp::source::PagedSource;
use crate::store::SalesRow;
use chrono::{Days, Months, NaiveDate, Utc};

const CURSOR: &str = "sales_items.posted_through";
/// Postings can arrive a few days after their posting date (period-end closing).
const OVERLAP_DAYS: u64 = 7;
const BATCH: usize = 5_000;

/// Where the pull starts: the stored cursor less the overlap, else `months` back.
fn start(today: NaiveDate, months: u32, stored: Option<&str>) -> NaiveDate {
    let window = today
        .checked_sub_months(Months::new(months))
        .unwrap_or(today);
    match stored.and_then(|s| s.parse::<NaiveDate>().ok()) {
        Some(d) => d
            .checked_sub_days(Days::new(OVERLAP_DAYS))
            .unwrap_or(d)
            .max(window),
        None => window,
    }
}

pub async fn pull(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
    months: u32,
) -> Result<(), SyncError> {
    let Some(mapping) = erp.mapping.optional_entity("sales_items") else {
        return Ok(());
    };
    let Some(property) = mapping.fields.get("posting_date") else {
        return Err(SyncError::Source(
            "mapping entity sales_items maps no posting_date".into(),
        ));
    };
    let today = Utc::now().date_naive();
    let stored = if ctx.full {
        None
    } else {
        ctx.store.get_cursor(CURSOR).await?
    };
    let from = start(today, months, stored.as_deref());
    tracing::info!(entity = "sales_items", %from, "sales history pull");
    let mut pages = erp.dated_from(mapping, property, from, |r| r.open_item());
    let seen_at = Utc::now();
    let mut rows: Vec<SalesRow> = Vec::new();
    let mut latest = stored.as_deref().and_then(|s| s.parse::<NaiveDate>().ok());
    while let Some(page) = pages.next_page().await? {
        for e in page.rejected {
            report.reject(e);
        }
        for i in page.records {
            latest = latest.max(Some(i.posting_date.min(today)));
            rows.push(SalesRow {
                key: i.key,
                customer: i.customer,
                posting_date: i.posting_date,
                amount: i.amount,
                currency: i.currency,
            });
        }
        if rows.len() >= BATCH && !page.last {
            report.add("sales_items", rows.len());
            ctx.store.ar_upsert_sales(&rows, seen_at, None).await?;
            rows.clear();
        }
    }
    report.add("sales_items", rows.len());
    let cursor = latest.map(|d| d.to_string());
    ctx.store
        .ar_upsert_sales(&rows, seen_at, cursor.as_deref().map(|c| (CURSOR, c)))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_window_then_from_the_cursor_less_the_overlap() {
        let today: NaiveDate = "2026-12-03".parse().unwrap();
        assert_eq!(start(today, 12, None), "2025-12-03".parse().unwrap());
        assert_eq!(
            start(today, 12, Some("2026-11-30")),
            "2026-11-23".parse::<NaiveDate>().unwrap()
        );
        // A cursor older than the window does not reach further back than the window.
        assert_eq!(
            start(today, 12, Some("2020-01-01")),
            "2025-12-03".parse::<NaiveDate>().unwrap()
        );
        assert_eq!(
            start(today, 12, Some("garbage")),
            "2025-12-03".parse().unwrap()
        );
    }
}
