//! The service safe to expose: who may send what from where, what the browser is told, and
//! what leaves the service in exports and error bodies. Every test runs a real server on a
//! loopback port and talks to it over HTTP.

mod common;

use common::TestEnv;
use erpsync::model::{CustomerId, Exposure, Finding, Rule, Severity};
use erpsync::service::desk::{self, auth, DeskState};
use erpsync::store::SharedStore;
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

/// Desk users: name, role, password.
const USERS: [(&str, &str, &str); 2] = [("vera", "viewer", "vera-pw"), ("mia", "mdm", "mia-pw")];
const VIEWER_TOKEN: &str = "tok-viewer-0123456789";

struct Web {
    env: TestEnv,
    store: SharedStore,
    base: String,
}

impl Web {
    /// The desk on a loopback port, with `server` as extra `[server]` lines.
    async fn start(server: &str) -> Web {
        let env = TestEnv::start(2, 2).await;
        let store = env.store().await;
        Web::serve(env, store, server).await
    }

    async fn serve(env: TestEnv, store: SharedStore, server: &str) -> Web {
        let mut config = std::fs::read_to_string(&env.config_path).unwrap();
        if !config.contains("[server]") {
            config += &format!("[server]\n{server}\n");
            for (name, role, password) in USERS {
                let hash = auth::hash_password(password).unwrap();
                config += &format!(
                    "[[server.users]]\nname = \"{name}\"\nrole = \"{role}\"\npassword_hash = \"{hash}\"\n"
                );
            }
            std::fs::write(env.dir.path().join("t-viewer"), VIEWER_TOKEN).unwrap();
            config += "[[server.tokens]]\nname = \"t-viewer\"\nrole = \"viewer\"\ntoken_file = \"t-viewer\"\n";
            std::fs::write(&env.config_path, config).unwrap();
        }
        store.migrate().await.unwrap();
        let state = Arc::new(DeskState::from_config(&env.config(), store.clone()).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = desk::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Web {
            env,
            store,
            base: format!("http://{addr}"),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn finding(master_value: &str, amount: &str) -> Finding {
    Finding {
        rule: Rule::ALL[0],
        severity: Severity::High,
        customer: CustomerId::parse("0000100001").unwrap(),
        scope: "CC 1010".parse().unwrap(),
        field: "street".into(),
        contract_id: Some("K1".into()),
        contract_value: "+49 30 1234".into(),
        master_value: master_value.into(),
        explanation: "@differs".into(),
        exposure: Exposure {
            amount: Decimal::from_str(amount).unwrap(),
            currency: "EUR".into(),
            items: 1,
            days: 3,
            ..Exposure::default()
        },
    }
}

// ---------------------------------------------------------------- 3: CSV formula injection

#[tokio::test]
async fn csv_exports_neutralise_formulas_and_keep_numbers() {
    let web = Web::start("").await;
    let formula = "=HYPERLINK(\"http://evil.example/\",\"click\")";
    web.store
        .record_findings(&[finding(formula, "-120.50")], chrono::Utc::now())
        .await
        .unwrap();
    let resp = Client::new()
        .get(web.url("/api/v1/discrepancies.csv"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(cell("master value"), format!("'{formula}"));
    assert_eq!(cell("contract value"), "'+49 30 1234");
    assert_eq!(cell("difference"), "'@differs");
    assert_eq!(
        cell("exposure"),
        "-120.50",
        "a negative amount stays a number"
    );
    assert_eq!(cell("items"), "1");

    // The command line writes the same file.
    let out = web.env.dir.path().join("flags.csv");
    let (code, _, err) = web
        .env
        .cli(&["discrepancies", "export", "--csv", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains(&format!("'{}", "=HYPERLINK(")),
        "{written}"
    );
}
