//! Nothing from outside stops the agent: a panicking job run, a bad or hostile file in the
//! IDoc inbox and an oversized or broken `POST /idoc` upload each end as a reported
//! failure, and the work goes on.

mod common;

use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::erp::idoc::Translator;
use erpsync::model::CustomerId;
use erpsync::service::jobs::{self, Job, JobContext};
use erpsync::service::scheduler::{job_loop, jobs_for, Shared};
use erpsync::store::{self, SharedStore};
use erpsync::sync::idoc_inbox::IdocImporter;
use erpsync::sync::SyncContext;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const T052: &str = "\
ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3,TEXT1
NT30,00,B,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Net 30
";

const REGISTER: &str = "\
contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,billing_country,valid_from,valid_to
K-1,0000004711,1010,,,,NT30,,EUR,,,,,,2026-01-01,2030-12-31
";

/// An IDoc-only agent (no ERP to reach) whose reconciliation runs every 200 ms.
fn agent_toml() -> ErpsyncToml {
    ErpsyncToml::sqlite("erpsync.db")
        .set("erp.kind", "idoc")
        .set("idoc.inbox", "inbox")
        .file_contracts("contracts.csv")
        .set("payment_terms.file", "t052.csv")
        .section(
            "schedule",
            &[
                ("reconcile", "200ms"),
                ("jitter", "0s"),
                ("max_backoff", "400ms"),
                ("lease", "5s"),
            ],
        )
        .set("server.listen", "127.0.0.1:0")
}

/// A config folder with [`agent_toml`] and its files; the config and an open, migrated store.
async fn agent(dir: &Path) -> (Config, SharedStore) {
    std::fs::write(dir.join("t052.csv"), T052).unwrap();
    std::fs::write(dir.join("contracts.csv"), REGISTER).unwrap();
    std::fs::create_dir_all(dir.join("inbox")).unwrap();
    let config = agent_toml().load_in(dir);
    let store = store::open(&config.store.url).await.unwrap();
    store.migrate().await.unwrap();
    (config, store)
}

// ---------------------------------------------------------------- item 13: a panicking run

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_run_is_a_failure_and_the_job_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let (config, store) = agent(dir.path()).await;
    let sync = config.sync_settings();
    let service = config.service_settings();
    let spec = jobs_for(&service.schedule, &sync)
        .into_iter()
        .find(|s| s.job == Job::Reconcile)
        .unwrap();
    let ctx = JobContext {
        sync: SyncContext::new(sync, store.clone()).unwrap(),
        service,
        instance: "instance-a".into(),
    };
    let shared = Arc::new(Shared::new(ctx, &[spec]));
    jobs::panic_in_next_run(Job::Reconcile);
    let stop = CancellationToken::new();
    let looping = tokio::spawn(job_loop(
        spec,
        shared.clone(),
        stop.clone(),
        CancellationToken::new(),
    ));

    // What `/status` shows of this instance: the panic as a failed run, then a good one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut failure_seen = false;
    let status = loop {
        let status = shared.job_status().pop().expect("the reconcile job");
        if status.failures == 1 && !status.running && status.last_success_at.is_none() {
            let error = status.last_error.clone().unwrap_or_default();
            assert!(error.contains("panicked"), "{error}");
            assert!(error.contains("panic injected into reconcile"), "{error}");
            assert_eq!(status.consecutive_failures, 1);
            failure_seen = true;
        }
        if status.last_success_at.is_some() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the job was not run again after its panic: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.failures >= 1 && status.runs >= 2, "{status:?}");
    assert!(failure_seen || status.failures == 1, "{status:?}");
    assert_eq!(status.consecutive_failures, 0);
    assert!(!status.running);

    // The loop is alive (it stops when asked) and holds no lease afterwards.
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), looping)
        .await
        .expect("the job loop stops")
        .expect("the job loop did not panic");
    let now = chrono::Utc::now();
    assert!(store
        .lease_acquire(
            "reconcile",
            "instance-b",
            now,
            now + chrono::Duration::seconds(5)
        )
        .await
        .unwrap());
    // The store's run history has the panic too (what other instances' `/status` shows).
    let runs = store.job_runs().await.unwrap();
    let run = runs.iter().find(|r| r.name == "reconcile").unwrap();
    assert!(run.last_success_at.is_some(), "{run:?}");
}

