//! `ar kpis`: the figures per company code (or collector, or customer) and currency.

use super::views::KpiRow;
use super::Result;
use crate::ar::dso::{self, SalesPeriod};
use crate::ar::figures::Totals;
use crate::ar::{days_past_due, ArSettings};
use crate::store::{ArFilter, Store};
use chrono::NaiveDate;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    #[default]
    CompanyCode,
    Collector,
    Customer,
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "company-code" | "company_code" => Ok(GroupBy::CompanyCode),
            "collector" => Ok(GroupBy::Collector),
            "customer" => Ok(GroupBy::Customer),
            _ => Err(format!(
                "unknown grouping {s:?}: expected company-code, collector or customer"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct KpiQuery {
    pub by: GroupBy,
    pub company_code: Option<String>,
    /// A desk user named in `[collectors]`, or an accounting clerk code.
    pub collector: Option<String>,
    pub as_of: NaiveDate,
}

/// (company code, currency, collector, customer): the last two empty unless grouped by.
type Key = (String, String, String, String);

pub(super) fn filter(
    settings: &ArSettings,
    company_code: Option<String>,
    collector: Option<&str>,
    by_customer: bool,
) -> ArFilter {
    ArFilter {
        company_code,
        clerks: collector.map(|c| settings.clerks_of(c)).unwrap_or_default(),
        customer: None,
        by_customer,
        by_clerk: false,
    }
}
/// Per group and currency, ordered by company code, currency, collector and customer.
pub async fn kpis(store: &dyn Store, settings: &ArSettings, q: &KpiQuery) -> Result<Vec<KpiRow>> {
    let by_customer = q.by == GroupBy::Customer;
    let mut filter = filter(
        settings,
        q.company_code.clone(),
        q.collector.as_deref(),
        by_customer,
    );
    filter.by_clerk = q.by == GroupBy::Collector;
    let key = |cc: &str, cur: &str, clerk: &str, customer: &str| -> Key {
        (
            cc.to_string(),
            cur.to_string(),
            if q.by == GroupBy::Collector && !clerk.is_empty() {
                settings.collector_name(clerk)
            } else {
                String::new()
            },
            customer.to_string(),
        )
    };
    let mut totals: BTreeMap<Key, Totals> = BTreeMap::new();
    for g in store.ar_open_groups(&filter, q.as_of).await? {
        let days = days_past_due(q.as_of, g.day);
        let t = totals
            .entry(key(&g.company_code, &g.currency, &g.clerk, &g.customer))
            .or_default();
        for a in g.amounts {
            t.add_item(a, days)?;
        }
    }
    let sales = if store.ar_has_sales().await? {
        let mut by: BTreeMap<Key, Vec<SalesPeriod>> = BTreeMap::new();
        let empty = dso::periods(q.as_of, settings.dso_months);
        let from = dso::window_start(q.as_of, settings.dso_months);
        for g in store.ar_sales_groups(&filter, from, q.as_of).await? {
            let p = by
                .entry(key(&g.company_code, &g.currency, &g.clerk, &g.customer))
                .or_insert_with(|| empty.clone());
            for a in g.amounts {
                dso::add_sale(p, g.day, a);
            }
        }
        Some((by, empty))
    } else {
        None
    };
    Ok(totals
        .into_iter()
        .map(|(k, t)| {
            let periods = sales
                .as_ref()
                .map(|(by, empty)| by.get(&k).unwrap_or(empty).as_slice());
            let d = dso::figures(t.open, t.current(), periods);
            let (cc, cur, collector, customer) = k;
            let mut row = KpiRow::of(cc, cur, q.as_of, &t, &d);
            if q.by == GroupBy::Collector {
                row.collector = Some((!collector.is_empty()).then_some(collector));
            }
            if by_customer {
                row.customer = Some(customer);
            }
            row
        })
        .collect())
}
