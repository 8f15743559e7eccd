//! The review desk's JSON API over real HTTP, against a store filled by a real sync and
//! reconciliation from the mock ERP: credentials and roles on every endpoint, the queue's
//! filters and paging, each action with its audit entry, stale versions, the two-person
//! waiver, exports, notes and dispute statuses, and the session (login, CSRF, rate limit).

mod common;
#[path = "desk_api/notes.rs"]
mod notes;
#[path = "desk_api/queue_store.rs"]
mod queue_store;
#[path = "desk_api/sign_in.rs"]
mod sign_in;

use common::config::{token, user};
use common::TestEnv;
use erpsync::model::DiscrepancyStatus;
use erpsync::service::desk::{self, auth, DeskState};
use erpsync::store::{OutboxStatus, SharedStore};
use erpsync::sync::{self, reconcile_run, SyncContext};
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// Desk users: name, role, password.
const USERS: [(&str, &str, &str); 6] = [
    ("vera", "viewer", "vera-pw"),
    ("carl", "collector", "carl-pw"),
    ("mia", "mdm", "mia-pw"),
    ("max", "mdm", "max-pw"),
    ("april", "approver", "april-pw"),
    ("root", "admin", "root-pw"),
];
/// API tokens: name, role, secret.
const TOKENS: [(&str, &str, &str); 6] = [
    ("t-viewer", "viewer", "tok-viewer-0123456789"),
    ("t-collector", "collector", "tok-collector-0123456789"),
    ("t-mdm", "mdm", "tok-mdm-0123456789"),
    ("t-mdm2", "mdm", "tok-mdm2-0123456789"),
    ("t-approver", "approver", "tok-approver-0123456789"),
    ("t-erp", "erp", "tok-erp-0123456789"),
];

struct Desk {
    env: TestEnv,
    store: SharedStore,
    base: String,
    http: Client,
}

impl Desk {
    async fn start() -> Desk {
        let env = TestEnv::start(40, 400).await;
        let mut config = env
            .toml(&env.mock.base_url(), 1)
            .set("server.sso_header", "X-Remote-User")
            .set(
                "server.sso_trusted_proxies",
                toml::Value::Array(vec!["127.0.0.1".into()]),
            )
            // Signs on only through the proxy.
            .push("server.users", user("sam", "collector", ""))
            // The waivers below run to 2099; the default limit (365 days) is tested in desk_ux.
            .set("desk.waiver_max_days", 36500);
        for (name, role, password) in USERS {
            let hash = auth::hash_password(password).unwrap();
            config = config.push("server.users", user(name, role, &hash));
        }
        for (name, role, secret) in TOKENS {
            std::fs::write(env.dir.path().join(name), format!("{secret}\n")).unwrap();
            config = config.push("server.tokens", token(name, role, "token_file", name));
        }
        config.write(&env.config_path);

        let store = env.store().await;
        let ctx = SyncContext::new(env.config(), store.clone()).unwrap();
        sync::run(&ctx, &[]).await.expect("sync succeeds");
        let now = chrono::Utc::now();
        reconcile_run::run(store.as_ref(), now.date_naive(), now)
            .await
            .unwrap();

        let state = Arc::new(DeskState::from_config(&env.config(), store.clone()).unwrap());
        let addr = common::serve(desk::router(state)).await;
        Desk {
            env,
            store,
            base: format!("http://{addr}"),
            http: Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(secret(t));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(secret(t));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The open flag with the largest exposure whose status is `status`.
    async fn first(&self, status: &str) -> Value {
        let (code, page) = self
            .get(
                Some("t-viewer"),
                &format!("/api/v1/discrepancies?status={status}&limit=1"),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        page["items"][0].clone()
    }
}

fn secret(token_name: &str) -> &'static str {
    TOKENS
        .iter()
        .find(|t| t.0 == token_name)
        .map(|t| t.2)
        .expect("known token")
}

#[tokio::test]
async fn every_endpoint_wants_credentials_and_the_right_role() {
    let d = Desk::start().await;
    let id = d.first("open").await["id"].as_i64().expect("an open flag");
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();

    let reads = [
        "/api/v1/me".to_string(),
        "/api/v1/discrepancies".to_string(),
        format!("/api/v1/discrepancies/{id}"),
        "/api/v1/discrepancies.xlsx".to_string(),
        "/api/v1/discrepancies.csv".to_string(),
        "/api/v1/disputes/DC1/status".to_string(),
    ];
    for path in &reads {
        let resp = d.http.get(d.url(path)).send().await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "GET {path} without credentials"
        );
        assert!(resp.headers().contains_key("www-authenticate"));
        let resp = d
            .http
            .get(d.url(path))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "GET {path} with a wrong token"
        );
        // A token for IDoc uploads is no desk credential.
        let (code, _) = d.get(Some("t-erp"), path).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "GET {path} as erp");
        let resp = d
            .http
            .get(d.url(path))
            .bearer_auth(secret("t-viewer"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "GET {path} as viewer");
    }

