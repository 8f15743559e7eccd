//! Logging on and transport: OAuth 2.0 client credentials against the mock's token
//! endpoint (token cached, fetched again before it expires), messages SAP attaches to
//! successful answers, and the TLS settings' errors.

mod common;

use common::config::table;
use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::erp::odata::page::{Field, Layout};
use erpsync::erp::odata::ODataClient;
use erpsync::mock_erp::MockErpHandle;
use erpsync::store;
use erpsync::sync::{self, Entity, SyncContext};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use toml::Table;

const V2: &str = include_str!("../mappings/s4hana-odata-v2.toml");

async fn mock() -> MockErpHandle {
    common::mock::sized(30, 60, 10).await
}

/// A config in `dir` against `mock` with `auth` as `[erp.auth]` and `erp_extra` in `[erp]`.
fn config(dir: &Path, mock: &MockErpHandle, auth: Table, erp_extra: &[(&str, &str)]) -> Config {
    std::fs::write(dir.join("mapping.toml"), V2).unwrap();
    std::fs::write(dir.join("secret"), &mock.config().password).unwrap();
    ErpsyncToml::sqlite("erpsync.db")
        .sap(&mock.base_url(), "10s", 0, "secret")
        .set("erp.sap_language", "EN")
        .section("erp", erp_extra)
        .set("erp.auth", auth)
        .load_in(dir)
}

/// Basic auth as the mock's user, the password in `secret`.
fn basic() -> Table {
    table([
        ("kind", "basic".into()),
        ("user", "ERPSYNC".into()),
        ("password_file", "secret".into()),
    ])
}

/// OAuth 2.0 client credentials against the mock, the client secret in `secret_file`.
fn oauth(mock: &MockErpHandle, secret_file: &str) -> Table {
    table([
        ("kind", "oauth2".into()),
        ("token_url", mock.token_url().into()),
        ("client_id", "ERPSYNC".into()),
        ("client_secret_file", secret_file.into()),
        ("scope", "API_BUSINESS_PARTNER_0001".into()),
    ])
}

#[tokio::test]
async fn oauth2_client_credentials_log_on_with_one_cached_token() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &mock, oauth(&mock, "secret"), &[]);
    let store = store::open(&cfg.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let ctx = SyncContext::new(cfg, store.clone()).unwrap();
    let report = sync::run(&ctx, &[Entity::Customers]).await.unwrap();
    assert_eq!(report.pulled.get("customers").copied(), Some(30));
    assert_eq!(mock.tokens_issued(), 1, "one token for every page");
}

#[tokio::test]
async fn a_token_is_fetched_again_before_it_expires_and_a_bad_secret_is_refused() {
    let mock = mock().await;
    // 31 s: within the refresh margin after one second.
    mock.set_token_lifetime(Duration::from_secs(31));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &mock, oauth(&mock, "secret"), &[]);
    let client = ODataClient::new(&cfg.erp).unwrap();
    let url = erpsync::erp::odata::query::with_sap_client(
        client
            .service_root("API_BUSINESS_PARTNER")
            .join("A_Customer?$format=json")
            .unwrap(),
        Some("100"),
    );
    client
        .get_page("A_Customer", &url, &customer_layout())
        .await
        .unwrap();
    client
        .get_page("A_Customer", &url, &customer_layout())
        .await
        .unwrap();
    assert_eq!(mock.tokens_issued(), 1, "cached while it is fresh");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client
        .get_page("A_Customer", &url, &customer_layout())
        .await
        .unwrap();
    assert_eq!(mock.tokens_issued(), 2, "fetched again before it expires");

    std::fs::write(dir.path().join("wrong-secret"), "wrong").unwrap();
    let cfg = config(dir.path(), &mock, oauth(&mock, "wrong-secret"), &[]);
    let client = ODataClient::new(&cfg.erp).unwrap();
    let err = client
        .get_page("A_Customer", &url, &customer_layout())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("OAuth token") && err.contains("401"), "{err}");
    assert!(!err.contains("wrong"), "the secret is never shown: {err}");
}

