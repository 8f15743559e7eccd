//! Dynamics 365 Finance and Operations end to end against the mock ERP's F&O face: the
//! shipped mapping pulls customers per legal entity, terms of payment with cash discounts,
//! credit limits and open transactions across legal entities, and reconciliation finds
//! exactly the planted mismatches F&O can hold (none on SAP's sales areas or sales
//! contracts, which F&O does not have). `erpsync check` validates the mapping against the
//! F&O `$metadata`.

mod common;

use chrono::Utc;
use common::sync_reconcile_and_find as sync_and_reconcile;
use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::mock_erp::MockErpHandle;
use erpsync::model::CustomerId;
use std::collections::BTreeSet;
use std::path::Path;

const MAPPING: &str = include_str!("../mappings/dynamics365-fo-odata-v4.toml");

type Key = common::FindingKey;

async fn mock(customers: usize, open_items: usize, page_size: usize) -> MockErpHandle {
    common::mock::sized(customers, open_items, page_size).await
}

/// A config in `dir` for the F&O mapping (`mapping` text), the mock's `/data/` root with
/// `data_query` as its query options, and the contract register.
fn config(dir: &Path, mock: &MockErpHandle, mapping: &str, data_query: &str) -> Config {
    common::mock::write_files(dir, mock, mapping, "erp-password");
    let data = mock.dynamics_data_url();
    ErpsyncToml::sqlite("erpsync.db")
        .odata(&format!("http://{}/", mock.addr()))
        .set("erp.timeout", "10s")
        .set("erp.max_retries", 2)
        .set("erp.services.data", format!("{data}{data_query}"))
        .basic_auth("ERPSYNC", "erp-password")
        .file_contracts("contracts.csv")
        .load_in(dir)
}

/// The planted mismatches F&O can hold: none at a sales area (F&O has none, so neither the
/// sales-area terms, the sales-area currency nor company-vs-sales-area can be found) and
/// none from an SAP sales contract (F&O has none; the register's contracts remain).
fn expressible(mock: &MockErpHandle) -> BTreeSet<Key> {
    let erp_contracts: BTreeSet<String> = mock
        .dataset()
        .sales_contracts
        .iter()
        .map(|c| c.sales_contract.clone())
        .collect();
    mock.dataset()
        .planted()
        .into_iter()
        .filter(|p| !p.scope.starts_with("SA "))
        .filter(|p| !erp_contracts.contains(&p.contract_id))
        .map(|p| (p.rule.to_string(), p.customer, p.scope, p.field.to_string()))
        .collect()
}