    let writes: Vec<(String, Value, &[&str])> = vec![
        (
            format!("/api/v1/discrepancies/{id}/acknowledge"),
            json!({}),
            &["t-mdm"],
        ),
        (
            format!("/api/v1/discrepancies/{id}/resolve"),
            json!({"note": "fixed"}),
            &["t-mdm"],
        ),
        (
            format!("/api/v1/discrepancies/{id}/waive"),
            json!({"note": "ok", "until": "2099-12-31"}),
            &["t-mdm"],
        ),
        (
            format!("/api/v1/discrepancies/{id}/approve"),
            json!({}),
            &["t-approver"],
        ),
        (
            format!("/api/v1/discrepancies/{id}/reopen"),
            json!({}),
            &["t-mdm"],
        ),
        (
            "/api/v1/notes".to_string(),
            json!({"customer": customer, "text": "called"}),
            &["t-collector", "t-mdm"],
        ),
        (
            "/api/v1/disputes/DC1/status".to_string(),
            json!({"status": "INPR"}),
            &["t-collector", "t-mdm"],
        ),
    ];
    for (path, body, allowed) in &writes {
        let (code, _) = d.post(None, path, body.clone()).await;
        assert_eq!(
            code,
            StatusCode::UNAUTHORIZED,
            "POST {path} without credentials"
        );
        for (token, _, _) in TOKENS {
            if allowed.contains(&token) || token == "t-mdm2" {
                continue;
            }
            let (code, answer) = d.post(Some(token), path, body.clone()).await;
            assert_eq!(
                code,
                StatusCode::FORBIDDEN,
                "POST {path} as {token}: {answer}"
            );
        }
    }
    let unchanged = d
        .get(Some("t-viewer"), &format!("/api/v1/discrepancies/{id}"))
        .await
        .1;
    assert_eq!(
        unchanged["flag"]["status"], "open",
        "refused requests change nothing"
    );
    assert_eq!(unchanged["audit"].as_array().unwrap().len(), 1);

    let (code, me) = d.get(Some("t-collector"), "/api/v1/me").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(me["role"], "collector");
    assert_eq!(me["may"], json!(["read", "notes"]));

    // The description needs no credentials and names every endpoint.
    let (code, doc) = d.get(None, "/api/v1/openapi.json").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/discrepancies",
        "/api/v1/discrepancies/{id}",
        "/api/v1/discrepancies/{id}/{action}",
        "/api/v1/notes",
        "/api/v1/disputes/{case}/status",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lists {path}");
    }
}