#[tokio::test]
async fn sap_messages_on_successful_answers_are_logged_and_reported() {
    let mock = mock().await;
    mock.set_sap_message(Some(
        r#"{"code":"/IWBEP/CM_MGW_RT/000","message":"Customer 0001000007 is blocked for posting","severity":"warning","details":[]}"#
            .into(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &mock, basic(), &[]);
    let store = store::open(&cfg.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let ctx = SyncContext::new(cfg, store).unwrap();
    let report = sync::run(&ctx, &[Entity::Customers]).await.unwrap();
    assert!(!report.erp_messages.is_empty());
    assert!(
        report.erp_messages[0]
            .contains("warning: Customer 0001000007 is blocked for posting (/IWBEP/CM_MGW_RT/000)"),
        "{:?}",
        report.erp_messages
    );
    assert!(report.erp_messages.len() <= 100, "bounded");
}

#[tokio::test]
async fn an_unreadable_ca_or_client_certificate_is_a_setup_error_naming_the_file() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
    let cfg = config(dir.path(), &mock, basic(), &[("ca_file", "missing.pem")]);
    let err = ODataClient::new(&cfg.erp)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("erp.ca_file") && err.contains("missing.pem"),
        "{err}"
    );
    let cfg = config(
        dir.path(),
        &mock,
        basic(),
        &[("client_cert_file", "ca.pem")],
    );
    let err = ODataClient::new(&cfg.erp)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("erp.client_cert_file"), "{err}");
}

/// `{"d":{"results":[{"Customer":"0000000001","CustomerName":"gzip works"}]}}`, gzipped.
const GZIPPED_PAGE: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 74, 81, 178, 170, 86, 42, 74, 45, 46, 205, 41, 41,
    86, 178, 138, 174, 86, 114, 46, 45, 46, 201, 207, 77, 45, 82, 178, 82, 50, 128, 1, 67, 37, 29,
    184, 184, 95, 98, 110, 42, 80, 46, 189, 42, 179, 64, 161, 60, 191, 40, 187, 88, 169, 54, 182,
    182, 22, 0, 94, 154, 205, 10, 73, 0, 0, 0,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_answers_the_logon_language_and_the_concurrency_limit() {
    use axum::http::{header, HeaderMap, StatusCode};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Default)]
    struct Seen {
        now: AtomicUsize,
        max: AtomicUsize,
    }
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/svc/A_Customer",
        axum::routing::get(move |headers: HeaderMap| {
            let seen = state.clone();
            async move {
                if headers.get("sap-language").and_then(|v| v.to_str().ok()) != Some("DE") {
                    return (StatusCode::BAD_REQUEST, "sap-language missing").into_response();
                }
                let asks_gzip = headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("gzip"));
                if !asks_gzip {
                    return (StatusCode::NOT_ACCEPTABLE, "gzip only").into_response();
                }
                let n = seen.now.fetch_add(1, Ordering::SeqCst) + 1;
                seen.max.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(60)).await;
                seen.now.fetch_sub(1, Ordering::SeqCst);
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    GZIPPED_PAGE,
                )
                    .into_response()
            }
        }),
    );
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let cfg = ErpsyncToml::sqlite("x.db")
        .set("erp.kind", "odata")
        .set("erp.base_url", format!("http://{addr}/"))
        .set("erp.sap_language", "DE")
        .set("erp.max_concurrent_requests", 2)
        .set("erp.max_retries", 0)
        .load_in(dir.path());
    let client = ODataClient::new(&cfg.erp).unwrap();
    let url = url::Url::parse(&format!("http://{addr}/svc/A_Customer")).unwrap();
    let layout = customer_layout();
    let reads = (0..6).map(|_| client.get_page("A_Customer", &url, &layout));
    for page in futures_util::future::join_all(reads).await {
        let page = page.expect("read");
        let first = page.entities().next().expect("an entity");
        assert_eq!(
            first.property("CustomerName"),
            Some(Field::Text("gzip works"))
        );
    }
    assert_eq!(
        seen.max.load(Ordering::SeqCst),
        2,
        "two requests in flight at once, never more"
    );
}

/// The customer properties these reads look at.
fn customer_layout() -> Arc<Layout> {
    Arc::new(Layout::of(["Customer", "CustomerName"]))
}
