//! The JSON shapes of the workbench (DESIGN §5, `ar kpis --format json`): amounts and
//! percentages as decimal strings, day figures as numbers or null.

use crate::ar::dso::DsoFigures;
use crate::ar::figures::Totals;
use crate::ar::Bucket;
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

fn days<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v.and_then(|d| d.to_f64()) {
        Some(f) => s.serialize_f64(f),
        None => s.serialize_none(),
    }
}

fn opt_str<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// The seven buckets by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketsView {
    #[serde(with = "rust_decimal::serde::str")]
    pub not_due: Decimal,
    #[serde(rename = "1_30", with = "rust_decimal::serde::str")]
    pub d1_30: Decimal,
    #[serde(rename = "31_60", with = "rust_decimal::serde::str")]
    pub d31_60: Decimal,
    #[serde(rename = "61_90", with = "rust_decimal::serde::str")]
    pub d61_90: Decimal,
    #[serde(rename = "91_180", with = "rust_decimal::serde::str")]
    pub d91_180: Decimal,
    #[serde(rename = "181_360", with = "rust_decimal::serde::str")]
    pub d181_360: Decimal,
    #[serde(rename = "over_360", with = "rust_decimal::serde::str")]
    pub over_360: Decimal,
}

impl BucketsView {
    pub fn of(b: &[Decimal; 7]) -> Self {
        BucketsView {
            not_due: b[0],
            d1_30: b[1],
            d31_60: b[2],
            d61_90: b[3],
            d91_180: b[4],
            d181_360: b[5],
            over_360: b[6],
        }
    }

    pub fn get(&self, b: Bucket) -> Decimal {
        match b {
            Bucket::NotDue => self.not_due,
            Bucket::D1To30 => self.d1_30,
            Bucket::D31To60 => self.d31_60,
            Bucket::D61To90 => self.d61_90,
            Bucket::D91To180 => self.d91_180,
            Bucket::D181To360 => self.d181_360,
            Bucket::Over360 => self.over_360,
        }
    }
}

/// One line of `ar kpis`: one group and currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiRow {
    pub company_code: String,
    pub currency: String,
    /// Present when grouped by collector (null for customers without a clerk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<Option<String>>,
    /// Present when grouped by customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    pub as_of: NaiveDate,
    pub items: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub open_amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub overdue_amount: Decimal,
    #[serde(serialize_with = "opt_str")]
    pub overdue_percent: Option<Decimal>,
    pub buckets: BucketsView,
    #[serde(with = "rust_decimal::serde::str")]
    pub ar_over_60_amount: Decimal,
    #[serde(serialize_with = "opt_str")]
    pub ar_over_60_percent: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub ar_over_360_amount: Decimal,
    #[serde(serialize_with = "opt_str")]
    pub ar_over_360_percent: Option<Decimal>,
    #[serde(serialize_with = "days")]
    pub dso: Option<Decimal>,
    #[serde(serialize_with = "days")]
    pub best_possible_dso: Option<Decimal>,
    #[serde(serialize_with = "days")]
    pub add: Option<Decimal>,
}

impl KpiRow {
    pub fn of(
        company_code: String,
        currency: String,
        as_of: NaiveDate,
        t: &Totals,
        dso: &DsoFigures,
    ) -> Self {
        KpiRow {
            company_code,
            currency,
            collector: None,
            customer: None,
            as_of,
            items: t.items,
            open_amount: t.open,
            overdue_amount: t.overdue,
            overdue_percent: t.overdue_percent(),
            buckets: BucketsView::of(&t.buckets),
            ar_over_60_amount: t.over_60,
            ar_over_60_percent: t.over_60_percent(),
            ar_over_360_amount: t.over_360,
            ar_over_360_percent: t.over_360_percent(),
            dso: dso.dso,
            best_possible_dso: dso.best_possible_dso,
            add: dso.add,
        }
    }
}
