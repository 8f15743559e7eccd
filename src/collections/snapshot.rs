//! `ar snapshot` and the service's daily snapshot: the day's figures per company code,
//! currency and collector (accounting clerk), with the day's credit sales when known.

use super::Result;
use crate::ar::days_past_due;
use crate::ar::figures::Totals;
use crate::ar::snapshot::Snapshot;
use crate::store::{ArFilter, Store};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Computes and stores the snapshot of `as_of` (replacing one taken earlier that day).
pub async fn take(
    store: &dyn Store,
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Snapshot>> {
    let filter = ArFilter {
        by_clerk: true,
        ..ArFilter::default()
    };
    let mut totals: BTreeMap<(String, String, String), Totals> = BTreeMap::new();
    for g in store.ar_open_groups(&filter, as_of).await? {
        let days = days_past_due(as_of, g.due);
        let t = totals
            .entry((g.company_code, g.currency, g.clerk))
            .or_default();
        for a in g.amounts {
            t.add_item(a, days)?;
        }
    }
    let mut sales: Option<BTreeMap<(String, String, String), Decimal>> = None;
    if store.ar_has_sales().await? {
        let mut by = BTreeMap::new();
        for g in store.ar_sales_groups(&filter, as_of, as_of).await? {
            let s: &mut Decimal = by.entry((g.company_code, g.currency, g.clerk)).or_default();
            for a in g.amounts.into_iter().filter(|a| *a > Decimal::ZERO) {
                *s = s.saturating_add(a);
            }
        }
        sales = Some(by);
    }
    let rows: Vec<Snapshot> = totals
        .into_iter()
        .map(|(k, t)| {
            let day_sales = sales
                .as_ref()
                .map(|by| by.get(&k).copied().unwrap_or(Decimal::ZERO));
            Snapshot {
                as_of,
                company_code: k.0,
                currency: k.1,
                collector: k.2,
                totals: t,
                sales: day_sales,
            }
        })
        .collect();
    store.ar_save_snapshots(&rows, now).await?;
    Ok(rows)
}
