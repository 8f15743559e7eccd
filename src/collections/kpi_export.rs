//! The KPIs as a spreadsheet for the AR lead's weekly pack: one row per group and currency,
//! amounts as numbers in their currency's format, percentages and days as numbers, a frozen
//! header with filters. Built in memory from rows the caller already computed.

use super::kpis::GroupBy;
use super::views::KpiRow;
use super::{CollectionsError, Result};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook};

/// One KPI cell, typed: a table prints it, a workbook keeps numbers as numbers.
pub enum KpiCell {
    Text(String),
    Count(u64),
    Money(Decimal),
    /// A percentage or a day figure; `None` where it cannot be computed.
    Figure(Option<Decimal>),
}

impl KpiCell {
    /// As printed in a table or CSV: exact decimals, `-` for a figure that is not there.
    pub fn print(&self) -> String {
        match self {
            KpiCell::Text(t) => t.clone(),
            KpiCell::Count(n) => n.to_string(),
            KpiCell::Money(m) => m.to_string(),
            KpiCell::Figure(f) => f.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        }
    }
}

/// A column: its name (the JSON field's) and how a row fills it.
pub type KpiColumn = (&'static str, fn(&KpiRow) -> KpiCell);

/// The columns of the KPIs grouped `by`, in print order: `collector` or `customer` after
/// the currency when grouped by them. The one description the CLI table, the CSV and the
/// workbook share.
pub fn kpi_columns(by: GroupBy) -> Vec<KpiColumn> {
    use KpiCell::{Count, Figure, Money, Text};
    let mut columns: Vec<KpiColumn> = vec![
        ("company_code", |r| Text(r.company_code.clone())),
        ("currency", |r| Text(r.currency.clone())),
    ];
    match by {
        GroupBy::Collector => columns.push(("collector", |r| {
            Text(r.collector.clone().flatten().unwrap_or_default())
        })),
        GroupBy::Customer => {
            columns.push(("customer", |r| Text(r.customer.clone().unwrap_or_default())))
        }
        GroupBy::CompanyCode => {}
    }
    let figures: [KpiColumn; 18] = [
        ("items", |r| Count(r.items)),
        ("open_amount", |r| Money(r.open_amount)),
        ("overdue_amount", |r| Money(r.overdue_amount)),
        ("overdue_percent", |r| Figure(r.overdue_percent)),
        ("not_due", |r| Money(r.buckets.not_due)),
        ("1_30", |r| Money(r.buckets.d1_30)),
        ("31_60", |r| Money(r.buckets.d31_60)),
        ("61_90", |r| Money(r.buckets.d61_90)),
        ("91_180", |r| Money(r.buckets.d91_180)),
        ("181_360", |r| Money(r.buckets.d181_360)),
        ("over_360", |r| Money(r.buckets.over_360)),
        ("ar_over_60_amount", |r| Money(r.ar_over_60_amount)),
        ("ar_over_60_percent", |r| Figure(r.ar_over_60_percent)),
        ("ar_over_360_amount", |r| Money(r.ar_over_360_amount)),
        ("ar_over_360_percent", |r| Figure(r.ar_over_360_percent)),
        ("dso", |r| Figure(r.dso)),
        ("best_possible_dso", |r| Figure(r.best_possible_dso)),
        ("add", |r| Figure(r.add)),
    ];
    columns.extend(figures);
    columns
}

/// The rows, grouped `by`, as an XLSX workbook with one sheet, `KPIs`.
pub fn kpis_xlsx(rows: &[KpiRow], by: GroupBy) -> Result<Vec<u8>> {
    let bad = |e: rust_xlsxwriter::XlsxError| CollectionsError::Output(e.to_string());
    let columns = kpi_columns(by);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("KPIs").map_err(bad)?;
    let bold = Format::new().set_bold();
    let plain = Format::new().set_num_format("0.##");
    for (c, (name, _)) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(bad)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        // Excel holds numbers as doubles; the exact decimals are in the JSON and CSV.
        let money = Format::new().set_num_format(format!(
            "#,##0.00 \"{}\";[Red]-#,##0.00 \"{}\"",
            row.currency, row.currency
        ));
        for (c, (_, fill)) in columns.iter().enumerate() {
            let c = c as u16;
            match fill(row) {
                KpiCell::Text(t) => sheet.write_string(r, c, t).map(|_| ()),
                KpiCell::Count(n) => sheet.write_number(r, c, n as f64).map(|_| ()),
                KpiCell::Money(m) => sheet
                    .write_number_with_format(r, c, m.to_f64().unwrap_or_default(), &money)
                    .map(|_| ()),
                KpiCell::Figure(Some(n)) => sheet
                    .write_number_with_format(r, c, n.to_f64().unwrap_or_default(), &plain)
                    .map(|_| ()),
                KpiCell::Figure(None) => Ok(()),
            }
            .map_err(bad)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(bad)?;
    sheet
        .autofilter(0, 0, rows.len() as u32, columns.len() as u16 - 1)
        .map_err(bad)?;
    sheet.autofit();
    book.save_to_buffer().map_err(bad)
}