// ---------------------------------------------------------------- items 16 and 11: the inbox

/// A DEBMAS07 file with one customer.
fn debmas(docnum: &str, customer: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DEBMAS07><IDOC BEGIN=\"1\">\
         <EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT><DOCNUM>{docnum}</DOCNUM>\
         <DIRECT>2</DIRECT><IDOCTYP>DEBMAS07</IDOCTYP><MESTYP>DEBMAS</MESTYP>\
         <SNDPOR>SAPECC</SNDPOR><SNDPRT>LS</SNDPRT><SNDPRN>ECCCLNT100</SNDPRN>\
         <CREDAT>20261101</CREDAT><CRETIM>100000</CRETIM></EDI_DC40>\
         <E1KNA1M SEGMENT=\"1\"><MSGFN>009</MSGFN><KUNNR>{customer}</KUNNR><NAME1>Acme GmbH</NAME1>\
         <LAND1>DE</LAND1><E1KNB1M SEGMENT=\"1\"><MSGFN>009</MSGFN><BUKRS>1010</BUKRS>\
         <ZTERM>NT30</ZTERM></E1KNB1M></E1KNA1M></IDOC></DEBMAS07>\n"
    )
}

async fn has_customer(store: &SharedStore, id: &str) -> bool {
    store
        .customer(&CustomerId::parse(id).unwrap())
        .await
        .unwrap()
        .is_some()
}

async fn importer(dir: &Path) -> (IdocImporter, SharedStore, std::path::PathBuf) {
    let (_config, store) = agent(dir).await;
    let importer = IdocImporter::new(store.clone(), Translator::builtin());
    (importer, store, dir.join("inbox"))
}

#[tokio::test]
async fn a_file_that_cannot_be_imported_is_quarantined_and_the_rest_of_the_inbox_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (importer, store, inbox) = importer(dir.path()).await;
    std::fs::write(
        inbox.join("a.xml"),
        debmas("0000000000000001", "0000000001"),
    )
    .unwrap();
    // A name that fits the file system but leaves no room for the acknowledgement's
    // working name beside it: reading or writing around this file fails.
    let broken = format!("b{}.xml", "x".repeat(245));
    std::fs::write(
        inbox.join(&broken),
        debmas("0000000000000002", "0000000002"),
    )
    .unwrap();
    std::fs::write(
        inbox.join("c.xml"),
        debmas("0000000000000003", "0000000003"),
    )
    .unwrap();

    let reports = importer
        .import_inbox(&inbox)
        .await
        .expect("the pick-up goes on");
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(has_customer(&store, "0000000001").await);
    assert!(has_customer(&store, "0000000003").await);
    assert!(inbox.join("processed/a.xml").is_file());
    assert!(inbox.join("processed/c.xml").is_file());

    let bad = &reports[1];
    assert!(bad.file_quarantined, "{bad:?}");
    assert_eq!(
        bad.moved_to.as_deref(),
        Some(inbox.join("quarantine").join(&broken).as_path())
    );
    assert!(!inbox.join(&broken).exists());
    let reason = std::fs::read_to_string(&bad.quarantine_files[0]).unwrap();
    assert!(reason.contains("reason: cannot create"), "{reason}");
    assert!(
        bad.errors[0].contains("File name too long"),
        "{:?}",
        bad.errors
    );
}

#[tokio::test]
async fn symbolic_links_in_the_inbox_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let (importer, store, inbox) = importer(dir.path()).await;
    // A link in the inbox to an IDoc file elsewhere: refused, not read, not moved.
    let secret = outside.path().join("secret.xml");
    let secret_text = debmas("0000000000000009", "0000000009");
    std::fs::write(&secret, &secret_text).unwrap();
    std::os::unix::fs::symlink(&secret, inbox.join("link.xml")).unwrap();
    // A link planted where the acknowledgement of the next file is written first.
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::create_dir_all(inbox.join("processed")).unwrap();
    std::os::unix::fs::symlink(&victim, inbox.join("processed/.ok.xml.ack.xml.part")).unwrap();
    std::fs::write(
        inbox.join("ok.xml"),
        debmas("0000000000000004", "0000000004"),
    )
    .unwrap();

    let reports = importer.import_inbox(&inbox).await.unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(has_customer(&store, "0000000004").await);
    assert!(!has_customer(&store, "0000000009").await);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), secret_text);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // The link itself went to quarantine, with its reason.
    let link = inbox.join("quarantine/link.xml");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::symlink_metadata(inbox.join("link.xml")).is_err());
    let reason = std::fs::read_to_string(inbox.join("quarantine/link.xml.error.txt")).unwrap();
    assert!(reason.contains("symbolic link"), "{reason}");
    let ack = std::fs::read_to_string(inbox.join("processed/ok.xml.ack.xml")).unwrap();
    assert!(ack.contains("0000000000000004"), "{ack}");
}

