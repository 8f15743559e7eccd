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
use std::str::FromStr;
use std::sync::Arc;
use toml::Value;

/// Desk users: name, role, password.
const USERS: [(&str, &str, &str); 2] = [("vera", "viewer", "vera-pw"), ("mia", "mdm", "mia-pw")];
const VIEWER_TOKEN: &str = "tok-viewer-0123456789";

struct Web {
    env: TestEnv,
    store: SharedStore,
    base: String,
}

impl Web {
    /// The desk on a loopback port, with `server` as extra `[server]` settings.
    async fn start(server: &[(&str, Value)]) -> Web {
        let env = TestEnv::start(2, 2).await;
        let store = env.store().await;
        Web::serve(env, store, server).await
    }

    async fn serve(env: TestEnv, store: SharedStore, server: &[(&str, Value)]) -> Web {
        std::fs::write(env.dir.path().join("t-viewer"), VIEWER_TOKEN).unwrap();
        USERS
            .iter()
            .fold(
                env.toml(&env.mock.base_url(), 1),
                |c, (name, role, password)| {
                    let hash = auth::hash_password(password).unwrap();
                    c.push("server.users", common::config::user(name, role, &hash))
                },
            )
            .push(
                "server.tokens",
                common::config::token("t-viewer", "viewer", "token_file", "t-viewer"),
            )
            .section("server", server)
            .write(&env.config_path);
        store.migrate().await.unwrap();
        let base = instance(&env, store.clone()).await;
        Web { env, store, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// One more desk process (as far as state goes) on `store`; its base URL.
async fn instance(env: &TestEnv, store: SharedStore) -> String {
    let state = Arc::new(DeskState::from_config(&env.config(), store).unwrap());
    let addr = common::serve(desk::router(state)).await;
    format!("http://{addr}")
}

/// Signs in through the form from `http`'s address: the status, and the session cookie
/// (`name=value`) with the `Set-Cookie` line it came in.
async fn login(
    http: &Client,
    base: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Option<(String, String)>) {
    let resp = common::desk::submit_login(http, base, user, password).await;
    let session = common::desk::session_cookie_line(&resp)
        .map(|line| (line.split(';').next().unwrap().to_string(), line));
    (resp.status(), session)
}

async fn me(base: &str, headers: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
    let mut req = Client::new().get(format!("{base}/api/v1/me"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
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
    let web = Web::start(&[]).await;
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

// ---------------------------------------------------------------- 1: SSO trust

#[tokio::test]
async fn the_sso_header_counts_only_from_trusted_proxies() {
    let sso = |trusted: &str| {
        [
            ("sso_header", Value::from("X-Remote-User")),
            ("sso_trusted_proxies", Value::Array(vec![trusted.into()])),
        ]
    };
    // The tests connect from 127.0.0.1: trusted as an address, and inside a block.
    for trusted in ["127.0.0.1", "127.0.0.0/8"] {
        let web = Web::start(&sso(trusted)).await;
        let (code, body) = me(&web.base, &[("X-Remote-User", "mia")]).await;
        assert_eq!(code, StatusCode::OK, "{trusted}");
        assert_eq!(body["role"], "mdm", "the role configured for the name");
        let (code, _) = me(&web.base, &[("X-Remote-User", "mallory")]).await;
        assert_eq!(
            code,
            StatusCode::UNAUTHORIZED,
            "an unlisted name gets nothing"
        );
    }
    // From any other peer the header is ignored: no admin by header.
    let web = Web::start(&sso("10.1.2.3")).await;
    let (code, _) = me(&web.base, &[("X-Remote-User", "mia")]).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let page = no_redirects()
        .get(web.url("/"))
        .header("X-Remote-User", "mia")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "to the login form");
    assert!(
        page.headers().get("set-cookie").is_none(),
        "no session started"
    );
}

// ---------------------------------------------------------------- 2: login rate limit

#[tokio::test]
async fn a_burst_of_wrong_logins_cannot_pass_the_address_limit() {
    let web = Web::start(&[]).await;
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let base = web.base.clone();
            tokio::spawn(async move { login(&no_redirects(), &base, "mia", "wrong").await.0 })
        })
        .collect();
    let mut checked = 0;
    for task in burst {
        match task.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (1..=auth::LOGIN_ATTEMPTS).contains(&checked),
        "{checked} passwords were checked"
    );
    // Attempts refused as busy were given back; one after another, the rest are used up,
    // and never more than the limit in all.
    for _ in 0..auth::LOGIN_ATTEMPTS {
        match login(&no_redirects(), &web.base, "mia", "wrong").await.0 {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(checked, auth::LOGIN_ATTEMPTS);
    // This address is done for now, even with the right password…
    let (code, _) = login(&no_redirects(), &web.base, "mia", "mia-pw").await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    // …but the user is not locked out: from another address the right password works.
    let elsewhere = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let (code, session) = login(&elsewhere, &web.base, "mia", "mia-pw").await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert!(session.is_some());
}

// ---------------------------------------------------------------- 7: browser hardening

#[tokio::test]
async fn responses_carry_the_hardening_headers_and_logins_fixed_messages() {
    let web = Web::start(&[]).await;
    let page = Client::new().get(web.url("/login")).send().await.unwrap();
    let h = page.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline code"
    );
    for path in ["/api/v1/discrepancies", "/api/v1/discrepancies.csv"] {
        let resp = Client::new()
            .get(web.url(path))
            .bearer_auth(VIEWER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    }
    // The query picks a message; its own text is never shown.
    let text = |q: &'static str| {
        let url = web.url(&format!("/login?error={q}"));
        async move {
            Client::new()
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let forged = text("Your%20account%20is%20locked%2C%20call%20%2B1-555").await;
    assert!(
        !forged.contains("call") && !forged.contains("id=\"error\""),
        "{forged}"
    );
    assert!(text("expired").await.contains("Your session ended"));
    // On loopback the cookies are not Secure (no TLS there)…
    let (_, session) = login(&no_redirects(), &web.base, "vera", "vera-pw").await;
    assert!(!session.unwrap().1.contains("Secure"));
}

#[tokio::test]
async fn cookies_are_secure_unless_listening_on_loopback() {
    let web = Web::start(&[("listen", "0.0.0.0:8088".into())]).await;
    let form = Client::new().get(web.url("/login")).send().await.unwrap();
    assert!(form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    let (code, session) = login(&no_redirects(), &web.base, "vera", "vera-pw").await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert!(session.unwrap().1.contains("; Secure"));
}

// ---------------------------------------------------------------- 7 + 8: stored sessions

#[tokio::test]
async fn a_session_is_shared_by_instances_on_a_sqlite_store_and_ends_when_idle() {
    let web = Web::start(&[]).await;
    let (_, session) = login(&no_redirects(), &web.base, "vera", "vera-pw").await;
    let (cookie, _) = session.unwrap();
    // A second instance (or this one after a restart) on the same store file.
    let other = instance(&web.env, web.env.store().await).await;
    let (code, body) = me(&other, &[("cookie", &cookie)]).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["name"], "vera");
    // Only the token's hash is stored.
    let token = cookie.split_once('=').unwrap().1;
    let hash = desk::sessions::token_hash(token);
    let now = chrono::Utc::now();
    let idle = now - chrono::Duration::minutes(1);
    let stored = web.store.session_get(&hash, now, idle).await.unwrap();
    assert!(stored.is_some());
    assert!(web
        .store
        .session_get(token, now, idle)
        .await
        .unwrap()
        .is_none());
    // Idle for longer than session_idle_minutes (default 30): signed out.
    web.store
        .session_touch(&hash, now - chrono::Duration::minutes(31))
        .await
        .unwrap();
    let (code, _) = me(&other, &[("cookie", &cookie)]).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_is_shared_by_instances_on_postgres() {
    let Some(schema) = common::postgres::PgSchema::create(
        "a_session_is_shared_by_instances_on_postgres",
        "erpsync_web",
    )
    .await
    else {
        return;
    };
    let open = || async {
        let s: SharedStore = Arc::new(schema.store().await);
        s
    };
    let env = TestEnv::start(2, 2).await;
    let web = Web::serve(env, open().await, &[]).await;
    let other = instance(&web.env, open().await).await;
    let (_, session) = login(&no_redirects(), &web.base, "mia", "mia-pw").await;
    let (cookie, _) = session.unwrap();
    let (code, body) = me(&other, &[("cookie", &cookie)]).await;
    schema.drop().await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["role"], "mdm");
}

// ---------------------------------------------------------------- 9: API order and shape

#[tokio::test]
async fn the_role_is_checked_before_the_body_and_every_error_is_json() {
    let web = Web::start(&[]).await;
    web.store
        .record_findings(&[finding("x", "1")], chrono::Utc::now())
        .await
        .unwrap();
    let http = Client::new();
    let post = |path: &str, body: String| {
        http.post(web.url(path))
            .bearer_auth(VIEWER_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for (path, body) in [
        ("/api/v1/discrepancies/1/acknowledge", "{not json"),
        ("/api/v1/discrepancies/1/resolve", "{\"unknown\": 1}"),
        ("/api/v1/notes", "[]"),
        ("/api/v1/disputes/C1/status", ""),
    ] {
        let resp = post(path, body.to_string()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    // Not even a body over the limit is read for someone without the role: 403, not 413.
    let big = "x".repeat(3 * 1024 * 1024);
    for path in ["/api/v1/discrepancies/1/acknowledge", "/api/v1/notes"] {
        let resp = post(path, big.clone()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Someone with the role gets the limit, as JSON.
    let (code, session) = login(&no_redirects(), &web.base, "mia", "mia-pw").await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let (cookie, _) = session.expect("a session cookie");
    let (_, me_body) = me(&web.base, &[("cookie", cookie.as_str())]).await;
    let csrf = me_body["csrf_token"]
        .as_str()
        .expect("the session's CSRF token");
    let resp = http
        .post(web.url("/api/v1/discrepancies/1/acknowledge"))
        .header("cookie", cookie.as_str())
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = resp.json().await.expect("a JSON body");
    assert!(v["error"].is_string(), "{v}");

    // axum's own rejections come back as JSON too.
    let resp = http
        .get(web.url("/api/v1/discrepancies/not-a-number"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = resp.json().await.expect("a JSON body");
    assert!(v["error"].is_string(), "{v}");

    // A store failure: a generic message with a request id, the details only in the log.
    use sqlx::Connection;
    let db = web.env.dir.path().join("erpsync.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("ALTER TABLE discrepancies RENAME TO discrepancies_gone")
        .execute(&mut conn)
        .await
        .unwrap();
    let resp = http
        .get(web.url("/api/v1/discrepancies/1"))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: serde_json::Value = resp.json().await.unwrap();
    let message = v["error"].as_str().unwrap();
    assert!(message.contains("request id"), "{message}");
    assert!(
        !message.contains("discrepancies") && !message.contains("sqlite"),
        "{message}"
    );
}

// ---------------------------------------------------------------- 10: page forms, who first

#[tokio::test]
async fn a_form_post_without_a_session_goes_to_the_login_before_its_body_is_read() {
    let web = Web::start(&[]).await;
    let http = no_redirects();
    // Bodies the forms could not read (no CSRF field, not a form at all): were the body read
    // first, each would be refused as a bad form (422) instead of sent to the login.
    for (path, body) in [
        ("/notes", "%%%not-a-form"),
        ("/flags/1/acknowledge", "note=no+csrf+field"),
        ("/ar/customers/0000100001/call", ""),
        ("/logout", "x"),
    ] {
        let resp = http
            .post(web.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(resp.headers()["location"], "/login", "{path}");
    }
    // A signed-in user whose form lacks the session's token is refused after the form is read.
    let (code, session) = login(&http, &web.base, "mia", "mia-pw").await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    let (cookie, _) = session.expect("a session cookie");
    let resp = http
        .post(web.url("/notes"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", "wrong"),
            ("customer", "0000100001"),
            ("text", "hi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("CSRF"));
}

#[tokio::test]
async fn the_sign_in_form_is_read_only_with_its_cookie_and_only_so_far() {
    let web = Web::start(&[]).await;
    let http = no_redirects();
    let post = |cookie: Option<&str>, body: String| {
        let mut req = http
            .post(web.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    // Without the form's cookie the body is not read: the form has expired (403), even when
    // what was sent is no form at all.
    let resp = post(None, "%%%".into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let (pair, token) = common::desk::open_login_form(&http, &web.base).await;
    let fields = format!("user=mia&password=mia-pw&csrf={token}");
    // Right fields, padded past 16 KiB: not read (400), not signed in.
    let padded = format!("{fields}&pad={}", "x".repeat(20 * 1024));
    let resp = post(Some(&pair), padded).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(common::desk::session_cookie_line(&resp).is_none());
    // The same fields alone sign in.
    let resp = post(Some(&pair), fields).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(common::desk::session_cookie_line(&resp).is_some());
}
