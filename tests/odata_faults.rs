//! The pull under the mock ERP's faults: each kind either leaves the same result as a clean
//! run (the client retries what is worth retrying) or stops with a clear error, after which
//! the next pull resumes from the stored cursor without losing or doubling anything.

mod common;

use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::mock_erp::{FaultSpec, MockErpHandle};
use erpsync::model::OpenItem;
use erpsync::store::{self, SharedStore};
use erpsync::sync::{self, SyncContext, SyncError};
use std::collections::BTreeSet;

/// The V2 mapping with the open items' and the contracts' watermarks switched on, so
/// cursors are exercised.
fn mapping() -> String {
    include_str!("../mappings/s4hana-odata-v2.toml")
        .replace(
            "# watermark = \"LastChangeDate\"",
            "watermark = \"LastChangeDate\"",
        )
        .replace(
            "# watermark = \"LastChangeDateTime\"",
            "watermark = \"LastChangeDateTime\"",
        )
}

type Key = common::FindingKey;

struct Env {
    mock: MockErpHandle,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Env {
        let mock = common::mock::sized(40, 500, 60).await;
        let dir = tempfile::tempdir().unwrap();
        common::mock::write_files(dir.path(), &mock, &mapping(), "pw");
        Env { mock, dir }
    }

    /// A config with `timeout` per request and `retries` retries.
    fn config(&self, timeout: &str, retries: u32) -> Config {
        ErpsyncToml::sqlite("erpsync.db")
            .sap(&self.mock.base_url(), timeout, retries, "pw")
            .erp_contracts()
            .file_contracts("contracts.csv")
            .load_in(self.dir.path())
    }

    async fn store(&self) -> SharedStore {
        let url = self.config("10s", 0).store.url;
        let s = store::open(&url).await.unwrap();
        s.migrate().await.unwrap();
        s
    }

    async fn sync(&self, timeout: &str, retries: u32) -> Result<(), SyncError> {
        let mut ctx = SyncContext::new(self.config(timeout, retries), self.store().await)?;
        ctx.load_metadata().await;
        sync::run(&ctx, &[]).await.map(|_| ())
    }

    /// What the store holds: open items by key (each once), and open findings.
    async fn outcome(&self) -> (Vec<OpenItem>, BTreeSet<Key>) {
        let store = self.store().await;
        common::reconcile(store.as_ref()).await;
        let mut items = store.list_open_items(&Default::default()).await.unwrap();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        let found = common::open_findings(store.as_ref()).await;
        (items, found)
    }
}

