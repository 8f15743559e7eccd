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

/// CPU seconds (user + system) this process has used so far: on a shared machine the part of
/// the wall time that was really ours. The mock ERP lives in the process too, but it is idle
/// while a reconciliation runs.
fn cpu_secs() -> f64 {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Wall and CPU time since it was started.
struct Stopwatch {
    wall: Instant,
    cpu: f64,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_secs(),
        }
    }

    /// (wall seconds, CPU seconds)
    fn read(&self) -> (f64, f64) {
        (self.wall.elapsed().as_secs_f64(), cpu_secs() - self.cpu)
    }
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
    let t = Stopwatch::start();
    let pulled = sync::run(&ctx, &[]).await.expect("pull succeeds");
    let (pull_secs, pull_cpu) = t.read();
    let entities: u64 = pulled.pulled.values().sum();
    println!(
        "pull: {entities} entities in {pull_secs:.1} s wall, {pull_cpu:.1} s CPU with the mock serving ({:.0} entities/s)",
        entities as f64 / pull_secs
    );
    println!("peak RSS after the pull: {:.0} MB", peak_rss_mb());

    let now = Utc::now();
    let t = Stopwatch::start();
    let first = reconcile_run::run_with(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let (full, full_cpu) = t.read();
    println!(
        "reconcile (first run): {} customers, {} findings ({} new) in {full:.2} s wall, {full_cpu:.2} s CPU",
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
    let t = Stopwatch::start();
    let again = reconcile_run::run_full(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let (rerun, rerun_cpu) = t.read();
    println!(
        "reconcile (full re-run, nothing changed): {} customers, {} findings in {rerun:.2} s wall, {rerun_cpu:.2} s CPU",
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
    let t = Stopwatch::start();
    let inc = reconcile_run::run_with(store.as_ref(), &ctx.config.rules, now.date_naive(), now)
        .await
        .unwrap();
    let (inc_secs, inc_cpu) = t.read();
    assert!(
        !inc.full,
        "a change of customer data alone is judged incrementally"
    );
    println!(
        "reconcile (incremental, {} customers changed): {} customers judged, {} new, {} closed in {inc_secs:.3} s wall, {inc_cpu:.3} s CPU",
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
