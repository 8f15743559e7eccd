//! Per-rule settings from the config's `[rules]` section: on/off, severity, thresholds,
//! and the annual cost of capital that prices late payment.

use crate::model::{Finding, Rule, Severity};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    /// `false` turns the rule off: it flags nothing, and its open flags are left as they are.
    pub enabled: Option<bool>,
    /// Replaces the rule's own severity.
    pub severity: Option<Severity>,
    /// Payment-terms rules: flag only when due dates shift by at least this many days
    /// (a different discount is always flagged).
    pub min_days: Option<i64>,
    /// Flag only when at least this much money is at stake.
    pub min_amount: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    pub rules: BTreeMap<Rule, RuleSetting>,
    /// Annual rate, e.g. 0.08 for 8 %.
    pub cost_of_capital: Decimal,
    /// The company's standard payment-terms keys: terms that mean the same are not
    /// "special" when a contract that granted them expires.
    pub standard_payment_terms: Vec<String>,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            rules: BTreeMap::new(),
            cost_of_capital: Decimal::new(8, 2),
            standard_payment_terms: Vec::new(),
        }
    }
}

impl RuleSettings {
    pub fn enabled(&self, rule: Rule) -> bool {
        self.rules
            .get(&rule)
            .and_then(|s| s.enabled)
            .unwrap_or(true)
    }

    /// The rules whose flags a run may open and close.
    pub fn enabled_rules(&self) -> Vec<Rule> {
        Rule::ALL.into_iter().filter(|r| self.enabled(*r)).collect()
    }

    /// Applies on/off, thresholds and severity to what the rules found.
    pub fn apply(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| self.enabled(f.rule))
            .filter(|f| {
                let Some(s) = self.rules.get(&f.rule) else {
                    return true;
                };
                let days_ok = s.min_days.is_none_or(|min| {
                    f.exposure.days.abs() >= min || f.explanation.contains("discount")
                });
                let amount_ok = s.min_amount.is_none_or(|min| f.exposure.amount >= min);
                days_ok && amount_ok
            })
            .map(|mut f| {
                f.exposure = f.exposure.priced(self.cost_of_capital);
                if let Some(sev) = self.rules.get(&f.rule).and_then(|s| s.severity) {
                    f.severity = sev;
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CustomerId, Exposure, Scope};

    fn finding(rule: Rule, days: i64, amount: i64) -> Finding {
        Finding {
            rule,
            severity: Severity::Medium,
            customer: CustomerId::parse("1").unwrap(),
            scope: Scope::CompanyCode("1010".into()),
            field: "payment_terms".into(),
            contract_id: None,
            contract_value: "NT30".into(),
            master_value: "NT45".into(),
            explanation: "contract: net 30; master NT45: net 45".into(),
            exposure: Exposure {
                amount: Decimal::from(amount),
                currency: "EUR".into(),
                items: 1,
                days,
                ..Exposure::default()
            },
        }
    }

    #[test]
    fn defaults_keep_everything_and_price_it() {
        let out =
            RuleSettings::default().apply(vec![finding(Rule::PaymentTermsCompanyCode, 15, 36500)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].exposure.cash_days, Decimal::from(547_500));
        // 547,500 money-days at 8 % a year: 120.00
        assert_eq!(out[0].exposure.cost.to_string(), "120.00");
    }

    #[test]
    fn off_thresholds_and_severity_apply() {
        let mut s = RuleSettings::default();
        s.rules.insert(
            Rule::Currency,
            RuleSetting {
                enabled: Some(false),
                ..Default::default()
            },
        );
        s.rules.insert(
            Rule::PaymentTermsCompanyCode,
            RuleSetting {
                min_days: Some(10),
                severity: Some(Severity::High),
                ..Default::default()
            },
        );
        s.rules.insert(
            Rule::PaymentTermsSalesArea,
            RuleSetting {
                min_amount: Some(Decimal::from(1000)),
                ..Default::default()
            },
        );
        let out = s.apply(vec![
            finding(Rule::Currency, 0, 5000),
            finding(Rule::PaymentTermsCompanyCode, 5, 5000),
            finding(Rule::PaymentTermsCompanyCode, -12, 5000),
            finding(Rule::PaymentTermsSalesArea, 30, 999),
            finding(Rule::PaymentTermsSalesArea, 30, 1000),
        ]);
        let kept: Vec<(Rule, i64, Severity)> = out
            .iter()
            .map(|f| (f.rule, f.exposure.days, f.severity))
            .collect();
        assert_eq!(
            kept,
            vec![
                (Rule::PaymentTermsCompanyCode, -12, Severity::High),
                (Rule::PaymentTermsSalesArea, 30, Severity::Medium),
            ]
        );
        assert!(!s.enabled_rules().contains(&Rule::Currency));
    }
}
