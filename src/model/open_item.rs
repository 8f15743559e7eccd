//! AR open items: customer line items not yet cleared.

use super::CustomerId;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies a line item as FI does: company code, fiscal year, document number, line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpenItemKey {
    pub company_code: String,
    pub fiscal_year: String,
    pub document: String,
    pub item: String,
}

impl OpenItemKey {
    /// Parses `COMPANY/YEAR/DOC/ITEM` as the command line writes it.
    pub fn parse(raw: &str) -> Result<Self, super::ModelError> {
        let parts: Vec<&str> = raw.split('/').map(str::trim).collect();
        match parts.as_slice() {
            [cc, year, doc, item]
                if !cc.is_empty()
                    && year.len() == 4
                    && year.chars().all(|c| c.is_ascii_digit())
                    && !doc.is_empty()
                    && !item.is_empty() =>
            {
                Ok(OpenItemKey {
                    company_code: cc.to_string(),
                    fiscal_year: year.to_string(),
                    document: doc.to_string(),
                    item: item.to_string(),
                })
            }
            _ => Err(super::ModelError::invalid(
                "item reference",
                raw,
                "expected COMPANY/YEAR/DOCUMENT/ITEM, e.g. 1010/2026/1800000012/1",
            )),
        }
    }
}

impl fmt::Display for OpenItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.company_code, self.fiscal_year, self.document, self.item
        )
    }
}

/// The cash-discount days/percentages and net days actually applied on an item
/// (BSEG ZBD1T/ZBD1P, ZBD2T/ZBD2P, ZBD3T).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppliedTerms {
    pub discount1_days: Option<u32>,
    pub discount1_percent: Option<Decimal>,
    pub discount2_days: Option<u32>,
    pub discount2_percent: Option<Decimal>,
    pub net_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    pub key: OpenItemKey,
    pub customer: CustomerId,
    pub document_date: NaiveDate,
    pub posting_date: NaiveDate,
    pub baseline_date: NaiveDate,
    pub payment_terms: Option<String>,
    pub applied: AppliedTerms,
    pub net_due_date: Option<NaiveDate>,
    /// Signed amount in document currency: debit positive, credit negative.
    pub amount: Decimal,
    pub currency: String,
    pub dunning_level: Option<u8>,
    pub dunning_block: Option<String>,
    pub dispute_case: Option<String>,
}

impl OpenItem {
    pub fn is_credit(&self) -> bool {
        self.amount.is_sign_negative()
    }
}
