//! Payment-terms definitions as exported from SAP table T052 (SE16), read into
//! [`PaymentTerms`].
//!
//! The export is UTF-8 CSV with a header row naming at least
//! `ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3`
//! (`TEXT1` is optional; other columns are ignored). There is one row per key and day limit;
//! the rows of a key become one [`PaymentTerms`] with its rules sorted by day limit.
//!
//! Field meanings, as SAP uses them:
//! - `ZDART` where the baseline comes from: blank or `B` document date, `D` posting date,
//!   `C` entry date.
//! - `ZFAEL` fixed calendar day for the baseline (31 = end of month), `ZMONA` months added.
//! - `ZTAGn` days for term n; or `ZSTGn` a calendar day of the month `ZSMNn` months after
//!   the baseline's month. `ZPRZ1`/`ZPRZ2` cash discount for terms 1 and 2.
//! - The net due date is term 3, else the last term given; a term without a percentage is
//!   a net term ("NT30" is usually `ZTAG1 = 30` with no percentage).
//! - `ZTAGG` day limit: the row applies to baseline days up to this day; the last must be 31.
//!
//! Anything SAP would not accept, or that could be read more than one way, is an error that
//! names the line and column: a wrong value is never read as 0.

use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::model::payment_terms::{BaselineSource, DayRule, DiscountTier, PaymentTerms, TermsRule};

/// Why a T052 export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum T052Error {
    #[error("T052 export: cannot read line {line}: {source}")]
    Csv {
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error("T052 export: the header has no column {column}")]
    MissingColumn { column: &'static str },
    #[error("T052 export line {line}, column {column}: {reason} (value {value:?})")]
    Field {
        line: u64,
        column: &'static str,
        value: String,
        reason: String,
    },
    #[error("T052 export line {line}: key {key}: {reason}")]
    Key {
        line: u64,
        key: String,
        reason: String,
    },
}

/// The columns read, in the order DESIGN §5 lists them.
const COLUMNS: [&str; 16] = [
    "ZTERM", "ZTAGG", "ZDART", "ZFAEL", "ZMONA", "ZTAG1", "ZPRZ1", "ZSTG1", "ZSMN1", "ZTAG2",
    "ZPRZ2", "ZSTG2", "ZSMN2", "ZTAG3", "ZSTG3", "ZSMN3",
];

/// The built-in definitions used when the configuration names no T052 file.
const STANDARD_T052: &str = include_str!("../../examples/t052-standard.csv");

/// The built-in payment-terms definitions (`examples/t052-standard.csv`).
pub fn standard_terms() -> Vec<PaymentTerms> {
    parse(STANDARD_T052.as_bytes()).expect("the embedded T052 file is valid")
}

/// Reads a T052 export. Keys keep the order of their first row.
pub fn parse(input: impl Read) -> Result<Vec<PaymentTerms>, T052Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|source| T052Error::Csv { line: 1, source })?
        .clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let mut index = [0usize; 16];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = find(column).ok_or(T052Error::MissingColumn { column })?;
    }
    let text_column = find("TEXT1");

    let mut keys: Vec<Key> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                let line = source.position().map(|p| p.line()).unwrap_or(line);
                return Err(T052Error::Csv { line, source });
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        let field = |i: usize| record.get(index[i]).unwrap_or("");
        let row = Row {
            line,
            field: &field,
        };
        let key = field(0).to_string();
        if key.is_empty() {
            return Err(row.error(0, "no payment-terms key"));
        }
        let rule = row.rule()?;
        let text = text_column
            .and_then(|i| record.get(i))
            .unwrap_or("")
            .to_string();
        let slot = *by_name.entry(key.clone()).or_insert_with(|| {
            keys.push(Key {
                key: key.clone(),
                rows: Vec::new(),
            });
            keys.len() - 1
        });
        keys[slot].rows.push((line, rule, text));
    }
    keys.into_iter().map(Key::finish).collect()
}

/// The rows read so far for one key.
struct Key {
    key: String,
    rows: Vec<(u64, TermsRule, String)>,
}

