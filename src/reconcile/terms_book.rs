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
        }
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