#[tokio::test]
async fn the_queue_filters_pages_by_exposure_and_counts_per_status() {
    let d = Desk::start().await;
    let (code, all) = d
        .get(Some("t-viewer"), "/api/v1/discrepancies?limit=500")
        .await;
    assert_eq!(code, StatusCode::OK);
    let total = all["total"].as_u64().unwrap();
    assert!(total >= 5, "the mock data raises flags: {total}");
    let counted: u64 = all["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counted, total);
    assert_eq!(all["counts"]["open"].as_u64().unwrap(), total, "all new");

    // Pages of 3 add up to the whole list, in exposure order, without repeats.
    let mut paged = Vec::new();
    let mut after = String::new();
    loop {
        let (code, page) = d
            .get(
                Some("t-viewer"),
                &format!("/api/v1/discrepancies?limit=3&after={after}"),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(page["total"].as_u64(), Some(total));
        paged.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = next.to_string(),
            None => break,
        }
    }
    assert_eq!(paged.len() as u64, total);
    let ids: Vec<i64> = paged.iter().map(|f| f["id"].as_i64().unwrap()).collect();
    let all_ids: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, all_ids);
    let amounts: Vec<Decimal> = paged
        .iter()
        .map(|f| f["exposure"]["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "largest exposure first: {amounts:?}"
    );

    // Each filter returns exactly the flags that match it.
    let sample = &paged[0];
    let rule = sample["rule"].as_str().unwrap();
    let severity = sample["severity"].as_str().unwrap();
    let customer = sample["customer"].as_str().unwrap();
    for (query, check) in [
        (
            format!("rule={rule}"),
            Box::new(|f: &Value| f["rule"] == rule) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            format!("severity={severity}"),
            Box::new(|f: &Value| f["severity"] == severity),
        ),
        (
            format!("customer={customer}"),
            Box::new(|f: &Value| f["customer"] == customer),
        ),
        (
            format!("q={}", customer.trim_start_matches('0')),
            Box::new(|f: &Value| f["customer"] == customer),
        ),
    ] {
        let (code, page) = d
            .get(
                Some("t-viewer"),
                &format!("/api/v1/discrepancies?limit=500&{query}"),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{query}");
        let items = page["items"].as_array().unwrap();
        let expected = paged.iter().filter(|f| check(f)).count();
        assert!(expected > 0);
        assert_eq!(items.len(), expected, "{query}");
        assert!(items.iter().all(&check), "{query}");
    }
    // Search by part of the name, case-insensitive.
    let name = sample["customer_name"]
        .as_str()
        .expect("customer name shown")
        .to_string();
    let part: String = name
        .chars()
        .skip(1)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let (_, page) = d
        .get(
            Some("t-viewer"),
            &format!("/api/v1/discrepancies?limit=500&q={}", urlencode(&part)),
        )
        .await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == sample["id"]),
        "name search {part:?}"
    );
    // Company code: flags scoped to it.
    if let Some(cc_flag) = paged
        .iter()
        .find(|f| f["scope"].as_str().unwrap().starts_with("CC "))
    {
        let cc = &cc_flag["scope"].as_str().unwrap()[3..];
        let (_, page) = d
            .get(
                Some("t-viewer"),
                &format!("/api/v1/discrepancies?limit=500&company_code={cc}"),
            )
            .await;
        let items = page["items"].as_array().unwrap();
        assert!(items.iter().any(|f| f["id"] == cc_flag["id"]));
        assert!(items.iter().all(|f| {
            let s = f["scope"].as_str().unwrap();
            s == format!("CC {cc}") || s.starts_with(&format!("SA {cc}/"))
        }));
    }

    // An acknowledged flag leaves the open tab and shows under its assignee.
    let id = sample["id"].as_i64().unwrap();
    let (code, _) = d
        .post(
            Some("t-mdm"),
            &format!("/api/v1/discrepancies/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (_, page) = d
        .get(
            Some("t-viewer"),
            "/api/v1/discrepancies?status=acknowledged",
        )
        .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["counts"]["acknowledged"], 1);
    assert_eq!(page["counts"]["open"].as_u64(), Some(total - 1));
    let (_, page) = d
        .get(Some("t-viewer"), "/api/v1/discrepancies?assignee=t-mdm")
        .await;
    assert_eq!(page["items"][0]["id"].as_i64(), Some(id));

    // A terms flag shows each affected item's due date under the contract and the shift.
    let terms_flag = paged
        .iter()
        .find(|f| f["rule"] == "payment_terms_company_code" && f["exposure"]["days"] != 0)
        .expect("the mock data has a company-code terms flag with a shift");
    let (_, detail) = d
        .get(
            Some("t-viewer"),
            &format!("/api/v1/discrepancies/{}", terms_flag["id"]),
        )
        .await;
    let items = detail["affected_items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["contract_due"].is_string()));
    let shifts: Vec<i64> = items
        .iter()
        .filter_map(|i| i["shift_days"].as_i64())
        .collect();
    assert!(
        shifts.contains(&terms_flag["exposure"]["days"].as_i64().unwrap()),
        "{shifts:?} vs {}",
        terms_flag["exposure"]["days"]
    );

    for bad in ["status=nope", "rule=nope", "severity=nope", "after=garbage"] {
        let (code, body) = d
            .get(Some("t-viewer"), &format!("/api/v1/discrepancies?{bad}"))
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["error"].is_string());
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn actions_are_audited_two_people_waive_and_stale_pages_conflict() {
    let d = Desk::start().await;
    let flag = d.first("open").await;
    let id = flag["id"].as_i64().unwrap();
    let path = |a: &str| format!("/api/v1/discrepancies/{id}/{a}");
    let v0 = flag["version"].as_str().unwrap().to_string();

    // Acknowledge on behalf of someone else.
    let (code, acked) = d
        .post(
            Some("t-mdm"),
            &path("acknowledge"),
            json!({"version": v0, "assignee": "max"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["assignee"], "max");
    let v1 = acked["version"].as_str().unwrap().to_string();
    assert_ne!(v0, v1);

    // A page still showing v0 cannot overwrite the newer decision.
    let (code, stale) = d
        .post(
            Some("t-mdm2"),
            &path("resolve"),
            json!({"version": v0, "note": "done"}),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{stale}");
    assert_eq!(stale["current_version"], v1.as_str());
    assert_eq!(stale["current_status"], "acknowledged");
    let (code, _) = d
        .post(
            Some("t-mdm"),
            &path("acknowledge"),
            json!({"assignee": "nobody-known"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "assignees are desk users");

    // Resolve needs a note; waive needs a reason and an expiry.
    let (code, _) = d
        .post(Some("t-mdm"), &path("resolve"), json!({"version": v1}))
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = d
        .post(
            Some("t-mdm"),
            &path("waive"),
            json!({"version": v1, "note": "accepted"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = d
        .post(
            Some("t-mdm"),
            &path("waive"),
            json!({"version": v1, "until": "2099-12-31"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let (code, waived) = d
        .post(
            Some("t-mdm"),
            &path("waive"),
            json!({"version": v1, "note": "agreed with sales: 合同例外", "until": "2099-12-31"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{waived}");
    assert_eq!(waived["status"], "waived");
    assert_eq!(waived["waiver_by"], "t-mdm");
    assert_eq!(waived["awaiting_approval"], true);
    assert_eq!(waived["waived_until"], "2099-12-31");

    // The proposer cannot approve it, even with a role that may approve.
    let (code, _) = d.post(Some("t-mdm"), &path("approve"), json!({})).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "mdm may not approve");
    let own = d.store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!(own.waiver_approved_by, None);
    let (code, approved) = d
        .post(
            Some("t-approver"),
            &path("approve"),
            json!({"version": waived["version"], "note": "fine"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{approved}");
    assert_eq!(approved["waiver_approved_by"], "t-approver");
    assert_eq!(approved["awaiting_approval"], false);
    let (code, again) = d
        .post(Some("t-approver"), &path("approve"), json!({}))
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "approved once: {again}");

    let (code, reopened) = d
        .post(
            Some("t-mdm2"),
            &path("reopen"),
            json!({"note": "customer disagrees"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(reopened["status"], "open");
    let (code, resolved) = d
        .post(
            Some("t-mdm2"),
            &path("resolve"),
            json!({"note": "master corrected in SAP"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(resolved["status"], "resolved");
    let (code, refused) = d
        .post(Some("t-mdm2"), &path("acknowledge"), json!({}))
        .await;
    assert_eq!(
        code,
        StatusCode::CONFLICT,
        "resolved cannot be acknowledged: {refused}"
    );
    let (code, _) = d.post(Some("t-mdm"), &path("explode"), json!({})).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = d
        .post(
            Some("t-mdm"),
            "/api/v1/discrepancies/999999/resolve",
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // The detail shows the whole history, in order, with who and why.
    let (code, detail) = d
        .get(Some("t-viewer"), &format!("/api/v1/discrepancies/{id}"))
        .await;
    assert_eq!(code, StatusCode::OK);
    let audit: Vec<(String, String, String)> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap().to_string(),
                a["to"].as_str().unwrap().to_string(),
                a["note"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("erpsync", "open", ""),
        ("t-mdm", "acknowledged", ""),
        ("t-mdm", "acknowledged", "assigned to max"),
        ("t-mdm", "waived", "agreed with sales: 合同例外"),
        ("t-approver", "waived", "waiver approved: fine"),
        ("t-mdm2", "open", "customer disagrees"),
        ("t-mdm2", "resolved", "master corrected in SAP"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(audit, expected);
    assert_eq!(detail["flag"]["status"], "resolved");
    assert!(detail["customer"].is_object() || detail["flag"]["rule"] == "customer_missing");
    assert!(detail["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("reopen")));
    assert!(detail["other_flags"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["id"] != id));
    assert!(detail["affected_items"].is_array());
}

#[tokio::test]
async fn exports_hold_the_filtered_queue() {
    use calamine::Reader;
    let d = Desk::start().await;
    let flag = d.first("open").await;
    let rule = flag["rule"].as_str().unwrap();
    let (_, page) = d
        .get(
            Some("t-viewer"),
            &format!("/api/v1/discrepancies?rule={rule}&limit=500"),
        )
        .await;
    let expected = page["total"].as_u64().unwrap() as usize;

    let resp = d
        .http
        .get(d.url(&format!("/api/v1/discrepancies.csv?rule={rule}")))
        .bearer_auth(secret("t-viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|r| &r[3] == rule));

    let resp = d
        .http
        .get(d.url(&format!("/api/v1/discrepancies.xlsx?rule={rule}")))
        .bearer_auth(secret("t-viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let mut data_rows = 0;
    for name in book.sheet_names().to_vec() {
        let range = book.worksheet_range(&name).unwrap();
        data_rows += range.rows().count().saturating_sub(1);
    }
    assert_eq!(
        data_rows, expected,
        "one row per flag across the status sheets"
    );
}

/// Logs in through the form; returns the session cookie and the page's CSRF token.
async fn login(d: &Desk, user: &str, password: &str) -> Result<(String, String), StatusCode> {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = common::desk::submit_login(&http, &d.url(""), user, password).await;
    if resp.status() != StatusCode::SEE_OTHER {
        return Err(resp.status());
    }
    let session = common::desk::session_cookie_line(&resp).expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let cookie = session.split(';').next().unwrap().to_string();
    let me: Value = http
        .get(d.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Ok((cookie, me["csrf_token"].as_str().unwrap().to_string()))
}
