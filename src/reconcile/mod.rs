//! Reconciliation: pure rules that compare contracts with master records and price the
//! difference. No I/O and no clock: "today" is a parameter.

mod billed_terms;
mod credit_limit;
pub mod due_dates;
mod expired_terms;
pub mod exposure;
#[cfg(test)]
mod fixtures;
mod levels;
pub mod rules;
pub mod settings;
pub mod terms_book;

pub use rules::{check_customer, check_orphan_contracts};
pub use settings::{RuleSetting, RuleSettings};
pub use terms_book::TermsBook;
