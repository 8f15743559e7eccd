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
        let days = days_past_due(as_of, g.day);
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

/// One line of a trend chart: `"CC CUR"` and its points by day.
pub type Series = (String, Vec<(NaiveDate, Decimal)>);

/// The trend lines of the overview, from the snapshots of `from..=to` (all collectors
/// together) per company code and currency: OD% by day, and DSO by day — the snapshot's open
/// AR counted back over the sales history as of that day (none without a sales history).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trends {
    pub overdue_percent: Vec<Series>,
    pub dso: Vec<Series>,
}

pub async fn trends(
    store: &dyn Store,
    dso_months: u32,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Trends> {
    let mut by: BTreeMap<(String, String), BTreeMap<NaiveDate, Totals>> = BTreeMap::new();
    for s in store.ar_snapshots(from, to, None).await? {
        by.entry((s.company_code, s.currency))
            .or_default()
            .entry(s.as_of)
            .or_default()
            .merge(&s.totals)?;
    }
    let label = |(cc, cur): &(String, String)| format!("{cc} {cur}");
    let overdue_percent = by
        .iter()
        .map(|(k, days)| {
            let points = days
                .iter()
                .filter_map(|(d, t)| t.overdue_percent().map(|p| (*d, p)))
                .collect();
            (label(k), points)
        })
        .collect();
    let mut dso = Vec::new();
    if !by.is_empty() && store.ar_has_sales().await? {
        let start = crate::ar::dso::window_start(from, dso_months);
        let mut sales: BTreeMap<(String, String), BTreeMap<NaiveDate, Decimal>> = BTreeMap::new();
        for g in store
            .ar_sales_groups(&ArFilter::default(), start, to)
            .await?
        {
            let day: &mut Decimal = sales
                .entry((g.company_code, g.currency))
                .or_default()
                .entry(g.day)
                .or_default();
            for a in g.amounts.into_iter().filter(|a| *a > Decimal::ZERO) {
                *day = day.saturating_add(a);
            }
        }
        for (k, days) in &by {
            let balances: Vec<(NaiveDate, Decimal)> =
                days.iter().map(|(d, t)| (*d, t.open)).collect();
            let history: Vec<(NaiveDate, Decimal)> = sales
                .get(k)
                .map(|m| m.iter().map(|(d, a)| (*d, *a)).collect())
                .unwrap_or_default();
            dso.push((
                label(k),
                crate::ar::dso::daily(&balances, &history, dso_months),
            ));
        }
    }
    Ok(Trends {
        overdue_percent,
        dso,
    })
}
