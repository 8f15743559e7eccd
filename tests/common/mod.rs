//! The shared test harness: every integration test builds its set-up from here.
//!
//! - [`config`]: erpsync configs from typed settings ([`ErpsyncToml`]), never hand-written TOML;
//! - [`mock`]: the in-process mock SAP system on a free port, and the files a config reads;
//! - [`postgres`]: a fresh schema per test on `ERPSYNC_TEST_POSTGRES_URL` (skipped with a
//!   reason when unset, a failure on CI);
//! - [`browser`]: what a headless-Chromium test needs, and the loud skip without it;
//! - [`cli`]: the `erpsync` binary run with a config, output captured, and the logs and
//!   address of a running `erpsync run`;
//! - [`notes`]: collector notes as the push tests queue them;
//! - [`TestEnv`]: a mock ERP plus a config and SQLite store pointing at it, and the
//!   sync/reconcile/findings helpers the end-to-end tests share.
// Each test binary compiles this module on its own and uses only part of it: the rest would
// warn as dead code in every binary that does not call it.
#![allow(dead_code)]

pub mod browser;
pub mod cli;
pub mod config;
pub mod desk;
pub mod mock;
pub mod notes;
pub mod postgres;

pub use config::ErpsyncToml;

use chrono::Utc;
use erpsync::config::Config;
use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::ODataClient;
use erpsync::mock_erp::{Dataset, MockErpConfig, MockErpHandle};
use erpsync::model::DiscrepancyStatus;
use erpsync::store::{self, DiscrepancyFilter, SharedStore, Store};
use erpsync::sync::{self, reconcile_run, SyncContext, SyncReport};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const MAPPING: &str = include_str!("../../mappings/s4hana-odata-v2.toml");

/// The file [`TestEnv`] keeps the mock's password in.
pub const PASSWORD_FILE: &str = "sap-password";

pub struct TestEnv {
    pub mock: MockErpHandle,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl TestEnv {
    /// A mock ERP with `customers`/`open_items`, and a config with ERP and register contracts.
    pub async fn start(customers: usize, open_items: usize) -> TestEnv {
        Self::start_with(MockErpConfig {
            customers,
            open_items,
            ..MockErpConfig::default()
        })
        .await
    }

    /// As [`TestEnv::start`], with the mock's collections scenario planted on top.
    pub async fn start_ar(customers: usize, open_items: usize) -> TestEnv {
        Self::start_with(MockErpConfig {
            customers,
            open_items,
            ar_scenario: true,
            ..MockErpConfig::default()
        })
        .await
    }

    async fn start_with(config: MockErpConfig) -> TestEnv {
        let mock = mock::start(config).await;
        let dir = tempfile::tempdir().unwrap();
        mock::write_files(dir.path(), &mock, MAPPING, PASSWORD_FILE);
        let config_path = dir.path().join(config::CONFIG_FILE);
        let env = TestEnv {
            mock,
            dir,
            config_path,
        };
        env.write_config(&env.mock.base_url(), 1);
        env
    }

    /// The config [`TestEnv::start`] writes, against `base_url` with `max_retries`.
    pub fn toml(&self, base_url: &str, max_retries: u32) -> ErpsyncToml {
        ErpsyncToml::sqlite("erpsync.db")
            .sap(base_url, "10s", max_retries, PASSWORD_FILE)
            .erp_contracts()
            .file_contracts("contracts.csv")
            .set("push.max_attempts", 5)
    }

    pub fn write_config(&self, base_url: &str, max_retries: u32) {
        self.toml(base_url, max_retries).write(&self.config_path);
    }

    pub fn config(&self) -> Config {
        Config::load(&self.config_path).expect("test config loads")
    }

    pub async fn store(&self) -> SharedStore {
        let s = store::open(&self.config().store.url).await.unwrap();
        s.migrate().await.unwrap();
        s
    }

    /// Runs the `erpsync` binary with this config; returns (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        cli::run(&self.config_path, args)
    }
}

/// The mapping and the OData client `config` names, as the push path works with them.
pub fn erp_of(config: &Config) -> (Mapping, ODataClient) {
    (
        Mapping::load(&config.erp.mapping).expect("mapping loads"),
        ODataClient::new(&config.erp).expect("client builds"),
    )
}

/// A migrated SQLite store in the file `file` of `dir`.
pub async fn sqlite_store(dir: &Path, file: &str) -> SharedStore {
    let url = format!("sqlite://{}", dir.join(file).display());
    let store = store::open(&url).await.expect("sqlite store opens");
    store.migrate().await.expect("sqlite migrations run");
    store
}

/// A finding as planted-set tests compare them: (rule, customer, scope, field).
pub type FindingKey = (String, String, String, String);

/// Pulls everything `config` names into its (fresh) store, with the services' metadata,
/// and reconciles: the report and the store.
pub async fn sync_and_reconcile(config: Config) -> (SyncReport, SharedStore) {
    let store = store::open(&config.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut ctx = SyncContext::new(config, store.clone()).unwrap();
    ctx.load_metadata().await;
    let report = sync::run(&ctx, &[]).await.expect("sync succeeds");
    reconcile(store.as_ref()).await;
    (report, store)
}

/// What a pull and reconciliation left: the sync report, the store and its open findings.
pub struct Outcome {
    pub report: SyncReport,
    pub store: SharedStore,
    pub found: BTreeSet<FindingKey>,
}

/// [`sync_and_reconcile`], with the open findings read back.
pub async fn sync_reconcile_and_find(config: Config) -> Outcome {
    let (report, store) = sync_and_reconcile(config).await;
    let found = open_findings(store.as_ref()).await;
    Outcome {
        report,
        store,
        found,
    }
}

/// The mismatches the mock's data set plants, as the findings they should become.
pub fn planted(dataset: &Dataset) -> BTreeSet<FindingKey> {
    dataset
        .planted()
        .into_iter()
        .map(|p| (p.rule.to_string(), p.customer, p.scope, p.field.to_string()))
        .collect()
}

/// A reconciliation run with the default rules, as of now.
pub async fn reconcile(store: &dyn Store) {
    let now = Utc::now();
    reconcile_run::run(store, now.date_naive(), now)
        .await
        .unwrap();
}

/// The open findings of `store`.
pub async fn open_findings(store: &dyn Store) -> BTreeSet<FindingKey> {
    store
        .list_discrepancies(&DiscrepancyFilter {
            status: Some(DiscrepancyStatus::Open),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            (
                d.finding.rule.to_string(),
                d.finding.customer.to_string(),
                d.finding.scope.to_string(),
                d.finding.field,
            )
        })
        .collect()
}

/// Serves a router on a free loopback port, with the peer address as `erpsync run` gives it
/// (the desk's SSO and login limits read it).
pub async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
