//! Reconciliation at scale: the mock SAP system's customers and open items are pulled into a
//! fresh SQLite store, then a full reconciliation run is timed, and a second run over the
//! same data (nothing new, every flag re-confirmed).
//!
//! `cargo bench --bench reconcile` (100k customers, 1M open items), or smaller with
//! `ERPSYNC_BENCH_CUSTOMERS=20000 ERPSYNC_BENCH_ITEMS=200000 cargo bench --bench reconcile`.

use chrono::Utc;
use erpsync::config::Config;
use erpsync::mock_erp::{self, MockErpConfig};
use erpsync::store;
use erpsync::sync::{self, reconcile_run, SyncContext};
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let customers = env_usize("ERPSYNC_BENCH_CUSTOMERS", 100_000);
    let items = env_usize("ERPSYNC_BENCH_ITEMS", 1_000_000);
    let mock_config = MockErpConfig {
        customers,
        open_items: items,
        page_size: 5000,
        ..MockErpConfig::default()
    };
    let mock = mock_erp::start(mock_config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mapping.toml"),
        include_str!("../mappings/s4hana-odata-v2.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("contracts.csv"),
        mock.dataset().register_csv(),
    )
    .unwrap();
    std::fs::write(dir.path().join("pw"), &mock_config.password).unwrap();
    let config_path = dir.path().join("erpsync.toml");
    std::fs::write(
        &config_path,
        format!(
            "[store]\nurl = \"sqlite://b.db\"\n[erp]\nkind = \"odata\"\nbase_url = \"{}\"\nmapping = \"mapping.toml\"\nsap_client = \"100\"\n[erp.auth]\nkind = \"basic\"\nuser = \"{}\"\npassword_file = \"pw\"\n[[contracts]]\nkind = \"erp\"\n[[contracts]]\nkind = \"file\"\npath = \"contracts.csv\"\n",
            mock.base_url(),
            mock_config.user
        ),
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();
    let store = store::open(&config.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let ctx = SyncContext::new(config, store.clone()).unwrap();
    let t = Instant::now();
    let pulled = sync::run(&ctx, &[]).await.expect("pull succeeds");
    let pull_secs = t.elapsed().as_secs_f64();
    let entities: u64 = pulled.pulled.values().sum();
    println!(
        "pull: {entities} entities in {pull_secs:.1} s ({:.0} entities/s)",
        entities as f64 / pull_secs
    );

    let now = Utc::now();
    let t = Instant::now();
    let first = reconcile_run::run_with(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let full = t.elapsed().as_secs_f64();
    println!(
        "reconcile (first run): {} customers, {} findings ({} new) in {full:.2} s",
        first.customers, first.findings, first.new
    );
    // Extra full re-runs, for profiling the reconciliation alone.
    for _ in 0..env_usize("ERPSYNC_BENCH_RERUNS", 0) {
        let now = Utc::now();
        let t = Instant::now();
        reconcile_run::run_full(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
            .await
            .unwrap();
        println!(
            "reconcile (extra re-run): {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }
    let now = Utc::now();
    let t = Instant::now();
    let again = reconcile_run::run_full(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let rerun = t.elapsed().as_secs_f64();
    println!(
        "reconcile (full re-run, nothing changed): {} customers, {} findings in {rerun:.2} s",
        again.customers, again.findings
    );

    // 1 % of the customers change: a company code's terms move to another key, as a pull
    // of the changed masters would write them. The next run judges only those.
    let mut changed = Vec::new();
    let mut after = None;
    while changed.len() < customers / 100 {
        let page = store.customers_page(after.as_ref(), 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id().clone());
        for c in page.iter().step_by(100) {
            if let Some(cc) = c.company_codes.first() {
                let mut cc = cc.clone();
                cc.payment_terms = Some(if cc.payment_terms.as_deref() == Some("NT60") {
                    "NT30".into()
                } else {
                    "NT60".into()
                });
                changed.push(cc);
            }
        }
    }
    store
        .upsert_company_codes(&changed, Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    let t = Instant::now();
    let inc = reconcile_run::run_with(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let inc_secs = t.elapsed().as_secs_f64();
    assert!(
        !inc.full,
        "a change of customer data alone is judged incrementally"
    );
    println!(
        "reconcile (incremental, {} customers changed): {} customers judged, {} new, {} closed in {inc_secs:.3} s",
        changed.len(),
        inc.customers,
        inc.new,
        inc.closed
    );
    println!(
        "peak RSS: {:.0} MB (mock ERP and its generated data included)",
        peak_rss_mb()
    );
    mock.shutdown().await;
}