#[tokio::test]
async fn dynamics_pull_finds_exactly_the_planted_mismatches_f_and_o_can_hold() {
    // A small server page, so every set is read across several `@odata.nextLink` pages.
    let mock = mock(90, 900, 40).await;
    let dir = tempfile::tempdir().unwrap();
    let out = sync_and_reconcile(config(dir.path(), &mock, MAPPING, "?cross-company=true")).await;

    // The one terms code the model cannot hold is refused by name, nothing else.
    assert_eq!(out.report.rejected.len(), 1, "{:#?}", out.report.rejected);
    assert!(
        out.report.rejected[0].starts_with("terms of payment CQ30: method CurrentQuarter"),
        "{:?}",
        out.report.rejected
    );
    let ds = mock.dataset();
    let pulled = |e: &str| out.report.pulled.get(e).copied().unwrap_or(0);
    assert_eq!(pulled("company_codes"), ds.company_codes.len() as u64);
    assert_eq!(
        pulled("open_items"),
        ds.open_customer_items().count() as u64,
        "every open transaction of every legal entity"
    );
    assert!(pulled("credit_limits") > 0);
    assert!(!out.report.pulled.contains_key("sales_areas"));

    let expected = expressible(&mock);
    assert!(
        expected.iter().any(|k| k.0 == "payment_terms_company_code")
            && expected.iter().any(|k| k.0 == "unknown_payment_terms")
            && expected.iter().any(|k| k.0 == "open_item_billed_terms")
            && expected.iter().any(|k| k.0 == "credit_limit"),
        "the data set plants what F&O can hold: {expected:#?}"
    );
    let missed: Vec<_> = expected.difference(&out.found).collect();
    let unexpected: Vec<_> = out.found.difference(&expected).collect();
    assert!(
        missed.is_empty(),
        "planted mismatches not found: {missed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "flags nobody planted: {unexpected:#?}"
    );

    // Terms and cash discount are one key, defined from F&O's two entities: a customer on
    // `0002` with cash discount `2D10` ("2/10 net 30") is stored as such and judged by it.
    let cc = ds
        .company_codes
        .iter()
        .find(|c| c.payment_terms == "0002")
        .expect("a customer on 0002");
    let id = CustomerId::parse(&ds.customers[cc.customer as usize].customer).unwrap();
    let stored = out.store.customer(&id).await.unwrap().unwrap();
    assert!(stored
        .company_codes
        .iter()
        .any(|c| c.payment_terms.as_deref() == Some("0002+2D10")));
    assert!(stored.sales_areas.is_empty(), "F&O has no sales areas");
}

#[tokio::test]
async fn without_cross_company_only_the_default_legal_entity_is_read() {
    let mock = mock(40, 300, 100).await;
    let dir = tempfile::tempdir().unwrap();
    let out = sync_and_reconcile(config(dir.path(), &mock, MAPPING, "")).await;
    let ds = mock.dataset();
    let in_1010 = ds
        .company_codes
        .iter()
        .filter(|c| c.company_code == "1010")
        .count();
    assert!(in_1010 < ds.company_codes.len());
    assert_eq!(
        out.report.pulled.get("company_codes").copied(),
        Some(in_1010 as u64),
        "F&O answers for the default company only"
    );
    let items = out
        .store
        .list_open_items(&Default::default())
        .await
        .unwrap();
    assert!(!items.is_empty() && items.iter().all(|i| i.key.company_code == "1010"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erpsync_check_validates_the_dynamics_mapping_against_its_metadata() {
    let mock = mock(5, 20, 100).await;
    let dir = tempfile::tempdir().unwrap();
    let check = |dir: &Path| common::cli::run(&dir.join(common::config::CONFIG_FILE), &["check"]);
    config(dir.path(), &mock, MAPPING, "?cross-company=true");
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ERP service data: ok (OData V4, 4 entity sets)"),
        "{stdout}"
    );
    assert!(stdout.contains("against $metadata: ok"), "{stdout}");

    let broken = MAPPING.replacen("days = \"NumberOfDays\"", "days = \"NumOfDays\"", 1);
    config(dir.path(), &mock, &broken, "?cross-company=true");
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("[entities.payment_terms]") && stderr.contains("NumOfDays"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_mock_speaks_f_and_o_paging_counts_enums_and_dates() {
    let mock = mock(30, 200, 10).await;
    let http = reqwest::Client::new();
    let get = |url: String| {
        let req = http
            .get(url)
            .basic_auth("ERPSYNC", Some("secret"))
            .header("Accept", "application/json;IEEE754Compatible=true");
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.text().await.unwrap()
        }
    };
    let root = mock.dynamics_data_url();
    let first: serde_json::Value = serde_json::from_str(
        &get(format!(
            "{root}CustomersV3?cross-company=true&$select=dataAreaId,CustomerAccount,OnHoldStatus&$count=true"
        ))
        .await,
    )
    .unwrap();
    let total = mock.dataset().company_codes.len();
    assert_eq!(first["@odata.count"], total.to_string());
    assert_eq!(first["value"].as_array().unwrap().len(), 10);
    assert!(first["value"][0]["OnHoldStatus"].is_string(), "{first}");
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.contains("cross-company=true") && next.contains("$skiptoken=10"),
        "{next}"
    );
    let mut seen = 10;
    let mut link = Some(next.to_string());
    while let Some(l) = link {
        let page: serde_json::Value = serde_json::from_str(&get(l).await).unwrap();
        seen += page["value"].as_array().unwrap().len();
        link = page["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(
        seen, total,
        "the next links walk every legal entity's rows once"
    );
    assert_eq!(
        get(format!("{root}CustomersV3/$count?cross-company=true")).await,
        total.to_string()
    );
    let items: serde_json::Value = serde_json::from_str(
        &get(format!(
            "{root}CustomerOpenTransactions?cross-company=true&$top=1&$select=DueDate,AmountCur,RecId"
        ))
        .await,
    )
    .unwrap();
    let item = &items["value"][0];
    assert!(
        item["DueDate"].as_str().unwrap().ends_with("T12:00:00Z"),
        "{item}"
    );
    assert!(
        item["AmountCur"].is_string() && item["RecId"].is_string(),
        "{item}"
    );
    assert!(
        items.get("@odata.nextLink").is_none(),
        "$top=1 is one entity"
    );
}

/// The F&O mapping names no write-back targets: a collector's note queued while it is
/// configured stays in the outbox, pending and untouched, and nothing reaches the ERP.
#[tokio::test]
async fn without_write_back_targets_the_outbox_keeps_what_is_queued() {
    use erpsync::erp::connect;
    use erpsync::erp::mapping::Mapping;
    use erpsync::erp::odata::ODataClient;
    use erpsync::model::note::{CollectorNote, Note, NoteChannel, NoteDetails};
    use erpsync::store::OutboxStatus;

    let mock = mock(20, 100, 50).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &mock, MAPPING, "?cross-company=true");
    let outcome = sync_and_reconcile(config.clone()).await;
    let customer = mock.dataset().customers[0].customer.clone();
    let note = CollectorNote {
        note: Note {
            customer: CustomerId::parse(&customer).unwrap(),
            item: None,
            author: "ana".into(),
            text: "Promised payment by Friday".into(),
            channel: NoteChannel::Phone,
            created_at: Utc::now(),
            idempotency_key: "f-and-o-note-1".into(),
        },
        details: NoteDetails::default(),
    };
    outcome.store.add_note(&note).await.unwrap();
    let mapping = Mapping::load(&config.erp.mapping).unwrap();
    assert!(!mapping.writes_back());
    let client = ODataClient::new(&config.erp).unwrap();
    let report = erpsync::push::drain(
        outcome.store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(report, erpsync::push::PushReport::default());
    let pending = outcome
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].attempts, 0);
    assert!(mock.writes().is_empty(), "{:?}", mock.writes());
}
