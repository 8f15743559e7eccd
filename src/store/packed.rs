//! Bulk reads for reconciliation, one text value per row (and per customer).
//!
//! A full reconciliation reads every open item (a million in a large system). Through the
//! database driver, each column of each row is copied and handed across threads on its
//! own, and that per-value cost, not the query, dominates. So this read asks the database
//! to join the columns into one text per row (unit-separator delimited, NULL as empty),
//! and splits it here. Every value that can be NULL has no meaningful empty form, so
//! empty means absent.

use super::StoreError;
use crate::model::open_item::AppliedTerms;
use crate::model::{
    CompanyCodeData, CreditLimit, CustomerId, OpenItem, OpenItemKey, SalesArea, SalesAreaData,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The separator: ASCII unit separator, which no key, text or number contains.
pub(super) const SEP: char = '\u{1f}';
/// Between the packed rows of one customer: ASCII record separator.
pub(super) const RS: char = '\u{1e}';

// The packed columns are each table's read columns (see `Upsert::data_cols`, and
// `level_cols` for a customer's levels): the decoders below take them in that order.

/// The SQL expression that packs `fields`, given how a dialect turns a column into
/// non-NULL text and how it writes the separator character.
pub(super) fn pack_expr(fields: &[&str], as_text: fn(&str) -> String, sep: &str) -> String {
    fields
        .iter()
        .map(|f| as_text(f))
        .collect::<Vec<_>>()
        .join(&format!(" || {sep} || "))
}

fn bad(field: &str, value: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("open item {field} {value:?}: {why}"))
}

fn date(field: &str, v: &str) -> Result<NaiveDate, StoreError> {
    // ISO dates, as both backends print them: parsed by hand, since this runs a million
    // times per reconciliation and a format-string parser costs more than the read.
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            if let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(day);
            }
        }
    }
    Err(bad(field, v, "not a date YYYY-MM-DD"))
}

fn opt(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

fn opt_small<T: FromStr>(field: &str, v: &str) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    opt(v)
        .map(|s| s.parse::<T>().map_err(|e| bad(field, s, e)))
        .transpose()
}

fn opt_decimal(field: &str, v: &str) -> Result<Option<Decimal>, StoreError> {
    opt(v)
        .map(|s| Decimal::from_str(s).map_err(|e| bad(field, s, e)))
        .transpose()
}

/// The `N` fields of one packed row.
fn split<'a, const N: usize>(what: &str, packed: &'a str) -> Result<[&'a str; N], StoreError> {
    let mut parts = [""; N];
    let mut n = 0;
    for part in packed.split(SEP) {
        if n == N {
            n += 1;
            break;
        }
        parts[n] = part;
        n += 1;
    }
    if n != N {
        return Err(StoreError::Corrupt(format!(
            "{what} row {packed:?}: {n} fields, expected {N}"
        )));
    }
    Ok(parts)
}

/// The packed rows of one customer: `count RS row RS row …` as [`group_concat`] writes it
/// (empty when it has none).
///
/// ERP values may hold the separators themselves. A unit separator in a value gives its
/// row a field too many, which [`split`] refuses; a record separator gives one row more
/// than the database counted, refused here. Either way the customer is read again column
/// by column (see `reconcile.rs`) rather than misread or failing the whole run.
///
/// [`group_concat`]: super::dialect::Dialect::group_concat
pub(super) fn records(text: &str) -> Result<Vec<&str>, StoreError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let (count, rows) = text
        .split_once(RS)
        .ok_or_else(|| StoreError::Corrupt(format!("packed rows without a count: {text:?}")))?;
    let rows: Vec<&str> = rows.split(RS).collect();
    if count.parse::<usize>().ok() != Some(rows.len()) {
        return Err(StoreError::Corrupt(format!(
            "{} packed rows where the database counted {count}",
            rows.len()
        )));
    }
    Ok(rows)
}

/// SQLite stores flags as 0/1, PostgreSQL prints booleans as true/false.
fn flag(field: &str, v: &str) -> Result<bool, StoreError> {
    match v {
        "1" | "t" | "true" => Ok(true),
        "0" | "f" | "false" => Ok(false),
        _ => Err(bad(field, v, "not a flag")),
    }
}

pub(super) fn company_code(
    customer: &CustomerId,
    packed: &str,
) -> Result<CompanyCodeData, StoreError> {
    let [cc, terms, account, clerk, dunning, deleted, blocked] = split("company code", packed)?;
    Ok(CompanyCodeData {
        customer: customer.clone(),
        company_code: cc.to_string(),
        payment_terms: opt(terms).map(str::to_string),
        reconciliation_account: opt(account).map(str::to_string),
        accounting_clerk: opt(clerk).map(str::to_string),
        dunning_procedure: opt(dunning).map(str::to_string),
        deletion_flag: flag("deletion_flag", deleted)?,
        posting_block: flag("posting_block", blocked)?,
    })
}

