//! The inbox through the CLI, sync and POST /idoc, and on PostgreSQL.

use super::*;

// ------------------------------------------------------------------ commands

/// `[erp] kind = "idoc"` with a SQLite store.
fn idoc_config() -> ErpsyncToml {
    ErpsyncToml::sqlite("erpsync.db")
        .set("erp.kind", "idoc")
        .set("erp.base_url", "http://127.0.0.1:9/")
        .set("erp.mapping", "mapping.toml")
}

#[test]
fn idoc_import_command_reports_per_file_and_fails_on_quarantine() {
    let dir = tempfile::tempdir().unwrap();
    let config = idoc_config().write_in(dir.path());
    let good = dir.path().join("good.xml");
    std::fs::write(&good, file("DEBMAS07", &[debmas(&Debmas::default())])).unwrap();
    let (code, out, err) = common::cli::run(&config, &["idoc", "import", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("applied 1, duplicates 0, superseded 0, quarantined 0"),
        "{out}"
    );
    assert!(dir.path().join("processed/good.xml").is_file());

    let again = dir.path().join("again.xml");
    std::fs::write(&again, file("DEBMAS07", &[debmas(&Debmas::default())])).unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        file(
            "INVOIC02",
            &[invoic(&Invoic {
                date: "2026-10-15",
                ..Invoic::default()
            })],
        ),
    )
    .unwrap();
    let (code, out, err) = common::cli::run(
        &config,
        &[
            "idoc",
            "import",
            again.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("applied 0, duplicates 1"), "{out}");
    assert!(out.contains("quarantined 1"), "{out}");
    assert!(err.contains("bad.xml"), "{err}");
    assert!(dir
        .path()
        .join("quarantine/bad.xml.1.xml.error.txt")
        .is_file());
}

// Multi-threaded: the command runs as a child process while the mock ERP serves it here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_picks_up_the_inbox() {
    let env = common::TestEnv::start(3, 3).await;
    let inbox = env.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    env.toml(&env.mock.base_url(), 1)
        .set("idoc.inbox", "inbox")
        .write(&env.config_path);
    std::fs::write(
        inbox.join("idoc.xml"),
        file(
            "DEBMAS07",
            &[debmas(&Debmas {
                customer: "IDOC-1",
                ..Debmas::default()
            })],
        ),
    )
    .unwrap();
    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("idocs_applied 1"), "{out}");
    assert!(inbox.join("processed/idoc.xml").is_file());
    let store = env.store().await;
    assert!(store
        .customer(&CustomerId::parse("IDOC-1").unwrap())
        .await
        .unwrap()
        .is_some());
}

// ------------------------------------------------------------------ HTTP endpoint

