//! Each rule's wording: the sentence names both sides and the scope, the headlines are the
//! values being compared, and the proposed change names the place to make it.

use super::*;
use crate::model::{
    Address, CompanyCodeData, ContractScope, Customer, CustomerGeneral, CustomerId, Exposure,
    Finding, SalesArea, SalesAreaData, Severity,
};
use chrono::Utc;

const CUSTOMER: &str = "0001000027";

fn id() -> CustomerId {
    CustomerId::parse(CUSTOMER).unwrap()
}

fn address(street: &str, city: &str) -> Address {
    Address {
        name: "Muster GmbH".into(),
        street: street.into(),
        city: city.into(),
        postal_code: "10115".into(),
        country: "DE".into(),
    }
}

fn area() -> SalesArea {
    SalesArea {
        sales_org: "1010".into(),
        distribution_channel: "10".into(),
        division: "00".into(),
    }
}

/// Company code 1010 on NT30, sales area 1010/10/00 on NT60.
fn customer() -> Customer {
    Customer {
        general: CustomerGeneral {
            customer: id(),
            name: "Muster GmbH".into(),
            address: Some(address("Main Street 5", "Berlin")),
            deletion_flag: false,
            posting_block: true,
            last_changed: None,
        },
        company_codes: vec![CompanyCodeData {
            customer: id(),
            company_code: "1010".into(),
            payment_terms: Some("NT30".into()),
            reconciliation_account: None,
            accounting_clerk: None,
            dunning_procedure: None,
            deletion_flag: false,
            posting_block: false,
        }],
        sales_areas: vec![SalesAreaData {
            customer: id(),
            area: area(),
            payment_terms: Some("NT60".into()),
            currency: Some("USD".into()),
            credit_control_area: None,
            deletion_flag: false,
        }],
        credit_limits: Vec::new(),
    }
}

fn contract() -> Contract {
    Contract {
        id: "CLM-00001".into(),
        customer: id(),
        scope: ContractScope::default(),
        payment_terms: Some("Net 30".into()),
        credit_limit: None,
        currency: Some("EUR".into()),
        billing_address: Some(address("Main Street 7", "Berlin")),
        valid_from: None,
        valid_to: None,
        source: "register".into(),
    }
}

fn flag(rule: Rule, scope: Scope, field: &str, contract_value: &str, master: &str) -> Discrepancy {
    let now = Utc::now();
    Discrepancy {
        id: 1,
        finding: Finding {
            rule,
            severity: Severity::High,
            customer: id(),
            scope,
            field: field.into(),
            contract_id: Some("CLM-00001".into()),
            contract_value: contract_value.into(),
            master_value: master.into(),
            explanation: "contract CLM-00001: contract: net 30".into(),
            exposure: Exposure {
                days: 30,
                items: 2,
                ..Exposure::default()
            },
        },
        status: crate::model::DiscrepancyStatus::Open,
        assignee: None,
        waived_until: None,
        waiver_by: None,
        waiver_approved_by: None,
        first_seen: now,
        last_seen: now,
        updated_at: now,
    }
}

fn worded(d: &Discrepancy) -> Wording {
    let book = TermsBook::new(crate::erp::t052::standard_terms());
    let customer = customer();
    let contracts = [contract()];
    word(
        d,
        &Context {
            customer: Some(&customer),
            contracts: &contracts,
            book: &book,
        },
    )
}

fn one_sentence(w: &Wording) {
    assert!(w.sentence.ends_with('.'), "{}", w.sentence);
    assert_eq!(
        w.sentence.matches(". ").count(),
        0,
        "one sentence: {}",
        w.sentence
    );
    assert!(
        !w.sentence.contains("contract: "),
        "no raw summary: {}",
        w.sentence
    );
}

#[test]
fn contract_vs_company_code_names_both_sides_the_scope_and_the_key_to_set() {
    let w = worded(&flag(
        Rule::PaymentTermsCompanyCode,
        Scope::CompanyCode("1010".into()),
        "payment_terms",
        "NT30",
        "NT60",
    ));
    one_sentence(&w);
    assert!(
        w.sentence.starts_with("Contract CLM-00001 agrees NT30 ("),
        "{}",
        w.sentence
    );
    assert!(
        w.sentence.contains("in company code 1010 has NT60 ("),
        "{}",
        w.sentence
    );
    assert!(w.sentence.contains("30 day(s) later"), "{}", w.sentence);
    assert_eq!(w.left.title, "Contract CLM-00001");
    assert!(w.left.value.starts_with("NT30"));
    assert_eq!(w.right.title, "Master · company code 1010");
    assert!(w.right.value.starts_with("NT60"));
    let p = w.proposal.unwrap();
    assert_eq!(
        p.text,
        "Set the payment terms of customer 0001000027 in company code 1010 to NT30."
    );
    assert_eq!(p.place, SapPlace::CompanyCode);
    assert!(p.transaction.contains("Manage Customer Master Data"));
    assert_eq!(w.rule_label, "Payment terms: contract vs company code");
    assert_eq!(w.field_label, "Payment terms");
}

