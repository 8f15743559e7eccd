//! Customer master data at its three SAP levels: general (KNA1 / `A_Customer`),
//! company code (KNB1 / `A_CustomerCompany`) and sales area (KNVV / `A_CustomerSalesArea`).

use super::CustomerId;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

/// General data of a customer (one row per customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGeneral {
    pub customer: CustomerId,
    pub name: String,
    pub address: Option<Address>,
    /// Central deletion flag (KNA1-LOEVM).
    pub deletion_flag: bool,
    /// Central posting block (KNA1-SPERR).
    pub posting_block: bool,
    pub last_changed: Option<DateTime<Utc>>,
}

/// Company-code data: the payment terms FI uses for the customer's invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyCodeData {
    pub customer: CustomerId,
    pub company_code: String,
    pub payment_terms: Option<String>,
    pub reconciliation_account: Option<String>,
    pub accounting_clerk: Option<String>,
    pub dunning_procedure: Option<String>,
    pub deletion_flag: bool,
    pub posting_block: bool,
}

/// The sales area key: sales organisation, distribution channel, division.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SalesArea {
    pub sales_org: String,
    pub distribution_channel: String,
    pub division: String,
}

impl std::fmt::Display for SalesArea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.sales_org, self.distribution_channel, self.division
        )
    }
}

/// Sales-area data: the payment terms and currency SD bills with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesAreaData {
    pub customer: CustomerId,
    pub area: SalesArea,
    pub payment_terms: Option<String>,
    pub currency: Option<String>,
    pub credit_control_area: Option<String>,
    pub deletion_flag: bool,
}

/// A credit limit held by the ERP's credit management: per credit segment in S/4HANA
/// (`API_CRDTMBUSINESSPARTNER`, `CreditManagementAccount`), per credit control area in
/// ECC (KNKK, IDoc segment E1KNKKM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimit {
    pub customer: CustomerId,
    /// Credit segment or credit control area, e.g. `1000`.
    pub segment: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The segment's currency, when the source states it (KNKK does not: it is the
    /// control area's).
    pub currency: Option<String>,
}

/// A customer with all its levels, as reconciliation and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub general: CustomerGeneral,
    pub company_codes: Vec<CompanyCodeData>,
    pub sales_areas: Vec<SalesAreaData>,
    /// Empty when the ERP's credit management is not read.
    #[serde(default)]
    pub credit_limits: Vec<CreditLimit>,
}

impl Customer {
    pub fn id(&self) -> &CustomerId {
        &self.general.customer
    }
}
