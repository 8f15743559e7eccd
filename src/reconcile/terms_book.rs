//! The payment-terms definitions a run judges by, and how contract terms are read.

use crate::contracts::terms_text;
use crate::model::PaymentTerms;
use std::collections::HashMap;

pub struct TermsBook {
    definitions: Vec<PaymentTerms>,
    by_key: HashMap<String, usize>,
}

impl TermsBook {
    pub fn new(definitions: Vec<PaymentTerms>) -> Self {
        let by_key = definitions
            .iter()
            .enumerate()
            .map(|(i, t)| (t.key.to_ascii_uppercase(), i))
            .collect();
        TermsBook {
            definitions,
            by_key,
        }
    }

    /// The definition of a master's key (SAP keys are upper case; compare as such).
    pub fn get(&self, key: &str) -> Option<&PaymentTerms> {
        self.by_key
            .get(&key.trim().to_ascii_uppercase())
            .map(|&i| &self.definitions[i])
    }

    /// A contract's terms: a known key, or text with one of the agreed meanings.
    pub fn resolve_contract_terms(&self, raw: &str) -> Result<PaymentTerms, String> {
        terms_text::resolve(raw, &self.definitions).map_err(|e| e.to_string())
    }
}
