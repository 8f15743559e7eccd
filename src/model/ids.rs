//! SAP identifiers that must keep SAP's own form.

use super::ModelError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A customer number (KUNNR), 10 characters.
///
/// SAP stores purely numeric customer numbers with leading zeros (ALPHA conversion:
/// `4711` is kept as `0000004711`); alphanumeric numbers are kept as typed, upper-cased.
/// Parsing applies the same conversion so that `4711` from a CSV and `0000004711` from
/// OData name the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    pub const LEN: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, ModelError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ModelError::invalid("customer number", raw, "empty"));
        }
        if s.chars().count() > Self::LEN {
            return Err(ModelError::invalid(
                "customer number",
                raw,
                "longer than 10 characters",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ModelError::invalid(
                "customer number",
                raw,
                "only letters, digits, '-' and '_' are allowed",
            ));
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            Ok(CustomerId(format!("{s:0>10}")))
        } else {
            Ok(CustomerId(s.to_ascii_uppercase()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CustomerId {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CustomerId::parse(&value)
    }
}

impl From<CustomerId> for String {
    fn from(value: CustomerId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_numbers_get_leading_zeros() {
        assert_eq!(CustomerId::parse("4711").unwrap().as_str(), "0000004711");
        assert_eq!(
            CustomerId::parse("0000004711").unwrap().as_str(),
            "0000004711"
        );
    }

    #[test]
    fn alphanumeric_numbers_are_kept() {
        assert_eq!(CustomerId::parse("cust-a1").unwrap().as_str(), "CUST-A1");
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert!(CustomerId::parse("").is_err());
        assert!(CustomerId::parse("12345678901").is_err());
        assert!(CustomerId::parse("a b").is_err());
    }
}
