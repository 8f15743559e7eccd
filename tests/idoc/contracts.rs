//! IDocs held against contracts: billed terms, credit limits, SAP's public INVOIC02 sample.

use super::*;

/// A register contract of customer 4711 in EUR with `terms`, for `scope`.
fn contract_4711(terms: &str, scope: ContractScope, credit_limit: Option<Decimal>) -> Contract {
    Contract {
        id: "C-1".into(),
        customer: CustomerId::parse("4711").unwrap(),
        scope,
        payment_terms: Some(terms.into()),
        credit_limit,
        currency: Some("EUR".into()),
        billing_address: None,
        valid_from: None,
        valid_to: None,
        source: "register".into(),
    }
}

/// Stores `contract`, reconciles, and returns every flag with the run's report.
async fn reconcile_with(
    t: &Inbox,
    contract: Contract,
) -> (
    Vec<erpsync::model::Discrepancy>,
    erpsync::sync::reconcile_run::ReconcileReport,
) {
    t.store
        .upsert_contracts(&[contract], Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    let report = erpsync::sync::reconcile_run::run(t.store.as_ref(), now.date_naive(), now)
        .await
        .unwrap();
    let flags = t
        .store
        .list_discrepancies(&Default::default())
        .await
        .unwrap();
    (flags, report)
}

#[tokio::test]
async fn an_invoice_billed_on_other_terms_than_the_contract_is_flagged_with_its_amount() {
    let t = Inbox::with_standard_terms().await;
    let text = file(
        "INVOIC02",
        &[
            debmas(&Debmas::default()),
            invoic(&Invoic {
                total: "5000.00",
                ..Invoic::default()
            }),
        ],
    );
    assert_eq!(t.import("in.xml", &text).await.applied, 2);
    let scope = ContractScope {
        company_code: Some("1010".into()),
        ..ContractScope::default()
    };
    let (flags, _) = reconcile_with(&t, contract_4711("Net 45", scope, None)).await;
    let f = flags
        .iter()
        .find(|d| d.finding.rule == Rule::PaymentTermsCompanyCode)
        .unwrap_or_else(|| panic!("no company-code terms flag in {flags:#?}"));
    assert_eq!(f.finding.exposure.amount, dec("5000.00"));
    assert_eq!(f.finding.exposure.items, 1);
    assert_eq!(f.finding.master_value, "NT30");
}

/// The master agrees with the contract, yet invoices went out on other terms: the
/// E1EDK18 tiers are what the customer was billed with, and they are flagged with the
/// money they carry.
#[tokio::test]
async fn invoices_billed_on_other_terms_are_flagged_even_when_the_master_agrees() {
    let t = Inbox::with_standard_terms().await;
    let text = file(
        "INVOIC02",
        &[
            debmas(&Debmas::default()),
            // NT30 on the header, but 2 % within 10 days granted in the tiers.
            invoic(&Invoic {
                total: "5000.00",
                ..Invoic::default()
            }),
            // No key at all; net 60 in the tiers.
            invoic(&Invoic {
                docnum: "0000000000200002",
                belnr: "0090001235",
                total: "2000.00",
                zterm: "",
                tiers: "<E1EDK18 SEGMENT=\"1\"><QUALF>003</QUALF><TAGE>60</TAGE></E1EDK18>",
                ..Invoic::default()
            }),
            // Billed exactly as agreed: not flagged.
            invoic(&Invoic {
                docnum: "0000000000200003",
                belnr: "0090001236",
                total: "700.00",
                tiers: "<E1EDK18 SEGMENT=\"1\"><QUALF>003</QUALF><TAGE>30</TAGE></E1EDK18>",
                ..Invoic::default()
            }),
        ],
    );
    assert_eq!(t.import("in.xml", &text).await.applied, 4);
    let (flags, _) =
        reconcile_with(&t, contract_4711("Net 30", ContractScope::default(), None)).await;
    let rules: Vec<Rule> = flags.iter().map(|d| d.finding.rule).collect();
    assert_eq!(rules, vec![Rule::OpenItemBilledTerms], "{flags:#?}");
    let f = &flags[0].finding;
    assert_eq!(f.scope, "CC 1010");
    assert_eq!(f.exposure.amount, dec("7000.00"));
    assert_eq!(f.exposure.items, 2);
    assert_eq!(f.exposure.days, 30);
    assert_eq!(f.master_value, "NT30 (2% 10 days, net 30), net 60");
    assert!(
        f.explanation.contains("0090001234") && f.explanation.contains("0090001235"),
        "{}",
        f.explanation
    );
}

/// DEBMAS carries the credit limits of the customer's credit control areas (E1KNKKM); a
/// contract whose limit is set in none of them is flagged.
#[tokio::test]
async fn credit_limits_from_debmas_are_held_against_the_contract() {
    let t = Inbox::with_standard_terms().await;
    let credit = "<E1KNKKM SEGMENT=\"1\"><MSGFN>009</MSGFN><KKBER>1000</KKBER><KLIMK>50000.00</KLIMK></E1KNKKM>\
                  <E1KNKKM SEGMENT=\"1\"><MSGFN>009</MSGFN><KKBER>2000</KKBER><KLIMK>75000.00</KLIMK></E1KNKKM>\
                  <E1KNKKM SEGMENT=\"1\"><MSGFN>003</MSGFN><KKBER>3000</KKBER><KLIMK>100000.00</KLIMK></E1KNKKM>";
    let text = file(
        "DEBMAS07",
        &[debmas(&Debmas {
            extra: credit,
            ..Debmas::default()
        })],
    );
    assert_eq!(t.import("in.xml", &text).await.applied, 1);
    let id = CustomerId::parse("4711").unwrap();
    let held = t.store.customer(&id).await.unwrap().unwrap();
    let limits: Vec<(String, Decimal)> = held
        .credit_limits
        .iter()
        .map(|l| (l.segment.clone(), l.amount))
        .collect();
    assert_eq!(
        limits,
        vec![
            ("1000".into(), dec("50000.00")),
            ("2000".into(), dec("75000.00"))
        ],
        "the deleted control area 3000 limits nothing"
    );
    let contract =
        |limit: &str| contract_4711("Net 30", ContractScope::default(), Some(dec(limit)));
    let (flags, _) = reconcile_with(&t, contract("100000.00")).await;
    let rules: Vec<Rule> = flags.iter().map(|d| d.finding.rule).collect();
    assert_eq!(rules, vec![Rule::CreditLimit], "{flags:#?}");
    assert_eq!(
        flags[0].finding.master_value,
        "segment 1000: 50000.00; segment 2000: 75000.00"
    );
    // The contract is corrected to the limit of control area 2000: the flag closes.
    let (_, report) = reconcile_with(&t, contract("75000")).await;
    assert_eq!(report.closed, 1);
}

/// SAP's published INVOIC02 sample from a real S/4 system (extension ZINV_ARDO), read from
/// ../shared where it lives; copied only into a temporary inbox for the test.
#[tokio::test]
async fn sap_public_invoic02_sample() {
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/sap/idoc/SAP_Invoice.xml");
    if !sample.is_file() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "SAP IDoc sample missing at {}: CI must have ../shared beside the project",
                sample.display()
            );
        }
        eprintln!(
            "SKIPPED: SAP IDoc sample not found at {} (only CI requires it)",
            sample.display()
        );
        return;
    }
    let t = Inbox::new().await;
    let p = t.inbox().join("SAP_Invoice.xml");
    std::fs::copy(&sample, &p).unwrap();
    let r = t.importer.import_file(&p).await.unwrap();
    assert_eq!((r.applied, r.quarantined), (1, 0), "{r:?}");
    let items = t
        .store
        .list_open_items(&OpenItemFilter::default())
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let i = &items[0];
    // Payer RG 0001005022; company code from E1EDK14 QUALF 003 (no 011 in this IDoc).
    assert_eq!(i.customer.as_str(), "0001005022");
    assert_eq!(i.key.to_string(), "1050/2023/9000002067/001");
    assert_eq!(
        i.document_date,
        NaiveDate::from_ymd_opt(2023, 4, 12).unwrap()
    );
    assert_eq!(i.amount, dec("2416.95"));
    assert_eq!(i.currency, "EUR");
    assert_eq!(i.payment_terms.as_deref(), Some("N30"));
    assert_eq!(i.applied.discount1_days, Some(30));
    assert_eq!(i.applied.discount1_percent, Some(Decimal::ZERO));
    assert_eq!(i.net_due_date, NaiveDate::from_ymd_opt(2023, 5, 12));
    let rec = t
        .store
        .idoc_record("0000000000182520")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.idoc_type, "INVOIC02");
    let ack = t.read("processed/SAP_Invoice.xml.ack.xml");
    assert!(
        ack.contains("<DOCNUM>0000000000182520</DOCNUM>") && ack.contains("<STATUS>53</STATUS>")
    );
}
