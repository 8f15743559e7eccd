//! The payment-terms definitions a run judges by, and how contract terms are read.

use crate::contracts::terms_text;
use crate::model::payment_terms::{self, TermsDifference};
use crate::model::PaymentTerms;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct TermsBook {
    definitions: Vec<PaymentTerms>,
    by_key: HashMap<String, usize>,
    /// Comparing two terms walks two years of document dates; the same few pairs recur
    /// for every customer, so each pair is compared once per run (keys name one definition
    /// within a run; text terms are keyed by their text).
    compared: Mutex<HashMap<(String, String), Option<TermsDifference>>>,
    /// The company's standard terms (`[rules] standard_payment_terms`), defined ones only.
    standard: Vec<usize>,
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
            compared: Mutex::new(HashMap::new()),
            standard: Vec::new(),
        }
    }

    /// Names the standard terms; returns the keys that have no definition (and so are
    /// ignored), for the caller to report.
    pub fn with_standard(mut self, keys: &[String]) -> (Self, Vec<String>) {
        let mut unknown = Vec::new();
        for key in keys {
            match self.by_key.get(&key.trim().to_ascii_uppercase()) {
                Some(&i) => self.standard.push(i),
                None => unknown.push(key.clone()),
            }
        }
        (self, unknown)
    }

    /// Whether `terms` mean the same as one of the standard terms.
    pub fn is_standard(&self, terms: &PaymentTerms) -> bool {
        self.standard
            .iter()
            .any(|&i| self.compare(&self.definitions[i], terms).is_none())
    }

    /// How many days later than the first standard terms `terms` let the customer pay
    /// (the largest shift; 0 without standard terms).
    pub fn days_beyond_standard(&self, terms: &PaymentTerms) -> i64 {
        let Some(&i) = self.standard.first() else {
            return 0;
        };
        self.compare(&self.definitions[i], terms)
            .map(|d| {
                if d.max_net_shift_days.abs() >= d.min_net_shift_days.abs() {
                    d.max_net_shift_days
                } else {
                    d.min_net_shift_days
                }
            })
            .unwrap_or(0)
    }

    /// [`payment_terms::compare`], remembered per pair.
    pub fn compare(
        &self,
        contract: &PaymentTerms,
        master: &PaymentTerms,
    ) -> Option<TermsDifference> {
        let key = (contract.key.clone(), master.key.clone());
        if let Some(known) = self.compared.lock().expect("not poisoned").get(&key) {
            return known.clone();
        }
        let result = payment_terms::compare(contract, master);
        self.compared
            .lock()
            .expect("not poisoned")
            .insert(key, result.clone());
        result
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