#[tokio::test]
async fn the_http_endpoint_takes_idoc_xml_from_authorized_tokens_only() {
    use erpsync::service::idoc_endpoint::{self, IdocEndpointState};
    let t = Inbox::new().await;
    std::fs::write(t.dir.path().join("erp-token"), "s3cret-erp\n").unwrap();
    let config_text = idoc_config()
        .set("store.url", "sqlite://x.db")
        .set("erp.mapping", "m.toml")
        .set("idoc.inbox", "inbox")
        .push(
            "server.tokens",
            token("sap-pi", "erp", "token_file", "erp-token"),
        )
        .push(
            "server.tokens",
            token("ops", "admin", "token_env", "OPS_TOKEN"),
        )
        .push(
            "server.tokens",
            token("bi", "viewer", "token_env", "BI_TOKEN"),
        )
        .render();
    let config = erpsync::config::Config::from_str_with_env(
        &config_text,
        &t.dir.path().join("erpsync.toml"),
        t.dir.path(),
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    let env = |k: &str| match k {
        "OPS_TOKEN" => Some("ops-token".to_string()),
        "BI_TOKEN" => Some("bi-token".to_string()),
        _ => None,
    };
    let tokens = idoc_endpoint::resolve_tokens(&config, &env).unwrap();
    let state = IdocEndpointState::new(
        t.store.clone(),
        Translator::builtin(),
        config.idoc.as_ref().unwrap().inbox.clone(),
        tokens,
    );
    let addr = common::serve(idoc_endpoint::router(state)).await;
    let url = format!("http://{addr}/idoc");
    let http = reqwest::Client::new();
    let body = file(
        "DEBMAS07",
        &[debmas(&Debmas::default()), invoic(&Invoic::default())],
    );

    let r = http.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = http
        .post(&url)
        .bearer_auth("wrong")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(&url)
        .bearer_auth("bi-token")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(&url)
        .basic_auth("sap-pi", Some("wrong"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        t.store
            .idoc_record("0000000000100001")
            .await
            .unwrap()
            .is_none(),
        "nothing applied without authorization"
    );

    // SAP's HTTP port: Basic auth with the token's name and value.
    let r = http
        .post(&url)
        .basic_auth("sap-pi", Some("s3cret-erp"))
        .header("content-type", "application/xml")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ack = r.text().await.unwrap();
    assert_eq!(ack.matches("<STATUS>53</STATUS>").count(), 2, "{ack}");
    assert!(ack.contains("<DOCNUM>0000000000100001</DOCNUM>"));
    assert_eq!(t.company_terms("4711").await.as_deref(), Some("NT30"));

    // An admin's bearer token; the same IDocs again are duplicates; a bad one is a 51.
    let bad = file(
        "INVOIC02",
        &[
            debmas(&Debmas::default()),
            invoic(&Invoic {
                docnum: "0000000000200777",
                total: "abc",
                ..Invoic::default()
            }),
        ],
    );
    let r = http
        .post(&url)
        .bearer_auth("ops-token")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ack = r.text().await.unwrap();
    assert!(ack.contains("already applied"), "{ack}");
    assert!(
        ack.contains("<STATUS>51</STATUS>") && ack.contains("<SEGFLD>SUMME</SEGFLD>"),
        "{ack}"
    );
    let processed: Vec<String> = std::fs::read_dir(t.inbox().join("processed"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        processed.iter().filter(|n| n.ends_with(".ack.xml")).count(),
        2,
        "{processed:?}"
    );
    let quarantined = std::fs::read_dir(t.inbox().join("quarantine"))
        .unwrap()
        .count();
    assert_eq!(quarantined, 2, "the rejected IDoc and its error text");

    // Broken XML: 400, the upload is quarantined whole.
    let r = http
        .post(&url)
        .bearer_auth("ops-token")
        .body("<DEBMAS07><IDOC>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

// ------------------------------------------------------------------ PostgreSQL

/// The bookkeeping and data writes on PostgreSQL (when `ERPSYNC_TEST_POSTGRES_URL` names a
/// server; required on CI), in a fresh schema of its own.
#[tokio::test]
async fn idempotency_and_supersession_on_postgres() {
    let test = "idempotency_and_supersession_on_postgres";
    postgres::with_store(test, "erpsync_idoc", |shared| async move {
        let dir = tempfile::tempdir().unwrap();
        let t = Inbox {
            importer: IdocImporter::new(shared.clone(), Translator::builtin()),
            store: shared,
            dir,
        };
        std::fs::create_dir_all(t.inbox()).unwrap();
        let newer = Debmas {
            docnum: "0000000000100009",
            credat: "20261103",
            cc_terms: "NT45",
            ..Debmas::default()
        };
        let text = file("DEBMAS07", &[debmas(&newer), invoic(&Invoic::default())]);
        let r = t.import("a.xml", &text).await;
        assert_eq!(r.applied, 2, "{r:?}");
        let r = t.import("a.xml", &text).await;
        assert_eq!(r.duplicates, 2, "{r:?}");
        let r = t
            .import("old.xml", &file("DEBMAS07", &[debmas(&Debmas::default())]))
            .await;
        assert_eq!(r.superseded, 1, "{r:?}");
        assert_eq!(t.company_terms("4711").await.as_deref(), Some("NT45"));
        let items = t
            .store
            .list_open_items(&OpenItemFilter::default())
            .await
            .unwrap();
        assert_eq!(items[0].amount, dec("1190.00"));
        assert_eq!(items[0].applied.discount1_percent, Some(dec("2.000")));
        let contacts = t
            .store
            .customer_contacts(&CustomerId::parse("4711").unwrap())
            .await
            .unwrap();
        assert_eq!(contacts.len(), 1);
    })
    .await;
}
