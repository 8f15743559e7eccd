//! The records of the generated world, compact (indices and static strings, so a million
//! items stay small), and the data set that holds them.

use super::terms::apply_terms;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

/// "Today" of the generated world: open items are posted before it, contracts are valid on it.
pub const REFERENCE_DATE: (i32, u32, u32) = (2026, 11, 25);

pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

pub fn reference_date() -> NaiveDate {
    ymd(REFERENCE_DATE.0, REFERENCE_DATE.1, REFERENCE_DATE.2)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRec {
    /// 10 characters, leading zeros for numeric numbers (`0001000001`), or alphanumeric.
    pub customer: String,
    pub name: String,
    pub account_group: &'static str,
    pub creation_date: NaiveDate,
    pub posting_blocked: bool,
    pub deleted: bool,
    pub order_block: &'static str,
    pub country: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRec {
    /// Index into [`Dataset::customers`].
    pub customer: u32,
    pub company_code: &'static str,
    pub payment_terms: &'static str,
    pub reconciliation_account: &'static str,
    pub accounting_clerk: &'static str,
    pub deleted: bool,
    pub posting_blocked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesAreaRec {
    pub customer: u32,
    pub sales_org: &'static str,
    pub distribution_channel: &'static str,
    pub division: &'static str,
    pub payment_terms: &'static str,
    pub currency: &'static str,
    pub credit_control_area: &'static str,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRec {
    pub customer: u32,
    pub address_id: String,
    pub street: &'static str,
    pub house_number: String,
    pub city: &'static str,
    pub postal_code: &'static str,
    pub region: &'static str,
    pub country: &'static str,
    pub language: &'static str,
}

/// One line of `A_OperationalAcctgDocItemCube`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItemRec {
    pub company_code: &'static str,
    pub fiscal_year: u16,
    pub document: u64,
    pub item: u16,
    /// `D` customer, `K` supplier.
    pub account_type: u8,
    /// Customer index for `D`, supplier number for `K`.
    pub party: u32,
    pub document_type: &'static str,
    pub is_cleared: bool,
    pub clearing_date: Option<NaiveDate>,
    pub clearing_document: u64,
    /// `S` debit / `H` credit.
    pub debit: bool,
    pub document_date: NaiveDate,
    pub posting_date: NaiveDate,
    pub baseline_date: NaiveDate,
    pub net_due_date: NaiveDate,
    pub payment_terms: &'static str,
    pub cd1_days: u16,
    /// Thousandths of a percent (2% = 2000), as SAP's DEC 5,3.
    pub cd1_pct_milli: u16,
    pub cd2_days: u16,
    pub cd2_pct_milli: u16,
    pub net_days: u16,
    pub currency: &'static str,
    /// Signed: debit positive, credit negative.
    pub amount: Decimal,
    pub dunning_level: u8,
    pub dunning_block: &'static str,
    /// Invoice a credit memo refers to (0 = none).
    pub invoice_reference: u64,
    pub last_change: NaiveDate,
}

impl OpenItemRec {
    /// The first item of an uncleared customer document dated `document_date`: an invoice,
    /// or a credit memo when `amount` is negative, due as `payment_terms` say (FI's
    /// baseline, discount tiers and net due date). Anything else is set by the caller.
    pub(super) fn posted(
        company_code: &'static str,
        document: u64,
        party: u32,
        document_date: NaiveDate,
        payment_terms: &'static str,
        currency: &'static str,
        amount: Decimal,
    ) -> OpenItemRec {
        let credit = amount.is_sign_negative();
        let mut item = OpenItemRec {
            company_code,
            fiscal_year: document_date.year() as u16,
            document,
            item: 1,
            account_type: b'D',
            party,
            document_type: if credit { "DG" } else { "DR" },
            is_cleared: false,
            clearing_date: None,
            clearing_document: 0,
            debit: !credit,
            document_date,
            posting_date: document_date,
            baseline_date: document_date,
            net_due_date: document_date,
            payment_terms,
            cd1_days: 0,
            cd1_pct_milli: 0,
            cd2_days: 0,
            cd2_pct_milli: 0,
            net_days: 0,
            currency,
            amount,
            dunning_level: 0,
            dunning_block: "",
            invoice_reference: 0,
            last_change: document_date,
        };
        apply_terms(&mut item);
        item
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesContractRec {
    pub sales_contract: String,
    pub customer: u32,
    pub sales_org: &'static str,
    pub distribution_channel: &'static str,
    pub division: &'static str,
    pub payment_terms: &'static str,
    pub currency: &'static str,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub contract_date: NaiveDate,
    pub purchase_order: String,
    pub net_amount: Decimal,
}

/// A credit limit in one credit segment (credit management, `CreditManagementAccount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRec {
    pub customer: u32,
    pub segment: &'static str,
    pub amount: Decimal,
    pub currency: &'static str,
}

/// One row of the CLM contract register export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    pub contract_id: String,
    /// As the CLM system writes it (sometimes without leading zeros, or lower case).
    pub customer: String,
    pub company_code: String,
    pub sales_org: String,
    pub distribution_channel: String,
    pub division: String,
    pub payment_terms: String,
    pub credit_limit: Option<Decimal>,
    pub currency: String,
    pub billing_name: String,
    pub billing_street: String,
    pub billing_city: String,
    pub billing_postal_code: String,
    pub billing_country: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeCaseRec {
    pub case_id: String,
    pub case_guid: String,
    pub customer: u32,
    pub status: &'static str,
    pub change_state_id: String,
    pub amount: Decimal,
    pub currency: &'static str,
    pub reason_code: &'static str,
    pub title: String,
    /// Index into [`Dataset::open_items`].
    pub item: usize,
}

/// A long text (`A_CustomerText` / `A_CustomerCompanyText`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRec {
    pub customer: String,
    /// Set for company-code texts.
    pub company_code: Option<String>,
    pub language: String,
    pub long_text_id: String,
    pub long_text: String,
}

/// A contract-vs-master finding the data set holds on purpose (or, in
/// [`Dataset::decoys`], one that looks likely but must not be raised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planted {
    pub rule: &'static str,
    /// Customer number in its SAP form (10 digits with leading zeros, or alphanumeric).
    pub customer: String,
    /// `CC 1010`, `SA 1010/10/00` or `contract <contract_id>`.
    pub scope: String,
    pub field: &'static str,
    /// Empty for `unknown_payment_terms` (no contract involved).
    pub contract_id: String,
}

/// Dispute-case status keys of the generated status profile; `CLSD` and `VOID` close a case.
pub const DISPUTE_STATUSES: [(&str, &str); 5] = [
    ("OPEN", "Open"),
    ("INPR", "In Process"),
    ("RSLV", "Resolved"),
    ("CLSD", "Closed"),
    ("VOID", "Voided"),
];

pub fn dispute_status_is_closed(status: &str) -> bool {
    matches!(status, "CLSD" | "VOID")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub seed: u64,
    pub customers: Vec<CustomerRec>,
    pub company_codes: Vec<CompanyRec>,
    pub sales_areas: Vec<SalesAreaRec>,
    pub addresses: Vec<AddressRec>,
    /// Sorted by key (company code, fiscal year, document, item), as SAP returns them.
    pub open_items: Vec<OpenItemRec>,
    pub sales_contracts: Vec<SalesContractRec>,
    pub register: Vec<RegisterRow>,
    /// Credit limits per customer and credit segment (credit management), by customer.
    pub credit_accounts: Vec<CreditRec>,
    pub dispute_cases: Vec<DisputeCaseRec>,
    /// Texts present at start; writes add to a copy held by the server.
    pub customer_texts: Vec<TextRec>,
    pub company_texts: Vec<TextRec>,
    pub(super) planted: Vec<Planted>,
    pub(super) decoys: Vec<Planted>,
}
