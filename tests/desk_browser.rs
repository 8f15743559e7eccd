//! The review desk in a real browser: Debian's Chromium, driven by `playwright-core`
//! (tests/browser/desk.spec.mjs), against the real `erpsync run` binary serving a store
//! that a real `erpsync sync` filled from the mock ERP.
//!
//! Needs `/usr/bin/chromium` (or `CHROMIUM`), a CJK font (`fonts-noto-cjk`), `node`, and
//! `npm ci` run in tests/browser (`.ci/run` sees to all of them). Without them the test fails on CI (`CI=true`) and, elsewhere,
//! says loudly that it did not run.
//!
//! Screenshots (queue, flag, customer page, each role's landing view, a phone) and the
//! downloaded XLSX are left in `target/desk-screenshots/`.

mod common;

use common::config::{token, user};
use common::TestEnv;
use erpsync::model::{DiscrepancyStatus, Rule};
use erpsync::service::desk::auth;
use erpsync::store::OutboxStatus;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;

/// The screenshots the browser leaves in `target/desk-screenshots/` (the README shows some).
const SCREENSHOTS: [&str; 10] = [
    "queue.png",
    "detail.png",
    "detail-approved.png",
    "refused-kept.png",
    "approver-inbox.png",
    "customer.png",
    "collector-landing.png",
    "phone-queue.png",
    "phone-flag.png",
    "phone-customer.png",
];

/// Smaller pictures of the same pages for the README (copied to docs/desk/ by hand).
const README_SHOTS: [&str; 4] = [
    "readme-queue.jpg",
    "readme-flag.jpg",
    "readme-customer.jpg",
    "readme-phone-queue.jpg",
];

/// The API token the test reads `/status` with.
const STATUS_TOKEN: &str = "ops-token-0123456789";
const MDM: (&str, &str) = ("mia", "mia-secret-1");
const APPROVER: (&str, &str) = ("april", "april-secret-2");
const VIEWER: (&str, &str) = ("vera", "vera-secret-3");
const COLLECTOR: (&str, &str) = ("cole", "cole-secret-4");

