//! `ar statement`: a statement of account or payment reminder as HTML (to print to PDF
//! from the browser: a print stylesheet is included) or XLSX.

use super::CollectionsError;
use super::Result;
use crate::ar::statement::{
    build, fmt_amount, paragraphs, payment_rows, words, Addressee, Document, Kind, Lang,
};
use crate::ar::ArSettings;
use crate::model::CustomerId;
use crate::store::Store;
use chrono::NaiveDate;

#[derive(Debug, Clone)]
pub struct StatementQuery {
    pub customer: CustomerId,
    pub company_code: Option<String>,
    pub lang: Lang,
    pub kind: Kind,
    pub as_of: NaiveDate,
}

/// The document for a customer held in the store.
pub async fn document(
    store: &dyn Store,
    settings: &ArSettings,
    q: &StatementQuery,
) -> Result<Document> {
    let customer = store.customer(&q.customer).await?.ok_or_else(|| {
        CollectionsError::NotFound(format!("customer {} is not in the store", q.customer))
    })?;
    let items = store
        .ar_items_of(
            std::slice::from_ref(&q.customer),
            q.company_code.as_deref(),
            q.as_of,
        )
        .await?;
    Ok(build(
        Addressee {
            customer: q.customer.to_string(),
            name: customer.general.name.clone(),
            address: customer.general.address.clone(),
        },
        q.company_code.clone(),
        &items,
        q.as_of,
        q.kind,
        q.lang,
        settings.payment.clone(),
    ))
}

use crate::html::esc;

/// The statement's stylesheet: inline in a file for sending, at
/// [`STYLESHEET_PATH`] when the desk serves the page (its CSP allows no inline style).
pub const STYLE: &str =
    "body{font-family:'Noto Sans CJK SC','Noto Sans',Arial,sans-serif;margin:2em;color:#111}\
h1{font-size:1.5em;margin:0 0 .3em}table{border-collapse:collapse;width:100%;margin:1em 0}\
th,td{border-bottom:1px solid #ccc;padding:.3em .5em;text-align:left}td.n,th.n{text-align:right}\
tr.total td{font-weight:bold;border-top:2px solid #333}.meta{color:#444}.pay{margin-top:1.5em}\
p{margin:.4em 0;white-space:pre-line}\
@media print{body{margin:0}.noprint{display:none}a{color:inherit;text-decoration:none}\
table{page-break-inside:auto}tr{page-break-inside:avoid}}";

/// Where the desk serves [`STYLE`].
pub const STYLESHEET_PATH: &str = "/assets/statement.css";

/// The document as one self-contained HTML page (no external resources).
pub fn html(doc: &Document) -> String {
    render(doc, &format!("<style>{STYLE}</style>"))
}

/// The document as the desk serves it: the same page with the stylesheet linked, since the
/// desk's Content-Security-Policy refuses inline styles (and the desk's icon).
pub fn html_linked(doc: &Document) -> String {
    render(
        doc,
        &format!(
            "<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\
             <link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">"
        ),
    )
}

fn render(doc: &Document, style: &str) -> String {
    let w = words(doc.kind, doc.lang);
    let lang = match doc.lang {
        Lang::En => "en",
        Lang::Zh => "zh-CN",
    };
    let mut h = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{} {}</title>\
         {style}</head><body><h1>{}</h1>",
        esc(w.title),
        esc(&doc.customer),
        esc(w.title)
    );
    h.push_str(&format!(
        "<div class=\"meta\">{}: {} · {}{}</div>",
        esc(w.customer),
        esc(&doc.customer),
        doc.as_of,
        doc.company_code
            .as_ref()
            .map(|cc| format!(" · {}", esc(cc)))
            .unwrap_or_default()
    ));
    if let Some(a) = &doc.address {
        h.push_str(&format!(
            "<div class=\"meta addr\">{}<br>{}<br>{} {} {}</div>",
            esc(&a.name),
            esc(&a.street),
            esc(&a.postal_code),
            esc(&a.city),
            esc(&a.country)
        ));
    }
    let paras = paragraphs(doc);
    let (opening, closing) = paras.split_at(paras.len().saturating_sub(1));
    for p in opening {
        h.push_str(&format!("<p>{}</p>", esc(p)));
    }
    h.push_str("<table class=\"items\"><thead><tr>");
    for (i, head) in w.headers.iter().enumerate() {
        let class = if i == 3 || i == 4 { " class=\"n\"" } else { "" };
        h.push_str(&format!("<th{class}>{}</th>", esc(head)));
    }
    h.push_str("</tr></thead><tbody>");
    if doc.lines.is_empty() {
        h.push_str(&format!(
            "<tr><td colspan=\"7\">{}</td></tr>",
            esc(w.nothing)
        ));
    }
    for l in &doc.lines {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(&l.key.to_string()),
            l.posting_date,
            l.due,
            l.days_past_due.max(0),
            fmt_amount(l.amount),
            esc(&l.currency),
            l.dispute_case
                .as_ref()
                .map(|c| format!("{} {}", esc(w.disputed), esc(c)))
                .unwrap_or_default()
        ));
    }
    for t in &doc.totals {
        h.push_str(&format!(
            "<tr class=\"total\"><td colspan=\"4\">{} {}</td><td class=\"n\">{}</td><td>{}</td>\
             <td>{} {}</td></tr>",
            esc(w.total),
            esc(&t.currency),
            fmt_amount(t.total),
            esc(&t.currency),
            esc(w.overdue),
            fmt_amount(t.overdue)
        ));
    }
    h.push_str("</tbody></table>");
    if !doc.totals.is_empty() {
        h.push_str(&format!(
            "<h2>{}</h2><table class=\"aging\"><thead><tr><th></th>",
            esc(w.aging)
        ));
        for b in w.buckets {
            h.push_str(&format!("<th class=\"n\">{}</th>", esc(b)));
        }
        h.push_str("</tr></thead><tbody>");
        for t in &doc.totals {
            h.push_str(&format!("<tr><td>{}</td>", esc(&t.currency)));
            for b in t.buckets {
                h.push_str(&format!("<td class=\"n\">{}</td>", fmt_amount(b)));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
    }
    let p = &doc.payment;
    h.push_str(&format!(
        "<div class=\"pay\"><h2>{}</h2><table>",
        esc(w.payment)
    ));
    for (label, value) in payment_rows(&w, p) {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(label),
            esc(value)
        ));
    }
    for line in &p.lines {
        h.push_str(&format!("<tr><td colspan=\"2\">{}</td></tr>", esc(line)));
    }
    h.push_str("</table></div>");
    for p in closing {
        h.push_str(&format!("<p>{}</p>", esc(p)));
    }
    h.push_str("</body></html>\n");
    h
}

