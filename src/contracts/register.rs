//! The contract register: a CSV export from a contract-management system (DESIGN §5).
//!
//! `contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,`
//! `credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,`
//! `billing_country,valid_from,valid_to` — UTF-8 with a header row, extra columns ignored,
//! empty scope columns mean "all". A bad row is reported with its line and column and left
//! out; the good rows are still loaded.

use crate::model::{Address, Contract, ContractScope, CustomerId};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::io::Read;

pub const COLUMNS: [&str; 16] = [
    "contract_id",
    "customer",
    "company_code",
    "sales_org",
    "distribution_channel",
    "division",
    "payment_terms",
    "credit_limit",
    "currency",
    "billing_name",
    "billing_street",
    "billing_city",
    "billing_postal_code",
    "billing_country",
    "valid_from",
    "valid_to",
];

const REQUIRED: [&str; 2] = ["contract_id", "customer"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name} line {line}, column {column}: {reason}")]
pub struct RowError {
    pub source_name: String,
    pub line: u64,
    pub column: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{source_name}: {reason}")]
    File { source_name: String, reason: String },
}

/// The contracts read, and the rows that could not be read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub contracts: Vec<Contract>,
    pub rejected: Vec<RowError>,
}

/// Reads a register. `source_name` (usually the file path) is stored as each contract's source.
pub fn read(input: impl Read, source_name: &str) -> Result<Loaded, RegisterError> {
    let file_error = |reason: String| RegisterError::File {
        source_name: source_name.to_string(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| file_error(format!("cannot read the header row: {e}")))?
        .clone();
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim_start_matches('\u{feff}').to_ascii_lowercase(), i))
        .collect();
    for col in REQUIRED {
        if !index.contains_key(col) {
            return Err(file_error(format!("the header row has no `{col}` column")));
        }
    }
    let mut loaded = Loaded::default();
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                loaded.rejected.push(RowError {
                    source_name: source_name.to_string(),
                    line,
                    column: "-".into(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let cell = |col: &str| -> Option<String> {
            index
                .get(col)
                .and_then(|&i| row.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let fail = |column: &str, reason: String| RowError {
            source_name: source_name.to_string(),
            line,
            column: column.to_string(),
            reason,
        };
        match parse_row(&cell, source_name, &fail) {
            Ok(c) => loaded.contracts.push(c),
            Err(e) => loaded.rejected.push(e),
        }
    }
    Ok(loaded)
}

fn parse_row(
    cell: &dyn Fn(&str) -> Option<String>,
    source_name: &str,
    fail: &dyn Fn(&str, String) -> RowError,
) -> Result<Contract, RowError> {
    let id = cell("contract_id").ok_or_else(|| fail("contract_id", "empty".into()))?;
    let customer_raw = cell("customer").ok_or_else(|| fail("customer", "empty".into()))?;
    let customer = CustomerId::parse(&customer_raw).map_err(|e| fail("customer", e.to_string()))?;
    let date = |col: &str| -> Result<Option<NaiveDate>, RowError> {
        cell(col)
            .map(|s| {
                NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| fail(col, format!("{s:?} is not a date YYYY-MM-DD")))
            })
            .transpose()
    };
    let credit_limit = cell("credit_limit")
        .map(|s| {
            Decimal::from_str_exact(&s).map_err(|_| {
                fail(
                    "credit_limit",
                    format!("{s:?} is not a decimal number (use . for decimals, no separators)"),
                )
            })
        })
        .transpose()?;
    let currency = cell("currency").map(|c| c.to_ascii_uppercase());
    if let Some(c) = &currency {
        if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(fail(
                "currency",
                format!("{c:?} is not an ISO currency code"),
            ));
        }
    }
    let (valid_from, valid_to) = (date("valid_from")?, date("valid_to")?);
    if let (Some(f), Some(t)) = (valid_from, valid_to) {
        if t < f {
            return Err(fail("valid_to", format!("{t} is before valid_from {f}")));
        }
    }
    let billing = [
        "billing_name",
        "billing_street",
        "billing_city",
        "billing_postal_code",
        "billing_country",
    ]
    .map(|c| cell(c).unwrap_or_default());
    let billing_address = (!billing.iter().all(String::is_empty)).then(|| {
        let [name, street, city, postal_code, country] = billing;
        Address {
            name,
            street,
            city,
            postal_code,
            country,
        }
    });
    Ok(Contract {
        id,
        customer,
        scope: ContractScope {
            company_code: cell("company_code"),
            sales_org: cell("sales_org"),
            distribution_channel: cell("distribution_channel"),
            division: cell("division"),
        },
        payment_terms: cell("payment_terms"),
        credit_limit,
        currency,
        billing_address,
        valid_from,
        valid_to,
        source: source_name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,billing_country,valid_from,valid_to,extra\n";

    #[test]
    fn reads_rows_and_pads_customer_numbers() {
        let csv = format!("{HEADER}K-1,4711,1010,,,,\"2% 10 days, net 30\",50000.00,eur,ACME,Main St 1,Berlin,10115,DE,2024-01-01,2026-12-31,x\n");
        let l = read(csv.as_bytes(), "register.csv").unwrap();
        assert!(l.rejected.is_empty(), "{:?}", l.rejected);
        let c = &l.contracts[0];
        assert_eq!(c.customer.as_str(), "0000004711");
        assert_eq!(c.scope.company_code.as_deref(), Some("1010"));
        assert_eq!(c.scope.sales_org, None);
        assert_eq!(c.payment_terms.as_deref(), Some("2% 10 days, net 30"));
        assert_eq!(c.credit_limit.unwrap().to_string(), "50000.00");
        assert_eq!(c.currency.as_deref(), Some("EUR"));
        assert_eq!(c.billing_address.as_ref().unwrap().city, "Berlin");
        assert_eq!(c.source, "register.csv");
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_column_and_good_rows_kept() {
        let csv = format!(
            "{HEADER}K-1,1,,,,,NT30,12.345.00,EUR,,,,,,2024-01-01,\nK-2,2,,,,,NT30,,EUR,,,,,,31.12.2024,\nK-3,3,,,,,NT30,,EUR,,,,,,,\n"
        );
        let l = read(csv.as_bytes(), "r.csv").unwrap();
        assert_eq!(l.contracts.len(), 1);
        assert_eq!(l.contracts[0].id, "K-3");
        assert_eq!(l.rejected.len(), 2);
        assert_eq!(
            (l.rejected[0].line, l.rejected[0].column.as_str()),
            (2, "credit_limit")
        );
        assert_eq!(
            (l.rejected[1].line, l.rejected[1].column.as_str()),
            (3, "valid_from")
        );
        assert!(l.rejected[1].to_string().contains("r.csv line 3"));
    }

    #[test]
    fn missing_required_column_is_a_file_error() {
        let err = read("id,customer\n1,2\n".as_bytes(), "r.csv").unwrap_err();
        assert!(err.to_string().contains("contract_id"));
    }
}