async fn clean_outcome() -> (Vec<OpenItem>, BTreeSet<Key>) {
    let env = Env::start().await;
    env.sync("10s", 0).await.expect("a clean pull succeeds");
    env.outcome().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_and_the_result_is_that_of_a_clean_run() {
    let clean = clean_outcome().await;
    assert!(!clean.0.is_empty() && !clean.1.is_empty());
    for spec in [
        "500@A_OperationalAcctgDocItemCube:2",
        "503@A_Customer:1",
        "429@A_CustomerCompany:2",
        "delay=1500@A_OperationalAcctgDocItemCube:2",
        "drop@A_OperationalAcctgDocItemCube:2",
        "malformed@A_OperationalAcctgDocItemCube:2",
        "500@$metadata:1,drop@A_CustomerSalesArea:1,503@A_SalesContract:1",
    ] {
        eprintln!("fault: {spec}");
        let env = Env::start().await;
        env.mock.set_faults(spec.parse::<FaultSpec>().unwrap());
        // A 1 s timeout makes the 1.5 s delay a timed-out request.
        env.sync("1s", 3)
            .await
            .unwrap_or_else(|e| panic!("{spec}: the pull gives up: {e}"));
        assert!(env.mock.faults_fired() > 0, "{spec}: no fault fired");
        let got = env.outcome().await;
        assert_eq!(got.0.len(), clean.0.len(), "{spec}: open items");
        assert_eq!(got.0, clean.0, "{spec}: same open items as a clean run");
        assert_eq!(got.1, clean.1, "{spec}: same findings as a clean run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_is_never_retried() {
    let env = Env::start().await;
    env.mock.set_faults(
        "404@A_OperationalAcctgDocItemCube:1"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let err = env.sync("5s", 4).await.unwrap_err().to_string();
    assert!(
        err.contains("A_OperationalAcctgDocItemCube") && err.contains("404"),
        "{err}"
    );
    assert_eq!(env.mock.faults_fired(), 1, "one request, no retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_that_gives_up_keeps_its_cursor_and_the_next_one_resumes_without_loss() {
    let env = Env::start().await;
    env.sync("10s", 0).await.expect("first full pull");
    let store = env.store().await;
    let cursor = store.get_cursor("open_items.watermark").await.unwrap();
    assert!(cursor.is_some(), "a full pull sets the watermark");
    let before = env.outcome().await;

    // Every read of the items fails (after the masters went through): the pull stops with
    // an error naming the set, and the cursor stays where the stored data is.
    for spec in [
        "503@A_OperationalAcctgDocItemCube:*",
        "drop@A_OperationalAcctgDocItemCube:*",
        "timeout@A_OperationalAcctgDocItemCube:*",
        "malformed@A_OperationalAcctgDocItemCube:*",
    ] {
        eprintln!("fault: {spec}");
        env.mock.set_faults(spec.parse::<FaultSpec>().unwrap());
        let err = env.sync("1s", 1).await.unwrap_err().to_string();
        assert!(
            err.contains("A_OperationalAcctgDocItemCube"),
            "{spec}: {err}"
        );
        assert_eq!(
            store.get_cursor("open_items.watermark").await.unwrap(),
            cursor,
            "{spec}: the cursor does not move past a failed pull"
        );
    }

    env.mock.set_faults(FaultSpec::none());
    env.sync("10s", 0).await.expect("the pull resumes");
    let after = env.outcome().await;
    assert_eq!(after.0, before.0, "nothing lost or doubled");
    assert_eq!(after.1, before.1);
}

/// The contracts' cursor lands with their last page: a contracts pull that fails keeps the
/// old cursor and ends no contract, and the next one resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_contracts_pull_keeps_its_cursor_and_ends_nothing() {
    let env = Env::start().await;
    env.sync("10s", 0).await.expect("first full pull");
    let store = env.store().await;
    let cursor = store.get_cursor("contracts.watermark").await.unwrap();
    assert!(
        cursor.is_some(),
        "a full pull sets the contracts' watermark"
    );
    let current = store.counts().await.unwrap().contracts;
    let before = env.outcome().await;

    env.mock
        .set_faults("503@A_SalesContract:*".parse::<FaultSpec>().unwrap());
    let err = env.sync("1s", 0).await.unwrap_err().to_string();
    assert!(err.contains("A_SalesContract"), "{err}");
    assert_eq!(
        store.get_cursor("contracts.watermark").await.unwrap(),
        cursor
    );
    assert_eq!(
        store.counts().await.unwrap().contracts,
        current,
        "nothing ended"
    );

    env.mock.set_faults(FaultSpec::none());
    env.sync("10s", 0).await.expect("the pull resumes");
    assert_eq!(env.outcome().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csrf_token_that_expires_mid_write_is_fetched_again_and_the_write_lands_once() {
    let env = Env::start().await;
    let cfg = env.config("10s", 0);
    let client = erpsync::erp::odata::ODataClient::new(&cfg.erp).unwrap();
    let root = client.service_root("API_BUSINESS_PARTNER");
    let url = erpsync::erp::odata::query::with_sap_client(
        root.join("A_CustomerText").unwrap(),
        Some("100"),
    );
    let customer = env.mock.dataset().customers[0].customer.clone();
    let body = serde_json::json!({
        "Customer": customer, "Language": "EN", "LongTextID": "Z001", "LongText": "note"
    });
    // One write to warm the session, then the token expires on the next.
    let write = erpsync::erp::odata::client::Write {
        method: reqwest::Method::POST,
        url: &url,
        body: &body,
        if_match: None,
        headers: vec![],
    };
    env.mock
        .set_faults("csrf-expire@A_CustomerText:1".parse::<FaultSpec>().unwrap());
    let resp = client.write("A_CustomerText", &root, &write).await.unwrap();
    assert!(resp.status.is_success(), "{:?}", resp.status);
    assert_eq!(env.mock.faults_fired(), 1, "the token did expire");
    let landed = env
        .mock
        .writes()
        .into_iter()
        .filter(|w| w.entity_set == "A_CustomerText" && w.method == "POST")
        .count();
    assert_eq!(landed, 1, "the refused write was repeated once, not twice");
}
