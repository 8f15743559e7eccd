//! OData V4 end to end against the mock ERP: the same data served as V4 JSON must give the
//! same store and exactly the same planted mismatches as the V2 pull; and client-driven
//! paging where the server sends no next links.

mod common;

use common::sync_reconcile_and_find as sync_and_reconcile;
use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::mock_erp::{MockErpConfig, MockErpHandle};
use erpsync::model::OpenItem;
use erpsync::store::SharedStore;
use std::collections::BTreeSet;
use std::path::Path;
use toml::Value;

const V2: &str = include_str!("../mappings/s4hana-odata-v2.toml");
const V4: &str = include_str!("../mappings/s4hana-odata-v4.toml");

type Key = common::FindingKey;

async fn mock(customers: usize, open_items: usize) -> MockErpHandle {
    common::mock::start(MockErpConfig {
        customers,
        open_items,
        ..MockErpConfig::default()
    })
    .await
}

/// A config in `dir` pointing at `base_url` with `mapping` text and `extra` `[erp]` keys.
fn config(
    dir: &Path,
    mock: &MockErpHandle,
    base_url: &str,
    mapping: &str,
    extra: &[(&str, Value)],
) -> Config {
    common::mock::write_files(dir, mock, mapping, "sap-password");
    ErpsyncToml::sqlite("erpsync.db")
        .sap(base_url, "10s", 2, "sap-password")
        .section("erp", extra)
        .erp_contracts()
        .file_contracts("contracts.csv")
        .load_in(dir)
}

fn planted(mock: &MockErpHandle) -> BTreeSet<Key> {
    common::planted(mock.dataset())
}

/// The stored open items in key order (amounts compare by value: a V4 number `12.5` and a
/// V2 string `"12.50"` are the same amount).
async fn open_item_rows(store: &SharedStore) -> Vec<OpenItem> {
    let mut rows = store.list_open_items(&Default::default()).await.unwrap();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

#[tokio::test]
async fn v4_finds_exactly_the_planted_mismatches_that_v2_finds() {
    let mock = mock(90, 900).await;
    let (d2, d4) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let v2 = sync_and_reconcile(config(d2.path(), &mock, &mock.base_url(), V2, &[])).await;
    let v4 = sync_and_reconcile(config(d4.path(), &mock, &mock.base_url_v4(), V4, &[])).await;
    assert!(v4.report.rejected.is_empty(), "{:?}", v4.report.rejected);
    assert_eq!(v2.report.pulled, v4.report.pulled, "same counts per entity");
    let planted = planted(&mock);
    assert!(planted.len() >= 6);
    assert_eq!(v4.found, planted, "V4 flags exactly the planted mismatches");
    assert_eq!(v2.found, v4.found, "V2 and V4 agree");
    let items = open_item_rows(&v4.store).await;
    assert_eq!(items.len(), mock.dataset().open_customer_items().count());
    assert_eq!(
        open_item_rows(&v2.store).await,
        items,
        "every open item is stored identically (amounts, dates, terms)"
    );
}

#[tokio::test]
async fn v4_decimals_sent_as_numbers_give_the_same_result() {
    let mock = mock(60, 600).await;
    let (d2, d4) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let v2 = sync_and_reconcile(config(d2.path(), &mock, &mock.base_url(), V2, &[])).await;
    // A server that ignores IEEE754Compatible=true.
    mock.set_v4_decimals_as_numbers(true);
    let v4 = sync_and_reconcile(config(d4.path(), &mock, &mock.base_url_v4(), V4, &[])).await;
    assert!(v4.report.rejected.is_empty(), "{:?}", v4.report.rejected);
    assert_eq!(v4.found, planted(&mock));
    assert_eq!(
        open_item_rows(&v2.store).await,
        open_item_rows(&v4.store).await
    );
}

#[tokio::test]
async fn v4_incremental_pull_writes_v4_literals_the_server_accepts() {
    let mock = mock(40, 400).await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = V4.replace(
        "# watermark = \"LastChangeDate\"",
        "watermark = \"LastChangeDate\"",
    );
    let cfg = config(dir.path(), &mock, &mock.base_url_v4(), &mapping, &[]);
    let first = sync_and_reconcile(cfg.clone()).await;
    let cursor = first
        .store
        .get_cursor("open_items.watermark")
        .await
        .unwrap()
        .expect("a full pull sets the watermark");
    // The second pull asks only for changes since the cursor, in V4 syntax: a V2
    // `datetime'…'` literal would be refused by an Edm.Date property on a V4 server.
    let second = sync_and_reconcile(cfg).await;
    assert!(second.report.rejected.is_empty());
    assert!(second.report.pulled.get("open_items").copied().unwrap_or(0) > 0);
    assert_eq!(
        open_item_rows(&second.store).await.len(),
        mock.dataset().open_customer_items().count(),
        "nothing lost or doubled by the incremental pull ({cursor})"
    );
}

#[tokio::test]
async fn without_next_links_the_client_pages_with_top_and_skip() {
    for (base, mapping) in [(true, V2), (false, V4)] {
        let mock = mock(70, 700).await;
        mock.set_server_paging(false);
        let dir = tempfile::tempdir().unwrap();
        let url = if base {
            mock.base_url()
        } else {
            mock.base_url_v4()
        };
        let cfg = config(
            dir.path(),
            &mock,
            &url,
            mapping,
            &[("page_size", 45.into()), ("client_paging", true.into())],
        );
        let out = sync_and_reconcile(cfg).await;
        assert_eq!(
            out.report.pulled.get("open_items").copied(),
            Some(mock.dataset().open_customer_items().count() as u64),
            "every window read, none twice"
        );
        assert_eq!(
            out.report.pulled.get("customers").copied(),
            Some(mock.dataset().customers.len() as u64)
        );
        assert_eq!(out.found, planted(&mock));
    }
}

#[tokio::test]
async fn the_v4_mapping_passes_check_against_the_v4_metadata() {
    let mock = mock(5, 20).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &mock, &mock.base_url_v4(), V4, &[]);
    let mapping = erpsync::erp::mapping::Mapping::load(&cfg.erp.mapping).unwrap();
    let client = erpsync::erp::odata::ODataClient::new(&cfg.erp).unwrap();
    let mut all = std::collections::BTreeMap::new();
    for service in mapping.entities.values().map(|e| e.service.clone()) {
        let url = client.service_root(&service).join("$metadata").unwrap();
        let url = erpsync::erp::odata::query::with_sap_client(url, Some("100"));
        let md = client.get_metadata(&service, &url).await.unwrap();
        assert_eq!(md.version, erpsync::erp::metadata::ODataVersion::V4);
        all.insert(service, md);
    }
    let problems = mapping.check_against(&all);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erpsync_check_validates_the_v4_mapping_and_names_a_wrong_property() {
    let mock = mock(5, 20).await;
    let dir = tempfile::tempdir().unwrap();
    let check = |dir: &Path| {
        let (code, _, stderr) =
            common::cli::run(&dir.join(common::config::CONFIG_FILE), &["check"]);
        (code, stderr)
    };
    config(dir.path(), &mock, &mock.base_url_v4(), V4, &[]);
    let (code, err) = check(dir.path());
    assert_eq!(code, 0, "{err}");
    let broken = V4.replace("name = \"CustomerName\"", "name = \"CustomerNameX\"");
    config(dir.path(), &mock, &mock.base_url_v4(), &broken, &[]);
    let (code, err) = check(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("[entities.customers]") && err.contains("CustomerNameX"),
        "{err}"
    );
}
