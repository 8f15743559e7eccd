//! `ar worklist`: the call list (see `ar::worklist` for the ranking).

use super::kpis::filter;
use super::Result;
use crate::ar::worklist::{worklist as rank, CustomerCase, Ranking, Section, WorkEntry};
use crate::ar::ArSettings;
use crate::model::CustomerId;
use crate::store::Store;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The most lines one section of the list returns.
pub const MAX_LIMIT: usize = 10_000;
pub const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Clone)]
pub struct WorklistQuery {
    pub collector: Option<String>,
    pub company_code: Option<String>,
    /// Lines per section (`call`, `promised`, `disputed`), at most [`MAX_LIMIT`].
    pub limit: usize,
    pub as_of: NaiveDate,
}

pub async fn worklist(
    store: &dyn Store,
    settings: &ArSettings,
    q: &WorklistQuery,
) -> Result<Vec<WorkEntry>> {
    let f = filter(
        settings,
        q.company_code.clone(),
        q.collector.as_deref(),
        false,
    );
    let customers = store.ar_overdue_customers(&f, q.as_of).await?;
    let ids: Vec<CustomerId> = customers.iter().map(|c| c.customer.clone()).collect();
    let mut items: HashMap<CustomerId, Vec<_>> = HashMap::new();
    for i in store
        .ar_items_of(&ids, q.company_code.as_deref(), q.as_of)
        .await?
    {
        items.entry(i.customer.clone()).or_default().push(i);
    }
    let mut notes: HashMap<CustomerId, Vec<_>> = HashMap::new();
    for (c, n) in store.ar_notes_of(&ids).await? {
        notes.entry(c).or_default().push(n);
    }
    let cases: Vec<CustomerCase> = customers
        .into_iter()
        .map(|c| CustomerCase {
            items: items.remove(&c.customer).unwrap_or_default(),
            notes: notes.remove(&c.customer).unwrap_or_default(),
            collector: c.clerk.as_deref().map(|k| settings.collector_name(k)),
            name: c.name,
            customer: c.customer,
        })
        .collect();
    let ranking = Ranking {
        promise_grace_days: settings.promise_grace_days,
        rates: settings.ranking_rates.clone(),
    };
    let limit = q.limit.clamp(1, MAX_LIMIT);
    let mut per_section: HashMap<Section, usize> = HashMap::new();
    Ok(rank(&cases, q.as_of, &ranking)
        .into_iter()
        .filter(|e| {
            let n = per_section.entry(e.section).or_default();
            *n += 1;
            *n <= limit
        })
        .collect())
}
