//! Customers and contracts for the rules' unit tests.

use crate::model::{
    CompanyCodeData, Contract, ContractScope, Customer, CustomerGeneral, CustomerId, PaymentTerms,
    TermsRule,
};

pub const CUSTOMER: &str = "17100001";

/// A customer with company code 1010 on `cc_terms` and nothing else.
pub fn customer_in_1010(cc_terms: &str) -> Customer {
    let id = CustomerId::parse(CUSTOMER).unwrap();
    Customer {
        general: CustomerGeneral {
            customer: id.clone(),
            name: "Muster GmbH".into(),
            address: None,
            deletion_flag: false,
            posting_block: false,
            last_changed: None,
        },
        company_codes: vec![CompanyCodeData {
            customer: id,
            company_code: "1010".into(),
            payment_terms: Some(cc_terms.into()),
            reconciliation_account: None,
            accounting_clerk: None,
            dunning_procedure: None,
            deletion_flag: false,
            posting_block: false,
        }],
        sales_areas: Vec::new(),
        credit_limits: Vec::new(),
    }
}

/// A contract `C-1` of the customer, for every scope and always valid, with `terms`.
pub fn contract(terms: Option<&str>) -> Contract {
    Contract {
        id: "C-1".into(),
        customer: CustomerId::parse(CUSTOMER).unwrap(),
        scope: ContractScope::default(),
        payment_terms: terms.map(str::to_string),
        credit_limit: None,
        currency: None,
        billing_address: None,
        valid_from: None,
        valid_to: None,
        source: "test".into(),
    }
}

/// The terms the rules' tests speak of, as SAP's standard T052 defines them: NT30 and NT60
/// (net 30/60 days from the document date) and Z030 ("within 30 days due net").
pub fn standard_terms() -> Vec<PaymentTerms> {
    [
        ("NT30", "Net 30 days", 30),
        ("NT60", "Net 60 days", 60),
        ("Z030", "Within 30 days due net", 30),
    ]
    .into_iter()
    .map(|(key, description, days)| PaymentTerms {
        key: key.into(),
        description: description.into(),
        rules: vec![TermsRule::net_days(days)],
    })
    .collect()
}
