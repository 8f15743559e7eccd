//! Conformance against SAP's Cloud Application Programming Model: a CAP server (`@sap/cds`
//! 9, `@cap-js/sqlite`, `@cap-js-community/odata-v2-adapter`) serves our CDS model of the
//! S/4HANA entity sets (tests/cap) with the mock's data set as seed rows; erpsync pulls it
//! over OData V4 and over V2 and must find exactly the planted mismatches. This is an OData
//! server nobody here wrote, so it checks our reading of the protocol, not our mock.
//!
//! Needs `tests/cap/node_modules` (`.ci/run` installs it): without it the test fails in CI
//! and says loudly why it did not run elsewhere.

mod common;

use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::mock_erp::{cap_seed_files, Dataset, MockErpConfig};
use erpsync::sync::SyncReport;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const V2: &str = include_str!("../mappings/s4hana-odata-v2.toml");
const V4: &str = include_str!("../mappings/s4hana-odata-v4.toml");

type Key = common::FindingKey;

fn cap_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cap")
}

/// The installed CAP packages, or `None` (after saying why) when they are missing outside CI.
fn installed() -> Option<PathBuf> {
    let modules = cap_dir().join("node_modules");
    if modules.join("@sap/cds").is_dir() {
        return Some(modules);
    }
    let why = format!(
        "CAP conformance NOT RUN: {} is missing; install it with `cd tests/cap && npm ci` (.ci/run does)",
        modules.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("\n!!!!!!!!!!!!!!!!!!!!\n{why}\n!!!!!!!!!!!!!!!!!!!!\n");
    None
}

/// A CAP server on a free port; killed when dropped.
struct Cap {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Cap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Copies the CAP project beside its installed packages, writes the seed rows and starts
/// `cds-serve`, waiting until both protocol versions answer.
async fn start_cap(modules: &Path, ds: &Dataset) -> Cap {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("db/data")).unwrap();
    std::fs::create_dir_all(root.join("srv")).unwrap();
    for f in ["package.json", "db/schema.cds", "srv/services.cds"] {
        std::fs::copy(cap_dir().join(f), root.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(modules, root.join("node_modules")).unwrap();
    for (name, csv) in cap_seed_files(ds, "s4") {
        std::fs::write(root.join("db/data").join(name), csv).unwrap();
    }
    let port = free_port();
    let log = std::fs::File::create(root.join("cds.log")).unwrap();
    let child = Command::new("node")
        .arg(modules.join("@sap/cds/bin/serve.js"))
        .args(["--port", &port.to_string()])
        .current_dir(root)
        .env("NODE_ENV", "development")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("node runs");
    let cap = Cap {
        child,
        port,
        _dir: dir,
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    let probes = [
        format!("http://127.0.0.1:{port}/odata/v4/API_BUSINESS_PARTNER/$metadata"),
        format!("http://127.0.0.1:{port}/odata/v2/API_BUSINESS_PARTNER/$metadata"),
    ];
    'wait: loop {
        let mut all = true;
        for p in &probes {
            let ok = matches!(http.get(p).send().await, Ok(r) if r.status().is_success());
            all &= ok;
        }
        if all {
            break 'wait;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let log = std::fs::read_to_string(root_log(&cap)).unwrap_or_default();
            panic!("CAP did not come up on port {port} within 90 s:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    cap
}

fn root_log(cap: &Cap) -> PathBuf {
    cap._dir.path().join("cds.log")
}

fn config(dir: &Path, ds: &Dataset, base_url: &str, mapping: &str) -> Config {
    std::fs::write(dir.join("mapping.toml"), mapping).unwrap();
    std::fs::write(dir.join("contracts.csv"), ds.register_csv()).unwrap();
    ErpsyncToml::sqlite("erpsync.db")
        .odata(base_url)
        .set("erp.timeout", "20s")
        .set("erp.max_retries", 1)
        .erp_contracts()
        .file_contracts("contracts.csv")
        .load_in(dir)
}

async fn pull_and_reconcile(config: Config) -> (SyncReport, BTreeSet<Key>, usize) {
    let (report, store) = common::sync_and_reconcile(config).await;
    let found = common::open_findings(store.as_ref()).await;
    let items = store
        .list_open_items(&Default::default())
        .await
        .unwrap()
        .len();
    (report, found, items)
}

#[tokio::test]
async fn erpsync_pulls_a_cap_server_over_v4_and_v2_and_finds_the_planted_mismatches() {
    let Some(modules) = installed() else { return };
    let ds = Dataset::generate(&MockErpConfig {
        customers: 60,
        open_items: 400,
        ..MockErpConfig::default()
    });
    let planted = common::planted(&ds);
    assert!(planted.len() >= 6, "the seed data plants mismatches");
    let cap = start_cap(&modules, &ds).await;
    let open_items = ds.open_customer_items().count();

    for (version, path, mapping) in [("V4", "odata/v4", V4), ("V2", "odata/v2", V2)] {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("http://127.0.0.1:{}/{path}/", cap.port);
        let (report, found, items) =
            pull_and_reconcile(config(dir.path(), &ds, &base, mapping)).await;
        assert!(
            report.rejected.is_empty(),
            "{version}: records left out: {:#?}",
            report.rejected
        );
        assert_eq!(
            report.pulled.get("customers").copied(),
            Some(ds.customers.len() as u64),
            "{version}: every customer, across CAP's pages"
        );
        assert_eq!(
            items, open_items,
            "{version}: exactly the open customer items"
        );
        let missed: Vec<_> = planted.difference(&found).collect();
        let unexpected: Vec<_> = found.difference(&planted).collect();
        assert!(
            missed.is_empty(),
            "{version}: planted mismatches not found: {missed:#?}"
        );
        assert!(
            unexpected.is_empty(),
            "{version}: flags nobody planted: {unexpected:#?}"
        );
    }
}