#[test]
fn contract_text_terms_propose_the_meaning_not_a_guessed_key() {
    let w = worded(&flag(
        Rule::PaymentTermsSalesArea,
        Scope::SalesArea(area()),
        "payment_terms",
        "Net 45",
        "NT60",
    ));
    one_sentence(&w);
    assert!(
        w.left.value.starts_with("\u{201c}Net 45\u{201d} ("),
        "{}",
        w.left.value
    );
    assert_eq!(w.right.title, "Master · sales area 1010/10/00");
    assert_eq!(w.proposal.unwrap().place, SapPlace::SalesArea);
}

#[test]
fn company_code_vs_sales_area_headlines_are_the_two_master_levels() {
    // The finding keeps "CC 1010: NT30" as its contract value (API); the cards must not
    // call a master value "contract", and the sales-area card shows the sales area's key.
    let w = worded(&flag(
        Rule::PaymentTermsCompanyVsSalesArea,
        Scope::SalesArea(area()),
        "payment_terms",
        "CC 1010: NT30",
        "NT60",
    ));
    one_sentence(&w);
    assert_eq!(w.left.title, "Master · company code 1010");
    assert!(w.left.value.starts_with("NT30 ("), "{}", w.left.value);
    assert_eq!(w.right.title, "Master · sales area 1010/10/00");
    assert!(w.right.value.starts_with("NT60 ("), "{}", w.right.value);
    assert!(!w.left.title.contains("Contract"));
    assert!(w.sentence.contains("NT30"), "{}", w.sentence);
    assert!(w.sentence.contains("NT60"), "{}", w.sentence);
    assert!(w.proposal.unwrap().text.contains("to NT30"));
}

#[test]
fn unreadable_terms_show_what_the_master_holds_not_a_dash() {
    let w = worded(&flag(
        Rule::ContractTermsUnreadable,
        Scope::Contract("CLM-00001".into()),
        "payment_terms",
        "payable when convenient",
        "-",
    ));
    one_sentence(&w);
    assert!(
        w.right.value.contains("company code 1010: NT30"),
        "{}",
        w.right.value
    );
    assert!(w.right.value.contains("sales area 1010/10/00: NT60"));
    assert_ne!(w.right.value, "-");
    assert_eq!(w.proposal.unwrap().place, SapPlace::Contract);
}

#[test]
fn every_rule_has_a_sentence_two_headlines_and_a_proposal() {
    let cases = [
        (
            Rule::Currency,
            Scope::SalesArea(area()),
            "currency",
            "EUR",
            "USD",
        ),
        (
            Rule::UnknownPaymentTerms,
            Scope::CompanyCode("1010".into()),
            "payment_terms",
            "-",
            "Z999",
        ),
        (
            Rule::CustomerMissing,
            Scope::Contract("CLM-00001".into()),
            "customer",
            CUSTOMER,
            "-",
        ),
        (
            Rule::CustomerBlocked,
            Scope::Customer,
            "posting_block",
            "active contract CLM-00001",
            "blocked for posting",
        ),
        (
            Rule::BillingAddress,
            Scope::Contract("CLM-00001".into()),
            "billing_address",
            "Main Street 7, 10115 Berlin, DE",
            "Main Street 5, 10115 Berlin, DE",
        ),
        (
            Rule::OpenItemBilledTerms,
            Scope::CompanyCode("1010".into()),
            "payment_terms",
            "NT30",
            "NT60",
        ),
        (
            Rule::ContractExpiredSpecialTerms,
            Scope::CompanyCode("1010".into()),
            "payment_terms",
            "NT60 (expired 2025-01-31)",
            "NT60",
        ),
        (
            Rule::CreditLimit,
            Scope::Credit,
            "credit_limit",
            "50000.00 EUR",
            "segment 1000: 80000.00 EUR",
        ),
    ];
    for (rule, scope, field, c, m) in cases {
        let w = worded(&flag(rule, scope, field, c, m));
        one_sentence(&w);
        assert!(w.sentence.contains(CUSTOMER), "{rule}: {}", w.sentence);
        assert!(!w.left.value.is_empty() && w.left.value != "-", "{rule}");
        assert!(!w.right.value.is_empty() && w.right.value != "-", "{rule}");
        assert!(w.proposal.is_some(), "{rule}");
        assert!(!w.rule_label.contains('_'), "{rule}");
        assert!(!w.field_label.contains('_'), "{rule}");
    }
}

#[test]
fn billing_address_proposal_names_the_part_that_differs() {
    let w = worded(&flag(
        Rule::BillingAddress,
        Scope::Contract("CLM-00001".into()),
        "billing_address",
        "Main Street 7, 10115 Berlin, DE",
        "Main Street 5, 10115 Berlin, DE",
    ));
    assert_eq!(
        w.proposal.unwrap().text,
        "Update the billing street on contract CLM-00001, or the address of customer 0001000027 in the master, whichever is out of date."
    );
}

#[test]
fn labels_cover_every_rule_and_field_the_rules_use() {
    for rule in Rule::ALL {
        assert!(!rule_label(rule).contains('_'));
    }
    for field in [
        "payment_terms",
        "currency",
        "customer",
        "posting_block",
        "deletion_flag",
        "billing_address",
        "credit_limit",
    ] {
        assert!(!field_label(field).contains('_'), "{field}");
    }
}
