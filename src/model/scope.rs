//! Where a flag applies: the customer as a whole, one company code, one sales area, one
//! contract, or the customer's credit management.
//!
//! The canonical text (`CC 1010`, `SA 1010/10/00`, `contract C-1`, `customer`, `credit`,
//! `-`) is what JSON, exports and the store's natural key show; it is a contract with other
//! tooling, so [`Scope`]'s `Display` and `FromStr` keep it exactly.

use super::{ContractScope, ModelError, SalesArea};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The scope of a finding, typed. Serialised as its canonical text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// The customer as a whole (`customer`): blocks and deletion flags.
    Customer,
    /// One company code's FI data (`CC 1010`).
    CompanyCode(String),
    /// One sales area's SD data (`SA 1010/10/00`).
    SalesArea(SalesArea),
    /// One contract as such (`contract C-1`): its terms text, its billing address.
    Contract(String),
    /// The customer's credit management, across its credit segments (`credit`).
    Credit,
    /// No narrower place named (`-`).
    Unstated,
}

/// What kind of place a [`Scope`] names, as the store's `scope_kind` column keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    Customer,
    CompanyCode,
    SalesArea,
    Contract,
    Credit,
    Unstated,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Customer => "customer",
            ScopeKind::CompanyCode => "company_code",
            ScopeKind::SalesArea => "sales_area",
            ScopeKind::Contract => "contract",
            ScopeKind::Credit => "credit",
            ScopeKind::Unstated => "unstated",
        }
    }
}

impl Scope {
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Customer => ScopeKind::Customer,
            Scope::CompanyCode(_) => ScopeKind::CompanyCode,
            Scope::SalesArea(_) => ScopeKind::SalesArea,
            Scope::Contract(_) => ScopeKind::Contract,
            Scope::Credit => ScopeKind::Credit,
            Scope::Unstated => ScopeKind::Unstated,
        }
    }

    /// The company code a company-code scope names.
    pub fn company_code(&self) -> Option<&str> {
        match self {
            Scope::CompanyCode(cc) => Some(cc),
            _ => None,
        }
    }

    /// The sales area a sales-area scope names.
    pub fn sales_area(&self) -> Option<&SalesArea> {
        match self {
            Scope::SalesArea(sa) => Some(sa),
            _ => None,
        }
    }

    /// The contract a contract scope names.
    pub fn contract(&self) -> Option<&str> {
        match self {
            Scope::Contract(id) => Some(id),
            _ => None,
        }
    }
}

impl Scope {
    /// The places a contract's coverage names (`*` for a part it leaves open): its company
    /// code, then its sales area; none when it covers everything.
    pub fn covered_by(coverage: &ContractScope) -> Vec<Scope> {
        let any = |part: &Option<String>| part.clone().unwrap_or_else(|| "*".into());
        let company = coverage.company_code.clone().map(Scope::CompanyCode);
        let area = coverage.sales_org.as_ref().map(|org| {
            Scope::SalesArea(SalesArea {
                sales_org: org.clone(),
                distribution_channel: any(&coverage.distribution_channel),
                division: any(&coverage.division),
            })
        });
        company.into_iter().chain(area).collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Customer => f.write_str("customer"),
            Scope::CompanyCode(cc) => write!(f, "CC {cc}"),
            Scope::SalesArea(sa) => write!(f, "SA {sa}"),
            Scope::Contract(id) => write!(f, "contract {id}"),
            Scope::Credit => f.write_str("credit"),
            Scope::Unstated => f.write_str("-"),
        }
    }
}

impl FromStr for Scope {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ModelError::invalid("scope", s, reason);
        let named = |part: &str| {
            if part.is_empty() {
                Err(bad("names nothing"))
            } else {
                Ok(part.to_string())
            }
        };
        match s {
            "customer" => return Ok(Scope::Customer),
            "credit" => return Ok(Scope::Credit),
            "-" => return Ok(Scope::Unstated),
            _ => {}
        }
        if let Some(cc) = s.strip_prefix("CC ") {
            return Ok(Scope::CompanyCode(named(cc)?));
        }
        if let Some(id) = s.strip_prefix("contract ") {
            return Ok(Scope::Contract(named(id)?));
        }
        if let Some(area) = s.strip_prefix("SA ") {
            let mut parts = area.split('/');
            return match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(org), Some(channel), Some(division), None) => {
                    Ok(Scope::SalesArea(SalesArea {
                        sales_org: named(org)?,
                        distribution_channel: named(channel)?,
                        division: named(division)?,
                    }))
                }
                _ => Err(bad("a sales area is ORG/CHANNEL/DIVISION")),
            };
        }
        Err(bad(
            "expected customer, credit, -, CC <code>, SA <org/channel/division> or contract <id>",
        ))
    }
}

impl TryFrom<String> for Scope {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.to_string()
    }
}

/// Compares with the canonical text, so a scope reads as naturally as the text it shows.
impl PartialEq<str> for Scope {
    fn eq(&self, other: &str) -> bool {
        other.parse::<Scope>().is_ok_and(|o| &o == self)
    }
}

impl PartialEq<&str> for Scope {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<String> for Scope {
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips() {
        for text in [
            "customer",
            "credit",
            "-",
            "CC 1010",
            "SA 1010/10/00",
            "contract C-1",
            "contract CTR 7/2",
        ] {
            let scope: Scope = text.parse().unwrap();
            assert_eq!(scope.to_string(), text);
            assert_eq!(scope, text);
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
    }

    #[test]
    fn parts_are_typed() {
        let sa: Scope = "SA 1710/10/00".parse().unwrap();
        assert_eq!(sa.kind(), ScopeKind::SalesArea);
        assert_eq!(sa.sales_area().unwrap().sales_org, "1710");
        assert_eq!(sa.company_code(), None);
        let cc: Scope = "CC 1010".parse().unwrap();
        assert_eq!(cc.company_code(), Some("1010"));
        let c: Scope = "contract C-9".parse().unwrap();
        assert_eq!(c.contract(), Some("C-9"));
    }

    #[test]
    fn other_text_is_refused() {
        for text in [
            "",
            "CC ",
            "SA 1010/10",
            "SA 1010/10/00/1",
            "SA 1010//00",
            "cc 1010",
            "x",
        ] {
            assert!(text.parse::<Scope>().is_err(), "{text:?}");
        }
    }
}
