//! Contracts: what was agreed with a customer, per scope.

use super::{Address, CustomerId, SalesArea};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a contract applies. An empty field means "all" (every company code, every
/// sales organisation, ...), as in the contract register format.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContractScope {
    pub company_code: Option<String>,
    pub sales_org: Option<String>,
    pub distribution_channel: Option<String>,
    pub division: Option<String>,
}

impl ContractScope {
    pub fn covers_company_code(&self, company_code: &str) -> bool {
        self.company_code
            .as_deref()
            .is_none_or(|c| c == company_code)
    }

    pub fn covers_sales_area(&self, area: &SalesArea) -> bool {
        self.sales_org
            .as_deref()
            .is_none_or(|s| s == area.sales_org)
            && self
                .distribution_channel
                .as_deref()
                .is_none_or(|s| s == area.distribution_channel)
            && self.division.as_deref().is_none_or(|s| s == area.division)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: String,
    pub customer: CustomerId,
    pub scope: ContractScope,
    /// As the contract states it: a key (`NT30`) or text (`2% 10 days, net 30`).
    pub payment_terms: Option<String>,
    pub credit_limit: Option<Decimal>,
    pub currency: Option<String>,
    pub billing_address: Option<Address>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// `erp` for ERP sales contracts, otherwise the register file it came from.
    pub source: String,
}

impl Contract {
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= day) && self.valid_to.is_none_or(|t| day <= t)
    }
}
