//! Customer masters: general data with its address, company-code and sales-area data.

use super::{Batch, SyncContext, SyncError, SyncReport, WriteBehind};
use crate::erp::mapping;
use crate::erp::odata::query::any_of;
use crate::erp::odata::{Connection, ErpError, Pager, Record};
use crate::erp::source::PagedSource;
use crate::model::{Address, CustomerGeneral, CustomerId};
use crate::store::StoreError;
use chrono::Utc;
use std::collections::HashMap;

/// Customers per address lookup: keeps the `$filter` well inside URL length limits.
const ADDRESS_CHUNK: usize = 40;

pub async fn pull(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let mapping = erp.mapping.entity("customers");
    let mut pages = erp.pages(mapping, |r| r.customer_general());
    let mut batch: Batch<CustomerGeneral> = Batch::new();
    let mut writer = WriteBehind::default();
    while let Some(page) = pages.next_page().await? {
        let mut fresh = page.records;
        for e in page.rejected {
            report.reject(e);
        }
        attach_addresses(erp, &mut fresh, report).await?;
        batch.rows.append(&mut fresh);
        if batch.is_due() {
            let rows = batch.take();
            report.add("customers", rows.len());
            let store = ctx.store.clone();
            writer
                .write(async move { store.upsert_customers(&rows, seen_at).await })
                .await?;
        }
    }
    writer.finish().await?;
    let rows = batch.take();
    report.add("customers", rows.len());
    ctx.store.upsert_customers(&rows, seen_at).await?;

    let mapping = erp.mapping.entity("company_codes");
    let pages = erp.pages(mapping, |r| r.company_code());
    // Each batch is written by a task of its own, which holds a handle on the store.
    let store = &ctx.store;
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
            Err(SyncError::Erp(
                e @ ErpError::Status {
                    status: 400 | 403 | 404,
                    ..
                },
            )) => report.reject(format!(
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
    let mut batch = Batch::new();
    let mut writer = WriteBehind::default();
    while let Some(mut page) = pages.next_page().await? {
        for e in page.rejected {
            report.reject(e);
        }
        batch.rows.append(&mut page.records);
        if batch.is_due() {
            let rows = batch.take();
            report.add(entity, rows.len());
            writer.write(write(rows)).await?;
        }
    }
    writer.finish().await?;
    let rows = batch.take();
    report.add(entity, rows.len());
    write(rows).await?;
    Ok(())
}

/// Reads the addresses of one page of customers (the first address per business partner).
async fn attach_addresses(
    erp: &Connection,
    rows: &mut [CustomerGeneral],
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if report.addresses_unavailable {
        return Ok(());
    }
    let Some(mapping) = erp.mapping.optional_entity("addresses") else {
        return Ok(());
    };
    let mut found: HashMap<CustomerId, Address> = HashMap::new();
    for chunk in rows.chunks(ADDRESS_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.customer.as_str()).collect();
        let property = mapping.property("customer").unwrap_or("BusinessPartner");
        let mut pager = Pager::new(&erp.client, mapping, Some(any_of(property, &ids)));
        loop {
            let page = match pager.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                // Addresses are an extra: a system that does not expose them (or not to this
                // user) still gets its customers synced, and the report says what is missing.
                Err(
                    e @ ErpError::Status {
                        status: 400 | 403 | 404,
                        ..
                    },
                ) => {
                    report.addresses_unavailable = true;
                    report.reject(format!("customers are stored without addresses: {e}"));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            for raw in &page.entities {
                match Record::new(mapping, raw).address() {
                    Ok((id, address)) => {
                        found.entry(id).or_insert(address);
                    }
                    Err(e) => report.reject(e),
                }
            }
        }
    }
    for row in rows.iter_mut() {
        if let Some(mut address) = found.remove(&row.customer) {
            address.name = row.name.clone();
            row.address = Some(address);
        }
    }
    Ok(())
}
