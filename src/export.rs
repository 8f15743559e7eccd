//! Exports of the review queue for people who work in Excel: XLSX (one sheet per status,
//! frozen header, filters, amounts as numbers in their currency's format) and CSV.
//! Both are built in memory from a list the caller already filtered; no file I/O here.

use crate::model::{Discrepancy, DiscrepancyStatus};
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot build the spreadsheet: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("cannot build the CSV: {0}")]
    Csv(#[from] csv::Error),
}

const HEADER: [&str; 23] = [
    "id",
    "status",
    "severity",
    "rule",
    "customer",
    "scope",
    "field",
    "contract",
    "contract value",
    "master value",
    "difference",
    "exposure",
    "currency",
    "items",
    "days",
    "cost",
    "exposure by currency",
    "assignee",
    "waived until",
    "waiver by",
    "waiver approved by",
    "first seen",
    "last seen",
];

/// Text cells of one row, in [`HEADER`] order (the CSV row; the XLSX writes numbers where
/// the column holds numbers).
fn cells(d: &Discrepancy) -> [String; 23] {
    let f = &d.finding;
    [
        d.id.to_string(),
        d.status.to_string(),
        f.severity.as_str().to_string(),
        f.rule.to_string(),
        f.customer.to_string(),
        f.scope.to_string(),
        f.field.clone(),
        f.contract_id.clone().unwrap_or_default(),
        f.contract_value.clone(),
        f.master_value.clone(),
        f.explanation.clone(),
        f.exposure.amount.to_string(),
        f.exposure.currency.clone(),
        f.exposure.items.to_string(),
        f.exposure.days.to_string(),
        f.exposure.cost.to_string(),
        by_currency(&f.exposure),
        d.assignee.clone().unwrap_or_default(),
        d.waived_until.map(|u| u.to_string()).unwrap_or_default(),
        d.waiver_by.clone().unwrap_or_default(),
        d.waiver_approved_by.clone().unwrap_or_default(),
        d.first_seen.format("%Y-%m-%d %H:%M:%S").to_string(),
        d.last_seen.format("%Y-%m-%d %H:%M:%S").to_string(),
    ]
}

/// Every currency's share, e.g. `EUR 12000.00 (3 items); USD 950.00 (1 item)`: amounts in
/// different currencies side by side, never summed.
fn by_currency(e: &crate::model::Exposure) -> String {
    e.by_currency
        .iter()
        .map(|c| {
            format!(
                "{} {} ({} item{})",
                c.currency,
                c.amount,
                c.items,
                if c.items == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A CSV cell as a spreadsheet reads it: text that Excel or LibreOffice would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or CR — OWASP's rule) gets a leading `'`,
/// which keeps it readable and makes it text. A plain number (`-120.50`) stays as it is, so
/// amounts, including negative ones, remain numbers.
pub fn defuse(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(&cell) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// An optional minus, digits, and at most one decimal point between digits.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// UTF-8 CSV with a header row (with a byte-order mark, so Excel opens Chinese text right).
pub fn to_csv(list: &[Discrepancy]) -> Result<Vec<u8>, ExportError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADER)?;
        for d in list {
            w.write_record(cells(d).map(defuse))?;
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// An XLSX workbook with one sheet per status that has flags, in review order.
pub fn to_xlsx(list: &[Discrepancy]) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_align(FormatAlign::Top);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let top = Format::new().set_align(FormatAlign::Top);
    for status in DiscrepancyStatus::ALL {
        let rows: Vec<&Discrepancy> = list.iter().filter(|d| d.status == status).collect();
        if rows.is_empty() {
            continue;
        }
        let sheet = book.add_worksheet().set_name(status.as_str())?;
        for (c, h) in HEADER.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (i, d) in rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (c, text) in cells(d).iter().enumerate() {
                let c = c as u16;
                match HEADER[c as usize] {
                    "id" => sheet.write_number_with_format(r, c, d.id as f64, &top)?,
                    // Excel holds numbers as doubles; the exact decimal is also in the CSV.
                    "exposure" | "cost" => {
                        let money = Format::new()
                            .set_num_format(format!("#,##0.00 \"{}\"", d.finding.exposure.currency))
                            .set_align(FormatAlign::Top);
                        let e = &d.finding.exposure;
                        let amount = if HEADER[c as usize] == "cost" {
                            e.cost
                        } else {
                            e.amount
                        };
                        sheet.write_number_with_format(
                            r,
                            c,
                            amount.to_f64().unwrap_or_default(),
                            &money,
                        )?
                    }
                    "items" | "days" => sheet.write_number_with_format(
                        r,
                        c,
                        text.parse::<f64>().unwrap_or_default(),
                        &top,
                    )?,
                    "difference" => sheet.write_string_with_format(r, c, text, &wrap)?,
                    _ => sheet.write_string_with_format(r, c, text, &top)?,
                };
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, rows.len() as u32, HEADER.len() as u16 - 1)?;
        for (c, width) in [
            (8u16, 24.0),
            (9, 16.0),
            (10, 60.0),
            (11, 16.0),
            (4, 12.0),
            (5, 20.0),
        ] {
            sheet.set_column_width(c, width)?;
        }
    }
    if list.is_empty() {
        let sheet = book.add_worksheet().set_name("empty")?;
        sheet.write_string(0, 0, "no discrepancies match the filter")?;
    }
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for risky in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+49 30 1234",
            "-1+2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
        ] {
            assert_eq!(defuse(risky.into()), format!("'{risky}"));
        }
        for kept in ["-120.50", "0", "1234.5", "NT30", "Müller", "", "a=b"] {
            assert_eq!(defuse(kept.into()), kept);
        }
    }
}
