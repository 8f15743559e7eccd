//! Shared test setup: a mock SAP system on a free loopback port and an erpsync config
//! pointing at it, with a fresh SQLite store in a temporary folder.
#![allow(dead_code)]

use chrono::Utc;
use erpsync::config::Config;
use erpsync::mock_erp::{self, MockErpConfig, MockErpHandle};
use erpsync::model::DiscrepancyStatus;
use erpsync::store::{self, DiscrepancyFilter, SharedStore, Store};
use erpsync::sync::{self, reconcile_run, SyncContext, SyncReport};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub const MAPPING: &str = include_str!("../../mappings/s4hana-odata-v2.toml");

pub struct TestEnv {
    pub mock: MockErpHandle,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl TestEnv {
    /// A mock ERP with `customers`/`open_items`, and a config with ERP and register contracts.
    pub async fn start(customers: usize, open_items: usize) -> TestEnv {
        let mock_config = MockErpConfig {
            customers,
            open_items,
            ..MockErpConfig::default()
        };
        let mock = mock_erp::start(mock_config.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("mock ERP starts");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mapping.toml"), MAPPING).unwrap();
        std::fs::write(
            dir.path().join("contracts.csv"),
            mock.dataset().register_csv(),
        )
        .unwrap();
        std::fs::write(dir.path().join("sap-password"), &mock_config.password).unwrap();
        let config_path = dir.path().join("erpsync.toml");
        let env = TestEnv {
            mock,
            dir,
            config_path,
        };
        env.write_config(&env.mock.base_url(), 1);
        env
    }

    pub fn write_config(&self, base_url: &str, max_retries: u32) {
        let text = format!(
            r#"[store]
url = "sqlite://erpsync.db"
[erp]
kind = "odata"
base_url = "{base_url}"
mapping = "mapping.toml"
sap_client = "100"
timeout = "10s"
max_retries = {max_retries}
[erp.auth]
kind = "basic"
user = "ERPSYNC"
password_file = "sap-password"
[[contracts]]
kind = "erp"
[[contracts]]
kind = "file"
path = "contracts.csv"
[push]
max_attempts = 5
"#
        );
        std::fs::write(&self.config_path, text).unwrap();
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
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_erpsync"))
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .expect("binary runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
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