impl Key {
    fn finish(mut self) -> Result<PaymentTerms, T052Error> {
        self.rows.sort_by_key(|(_, r, _)| r.day_limit.unwrap_or(31));
        let error = |line: u64, reason: &str| T052Error::Key {
            line,
            key: self.key.clone(),
            reason: reason.to_string(),
        };
        for pair in self.rows.windows(2) {
            let (line, rule, _) = &pair[1];
            if rule.day_limit.is_none() || pair[0].1.day_limit.is_none() {
                return Err(error(
                    *line,
                    "a row without a day limit among rows with one",
                ));
            }
            if pair[0].1.day_limit == rule.day_limit {
                return Err(error(*line, "two rows with the same day limit"));
            }
        }
        if let Some((line, rule, _)) = self.rows.last() {
            // SAP: the last day limit of a key must be 31, or some days have no terms.
            if rule.day_limit.is_some_and(|d| d < 31) {
                return Err(error(*line, "the highest day limit must be 31"));
            }
        }
        let mut texts: Vec<&str> = Vec::new();
        for (_, _, text) in &self.rows {
            if !text.is_empty() && !texts.contains(&text.as_str()) {
                texts.push(text);
            }
        }
        let description = texts.join("; ");
        Ok(PaymentTerms {
            key: self.key,
            description,
            rules: self.rows.into_iter().map(|(_, rule, _)| rule).collect(),
        })
    }
}

/// One data row, read field by field with the column named in every error.
struct Row<'a> {
    line: u64,
    field: &'a dyn Fn(usize) -> &'a str,
}

/// Column positions within [`COLUMNS`].
const ZTAGG: usize = 1;
const ZDART: usize = 2;
const ZFAEL: usize = 3;
const ZMONA: usize = 4;
/// (days, percent, fixed day, months) per term; term 3 has no percent.
const TERMS: [(usize, Option<usize>, usize, usize); 3] = [
    (5, Some(6), 7, 8),
    (9, Some(10), 11, 12),
    (13, None, 14, 15),
];

/// One term (Zahlungsfrist) of a row.
struct Term {
    due: DayRule,
    percent: Decimal,
    /// Column of the term's days or fixed day, for errors.
    column: usize,
}

