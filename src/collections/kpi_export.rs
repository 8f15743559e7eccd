//! The KPIs and the call list as spreadsheets for the AR team: one row per group (or
//! customer) and currency, amounts as numbers in their currency's format, percentages and
//! days as numbers, dates as dates, a frozen header with filters. Built in memory from rows
//! the caller already computed; both sheets go through one writer.

use super::kpis::GroupBy;
use super::views::KpiRow;
use super::{CollectionsError, Result};
use crate::ar::worklist::{Section, WorkEntry};
use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// One KPI cell, typed: a table prints it, a workbook keeps numbers as numbers.
pub enum KpiCell {
    Text(String),
    Count(u64),
    Money(Decimal),
    /// A percentage or a day figure; `None` where it cannot be computed.
    Figure(Option<Decimal>),
    Date(Option<NaiveDate>),
}

impl KpiCell {
    /// As printed in a table or CSV: exact decimals, `-` for a figure that is not there.
    pub fn print(&self) -> String {
        match self {
            KpiCell::Text(t) => t.clone(),
            KpiCell::Count(n) => n.to_string(),
            KpiCell::Money(m) => m.to_string(),
            KpiCell::Figure(f) => f.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            KpiCell::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// A column: its name (the JSON field's) and how a row fills it.
pub type Column<R> = (&'static str, fn(&R) -> KpiCell);
pub type KpiColumn = Column<KpiRow>;

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
    sheet_xlsx("KPIs", &kpi_columns(by), rows, |r| r.currency.as_str())
}

/// One line of the call list's workbook: a customer's overdue money in one currency.
pub struct CallRow<'a> {
    pub entry: &'a WorkEntry,
    pub currency: &'a str,
    pub overdue: Decimal,
}

/// The call list's lines, one per customer and currency overdue (a customer owing in two
/// currencies has two lines with the same rank; nothing is added across currencies).
pub fn call_rows(list: &[WorkEntry]) -> Vec<CallRow<'_>> {
    list.iter()
        .flat_map(|e| {
            e.overdue.iter().map(move |a| CallRow {
                entry: e,
                currency: a.currency.as_str(),
                overdue: a.amount,
            })
        })
        .collect()
}

/// The call list's columns, named as the JSON fields they come from.
pub fn call_columns<'a>() -> Vec<Column<CallRow<'a>>> {
    use KpiCell::{Count, Date, Figure, Money, Text};
    vec![
        ("rank", |r| Count(r.entry.rank as u64)),
        ("section", |r| {
            Text(
                match r.entry.section {
                    Section::Call => "call",
                    Section::Promised => "promised",
                    Section::Disputed => "disputed",
                }
                .into(),
            )
        }),
        ("customer", |r| Text(r.entry.customer.clone())),
        ("name", |r| Text(r.entry.name.clone())),
        ("collector", |r| {
            Text(r.entry.collector.clone().unwrap_or_default())
        }),
        ("currency", |r| Text(r.currency.to_string())),
        ("overdue", |r| Money(r.overdue)),
        ("oldest_days_past_due", |r| {
            Figure(Some(Decimal::from(r.entry.oldest_days_past_due)))
        }),
        ("urgent", |r| {
            Text(r.entry.urgent.unwrap_or_default().into())
        }),
        ("promise_status", |r| {
            Text(
                r.entry
                    .promise
                    .as_ref()
                    .map(|p| p.status.as_str().to_string())
                    .unwrap_or_default(),
            )
        }),
        ("promise_amount", |r| {
            Figure(r.entry.promise.as_ref().map(|p| p.amount))
        }),
        ("promise_currency", |r| {
            Text(
                r.entry
                    .promise
                    .as_ref()
                    .map(|p| p.currency.clone())
                    .unwrap_or_default(),
            )
        }),
        ("promise_date", |r| {
            Date(r.entry.promise.as_ref().map(|p| p.date))
        }),
        ("follow_up", |r| Date(r.entry.follow_up)),
        ("open_disputes", |r| Text(r.entry.open_disputes.join(" "))),
        ("last_note_at", |r| {
            Date(r.entry.last_note.as_ref().map(|n| n.at.date_naive()))
        }),
        ("last_note_by", |r| {
            Text(
                r.entry
                    .last_note
                    .as_ref()
                    .map(|n| n.author.clone())
                    .unwrap_or_default(),
            )
        }),
        ("last_note_channel", |r| {
            Text(
                r.entry
                    .last_note
                    .as_ref()
                    .map(|n| n.channel.clone())
                    .unwrap_or_default(),
            )
        }),
        ("last_note_text", |r| {
            Text(
                r.entry
                    .last_note
                    .as_ref()
                    .map(|n| n.text.clone())
                    .unwrap_or_default(),
            )
        }),
        ("priority", |r| Figure(Some(r.entry.priority))),
    ]
}

/// The call list as an XLSX workbook with one sheet, `Call list`.
pub fn worklist_xlsx(list: &[WorkEntry]) -> Result<Vec<u8>> {
    sheet_xlsx("Call list", &call_columns(), &call_rows(list), |r| {
        r.currency
    })
}

/// One sheet named `name`: a bold frozen header of the column names, filters, one line a
/// row; money in the row's `currency` format, counts and figures as numbers, dates as dates.
fn sheet_xlsx<R>(
    name: &str,
    columns: &[Column<R>],
    rows: &[R],
    currency: fn(&R) -> &str,
) -> Result<Vec<u8>> {
    let bad = |e: rust_xlsxwriter::XlsxError| CollectionsError::Output(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(bad)?;
    let bold = Format::new().set_bold();
    let plain = Format::new().set_num_format("0.##");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, (name, _)) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(bad)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        // Excel holds numbers as doubles; the exact decimals are in the JSON and CSV.
        // Currency codes are three letters from the ERP; quotes are dropped all the same.
        let code: String = currency(row).chars().filter(|c| *c != '"').collect();
        let money =
            Format::new().set_num_format(format!("#,##0.00 \"{code}\";[Red]-#,##0.00 \"{code}\""));
        for (c, (_, fill)) in columns.iter().enumerate() {
            let c = c as u16;
            match fill(row) {
                // A string cell is never read as a formula.
                KpiCell::Text(t) => sheet.write_string(r, c, t).map(|_| ()),
                KpiCell::Count(n) => sheet.write_number(r, c, n as f64).map(|_| ()),
                KpiCell::Money(m) => sheet
                    .write_number_with_format(r, c, m.to_f64().unwrap_or_default(), &money)
                    .map(|_| ()),
                KpiCell::Figure(Some(n)) => sheet
                    .write_number_with_format(r, c, n.to_f64().unwrap_or_default(), &plain)
                    .map(|_| ()),
                KpiCell::Date(Some(d)) => {
                    match ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8) {
                        Ok(x) => sheet
                            .write_datetime_with_format(r, c, &x, &date)
                            .map(|_| ()),
                        // Outside Excel's calendar: the ISO date as text.
                        Err(_) => sheet.write_string(r, c, d.to_string()).map(|_| ()),
                    }
                }
                KpiCell::Figure(None) | KpiCell::Date(None) => Ok(()),
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
