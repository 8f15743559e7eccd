//! The KPIs as a spreadsheet for the AR lead's weekly pack: one row per group and currency,
//! amounts as numbers in their currency's format, percentages and days as numbers, a frozen
//! header with filters. Built in memory from rows the caller already computed.

use super::views::KpiRow;
use super::{CollectionsError, Result};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook};

/// Column headers; the JSON field names, so a sheet and `ar kpis --format json` read alike.
const HEADER: [&str; 21] = [
    "company_code",
    "currency",
    "collector",
    "customer",
    "as_of",
    "items",
    "open_amount",
    "overdue_amount",
    "overdue_percent",
    "not_due",
    "1_30",
    "31_60",
    "61_90",
    "91_180",
    "181_360",
    "over_360",
    "ar_over_60_amount",
    "ar_over_360_amount",
    "dso",
    "best_possible_dso",
    "add",
];

enum Cell<'a> {
    Text(&'a str),
    Money(Decimal),
    Number(Option<Decimal>),
}

fn cells(row: &KpiRow) -> [Cell<'_>; 21] {
    let b = &row.buckets;
    let collector = match &row.collector {
        Some(Some(c)) => c.as_str(),
        _ => "",
    };
    [
        Cell::Text(&row.company_code),
        Cell::Text(&row.currency),
        Cell::Text(collector),
        Cell::Text(row.customer.as_deref().unwrap_or("")),
        Cell::Number(None),
        Cell::Number(Some(Decimal::from(row.items))),
        Cell::Money(row.open_amount),
        Cell::Money(row.overdue_amount),
        Cell::Number(row.overdue_percent),
        Cell::Money(b.not_due),
        Cell::Money(b.d1_30),
        Cell::Money(b.d31_60),
        Cell::Money(b.d61_90),
        Cell::Money(b.d91_180),
        Cell::Money(b.d181_360),
        Cell::Money(b.over_360),
        Cell::Money(row.ar_over_60_amount),
        Cell::Money(row.ar_over_360_amount),
        Cell::Number(row.dso),
        Cell::Number(row.best_possible_dso),
        Cell::Number(row.add),
    ]
}

/// The rows as an XLSX workbook with one sheet, `KPIs`.
pub fn kpis_xlsx(rows: &[KpiRow]) -> Result<Vec<u8>> {
    let bad = |e: rust_xlsxwriter::XlsxError| CollectionsError::Output(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("KPIs").map_err(bad)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let plain = Format::new().set_num_format("0.##");
    for (c, h) in HEADER.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(bad)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        // Excel holds numbers as doubles; the exact decimals are in the JSON and CSV.
        let money = Format::new().set_num_format(format!(
            "#,##0.00 \"{}\";[Red]-#,##0.00 \"{}\"",
            row.currency, row.currency
        ));
        for (c, cell) in cells(row).iter().enumerate() {
            let c = c as u16;
            match cell {
                _ if HEADER[c as usize] == "as_of" => sheet
                    .write_date_with_format(r, c, &excel_date(row.as_of)?, &date)
                    .map(|_| ()),
                Cell::Text(t) => sheet.write_string(r, c, *t).map(|_| ()),
                Cell::Money(m) => sheet
                    .write_number_with_format(r, c, m.to_f64().unwrap_or_default(), &money)
                    .map(|_| ()),
                Cell::Number(Some(n)) => sheet
                    .write_number_with_format(r, c, n.to_f64().unwrap_or_default(), &plain)
                    .map(|_| ()),
                Cell::Number(None) => Ok(()),
            }
            .map_err(bad)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(bad)?;
    sheet
        .autofilter(0, 0, rows.len() as u32, HEADER.len() as u16 - 1)
        .map_err(bad)?;
    sheet.autofit();
    book.save_to_buffer().map_err(bad)
}

fn excel_date(day: chrono::NaiveDate) -> Result<rust_xlsxwriter::ExcelDateTime> {
    use chrono::Datelike;
    rust_xlsxwriter::ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)
        .map_err(|e| CollectionsError::Output(e.to_string()))
}