impl Row<'_> {
    fn error(&self, column: usize, reason: impl Into<String>) -> T052Error {
        T052Error::Field {
            line: self.line,
            column: COLUMNS[column],
            value: (self.field)(column).to_string(),
            reason: reason.into(),
        }
    }

    /// A NUMC field: digits only, empty is 0.
    fn number(&self, column: usize, max: u32) -> Result<u32, T052Error> {
        let raw = (self.field)(column);
        if raw.is_empty() {
            return Ok(0);
        }
        if !raw.chars().all(|c| c.is_ascii_digit()) {
            return Err(self.error(column, "not a whole number"));
        }
        let value: u32 = raw
            .parse()
            .map_err(|_| self.error(column, "number too large"))?;
        if value > max {
            return Err(self.error(column, format!("must be at most {max}")));
        }
        Ok(value)
    }

    /// A cash-discount percentage (SAP DEC 5,3): `2`, `2.000`, or with a decimal comma
    /// `2,000` as German exports write it. Empty is 0.
    fn percent(&self, column: usize) -> Result<Decimal, T052Error> {
        let raw = (self.field)(column);
        if raw.is_empty() {
            return Ok(Decimal::ZERO);
        }
        // A comma can only be a decimal comma here: a thousands separator would make the
        // value 1000 or more, which no percentage field holds.
        let text = if raw.contains('.') {
            raw.to_string()
        } else {
            raw.replacen(',', ".", 1)
        };
        let well_formed = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_digit() || c == '.')
            && text.matches('.').count() <= 1
            && !text.starts_with('.')
            && !text.ends_with('.');
        if !well_formed {
            return Err(self.error(column, "not a percentage"));
        }
        let value = Decimal::from_str(&text).map_err(|_| self.error(column, "not a percentage"))?;
        if value.scale() > 3 && value.normalize().scale() > 3 {
            return Err(self.error(column, "more than three decimals"));
        }
        if value >= Decimal::ONE_HUNDRED {
            return Err(self.error(column, "a discount must be below 100%"));
        }
        Ok(value.normalize())
    }

    fn term(&self, n: usize) -> Result<Option<Term>, T052Error> {
        let (days_col, pct_col, fixed_col, months_col) = TERMS[n];
        let days = self.number(days_col, 999)?;
        let fixed = self.number(fixed_col, 31)?;
        let months = self.number(months_col, 99)?;
        let percent = match pct_col {
            Some(c) => self.percent(c)?,
            None => Decimal::ZERO,
        };
        if days > 0 && fixed > 0 {
            return Err(self.error(fixed_col, "a term has either days or a fixed day, not both"));
        }
        if months > 0 && fixed == 0 {
            return Err(self.error(months_col, "additional months without a fixed day"));
        }
        if days == 0 && fixed == 0 && percent.is_zero() {
            return Ok(None);
        }
        let (due, column) = if fixed > 0 {
            (DayRule::FixedDay { day: fixed, months }, fixed_col)
        } else {
            (DayRule::Days(days), days_col)
        };
        Ok(Some(Term {
            due,
            percent,
            column,
        }))
    }

    fn rule(&self) -> Result<TermsRule, T052Error> {
        let day_limit = match self.number(ZTAGG, 31)? {
            0 => None,
            d => Some(d),
        };
        let baseline = match (self.field)(ZDART).to_ascii_uppercase().as_str() {
            "" | "B" => BaselineSource::DocumentDate,
            "D" => BaselineSource::PostingDate,
            "C" => BaselineSource::EntryDate,
            _ => {
                return Err(self.error(
                    ZDART,
                    "not a date type (blank or B document, D posting, C entry date)",
                ))
            }
        };
        let fixed_baseline_day = match self.number(ZFAEL, 31)? {
            0 => None,
            d => Some(d),
        };
        let extra_months = self.number(ZMONA, 99)?;

        let mut discounts = Vec::new();
        let mut net: Option<DayRule> = None;
        let mut last_days: Option<u32> = None;
        let mut last_percent: Option<Decimal> = None;
        for (n, &(_, percent_column, _, _)) in TERMS.iter().enumerate() {
            let Some(term) = self.term(n)? else { continue };
            if let DayRule::Days(d) = term.due {
                if last_days.is_some_and(|prev| d <= prev) {
                    return Err(self.error(term.column, "days must increase from term to term"));
                }
                last_days = Some(d);
            }
            if n == 2 {
                net = Some(term.due);
                break;
            }
            if term.percent.is_zero() {
                // A term without discount is the net term; only term 3 may follow it.
                if net.is_some() {
                    return Err(self.error(term.column, "two terms without a discount"));
                }
                net = Some(term.due);
                continue;
            }
            if net.is_some() {
                return Err(self.error(
                    percent_column.unwrap_or(term.column),
                    "a discount after a term without discount",
                ));
            }
            if last_percent.is_some_and(|p| term.percent > p) {
                return Err(self.error(
                    percent_column.unwrap_or(term.column),
                    "discount percentages must decrease from term to term",
                ));
            }
            last_percent = Some(term.percent);
            discounts.push(DiscountTier {
                percent: term.percent,
                due: term.due,
            });
        }
        Ok(TermsRule {
            day_limit,
            baseline,
            fixed_baseline_day,
            extra_months,
            discounts,
            net,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    use crate::model::payment_terms::DocumentDates;

    const HEADER: &str =
        "ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3,TEXT1\n";

    fn read(rows: &str) -> Result<Vec<PaymentTerms>, T052Error> {
        parse(format!("{HEADER}{rows}").as_bytes())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn net_due(t: &PaymentTerms, d: NaiveDate) -> NaiveDate {
        t.due_dates(&DocumentDates::same_day(d), false).net
    }

    #[test]
    fn reads_standard_file() {
        let terms = standard_terms();
        let keys: Vec<&str> = terms.iter().map(|t| t.key.as_str()).collect();
        for k in [
            "0001", "NT00", "NT30", "NT45", "NT60", "Z030", "0002", "ZB10", "0003", "EM30", "EOM",
            "Z015",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        let get = |k: &str| terms.iter().find(|t| t.key == k).unwrap();
        assert_eq!(net_due(get("NT30"), date(2028, 2, 15)), date(2028, 3, 16));
        assert_eq!(net_due(get("EM30"), date(2028, 2, 15)), date(2028, 3, 30));
        assert_eq!(net_due(get("EOM"), date(2028, 2, 3)), date(2028, 2, 29));
        assert_eq!(net_due(get("Z015"), date(2028, 2, 15)), date(2028, 2, 29));
        assert_eq!(net_due(get("Z015"), date(2028, 2, 16)), date(2028, 3, 31));
        let d = get("0003").due_dates(&DocumentDates::same_day(date(2029, 1, 1)), false);
        assert_eq!(
            d.discounts,
            vec![
                (date(2029, 1, 15), Decimal::new(3, 0)),
                (date(2029, 1, 31), Decimal::new(2, 0))
            ]
        );
        assert_eq!(d.net, date(2029, 2, 15));
    }

    #[test]
    fn merges_day_limits_in_order() {
        let terms = read(
            "Z215,31,D,15,01,,,,,,,,,,,,after the 15th\n\
             Z215,15,D,31,00,,,,,,,,,,,,up to the 15th\n",
        )
        .unwrap();
        assert_eq!(terms.len(), 1);
        let t = &terms[0];
        assert_eq!(t.rules[0].day_limit, Some(15));
        assert_eq!(t.rules[1].day_limit, Some(31));
        assert_eq!(t.rules[0].baseline, BaselineSource::PostingDate);
        assert_eq!(t.description, "up to the 15th; after the 15th");
    }

    #[test]
    fn reads_fields() {
        let t = &read("X1,,C,,,014,2,,,,1,05,2,,31,1,x\n").unwrap()[0];
        let r = &t.rules[0];
        assert_eq!(r.day_limit, None);
        assert_eq!(r.baseline, BaselineSource::EntryDate);
        assert_eq!(r.discounts.len(), 2);
        assert_eq!(r.discounts[0].due, DayRule::Days(14));
        assert_eq!(r.discounts[0].percent, Decimal::new(2, 0));
        assert_eq!(r.discounts[1].due, DayRule::FixedDay { day: 5, months: 2 });
        assert_eq!(r.discounts[1].percent, Decimal::new(1, 0));
        assert_eq!(r.net, Some(DayRule::FixedDay { day: 31, months: 1 }));

        // A decimal comma, and extra columns in any order.
        let terms = parse(
            "EXTRA,ZTAG1,ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3\n\
             junk,10,K1,,B,,,\"1,5\",,,30,,,,,,\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(terms[0].rules[0].discounts[0].percent, Decimal::new(15, 1));
        assert_eq!(terms[0].rules[0].net, Some(DayRule::Days(30)));
    }

    fn field_error(rows: &str) -> (u64, &'static str) {
        match read(rows) {
            Err(T052Error::Field { line, column, .. }) => (line, column),
            other => panic!("expected a field error for {rows:?}, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(field_error("A,,,,,10,\"2,x\",,,,,,,,,,\n"), (2, "ZPRZ1"));
        assert_eq!(
            field_error("NT30,,,,,30,,,,,,,,,,,\nA,,,45,,,,,,,,,,,,,\n"),
            (3, "ZFAEL")
        );
        assert_eq!(field_error("A,,X,,,,,,,,,,,,,,\n"), (2, "ZDART"));
        assert_eq!(field_error("A,32,,,,,,,,,,,,,,,\n"), (2, "ZTAGG"));
        assert_eq!(field_error("A,,,,,1x,,,,,,,,,,,\n"), (2, "ZTAG1"));
        assert_eq!(field_error("A,,,,,10,100,,,,,,,,,,\n"), (2, "ZPRZ1"));
        assert_eq!(field_error("A,,,,,10,-2,,,,,,,,,,\n"), (2, "ZPRZ1"));
        assert_eq!(field_error("A,,,,,10,2.0001,,,,,,,,,,\n"), (2, "ZPRZ1"));
        assert_eq!(field_error("A,,,,,10,2,15,,,,,,,,,\n"), (2, "ZSTG1"));
        assert_eq!(field_error("A,,,,,10,2,,1,,,,,,,,\n"), (2, "ZSMN1"));
        assert_eq!(field_error("A,,,,,30,2,,,10,,,,,,,\n"), (2, "ZTAG2"));
        assert_eq!(field_error("A,,,,,10,1,,,20,2,,,30,,,\n"), (2, "ZPRZ2"));
        assert_eq!(field_error("A,,,,,10,,,,20,2,,,30,,,\n"), (2, "ZPRZ2"));
    }

    #[test]
    fn key_errors() {
        for rows in [
            "A,15,,,,,,,,,,,,,,,\n",
            "A,15,,,,,,,,,,,,,,,\nA,15,,,,,,,,,,,,,,,\nA,31,,,,,,,,,,,,,,,\n",
            "A,15,,,,,,,,,,,,,,,\nA,0,,,,,,,,,,,,,,,\n",
        ] {
            assert!(matches!(read(rows), Err(T052Error::Key { .. })), "{rows}");
        }
        assert!(matches!(
            parse("ZTERM,ZTAG1\nA,1\n".as_bytes()),
            Err(T052Error::MissingColumn { .. })
        ));
        assert!(matches!(read("A,,,\n"), Err(T052Error::Csv { .. })));
        assert!(matches!(
            read(",,,,,,,,,,,,,,,,\n"),
            Err(T052Error::Field { .. })
        ));
    }
}
