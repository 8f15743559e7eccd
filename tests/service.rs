//! `erpsync run`, the real binary, against the in-process mock ERP: health, readiness,
//! metrics, status, job spans, graceful SIGTERM, SIGKILL and restart, secrets kept out of
//! logs and metrics, and two instances sharing one PostgreSQL store.

mod common;
#[path = "service/instances.rs"]
mod instances;
#[path = "service/leases.rs"]
mod leases;
#[path = "service/restarts.rs"]
mod restarts;

use chrono::Utc;
use common::cli::ServiceLog;
use common::postgres::{self, PgSchema};
use common::ErpsyncToml;
use erpsync::mock_erp::{FaultSpec, MockErpConfig, MockErpHandle};
use erpsync::model::note::{CollectorNote, NoteDetails};
use erpsync::model::{CustomerId, Note, NoteChannel};
use erpsync::store::{self, OutboxStatus, SharedStore};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The variable the test configs name for the ERP password.
const PASSWORD_VAR: &str = "ERPSYNC_TEST_SAP_PASSWORD";
/// The variable the test configs name for the API token `/status` is read with.
const STATUS_TOKEN_VAR: &str = "ERPSYNC_TEST_STATUS_TOKEN";
const STATUS_TOKEN: &str = "ops-token-0123456789";

// ---------------------------------------------------------------- harness

struct Env {
    mock: MockErpHandle,
    dir: tempfile::TempDir,
    config_path: PathBuf,
    /// The config as written, for tests that add to it.
    toml: ErpsyncToml,
    password: String,
    /// Overrides given to every instance (e.g. the PostgreSQL store URL).
    extra_env: Vec<(String, String)>,
}

/// `[schedule]` settings: (job, interval).
type Schedule<'a> = &'a [(&'a str, &'a str)];

