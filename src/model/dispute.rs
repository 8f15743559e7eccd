//! Dispute-case status changes, to be written into the ERP's dispute management.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeStatusChange {
    /// The dispute case ID in the ERP (`CaseID`).
    pub case_id: String,
    /// The ERP's status key (customer-defined in SAP, e.g. `OPEN`, `INPR`, `CLSD`).
    pub status: String,
    pub requested_by: String,
    pub note: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub idempotency_key: String,
}

/// The dispute statuses an installation uses and the moves allowed between them (SAP's
/// status keys are customer-defined, so both come from the config). Empty = any status key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisputeRules {
    pub statuses: Vec<String>,
    /// from → the statuses it may move to; a status without an entry may move anywhere.
    pub transitions: std::collections::BTreeMap<String, Vec<String>>,
}

impl DisputeRules {
    /// Whether a case may go from `from` (when known) to `to`, and if not, why.
    pub fn check(&self, from: Option<&str>, to: &str) -> Result<(), String> {
        if !self.statuses.is_empty() && !self.statuses.iter().any(|s| s == to) {
            return Err(format!(
                "status {to} is not one of the configured dispute statuses ({})",
                self.statuses.join(", ")
            ));
        }
        let Some(from) = from else { return Ok(()) };
        if from == to {
            return Ok(());
        }
        match self.transitions.get(from) {
            Some(allowed) if !allowed.iter().any(|s| s == to) => Err(format!(
                "a dispute case cannot move from {from} to {to} (allowed from {from}: {})",
                if allowed.is_empty() {
                    "none".to_string()
                } else {
                    allowed.join(", ")
                }
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_configured_rules() {
        let rules = DisputeRules {
            statuses: vec!["OPEN".into(), "INPR".into(), "RSLV".into(), "CLSD".into()],
            transitions: [
                (
                    "OPEN".to_string(),
                    vec!["INPR".to_string(), "RSLV".to_string()],
                ),
                ("CLSD".to_string(), vec![]),
            ]
            .into_iter()
            .collect(),
        };
        assert!(rules.check(Some("OPEN"), "INPR").is_ok());
        assert!(rules.check(None, "RSLV").is_ok());
        assert!(
            rules.check(Some("INPR"), "OPEN").is_ok(),
            "no entry: anywhere"
        );
        let err = rules.check(Some("OPEN"), "CLSD").unwrap_err();
        assert!(
            err.contains("from OPEN to CLSD") && err.contains("INPR, RSLV"),
            "{err}"
        );
        assert!(rules
            .check(Some("CLSD"), "OPEN")
            .unwrap_err()
            .contains("none"));
        assert!(rules
            .check(None, "WAIT")
            .unwrap_err()
            .contains("not one of"));
        assert!(DisputeRules::default().check(Some("X"), "Y").is_ok());
    }
}
