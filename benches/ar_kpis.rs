//! Collections KPIs at scale: 100k customers with 1M open items (two company codes, two
//! currencies, four clerks, due dates over two years) are written straight into a fresh
//! SQLite store, then `ar kpis` (by company code, and by collector) is timed, wall clock and
//! process CPU time side by side, plus the daily snapshot and the call list.
//!
//! `cargo bench --bench ar_kpis`, or smaller with
//! `ERPSYNC_BENCH_CUSTOMERS=20000 ERPSYNC_BENCH_ITEMS=200000 cargo bench --bench ar_kpis`.
//! PostgreSQL instead of SQLite: `ERPSYNC_BENCH_STORE=postgres://…` (an empty database).

use chrono::{Days, NaiveDate, Utc};
use erpsync::ar::ArSettings;
use erpsync::collections::kpis::{kpis, GroupBy, KpiQuery};
use erpsync::model::open_item::AppliedTerms;
use erpsync::model::{CompanyCodeData, CustomerId, OpenItem, OpenItemKey};
use erpsync::store;
use rust_decimal::Decimal;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU time of the process so far.
fn cpu() -> Duration {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Runs `f`, printing wall and CPU time.
async fn timed<T, F: std::future::Future<Output = T>>(what: &str, f: F) -> (T, Duration) {
    let (w, c) = (Instant::now(), cpu());
    let out = f.await;
    let (wall, cpu_time) = (w.elapsed(), cpu() - c);
    println!(
        "{what:<40} wall {:>7.3} s   cpu {:>7.3} s",
        wall.as_secs_f64(),
        cpu_time.as_secs_f64()
    );
    (out, wall)
}

#[tokio::main]
async fn main() {
    let customers = env_usize("ERPSYNC_BENCH_CUSTOMERS", 100_000);
    let items = env_usize("ERPSYNC_BENCH_ITEMS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("ERPSYNC_BENCH_STORE")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("ar.db").display()));
    let store = store::open(&url).await.expect("store opens");
    store.migrate().await.expect("migrations run");
    let now = Utc::now();
    let as_of: NaiveDate = "2026-12-31".parse().unwrap();

    let load = Instant::now();
    let clerks = ["01", "02", "03", "AR"];
    let mut ccs = Vec::with_capacity(customers * 2);
    for c in 0..customers {
        for cc in ["1010", "1710"] {
            ccs.push(CompanyCodeData {
                customer: CustomerId::parse(&format!("{}", 1_000_000 + c)).unwrap(),
                company_code: cc.into(),
                payment_terms: Some("NT30".into()),
                reconciliation_account: None,
                accounting_clerk: Some(clerks[c % 4].into()),
                dunning_procedure: None,
                deletion_flag: false,
                posting_block: false,
            });
        }
    }
    for chunk in ccs.chunks(20_000) {
        store.upsert_company_codes(chunk, now).await.unwrap();
    }
    // A cheap deterministic stream: the same data every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut batch = Vec::with_capacity(20_000);
    // Items posted after the as-of date are not open on it: the KPIs must leave them out.
    let mut open_on_as_of = 0usize;
    for n in 0..items {
        let r = next();
        let cc = if r % 3 == 0 { "1710" } else { "1010" };
        let due = as_of
            .checked_sub_days(Days::new(r % 760))
            .unwrap()
            .checked_add_days(Days::new(60))
            .unwrap();
        if due.checked_sub_days(Days::new(30)).unwrap() <= as_of {
            open_on_as_of += 1;
        }
        let cents = (r >> 20) % 5_000_000 + 100;
        let amount = if r % 7 == 0 {
            -Decimal::new(cents as i64 / 5, 2)
        } else {
            Decimal::new(cents as i64, 2)
        };
        batch.push(OpenItem {
            key: OpenItemKey {
                company_code: cc.into(),
                fiscal_year: "2026".into(),
                document: format!("{}", 1_800_000_000u64 + n as u64),
                item: "1".into(),
            },
            customer: CustomerId::parse(&format!("{}", 1_000_000 + (n % customers))).unwrap(),
            document_date: due,
            posting_date: due.checked_sub_days(Days::new(30)).unwrap(),
            baseline_date: due,
            payment_terms: Some("NT30".into()),
            applied: AppliedTerms::default(),
            net_due_date: Some(due),
            amount,
            currency: if cc == "1710" {
                "USD".into()
            } else {
                "EUR".into()
            },
            dunning_level: None,
            dunning_block: None,
            dispute_case: None,
        });
        if batch.len() == 20_000 {
            store.upsert_open_items(&batch, now).await.unwrap();
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.upsert_open_items(&batch, now).await.unwrap();
    }
    println!(
        "{} store, {customers} customers, {items} open items loaded in {:.1} s",
        store.backend(),
        load.elapsed().as_secs_f64()
    );

    let settings = ArSettings::default();
    let q = KpiQuery {
        by: GroupBy::CompanyCode,
        company_code: None,
        collector: None,
        as_of,
    };
    // First run warms the page cache, as a service that pulled the items just did.
    let (rows, _) = timed(
        "kpis by company code (first)",
        kpis(store.as_ref(), &settings, &q),
    )
    .await;
    let rows = rows.unwrap();
    let (again, wall) = timed("kpis by company code", kpis(store.as_ref(), &settings, &q)).await;
    again.unwrap();
    let by_collector = KpiQuery {
        by: GroupBy::Collector,
        ..q.clone()
    };
    timed(
        "kpis by collector",
        kpis(store.as_ref(), &settings, &by_collector),
    )
    .await
    .0
    .unwrap();
    let by_customer = KpiQuery {
        by: GroupBy::Customer,
        ..q.clone()
    };
    let (cust_rows, _) = timed(
        "kpis by customer",
        kpis(store.as_ref(), &settings, &by_customer),
    )
    .await;
    timed(
        "snapshot",
        erpsync::collections::snapshot::take(store.as_ref(), as_of, now),
    )
    .await
    .0
    .unwrap();
    let wq = erpsync::collections::worklist::WorklistQuery {
        collector: Some("01".into()),
        company_code: None,
        limit: 50,
        as_of,
    };
    timed(
        "worklist of one collector (25k customers)",
        erpsync::collections::worklist::worklist(store.as_ref(), &settings, &wq),
    )
    .await
    .0
    .unwrap();
    let counted: u64 = rows.iter().map(|r| r.items).sum();
    assert_eq!(
        counted as usize, open_on_as_of,
        "every item open on the as-of date counted once"
    );
    println!(
        "{} groups, {} customer rows; target < 2 s for kpis: {}",
        rows.len(),
        cust_rows.map(|r| r.len()).unwrap_or(0),
        if wall < Duration::from_secs(2) {
            "met"
        } else {
            "NOT met"
        }
    );
}