impl Env {
    /// A mock ERP and a config for it with a SQLite store, `schedule` as `[schedule]` and
    /// `shutdown_grace` in `[server]`.
    async fn start(
        mock_config: MockErpConfig,
        schedule: Schedule<'_>,
        shutdown_grace: &str,
    ) -> Env {
        let mock = common::mock::start(mock_config.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        common::mock::write_files(dir.path(), &mock, common::MAPPING, common::PASSWORD_FILE);
        let toml = ErpsyncToml::sqlite("erpsync.db")
            .sap(&mock.base_url(), "10s", 1, common::PASSWORD_FILE)
            .unset("erp.auth.password_file")
            .set("erp.auth.user", mock_config.user.as_str())
            .set("erp.auth.password_env", PASSWORD_VAR)
            .erp_contracts()
            .file_contracts("contracts.csv")
            .set("push.max_attempts", 5)
            .section("schedule", schedule)
            .set("server.listen", "127.0.0.1:0")
            .set("server.shutdown_grace", shutdown_grace)
            .push(
                "server.tokens",
                common::config::token("ops", "viewer", "token_env", STATUS_TOKEN_VAR),
            );
        let config_path = toml.write_in(dir.path());
        Env {
            mock,
            dir,
            config_path,
            toml,
            password: mock_config.password.clone(),
            extra_env: Vec::new(),
        }
    }

    fn spawn(&self, rust_log: &str) -> Instance {
        let mut cmd = common::cli::erpsync_with(&self.config_path);
        cmd.arg("run")
            .env("RUST_LOG", rust_log)
            .env(PASSWORD_VAR, &self.password)
            .env(STATUS_TOKEN_VAR, STATUS_TOKEN);
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        Instance::start(cmd)
    }

    /// The store as the instances see it.
    async fn store(&self) -> SharedStore {
        if let Some((_, url)) = self
            .extra_env
            .iter()
            .find(|(k, _)| k == "ERPSYNC_STORE__URL")
        {
            return store::open(url).await.unwrap();
        }
        store::open(&format!(
            "sqlite://{}",
            self.dir.path().join("erpsync.db").display()
        ))
        .await
        .unwrap()
    }

    fn open_items_in_erp(&self) -> u64 {
        self.mock.dataset().open_customer_items().count() as u64
    }
}

/// A running `erpsync run` process; killed when dropped, so a failing test leaves none.
struct Instance {
    child: Child,
    log: ServiceLog,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Instance {
    fn start(mut cmd: Command) -> Instance {
        let (child, log, addr) = common::cli::start_service(&mut cmd);
        Instance {
            child,
            log,
            addr,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(STATUS_TOKEN)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    async fn status(&self) -> serde_json::Value {
        let (code, body) = self.get("/status").await;
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    fn logs(&self) -> String {
        self.log.text()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the process to end; `None` if it is still running after `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it gives `Some`, failing with `what` after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the Prometheus sample `name{labels}` (labels as written, in order).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

fn job<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("job {name} in {status}"))
}

/// A note queued the way the desk queues one: with no collector details.
fn without_details(note: &Note) -> CollectorNote {
    CollectorNote {
        note: note.clone(),
        details: NoteDetails::default(),
    }
}

fn note_for(customer: &str, text: &str) -> Note {
    common::notes::by_ana(customer, text, NoteChannel::Phone)
}

/// How many accepted writes carry each note's key.
fn writes_per_note(mock: &MockErpHandle, notes: &[Note]) -> Vec<usize> {
    let writes = mock.writes();
    notes
        .iter()
        .map(|n| {
            writes
                .iter()
                .filter(|w| w.body.to_string().contains(&n.idempotency_key))
                .count()
        })
        .collect()
}

async fn open_item_count(store: &SharedStore) -> u64 {
    store.counts().await.unwrap().open_items
}

fn small_mock() -> MockErpConfig {
    MockErpConfig {
        customers: 30,
        open_items: 200,
        ..MockErpConfig::default()
    }
}

/// Jobs run once at start and then rarely; push often.
const QUIET_SCHEDULE: Schedule = &[
    ("customers", "1h"),
    ("open_items", "1h"),
    ("contracts", "1h"),
    ("payment_terms", "1h"),
    ("reconcile", "1h"),
    ("push", "300ms"),
    ("jitter", "100ms"),
    ("lease", "3s"),
];

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_status_follow_the_work() {
    let env = Env::start(small_mock(), QUIET_SCHEDULE, "10s").await;
    let mut svc = env.spawn("info");

    let (code, body) = svc.get("/healthz").await;
    assert_eq!((code, body.trim()), (200, "ok"));

    // Ready once the store answers and a pull reached the ERP.
    let ready = eventually(Duration::from_secs(30), "/readyz 200", || async {
        let (code, body) = svc.get("/readyz").await;
        (code == 200).then_some(body)
    })
    .await;
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["checks"]["store"]["ok"], true);
    assert_eq!(ready["checks"]["migrations"]["ok"], true);

    // Every pull and a reconciliation ran; the metrics show it.
    let store = env.store().await;
    let customers = env.mock.dataset().customers.len() as f64;
    let metrics = eventually(
        Duration::from_secs(30),
        "pulls and reconcile in /metrics",
        || async {
            let (_, m) = svc.get("/metrics").await;
            let done = [
                "pull-customers",
                "pull-open-items",
                "pull-contracts",
                "pull-payment-terms",
                "reconcile",
            ]
            .iter()
            .all(|j| {
                sample(&m, &format!("erpsync_job_runs_total{{job=\"{j}\"}}")).unwrap_or(0.0) >= 1.0
            });
            // A run is counted when it starts; wait until reconciliation has also finished.
            let finished =
                m.contains("erpsync_job_last_success_timestamp_seconds{job=\"reconcile\"}");
            (done && finished).then_some(m)
        },
    )
    .await;
    assert_eq!(
        sample(
            &metrics,
            "erpsync_entities_pulled_total{job=\"pull-customers\",entity=\"customers\"}"
        ),
        Some(customers),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "erpsync_entities_pulled_total{job=\"pull-open-items\",entity=\"open_items\"}"
        ),
        Some(env.open_items_in_erp() as f64)
    );
    assert!(metrics.contains("erpsync_job_duration_seconds_bucket{job=\"pull-customers\""));
    assert!(metrics.contains("erpsync_job_last_success_timestamp_seconds{job=\"reconcile\"}"));
    assert!(
        metrics.contains("erpsync_http_client_requests_total{status=\"200\"}"),
        "{metrics}"
    );
    // Reconciliation also runs after each later pull; the planted mismatches show up once
    // it ran over everything.
    eventually(
        Duration::from_secs(30),
        "open discrepancies in /metrics",
        || async {
            let (_, m) = svc.get("/metrics").await;
            let open_flags: f64 = m
                .lines()
                .filter(|l| l.starts_with("erpsync_discrepancies_open{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum();
            (open_flags > 0.0).then_some(())
        },
    )
    .await;
    assert_eq!(
        sample(&metrics, "erpsync_outbox_entries{status=\"sent\"}"),
        Some(0.0)
    );

    // A note queued while the service runs is pushed by it, and the metrics change.
    let customer = &env.mock.dataset().customers[0].customer;
    let note = note_for(customer, "Will pay on Friday");
    store.add_note(&without_details(&note)).await.unwrap();
    eventually(Duration::from_secs(20), "the note sent", || async {
        let (_, m) = svc.get("/metrics").await;
        (sample(&m, "erpsync_outbox_entries{status=\"sent\"}") == Some(1.0)
            && sample(&m, "erpsync_outbox_pushed_total{result=\"sent\"}") == Some(1.0))
        .then_some(())
    })
    .await;
    assert_eq!(writes_per_note(&env.mock, &[note]), vec![1]);

    // The status page lists every job with its runs, and the stored cursors.
    let status = svc.status().await;
    assert_eq!(status["store"], "sqlite");
    assert!(status["cursors"].is_array());
    assert!(
        job(&status, "push")["this_instance"]["runs"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let customers_job = job(&status, "pull-customers");
    assert!(customers_job["all_instances"]["last_success_at"].is_string());
    assert_eq!(customers_job["this_instance"]["leased"], true);
    assert_eq!(status["outbox"]["sent"], 1);

    // Every job run logs inside a span with the job's name and its run id.
    let logs = svc.logs();
    assert!(
        logs.lines().any(|l| l.contains("\"job finished\"")
            && l.contains("\"run_id\"")
            && l.contains("\"job\":\"pull-customers\"")),
        "{logs}"
    );

    svc.signal("TERM");
    let exit = svc.wait_exit(Duration::from_secs(10)).expect("stops");
    assert_eq!(exit.code(), Some(0), "{}", svc.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_while_the_erp_cannot_be_reached() {
    let env = Env::start(small_mock(), QUIET_SCHEDULE, "5s").await;
    // Point the config at a port where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    env.toml
        .clone()
        .set(
            "erp.base_url",
            format!("http://{closed}/sap/opu/odata/sap/"),
        )
        .write(&env.config_path);
    let mut svc = env.spawn("info");
    assert_eq!(svc.get("/healthz").await.0, 200);
    // The pulls fail; readiness says why.
    eventually(Duration::from_secs(20), "a failed pull", || async {
        let (_, m) = svc.get("/metrics").await;
        (sample(&m, "erpsync_job_failures_total{job=\"pull-customers\"}").unwrap_or(0.0) >= 1.0)
            .then_some(())
    })
    .await;
    let (code, body) = svc.get("/readyz").await;
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["checks"]["store"]["ok"], true);
    assert_eq!(v["checks"]["erp"]["ok"], false);
    assert!(v["checks"]["erp"]["detail"]
        .as_str()
        .unwrap()
        .contains("no successful ERP contact"));
    // The other jobs go on: reconciliation does not need the ERP.
    let status = svc.status().await;
    assert!(job(&status, "pull-customers")["this_instance"]["last_error"].is_string());
    svc.signal("INT");
    assert_eq!(
        svc.wait_exit(Duration::from_secs(5)).expect("stops").code(),
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erp_password_never_appears_in_logs_metrics_or_status() {
    let password = format!("Pw-{}-zq", uuid::Uuid::new_v4().simple());
    let mock = MockErpConfig {
        password: password.clone(),
        ..small_mock()
    };
    let env = Env::start(mock, QUIET_SCHEDULE, "5s").await;
    // Debug logging: the most a support case would turn on.
    let mut svc = env.spawn("debug");
    eventually(Duration::from_secs(30), "ready", || async {
        (svc.get("/readyz").await.0 == 200).then_some(())
    })
    .await;
    let store = env.store().await;
    store
        .add_note(&without_details(&note_for(
            &env.mock.dataset().customers[1].customer,
            "call back",
        )))
        .await
        .unwrap();
    eventually(Duration::from_secs(20), "the note sent", || async {
        let pending = store.outbox_list(Some(OutboxStatus::Pending)).await.ok()?;
        pending.is_empty().then_some(())
    })
    .await;
    let (_, metrics) = svc.get("/metrics").await;
    let (_, status) = svc.get("/status").await;
    let (_, ready) = svc.get("/readyz").await;
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(5)).expect("stops");
    let logs = svc.logs();
    assert!(
        logs.contains("job finished"),
        "the logs were captured: {logs}"
    );
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ERPSYNC:{password}"));
    for (what, text) in [
        ("logs", &logs),
        ("metrics", &metrics),
        ("status", &status),
        ("readyz", &ready),
    ] {
        assert!(!text.contains(&password), "the password is in the {what}");
        assert!(
            !text.contains(&basic),
            "the basic-auth header is in the {what}"
        );
    }
}

#[test]
fn the_example_config_is_complete_and_valid() {
    let text = include_str!("../examples/erpsync.toml");
    let config = erpsync::config::Config::from_str_with_env(
        text,
        std::path::Path::new("/etc/erpsync/erpsync.toml"),
        std::path::Path::new("/etc/erpsync"),
        [("SAP_PASSWORD".to_string(), "x".to_string())],
    )
    .expect("examples/erpsync.toml loads");
    assert_eq!(config.server.shutdown_grace, Duration::from_secs(30));
    // systemd must wait longer than the grace period before it sends SIGKILL.
    let unit = include_str!("../packaging/erpsync.service");
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.trim().trim_end_matches('s').parse().ok())
        .expect("TimeoutStopSec in seconds");
    assert!(stop > config.server.shutdown_grace.as_secs());
}

// ---------------------------------------------------------------- IDoc inbox and endpoint

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idoc_inbox_is_scheduled_and_post_idoc_is_served() {
    let schedule = [QUIET_SCHEDULE, &[("idoc_inbox", "300ms")]].concat();
    let env = Env::start(small_mock(), &schedule, "5s").await;
    // An inbox in the config (relative: beside the config file).
    env.toml
        .clone()
        .set("idoc.inbox", "inbox")
        .write(&env.config_path);
    let inbox = env.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut svc = env.spawn("info");
    let debmas = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DEBMAS07><IDOC BEGIN=\"1\">\
        <EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT>\
        <DOCNUM>0000000000900001</DOCNUM><DIRECT>2</DIRECT><IDOCTYP>DEBMAS07</IDOCTYP>\
        <MESTYP>DEBMAS</MESTYP><SNDPOR>SAPS4H</SNDPOR><SNDPRT>LS</SNDPRT>\
        <SNDPRN>S4HCLNT100</SNDPRN><CREDAT>20261101</CREDAT><CRETIM>100000</CRETIM></EDI_DC40>\
        <E1KNA1M SEGMENT=\"1\"><MSGFN>009</MSGFN><KUNNR>0009900001</KUNNR>\
        <NAME1>Inbox Test GmbH</NAME1><LAND1>DE</LAND1>\
        <E1KNB1M SEGMENT=\"1\"><MSGFN>009</MSGFN><BUKRS>1010</BUKRS><ZTERM>NT30</ZTERM></E1KNB1M>\
        </E1KNA1M></IDOC></DEBMAS07>\n";
    std::fs::write(inbox.join("O_100_0000000000900001.xml"), debmas).unwrap();
    let store = env.store().await;
    eventually(
        Duration::from_secs(20),
        "the IDoc file processed",
        || async {
            let done = inbox.join("processed/O_100_0000000000900001.xml").is_file();
            let customer = store
                .customer(&CustomerId::parse("0009900001").unwrap())
                .await
                .ok()
                .flatten();
            (done && customer.is_some()).then_some(())
        },
    )
    .await;
    // The file moves inside the run; the run is counted when it ends, a moment later.
    eventually(
        Duration::from_secs(10),
        "the inbox run counted in /status",
        || async {
            let status = svc.status().await;
            (job(&status, "idoc-inbox")["this_instance"]["runs"].as_u64() >= Some(1)).then_some(())
        },
    )
    .await;
    // The endpoint is mounted: without credentials it answers 401, not 404.
    let resp = svc
        .http
        .post(svc.url("/idoc"))
        .body(debmas)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    svc.signal("TERM");
    assert_eq!(
        svc.wait_exit(Duration::from_secs(5)).expect("stops").code(),
        Some(0)
    );
}

// ---------------------------------------------------------------- read-back

/// The scheduled read-back notices a note the ERP lost, queues it again, and the push job
/// writes it once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_reads_back_what_it_sent_and_resends_what_the_erp_lost() {
    let schedule = [QUIET_SCHEDULE, &[("verify_outbox", "500ms")]].concat();
    let env = Env::start(small_mock(), &schedule, "5s").await;
    let store = env.store().await;
    store.migrate().await.unwrap();
    let customer = env.mock.dataset().customers[3].customer.clone();
    let note = note_for(&customer, "Promised to pay on Friday");
    store.add_note(&without_details(&note)).await.unwrap();
    let marker = note.marker();
    let mut svc = env.spawn("info");
    eventually(Duration::from_secs(20), "the note in the ERP", || async {
        env.mock
            .customer_texts(&customer)
            .contains(&marker)
            .then_some(())
    })
    .await;
    // Someone in SAP deletes the customer's texts.
    env.mock.erase_customer_texts(&customer);
    eventually(
        Duration::from_secs(20),
        "the note written again",
        || async {
            (env.mock.customer_texts(&customer).matches(&marker).count() == 1).then_some(())
        },
    )
    .await;
    assert_eq!(
        writes_per_note(&env.mock, std::slice::from_ref(&note)),
        vec![2]
    );
    let status = svc.status().await;
    assert!(
        job(&status, "verify-outbox")["this_instance"]["runs"]
            .as_u64()
            .unwrap()
            >= 1
    );
    svc.signal("TERM");
    assert_eq!(
        svc.wait_exit(Duration::from_secs(5)).expect("stops").code(),
        Some(0)
    );
}

/// `/status` names cursors, job errors, host and pid: it wants a session or a token. The
/// probes and metrics stay anonymous, and `metrics_listen` serves them on an address of
/// their own (without `/status` or the desk).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wants_credentials_and_metrics_may_listen_apart() {
    let env = Env::start(small_mock(), QUIET_SCHEDULE, "5s").await;
    // A free port, taken after the mock ERP took its own.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_addr = free.local_addr().unwrap();
    drop(free);
    let config = std::fs::read_to_string(&env.config_path).unwrap().replace(
        "listen = \"127.0.0.1:0\"\n",
        &format!("listen = \"127.0.0.1:0\"\nmetrics_listen = \"{metrics_addr}\"\n"),
    );
    std::fs::write(&env.config_path, config).unwrap();
    let mut svc = env.spawn("info");
    let anonymous = reqwest::Client::new();
    let get = |url: String| {
        let http = anonymous.clone();
        async move {
            let resp = http.get(url).send().await.unwrap();
            let code = resp.status().as_u16();
            (code, resp.text().await.unwrap())
        }
    };
    let (code, body) = get(svc.url("/status")).await;
    assert_eq!(code, 401, "{body}");
    assert!(!body.contains(&svc.addr.port().to_string()) && body.contains("error"));
    let (code, _) = svc.get("/status").await;
    assert_eq!(code, 200, "with the token");
    for path in ["/healthz", "/metrics"] {
        assert_eq!(get(svc.url(path)).await.0, 200, "{path}");
        let (code, _) = get(format!("http://{metrics_addr}{path}")).await;
        assert_eq!(code, 200, "{path} on metrics_listen");
    }
    for path in ["/status", "/api/v1/me", "/login"] {
        let (code, _) = get(format!("http://{metrics_addr}{path}")).await;
        assert_eq!(code, 404, "{path} is not on metrics_listen");
    }
    svc.signal("TERM");
    svc.wait_exit(Duration::from_secs(10)).expect("stops");
}
