//! Customer masters: general data with its address, company-code and sales-area data.

use super::{land, SyncContext, SyncError, SyncReport};
use crate::erp::mapping;
use crate::erp::odata::Connection;
use crate::erp::source::PagedSource;
use crate::store::StoreError;
use chrono::Utc;

pub async fn pull(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    // Each batch is written by a task of its own, which holds a handle on the store.
    let store = &ctx.store;
    pull_level(erp.customers(), report, "customers", |rows| {
        let store = store.clone();
        async move { store.upsert_customers(&rows, seen_at).await }
    })
    .await?;

    let mapping = erp.mapping.entity("company_codes");
    let pages = erp.pages(mapping, |r| r.company_code());
    pull_level(pages, report, "company_codes", |rows| {
        let store = store.clone();
        async move { store.upsert_company_codes(&rows, seen_at).await }
    })
    .await?;

    if let Some(mapping) = erp.mapping.optional_entity("sales_areas") {
        let pages = erp.pages(mapping, |r| r.sales_area());
        pull_level(pages, report, "sales_areas", |rows| {
            let store = store.clone();
            async move { store.upsert_sales_areas(&rows, seen_at).await }
        })
        .await?;
    }

    // Credit limits per credit segment, when the mapping reads credit management.
    if let Some(mapping) = erp.mapping.optional_entity("credit_limits") {
        let pages = erp.pages(mapping, |r| r.credit_limit());
        let pulled = pull_level(pages, report, "credit_limits", |rows| {
            let store = store.clone();
            async move { store.upsert_credit_limits(&rows, seen_at).await }
        })
        .await;
        match pulled {
            // Credit management is a component of its own: a system without it (or a user
            // without access) still gets its masters synced, and the report says so.
            Err(SyncError::Erp(e)) if e.is_refused() => report.reject(format!(
                "{}: {e}",
                mapping::unjudged_without("credit_limits").unwrap_or_default()
            )),
            other => other?,
        }
    }
    Ok(())
}

/// Pulls one level of the masters: each page converted record by record (a record that
/// cannot be read is reported and left out) and written while the next page is read.
async fn pull_level<T, W>(
    mut pages: impl PagedSource<Record = T>,
    report: &mut SyncReport,
    entity: &str,
    write: impl Fn(Vec<T>) -> W,
) -> Result<(), SyncError>
where
    W: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
{
    land(&mut pages, report, entity, &write, |rows, _, _| {
        let written = write(rows);
        async move { written.await.map(|()| None) }
    })
    .await
}
