//! Discrepancies: a contract and the master records disagree. Reconciliation produces
//! [`Finding`]s; the store keeps them as [`Discrepancy`]s with a reviewed lifecycle.

use super::{CustomerId, Scope};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The rule that raised a finding. The names are stable: they appear in JSON, exports,
/// config and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Contract terms vs the company-code payment terms (FI).
    PaymentTermsCompanyCode,
    /// Contract terms vs the sales-area payment terms (SD billing).
    PaymentTermsSalesArea,
    /// Contract currency vs the sales-area currency.
    Currency,
    /// The master names a payment-terms key that has no definition.
    UnknownPaymentTerms,
    /// The contract's terms text cannot be read with certainty.
    ContractTermsUnreadable,
    /// A contract names a customer the master does not have.
    CustomerMissing,
    /// A sales area bills on terms other than its company code's (no contract needed).
    PaymentTermsCompanyVsSalesArea,
    /// The customer is blocked for posting or marked for deletion while a contract is active.
    CustomerBlocked,
    /// The contract's billing address is not the master's address (after normalising).
    BillingAddress,
    /// Open items were billed on terms other than the contract's, and the master does not
    /// explain it (the terms were overridden on the invoice).
    OpenItemBilledTerms,
    /// A contract expired, no other covers the scope, and the master still holds its
    /// special (non-standard) payment terms.
    ContractExpiredSpecialTerms,
    /// The contract's credit limit is not the one in the ERP's credit management.
    CreditLimit,
}

impl Rule {
    pub const ALL: [Rule; 12] = [
        Rule::PaymentTermsCompanyCode,
        Rule::PaymentTermsSalesArea,
        Rule::Currency,
        Rule::UnknownPaymentTerms,
        Rule::ContractTermsUnreadable,
        Rule::CustomerMissing,
        Rule::PaymentTermsCompanyVsSalesArea,
        Rule::CustomerBlocked,
        Rule::BillingAddress,
        Rule::OpenItemBilledTerms,
        Rule::ContractExpiredSpecialTerms,
        Rule::CreditLimit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::PaymentTermsCompanyCode => "payment_terms_company_code",
            Rule::PaymentTermsSalesArea => "payment_terms_sales_area",
            Rule::Currency => "currency",
            Rule::UnknownPaymentTerms => "unknown_payment_terms",
            Rule::ContractTermsUnreadable => "contract_terms_unreadable",
            Rule::CustomerMissing => "customer_missing",
            Rule::PaymentTermsCompanyVsSalesArea => "payment_terms_company_vs_sales_area",
            Rule::CustomerBlocked => "customer_blocked",
            Rule::BillingAddress => "billing_address",
            Rule::OpenItemBilledTerms => "open_item_billed_terms",
            Rule::ContractExpiredSpecialTerms => "contract_expired_special_terms",
            Rule::CreditLimit => "credit_limit",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Rule {
    type Err = super::ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| super::ModelError::invalid("rule", s, "unknown rule name"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl FromStr for Severity {
    type Err = super::ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            _ => Err(super::ModelError::invalid(
                "severity",
                s,
                "expected low, medium or high",
            )),
        }
    }
}

/// Where a discrepancy stands in review.
///
/// `open` → `acknowledged` → `resolved` | `waived`; `closed` is set by reconciliation when
/// the cause disappeared at the source. A closed or resolved flag whose cause comes back
/// is reopened; so is a waived one whose facts change or whose waiver expires. A reviewer
/// may reopen an acknowledged, resolved or waived flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyStatus {
    Open,
    Acknowledged,
    Resolved,
    Waived,
    Closed,
}

impl DiscrepancyStatus {
    pub const ALL: [DiscrepancyStatus; 5] = [
        DiscrepancyStatus::Open,
        DiscrepancyStatus::Acknowledged,
        DiscrepancyStatus::Resolved,
        DiscrepancyStatus::Waived,
        DiscrepancyStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DiscrepancyStatus::Open => "open",
            DiscrepancyStatus::Acknowledged => "acknowledged",
            DiscrepancyStatus::Resolved => "resolved",
            DiscrepancyStatus::Waived => "waived",
            DiscrepancyStatus::Closed => "closed",
        }
    }