/// The document as an XLSX workbook: the letter's text, the items with numbers as
/// numbers, totals and payment details; frozen header row.
pub fn xlsx(doc: &Document) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let bad = |e: rust_xlsxwriter::XlsxError| CollectionsError::Output(e.to_string());
    let w = words(doc.kind, doc.lang);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(w.title).map_err(bad)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00;[Red]-#,##0.00");
    let mut row: u32 = 0;
    sheet
        .write_string_with_format(row, 0, w.title, &bold)
        .map_err(bad)?;
    row += 1;
    sheet
        .write_string(
            row,
            0,
            format!("{}: {} {}", w.customer, doc.customer, doc.name),
        )
        .map_err(bad)?;
    row += 1;
    for p in paragraphs(doc) {
        sheet.write_string(row, 0, p).map_err(bad)?;
        row += 1;
    }
    row += 1;
    let header = row;
    for (c, head) in w.headers.iter().enumerate() {
        sheet
            .write_string_with_format(header, c as u16, *head, &bold)
            .map_err(bad)?;
    }
    for l in &doc.lines {
        row += 1;
        sheet.write_string(row, 0, l.key.to_string()).map_err(bad)?;
        sheet
            .write_string(row, 1, l.posting_date.to_string())
            .map_err(bad)?;
        sheet.write_string(row, 2, l.due.to_string()).map_err(bad)?;
        sheet
            .write_number(row, 3, l.days_past_due.max(0) as f64)
            .map_err(bad)?;
        write_amount(sheet, row, 4, l.amount, &money)?;
        sheet.write_string(row, 5, &l.currency).map_err(bad)?;
        if let Some(c) = &l.dispute_case {
            sheet
                .write_string(row, 6, format!("{} {c}", w.disputed))
                .map_err(bad)?;
        }
    }
    for t in &doc.totals {
        row += 1;
        sheet
            .write_string_with_format(row, 0, format!("{} {}", w.total, t.currency), &bold)
            .map_err(bad)?;
        write_amount(sheet, row, 4, t.total, &money)?;
        sheet.write_string(row, 5, &t.currency).map_err(bad)?;
        sheet
            .write_string(row, 6, format!("{} {}", w.overdue, fmt_amount(t.overdue)))
            .map_err(bad)?;
    }
    row += 2;
    sheet
        .write_string_with_format(row, 0, w.payment, &bold)
        .map_err(bad)?;
    let p = &doc.payment;
    for (label, value) in payment_rows(&w, p) {
        row += 1;
        sheet.write_string(row, 0, label).map_err(bad)?;
        sheet.write_string(row, 1, value).map_err(bad)?;
    }
    sheet.set_freeze_panes(header + 1, 0).map_err(bad)?;
    sheet.set_column_width(0, 24).map_err(bad)?;
    for c in 1..=6 {
        sheet.set_column_width(c, 14).map_err(bad)?;
    }
    book.save_to_buffer().map_err(bad)
}

/// Writes an amount as a number: exact in the sheet for up to 15 significant digits, and
/// the text beside it would be the only exact form for more, so larger ones are refused.
pub(crate) fn write_amount(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    amount: rust_decimal::Decimal,
    format: &rust_xlsxwriter::Format,
) -> Result<()> {
    use rust_decimal::prelude::ToPrimitive;
    let digits = amount.mantissa().unsigned_abs().to_string().len();
    if digits > 15 {
        return Err(CollectionsError::Output(format!(
            "amount {amount} has more digits than a spreadsheet number holds exactly"
        )));
    }
    let f = amount
        .to_f64()
        .ok_or_else(|| CollectionsError::Output(format!("amount {amount}")))?;
    sheet
        .write_number_with_format(row, col, f, format)
        .map_err(|e| CollectionsError::Output(e.to_string()))?;
    Ok(())
}
