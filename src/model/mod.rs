//! The canonical domain model: plain types and pure rules, no I/O and no clock reads.
//!
//! Connectors translate an ERP's dialect into these types; the store persists them;
//! `reconcile` compares them. Money is `rust_decimal::Decimal`, dates are `chrono`.

pub mod contact;
pub mod contract;
pub mod customer;
pub mod discrepancy;
pub mod dispute;
pub mod idoc;
pub mod ids;
pub mod note;
pub mod note_input;
pub mod open_item;
pub mod payment_terms;
pub mod scope;

pub use contact::Contact;
pub use contract::{Contract, ContractScope};
pub use customer::{
    Address, CompanyCodeData, CreditLimit, Customer, CustomerGeneral, SalesArea, SalesAreaData,
};
pub use discrepancy::{
    CurrencyAmount, Discrepancy, DiscrepancyStatus, Exposure, Finding, Rule, Severity, StatusChange,
};
pub use dispute::{DisputeRules, DisputeStatusChange};
pub use ids::CustomerId;
pub use note::{Note, NoteChannel};
pub use open_item::{OpenItem, OpenItemKey};
pub use payment_terms::{BaselineSource, DayRule, DiscountTier, PaymentTerms, TermsRule};
pub use scope::{Scope, ScopeKind};

/// Why a value from outside could not become a model value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        what: &'static str,
        value: String,
        reason: String,
    },
}

impl ModelError {
    pub fn invalid(
        what: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ModelError::Invalid {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }
}
