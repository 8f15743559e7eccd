//! `[ar]` and `[collectors]`: what the collections figures are configured with.

use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Days a promise may be late and still count as kept, when `[ar] promise_grace_days` is
/// not set.
pub const DEFAULT_PROMISE_GRACE_DAYS: u32 = 3;
/// Months of credit sales DSO counts back over, when `[ar] dso_months` is not set.
pub const DEFAULT_DSO_MONTHS: u32 = 12;

/// Payment details printed on statements and reminders (`[ar.payment]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentDetails {
    /// Who to pay: the creditor's legal name.
    pub beneficiary: String,
    pub bank: String,
    pub iban: String,
    pub bic: String,
    /// Free lines, e.g. a CNAPS code or a contact.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArSettings {
    pub promise_grace_days: u32,
    pub dso_months: u32,
    /// Per-currency weights that order the call list only (see `worklist`).
    pub ranking_rates: BTreeMap<String, Decimal>,
    /// Accounting clerk (BUSAB / `AccountingClerk`) → desk user.
    pub collectors: BTreeMap<String, String>,
    pub payment: PaymentDetails,
}

impl Default for ArSettings {
    fn default() -> Self {
        ArSettings {
            promise_grace_days: DEFAULT_PROMISE_GRACE_DAYS,
            dso_months: DEFAULT_DSO_MONTHS,
            ranking_rates: BTreeMap::new(),
            collectors: BTreeMap::new(),
            payment: PaymentDetails::default(),
        }
    }
}

impl ArSettings {
    /// The person behind an accounting clerk code, else the code itself.
    pub fn collector_name(&self, clerk: &str) -> String {
        self.collectors
            .get(clerk)
            .cloned()
            .unwrap_or_else(|| clerk.to_string())
    }

    /// The clerk codes a collector (a desk user name or a clerk code) works.
    pub fn clerks_of(&self, collector: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .collectors
            .iter()
            .filter(|(_, user)| user.as_str() == collector)
            .map(|(clerk, _)| clerk.clone())
            .collect();
        if out.is_empty() || self.collectors.contains_key(collector) {
            out.push(collector.to_string());
        }
        out.sort();
        out.dedup();
        out
    }
}