pub(super) fn credit_limit(customer: &CustomerId, packed: &str) -> Result<CreditLimit, StoreError> {
    let [segment, amount, currency] = split("credit limit", packed)?;
    Ok(CreditLimit {
        customer: customer.clone(),
        segment: segment.to_string(),
        amount: Decimal::from_str(amount).map_err(|e| bad("credit amount", amount, e))?,
        currency: opt(currency).map(str::to_string),
    })
}

pub(super) fn sales_area(customer: &CustomerId, packed: &str) -> Result<SalesAreaData, StoreError> {
    let [org, channel, division, terms, currency, credit, deleted] = split("sales area", packed)?;
    Ok(SalesAreaData {
        customer: customer.clone(),
        area: SalesArea {
            sales_org: org.to_string(),
            distribution_channel: channel.to_string(),
            division: division.to_string(),
        },
        payment_terms: opt(terms).map(str::to_string),
        currency: opt(currency).map(str::to_string),
        credit_control_area: opt(credit).map(str::to_string),
        deletion_flag: flag("deletion_flag", deleted)?,
    })
}

/// One packed open-item row back into the model.
pub(super) fn open_item(packed: &str) -> Result<OpenItem, StoreError> {
    let parts = split::<20>("open item", packed)?;
    let [cc, year, doc, item, customer, document_date, posting_date, baseline_date, terms, d1, p1, d2, p2, net, net_due, amount, currency, dunning_level, dunning_block, dispute] =
        parts;
    Ok(OpenItem {
        key: OpenItemKey {
            company_code: cc.to_string(),
            fiscal_year: year.to_string(),
            document: doc.to_string(),
            item: item.to_string(),
        },
        customer: CustomerId::parse(customer).map_err(|e| bad("customer", customer, e))?,
        document_date: date("document_date", document_date)?,
        posting_date: date("posting_date", posting_date)?,
        baseline_date: date("baseline_date", baseline_date)?,
        payment_terms: opt(terms).map(str::to_string),
        applied: AppliedTerms {
            discount1_days: opt_small("discount1_days", d1)?,
            discount1_percent: opt_decimal("discount1_percent", p1)?,
            discount2_days: opt_small("discount2_days", d2)?,
            discount2_percent: opt_decimal("discount2_percent", p2)?,
            net_days: opt_small("net_days", net)?,
        },
        net_due_date: opt(net_due).map(|v| date("net_due_date", v)).transpose()?,
        amount: Decimal::from_str(amount).map_err(|e| bad("amount", amount, e))?,
        currency: currency.to_string(),
        dunning_level: opt_small("dunning_level", dunning_level)?,
        dunning_block: opt(dunning_block).map(str::to_string),
        dispute_case: opt(dispute).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_row_reads_back_with_absent_values() {
        let row = [
            "1010",
            "2026",
            "1800000001",
            "1",
            "0017100001",
            "2026-03-10",
            "2026-03-11",
            "2026-03-31",
            "EM30",
            "",
            "",
            "",
            "",
            "30",
            "2026-04-30",
            "-1234.50",
            "EUR",
            "",
            "",
            "CASE-7",
        ]
        .join("\u{1f}");
        let i = open_item(&row).unwrap();
        assert_eq!(i.key.to_string(), "1010/2026/1800000001/1");
        assert_eq!(i.customer.as_str(), "0017100001");
        assert_eq!(
            i.baseline_date,
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        assert_eq!(i.applied.net_days, Some(30));
        assert_eq!(i.applied.discount1_days, None);
        assert_eq!(i.amount.to_string(), "-1234.50");
        assert_eq!(i.dunning_level, None);
        assert_eq!(i.dispute_case.as_deref(), Some("CASE-7"));
        let short = row.rsplit_once('\u{1f}').unwrap().0;
        assert!(open_item(short).is_err());
        assert!(open_item(&row.replace("2026-03-10", "2026-02-30")).is_err());
    }

    #[test]
    fn the_decoders_read_as_many_fields_as_the_tables_pack() {
        use super::super::upsert::{COMPANY_CODES, CREDIT_LIMITS, OPEN_ITEMS, SALES_AREAS};
        assert_eq!(OPEN_ITEMS.data_cols().len(), 20);
        assert_eq!(OPEN_ITEMS.data_cols().last(), Some(&"dispute_case"));
        assert_eq!(COMPANY_CODES.level_cols().len(), 7);
        assert_eq!(SALES_AREAS.level_cols().len(), 7);
        assert_eq!(
            CREDIT_LIMITS.level_cols(),
            ["segment", "amount", "currency"]
        );
    }

    #[test]
    fn a_record_separator_inside_a_value_is_caught_by_the_count() {
        assert_eq!(records("").unwrap(), Vec::<&str>::new());
        assert_eq!(records("2\u{1e}a\u{1e}b").unwrap(), ["a", "b"]);
        assert!(records("1\u{1e}a\u{1e}b").is_err());
        assert!(records("a").is_err());
    }
}