/// The running service; killed when dropped, so a failing test leaves none behind.
struct Service {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_service(config: &Path) -> Service {
    let (child, _, addr) = common::cli::start_service(
        common::cli::erpsync_with(config)
            .arg("run")
            .env("RUST_LOG", "info"),
    );
    Service { child, addr }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mdm_contact_an_approver_a_collector_and_a_viewer_work_the_desk_in_chromium() {
    if !common::browser::can_run("desk_browser") {
        return;
    }

    let env = TestEnv::start(40, 400).await;
    // `/status` wants credentials: the wait below reads it with this token.
    std::fs::write(env.dir.path().join("status-token"), STATUS_TOKEN).unwrap();
    let mut config = env
        .toml(&env.mock.base_url(), 1)
        .set("server.listen", "127.0.0.1:0")
        .push(
            "server.tokens",
            token("ops", "viewer", "token_file", "status-token"),
        );
    for ((name, password), role) in [
        (MDM, "mdm"),
        (APPROVER, "approver"),
        (VIEWER, "viewer"),
        (COLLECTOR, "collector"),
    ] {
        let hash = auth::hash_password(password).unwrap();
        config = config.push("server.users", user(name, role, &hash));
    }
    // The collector works accounting clerk 01's customers.
    config = config.set("collectors.01", COLLECTOR.0);
    // The service's own jobs stay out of the way: the store is filled by `sync` below. Only
    // the outbox runs often, so a note added in the browser reaches the mock SAP.
    let jobs = [
        "customers",
        "open_items",
        "contracts",
        "payment_terms",
        "reconcile",
    ];
    let mut schedule: Vec<(&str, &str)> = jobs.iter().map(|job| (*job, "1h")).collect();
    schedule.push(("push", "2s"));
    config
        .section("schedule", &schedule)
        .write(&env.config_path);
    let (code, _, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "erpsync sync: {err}");

    let service = start_service(&env.config_path);
    // Every job runs once at start; the browser waits for those runs to end, so a pull or
    // reconciliation never competes with the pages for the store (on a loaded machine that
    // made the test flaky).
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    loop {
        let status: serde_json::Value = http
            .get(format!("http://{}/status", service.addr))
            .bearer_auth(STATUS_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jobs = status["jobs"].as_array().cloned().unwrap_or_default();
        let settled = !jobs.is_empty()
            && jobs.iter().all(|j| {
                j["this_instance"]["runs"].as_u64().unwrap_or(0) >= 1
                    && j["this_instance"]["running"] == false
            });
        if settled {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the service's start-up jobs did not finish: {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let out = common::browser::screenshots();
    for f in SCREENSHOTS
        .iter()
        .chain(&README_SHOTS)
        .chain(&["queue.xlsx"])
    {
        let _ = std::fs::remove_file(out.join(f));
    }
    let users = serde_json::json!({
        "mdm": [MDM.0, MDM.1],
        "approver": [APPROVER.0, APPROVER.1],
        "viewer": [VIEWER.0, VIEWER.1],
        "collector": [COLLECTOR.0, COLLECTOR.1],
    });
    let result = common::browser::run_spec(
        "desk.spec.mjs",
        vec![
            ("DESK_URL", format!("http://{}", service.addr)),
            ("DESK_OUT", out.display().to_string()),
            ("DESK_USERS", users.to_string()),
        ],
    )
    .await;
    assert_eq!(result["ok"], true);

    // What the browser did is what the store holds.
    let store = env.store().await;
    let waived = store
        .discrepancy(result["waived_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(waived.status, DiscrepancyStatus::Waived);
    assert_eq!(waived.waiver_by.as_deref(), Some(MDM.0));
    assert_eq!(waived.waiver_approved_by.as_deref(), Some(APPROVER.0));
    assert_eq!(
        waived.waived_until.unwrap().to_string(),
        result["waived_until"].as_str().unwrap()
    );
    let audit = store.audit_log(waived.id).await.unwrap();
    assert!(audit.iter().any(|a| a.actor == APPROVER.0
        && a.note.as_deref() == Some("waiver approved: ok, checked the contract")));
    let untouched = store
        .discrepancy(result["untouched_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        untouched.status,
        DiscrepancyStatus::Open,
        "CSRF and role checks held"
    );
    assert_eq!(store.audit_log(untouched.id).await.unwrap().len(), 1);

    // The returned waiver: open again, with the approver's reason in its history.
    let returned = store
        .discrepancy(result["returned_id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(returned.status, DiscrepancyStatus::Open);
    assert!(returned.waiver_by.is_none());
    let audit = store.audit_log(returned.id).await.unwrap();
    assert!(audit.iter().any(|a| a.actor == APPROVER.0
        && a.note
            .as_deref()
            .is_some_and(|n| n.contains("signed amendment"))));

    // A flag of every rule the store holds was checked on its page, and the demo data
    // plants every rule.
    let mut checked: Vec<String> = result["rules_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    checked.sort();
    let mut held: Vec<String> = store
        .queue_all(&Default::default())
        .await
        .unwrap()
        .iter()
        .map(|d| d.finding.rule.as_str().to_string())
        .collect();
    held.sort();
    held.dedup();
    assert_eq!(checked, held, "one flag of each rule checked");
    let every: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
    let missing: Vec<&&str> = every
        .iter()
        .filter(|r| !held.iter().any(|h| h == *r))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a flag in the test data: {missing:?}"
    );

    // The note the browser saw as sent is sent in the outbox.
    let note_customer = result["note_customer"].as_str().unwrap();
    let customer = erpsync::model::CustomerId::parse(note_customer).unwrap();
    let notes = store.notes_with_status(&customer, 10).await.unwrap();
    assert!(notes
        .iter()
        .any(|n| n.text.contains("已确认付款") && n.status == Some(OutboxStatus::Sent)));
    assert!(
        !notes.iter().any(|n| n.text.contains("missing customer")),
        "the refused note was not stored"
    );

    // The collector's landing view holds only clerk 01's customers.
    let theirs: Vec<String> = store
        .customers_of_clerks(&["01".to_string()])
        .await
        .unwrap()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let shown = result["collector_customers"].as_array().unwrap();
    assert!(
        !shown.is_empty(),
        "the collector sees flags of their customers"
    );
    assert!(shown
        .iter()
        .all(|c| theirs.iter().any(|t| Some(t.as_str()) == c.as_str())));

    for shot in SCREENSHOTS {
        let bytes = std::fs::read(out.join(shot)).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG"), "{shot} saved");
    }
    for shot in README_SHOTS {
        let bytes = std::fs::read(out.join(shot)).unwrap_or_default();
        assert!(bytes.starts_with(b"\xff\xd8"), "{shot} saved as JPEG");
    }
    use calamine::Reader;
    let mut book = calamine::open_workbook::<calamine::Xlsx<_>, _>(out.join("queue.xlsx"))
        .expect("the downloaded export is an XLSX workbook");
    let rows: usize = book
        .sheet_names()
        .to_vec()
        .iter()
        .map(|s| {
            book.worksheet_range(s)
                .unwrap()
                .rows()
                .count()
                .saturating_sub(1)
        })
        .sum();
    let all = store.queue_all(&Default::default()).await.unwrap();
    assert_eq!(
        rows,
        all.len(),
        "the export holds the whole queue (filter: all)"
    );
    drop(service);
}