// ---------------------------------------------------------------- item 10: POST /idoc limits

mod post_idoc {
    use super::*;
    use erpsync::service::idoc_endpoint::{self, EndpointToken, IdocEndpointState};
    use secrecy::SecretString;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMIT: u64 = 4096;

    /// The endpoint with a 4 KiB limit on a loopback port; its address and inbox.
    async fn serve(dir: &Path) -> (std::net::SocketAddr, std::path::PathBuf) {
        let (importer_store, inbox) = {
            let (_config, store) = agent(dir).await;
            (store, dir.join("inbox"))
        };
        let token = EndpointToken {
            name: "sap-pi".into(),
            role: "erp".into(),
            secret: SecretString::from("erp-token"),
        };
        let state = IdocEndpointState::new(
            importer_store,
            Translator::builtin(),
            inbox.clone(),
            vec![token],
        )
        .with_max_post_bytes(LIMIT);
        let addr = crate::common::serve(idoc_endpoint::router(state)).await;
        (addr, inbox)
    }

    /// Hidden upload files left in the inbox.
    fn parts(inbox: &Path) -> Vec<String> {
        std::fs::read_dir(inbox)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".part"))
            .collect()
    }

    /// `debmas` padded with whitespace to `size` bytes.
    fn body_of(size: usize) -> String {
        let mut body = debmas("0000000000000005", "0000000005");
        body.push_str(&" ".repeat(size.saturating_sub(body.len())));
        body
    }

    async fn post(addr: std::net::SocketAddr, body: String) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("http://{addr}/idoc"))
            .bearer_auth("erp-token")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_body_over_the_limit_gets_413_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (addr, inbox) = serve(dir.path()).await;
        // Declared too large: refused before anything is written.
        let r = post(addr, body_of(LIMIT as usize + 1)).await;
        assert_eq!(r.status(), 413);
        assert!(parts(&inbox).is_empty(), "{:?}", parts(&inbox));

        // Chunked (no length given): refused once the limit is passed.
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "POST /idoc HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer erp-token\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let chunk = "x".repeat(1024);
        for _ in 0..6 {
            request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        request.push_str("0\r\n\r\n");
        // The server may answer and close before reading everything.
        let _ = tcp.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(parts(&inbox).is_empty(), "{:?}", parts(&inbox));

        // Within the limit: imported.
        let r = post(addr, body_of(LIMIT as usize)).await;
        assert_eq!(r.status(), 200);
        assert!(parts(&inbox).is_empty());
    }

    #[tokio::test]
    async fn a_failed_import_leaves_no_upload_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (addr, inbox) = serve(dir.path()).await;
        // No processed/ folder can be made: the import fails after the upload is complete.
        std::fs::write(inbox.join("processed"), "in the way").unwrap();
        let r = post(addr, body_of(100)).await;
        assert_eq!(r.status(), 500);
        assert!(parts(&inbox).is_empty(), "{:?}", parts(&inbox));
    }
}

#[test]
fn the_post_limit_is_configured_in_mib_with_a_generous_default() {
    let dir = tempfile::tempdir().unwrap();
    let load = |config: ErpsyncToml| {
        Config::from_str_with_env(
            &config.render(),
            &dir.path().join("erpsync.toml"),
            dir.path(),
            Vec::<(String, String)>::new(),
        )
        .unwrap()
        .idoc
        .unwrap()
        .max_post_mb
    };
    assert_eq!(load(agent_toml()), 512);
    assert_eq!(load(agent_toml().set("idoc.max_post_mb", 7)), 7);
}
