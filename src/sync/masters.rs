//! Customer masters: general data with its address, company-code and sales-area data.

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::odata::query::any_of;
use crate::erp::odata::{ErpError, Pager, Record};
use crate::model::{Address, CustomerGeneral, CustomerId};
use chrono::Utc;
use std::collections::HashMap;

/// Customers per address lookup: keeps the `$filter` well inside URL length limits.
const ADDRESS_CHUNK: usize = 40;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let mapping = ctx.mapping.entity("customers");
    let mut pager = Pager::new(&ctx.client, mapping, None);
    while let Some(page) = pager.next_page().await? {
        let mut rows: Vec<CustomerGeneral> = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            match Record::new(mapping, raw).customer_general() {
                Ok(c) => rows.push(c),
                Err(e) => report.reject(e),
            }
        }
        attach_addresses(ctx, &mut rows, report).await?;
        ctx.store.upsert_customers(&rows, seen_at).await?;
        report.add("customers", rows.len());
    }

    let mapping = ctx.mapping.entity("company_codes");
    let mut pager = Pager::new(&ctx.client, mapping, None);
    while let Some(page) = pager.next_page().await? {
        let mut rows = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            match Record::new(mapping, raw).company_code() {
                Ok(c) => rows.push(c),
                Err(e) => report.reject(e),
            }
        }
        ctx.store.upsert_company_codes(&rows, seen_at).await?;
        report.add("company_codes", rows.len());
    }

    let Some(mapping) = ctx.mapping.optional_entity("sales_areas") else {
        return pull_credit_limits(ctx, report).await;
    };
    let mut pager = Pager::new(&ctx.client, mapping, None);
    while let Some(page) = pager.next_page().await? {
        let mut rows = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            match Record::new(mapping, raw).sales_area() {
                Ok(c) => rows.push(c),
                Err(e) => report.reject(e),
            }
        }
        ctx.store.upsert_sales_areas(&rows, seen_at).await?;
        report.add("sales_areas", rows.len());
    }
    pull_credit_limits(ctx, report).await
}

/// Credit limits per credit segment, when the mapping reads credit management.
async fn pull_credit_limits(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let Some(mapping) = ctx.mapping.optional_entity("credit_limits") else {
        return Ok(());
    };
    let seen_at = Utc::now();
    let mut pager = Pager::new(&ctx.client, mapping, None);
    loop {
        let page = match pager.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            // Credit management is a component of its own: a system without it (or a user
            // without access) still gets its masters synced, and the report says so.
            Err(
                e @ ErpError::Status {
                    status: 400 | 403 | 404,
                    ..
                },
            ) => {
                report.reject(format!(
                    "credit limits are not read, so the credit_limit rule has nothing to judge: {e}"
                ));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut rows = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            match Record::new(mapping, raw).credit_limit() {
                Ok(c) => rows.push(c),
                Err(e) => report.reject(e),
            }
        }
        ctx.store.upsert_credit_limits(&rows, seen_at).await?;
        report.add("credit_limits", rows.len());
    }
    Ok(())
}

/// Reads the addresses of one page of customers (the first address per business partner).
async fn attach_addresses(
    ctx: &SyncContext,
    rows: &mut [CustomerGeneral],
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if report.addresses_unavailable {
        return Ok(());
    }
    let Some(mapping) = ctx.mapping.optional_entity("addresses") else {
        return Ok(());
    };
    let mut found: HashMap<CustomerId, Address> = HashMap::new();
    for chunk in rows.chunks(ADDRESS_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|c| c.customer.as_str()).collect();
        let property = mapping.property("customer").unwrap_or("BusinessPartner");
        let mut pager = Pager::new(&ctx.client, mapping, Some(any_of(property, &ids)));
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