    /// Whether a reviewer may move a discrepancy from `self` to `to`.
    pub fn reviewer_may_move_to(self, to: DiscrepancyStatus) -> bool {
        use DiscrepancyStatus::*;
        matches!(
            (self, to),
            (Open, Acknowledged)
                | (Open, Resolved)
                | (Open, Waived)
                | (Acknowledged, Resolved)
                | (Acknowledged, Waived)
                | (Acknowledged, Acknowledged)
                | (Acknowledged, Open)
                | (Resolved, Open)
                | (Waived, Open)
        )
    }
}

impl fmt::Display for DiscrepancyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DiscrepancyStatus {
    type Err = super::ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DiscrepancyStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                super::ModelError::invalid(
                    "status",
                    s,
                    "expected open, acknowledged, resolved, waived or closed",
                )
            })
    }
}

/// The money at stake: the open items a finding affects.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Exposure {
    /// Sum of the affected open items (in `currency`; items in other currencies are not
    /// added in but counted in `items`).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: String,
    pub items: u32,
    /// Days by which the master's net due dates differ from the contract's, on the
    /// affected items (largest shift; positive = master lets the customer pay later).
    pub days: i64,
    /// `amount` × `days`: the money-days the shift moves.
    #[serde(default, with = "rust_decimal::serde::str")]
    pub cash_days: Decimal,
    /// What the shift costs at the configured annual cost of capital
    /// (`cash_days` × rate / 365, in `currency`); negative when the master asks the customer
    /// to pay earlier than agreed (no financing cost, but a dispute waiting to happen).
    #[serde(default, with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    /// The affected items per currency (all of them, `currency` included), largest first:
    /// amounts in different currencies are never added together.
    #[serde(default)]
    pub by_currency: Vec<CurrencyAmount>,
}

/// The affected open items in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyAmount {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub items: u32,
}

impl Exposure {
    /// Fills `cash_days` and `cost` from amount, days and an annual rate.
    ///
    /// Products saturate at `Decimal::MAX` (or `MIN`) rather than overflow: an ERP amount
    /// near the decimal limit, or a shift of millions of days from absurd terms, must price
    /// its flag, not panic the run. No real figure comes near the bound, so it reads as
    /// "beyond measure".
    pub fn priced(mut self, annual_rate: Decimal) -> Self {
        self.cash_days = self.amount.saturating_mul(Decimal::from(self.days));
        self.cost = self
            .cash_days
            .saturating_mul(annual_rate)
            .checked_div(Decimal::from(365))
            .unwrap_or(Decimal::ZERO)
            .round_dp(2);
        self
    }
}

/// One disagreement found by reconciliation (pure output, not yet stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub customer: CustomerId,
    /// Where it applies: `CC 1010`, `SA 1010/10/00`, `contract C-1`, ... (see [`Scope`]).
    pub scope: Scope,
    /// The master field in question, e.g. `payment_terms`, `currency`.
    pub field: String,
    pub contract_id: Option<String>,
    pub contract_value: String,
    pub master_value: String,
    /// The difference in plain words.
    pub explanation: String,
    pub exposure: Exposure,
}

impl Finding {
    /// The natural key: one flag per rule, customer, scope and field.
    pub fn natural_key(&self) -> (Rule, &CustomerId, &Scope, &str) {
        (self.rule, &self.customer, &self.scope, &self.field)
    }
}

/// A stored finding with its review state. `id` is stable across runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub id: i64,
    #[serde(flatten)]
    pub finding: Finding,
    pub status: DiscrepancyStatus,
    pub assignee: Option<String>,
    pub waived_until: Option<NaiveDate>,
    /// Who proposed the waiver (while waived).
    pub waiver_by: Option<String>,
    /// The second person who approved it; `None` while the waiver awaits approval, which
    /// keeps the flag in the review queue.
    pub waiver_approved_by: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of the audit log: who moved a discrepancy from where to where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub discrepancy_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub from: Option<DiscrepancyStatus>,
    pub to: DiscrepancyStatus,
    pub note: Option<String>,
}
