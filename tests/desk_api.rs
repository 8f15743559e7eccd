//! The review desk's JSON API over real HTTP, against a store filled by a real sync and
//! reconciliation from the mock ERP: credentials and roles on every endpoint, the queue's
//! filters and paging, each action with its audit entry, stale versions, the two-person
//! waiver, exports, notes and dispute statuses, and the session (login, CSRF, rate limit).

mod common;

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

#[tokio::test]
async fn collectors_queue_notes_and_dispute_statuses() {
    let d = Desk::start().await;
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, body) = d
        .post(
            Some("t-collector"),
            "/api/v1/notes",
            json!({"customer": customer, "text": "客户答应月底付款 / promised by month end", "channel": "chat"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["note"]["author"], "t-collector");
    let outbox = d
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert!(outbox
        .iter()
        .any(|e| e.id == body["outbox_id"].as_i64().unwrap()
            && e.payload.to_string().contains("客户答应月底付款")));
    for bad in [
        json!({"customer": customer, "text": "  "}),
        json!({"customer": customer, "text": "x", "channel": "pigeon"}),
        json!({"customer": "not a customer number at all", "text": "x"}),
    ] {
        let (code, _) = d
            .post(Some("t-collector"), "/api/v1/notes", bad.clone())
            .await;
        assert!(
            code == StatusCode::BAD_REQUEST || code == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {code}"
        );
    }

    let (code, body) = d
        .post(
            Some("t-collector"),
            "/api/v1/disputes/DC-77/status",
            json!({"status": "inpr", "note": "checking"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["change"]["status"], "INPR");
    let (code, status) = d
        .get(Some("t-viewer"), "/api/v1/disputes/DC-77/status")
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["status"], "INPR");
    let (code, _) = d
        .post(
            Some("t-collector"),
            "/api/v1/disputes/DC-77/status",
            json!({"status": "not a key!"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let _ = &d.env;
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

/// A note's collector details — channel, medium, follow-up date, promise to pay — from the
/// API and from the desk's note form are stored exactly as `erpsync notes add` stores them.
#[tokio::test]
async fn notes_from_api_and_desk_form_carry_the_collector_details_as_the_cli_does() {
    let d = Desk::start().await;
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let details = [
        ("channel", "chat"),
        ("via", "WeChat"),
        ("follow_up", "2026-12-01"),
        ("promise_amount", "1250.50"),
        ("promise_currency", "cny"),
        ("promise_date", "2026-12-05"),
    ];
    let text = "客户说下周付款 / will pay next week";

    let mut body = json!({"customer": customer, "text": text});
    for (k, v) in details {
        body[k] = json!(v);
    }
    let (code, created) = d.post(Some("t-collector"), "/api/v1/notes", body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["note"]["promise"]["currency"], "CNY");
    let from_api = created["outbox_id"].as_i64().unwrap();

    let (cookie, csrf) = login(&d, "carl", "carl-pw").await.unwrap();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("customer", customer.as_str()),
        ("text", text),
        ("back", "/flags/1"),
    ];
    form.extend(details);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url("/notes"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let (code, _, err) = d.env.cli(&[
        "notes",
        "add",
        "--customer",
        &customer,
        "--by",
        "carl",
        "--text",
        text,
        "--channel",
        "chat",
        "--via",
        "WeChat",
        "--follow-up",
        "2026-12-01",
        "--promise-amount",
        "1250.50",
        "--promise-currency",
        "cny",
        "--promise-date",
        "2026-12-05",
    ]);
    assert_eq!(code, 0, "{err}");

    let mut notes: Vec<_> = d
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.payload["text"] == text)
        .collect();
    notes.sort_by_key(|e| e.id);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes.iter().any(|e| e.id == from_api));
    // Who wrote it, when and under which key differ by nature; everything else is equal.
    let same = |e: &erpsync::store::OutboxEntry| {
        let mut p = e.payload.clone();
        for k in ["author", "created_at", "idempotency_key"] {
            p.as_object_mut().unwrap().remove(k);
        }
        p
    };
    let cli = same(&notes[2]);
    assert_eq!(cli["promise"]["amount"], "1250.50", "{cli}");
    assert_eq!(cli["follow_up"], "2026-12-01");
    assert_eq!(cli["via"], "WeChat");
    assert_eq!(cli["channel"], "chat");
    assert_eq!(same(&notes[0]), cli);
    assert_eq!(same(&notes[1]), cli);
    assert_eq!(notes[0].payload["author"], "t-collector");
    assert_eq!(notes[1].payload["author"], "carl");

    // Refused as the CLI refuses it, naming the field as sent.
    let (code, refused) = d
        .post(
            Some("t-collector"),
            "/api/v1/notes",
            json!({"customer": customer, "text": "x", "promise_amount": "10"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["error"],
        "a promise to pay needs promise_amount, promise_currency and promise_date together"
    );
}

#[tokio::test]
async fn sessions_need_their_csrf_token_and_logins_are_rate_limited() {
    let d = Desk::start().await;
    let id = d.first("open").await["id"].as_i64().unwrap();
    let (cookie, csrf) = login(&d, "mia", "mia-pw").await.expect("mia logs in");
    let path = d.url(&format!("/api/v1/discrepancies/{id}/acknowledge"));

    let without = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let wrong = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        d.store.discrepancy(id).await.unwrap().unwrap().status,
        DiscrepancyStatus::Open
    );
    let ok = d
        .http
        .post(&path)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let flag = d.store.discrepancy(id).await.unwrap().unwrap();
    assert_eq!(flag.status, DiscrepancyStatus::Acknowledged);
    assert_eq!(flag.assignee.as_deref(), Some("mia"));

    // A viewer's session reads but does not act, CSRF token or not.
    let (vcookie, vcsrf) = login(&d, "vera", "vera-pw").await.unwrap();
    let resp = d
        .http
        .post(d.url(&format!("/api/v1/discrepancies/{id}/resolve")))
        .header("cookie", &vcookie)
        .header("x-csrf-token", &vcsrf)
        .json(&json!({"note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Five wrong passwords block the name, even with the right password after them.
    for _ in 0..auth::LOGIN_ATTEMPTS {
        assert_eq!(
            login(&d, "max", "wrong").await.unwrap_err(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&d, "max", "max-pw").await.unwrap_err(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A login form without its double-submit token is refused.
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url("/login"))
        .form(&[("user", "root"), ("password", "root-pw"), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Logging out ends the session.
    let resp = d
        .http
        .post(d.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success() || resp.status().is_redirection());
    let after = d
        .http
        .get(d.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------- the queue store itself

mod queue_store {
    use super::common::postgres;
    use erpsync::model::{
        CustomerGeneral, CustomerId, DiscrepancyStatus, Exposure, Finding, Rule, Severity,
    };
    use erpsync::store::queue::QueueCursor;
    use erpsync::store::DiscrepancyFilter;
    use erpsync::store::SharedStore;
    use rust_decimal::Decimal;
    use std::time::{Duration, Instant};

    fn finding(i: usize, customers: usize) -> Finding {
        let k = i / customers;
        Finding {
            rule: Rule::ALL[k % 5],
            severity: [Severity::Low, Severity::Medium, Severity::High][i % 3],
            customer: CustomerId::parse(&format!("{:010}", 100_000 + i % customers)).unwrap(),
            scope: if k < 5 { "CC 1010" } else { "SA 2020/10/00" }
                .parse()
                .unwrap(),
            field: "payment_terms".into(),
            contract_id: Some(format!("K{i}")),
            contract_value: "NT30".into(),
            master_value: "NT60".into(),
            explanation: "due 30 days later than agreed".into(),
            // Many equal amounts: the keyset must break ties by id without losing rows.
            exposure: Exposure {
                amount: Decimal::from((i % 97) as i64 * 1000),
                currency: "EUR".into(),
                items: 1,
                days: 30,
                ..Exposure::default()
            },
        }
    }

    /// Fills `store` with `n` flags over `customers` customers (named, some in Chinese).
    async fn fill(store: &SharedStore, n: usize, customers: usize) {
        let now = chrono::Utc::now();
        let general: Vec<CustomerGeneral> = (0..customers)
            .map(|c| CustomerGeneral {
                customer: CustomerId::parse(&format!("{:010}", 100_000 + c)).unwrap(),
                name: if c % 2 == 0 {
                    format!("Müller Handel {c}")
                } else {
                    format!("上海贸易有限公司 {c}")
                },
                address: None,
                deletion_flag: false,
                posting_block: false,
                last_changed: None,
            })
            .collect();
        store.upsert_customers(&general, now).await.unwrap();
        let all: Vec<Finding> = (0..n).map(|i| finding(i, customers)).collect();
        for chunk in all.chunks(20_000) {
            store.record_findings(chunk, now).await.unwrap();
        }
    }

    /// Every page in turn; checks each took less than `limit`.
    async fn all_pages(
        store: &SharedStore,
        filter: &DiscrepancyFilter,
        size: u32,
        limit: Duration,
    ) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut after = None;
        let mut slowest = Duration::ZERO;
        loop {
            let started = Instant::now();
            let page = store.queue_page(filter, after, size).await.unwrap();
            let took = started.elapsed();
            assert!(took < limit, "a page took {took:?} (at {} rows)", ids.len());
            slowest = slowest.max(took);
            ids.extend(page.items.iter().map(|d| d.id));
            match page.next {
                Some(next) => after = Some(QueueCursor::decode(&next).unwrap()),
                None => {
                    eprintln!(
                        "{} rows in pages of {size}: slowest page {slowest:?}",
                        ids.len()
                    );
                    return ids;
                }
            }
        }
    }

    async fn check(store: SharedStore, n: usize, customers: usize) {
        fill(&store, n, customers).await;
        let everything = store
            .queue_all(&DiscrepancyFilter::default())
            .await
            .unwrap();
        assert_eq!(everything.len(), n);
        let in_order: Vec<i64> = everything.iter().map(|d| d.id).collect();
        assert!(everything
            .windows(2)
            .all(|w| w[0].finding.exposure.amount >= w[1].finding.exposure.amount));

        // Keyset paging returns the same rows in the same order, each page quickly, also
        // deep into the queue.
        let paged = all_pages(
            &store,
            &DiscrepancyFilter::default(),
            500,
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(paged, in_order);

        let filter = DiscrepancyFilter {
            severity: Some(Severity::High),
            company_code: Some("2020".into()),
            ..Default::default()
        };
        let expected: Vec<i64> = everything
            .iter()
            .filter(|d| {
                d.finding.severity == Severity::High
                    && d.finding.scope.to_string().starts_with("SA 2020/")
            })
            .map(|d| d.id)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(
            all_pages(&store, &filter, 97, Duration::from_secs(2)).await,
            expected
        );

        // Search: number with or without leading zeros, part of a name in any case or script.
        for (q, customer) in [("100007", "0000100007"), ("0000100007", "0000100007")] {
            let page = store
                .queue_page(
                    &DiscrepancyFilter {
                        search: Some(q.into()),
                        ..Default::default()
                    },
                    None,
                    500,
                )
                .await
                .unwrap();
            assert!(!page.items.is_empty());
            assert!(
                page.items
                    .iter()
                    .all(|d| d.finding.customer.as_str() == customer),
                "{q}"
            );
        }
        for q in ["贸易有限公司 3", "müller handel 2", "MÜLLER"] {
            let page = store
                .queue_page(
                    &DiscrepancyFilter {
                        search: Some(q.into()),
                        ..Default::default()
                    },
                    None,
                    50,
                )
                .await
                .unwrap();
            assert!(!page.items.is_empty(), "{q}");
            let ids: Vec<CustomerId> = page
                .items
                .iter()
                .map(|d| d.finding.customer.clone())
                .collect();
            let names = store.customer_names(&ids).await.unwrap();
            assert!(
                names
                    .values()
                    .all(|n| n.to_lowercase().contains(&q.to_lowercase())),
                "{q}: {names:?}"
            );
        }
        let page = store
            .queue_page(
                &DiscrepancyFilter {
                    search: Some("100%".into()),
                    ..Default::default()
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert!(page.items.is_empty(), "% is a character, not a wildcard");

        // Counts per status ignore the status filter; reassignment is audited.
        let first = &everything[0];
        let now = chrono::Utc::now();
        store
            .change_status(
                first.id,
                DiscrepancyStatus::Acknowledged,
                "mia",
                None,
                None,
                now,
            )
            .await
            .unwrap();
        let moved = store.reassign(first.id, "max", "mia", now).await.unwrap();
        assert_eq!(moved.assignee.as_deref(), Some("max"));
        let audit = store.audit_log(first.id).await.unwrap();
        assert_eq!(
            audit.last().unwrap().note.as_deref(),
            Some("assigned to max")
        );
        assert_eq!(audit.last().unwrap().actor, "mia");
        let counts = store
            .queue_status_counts(&DiscrepancyFilter {
                status: Some(DiscrepancyStatus::Open),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            counts,
            vec![
                (DiscrepancyStatus::Open, n as u64 - 1),
                (DiscrepancyStatus::Acknowledged, 1)
            ]
        );
        let mine = store
            .queue_page(
                &DiscrepancyFilter {
                    assignee: Some("max".into()),
                    ..Default::default()
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(
            mine.items.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![first.id]
        );
        assert!(
            store
                .reassign(everything[1].id, "max", "mia", now)
                .await
                .is_err(),
            "open flags have no assignee to change"
        );
        let names = store
            .customer_names(std::slice::from_ref(&first.finding.customer))
            .await
            .unwrap();
        assert!(names[&first.finding.customer].contains(' '));
    }

    #[tokio::test]
    async fn the_queue_pages_100k_flags_by_key_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        check(
            super::common::sqlite_store(dir.path(), "queue.db").await,
            100_000,
            10_000,
        )
        .await;
    }

    #[tokio::test]
    async fn the_queue_pages_by_key_on_postgres() {
        let test = "the_queue_pages_by_key_on_postgres";
        postgres::with_store(test, "erpsync_desk", |store| check(store, 5_000, 500)).await;
    }
}

#[tokio::test]
async fn a_trusted_proxy_signs_users_on_by_header() {
    let d = Desk::start().await;
    let me = |user: &'static str| {
        d.http
            .get(d.url("/api/v1/me"))
            .header("X-Remote-User", user)
            .send()
    };
    let resp = me("sam").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["role"], "collector");
    assert_eq!(body["csrf_token"], Value::Null, "no session yet");
    assert_eq!(
        me("mallory").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // The header alone reads; acting needs the session the first page starts.
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let note = json!({"customer": customer, "text": "via proxy"});
    let resp = d
        .http
        .post(d.url("/api/v1/notes"))
        .header("X-Remote-User", "sam")
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token without a session"
    );
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(d.url("/"))
        .header("X-Remote-User", "sam")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(auth::SESSION_COOKIE))
        .expect("the first page starts a session");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains("sam · collector"));
    let me: Value = http
        .get(d.url("/api/v1/me"))
        .header("X-Remote-User", "sam")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"]
        .as_str()
        .expect("session CSRF token")
        .to_string();
    let resp = http
        .post(d.url("/api/v1/notes"))
        .header("X-Remote-User", "sam")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    // The session belongs to the user the proxy names: another name does not inherit it.
    let other: Value = http
        .get(d.url("/api/v1/me"))
        .header("X-Remote-User", "vera")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["name"], "vera");
    assert_eq!(other["role"], "viewer");

    // A proxy-only user has no password to sign in with.
    assert_eq!(
        login(&d, "sam", "").await.unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn desk_config_errors_name_the_entry() {
    let env = TestEnv::start(2, 2).await;
    let base = env.toml(&env.mock.base_url(), 1);
    let store = env.store().await;
    for (extra, expected) in [
        (
            ("server.users", user("ana", "boss", "")),
            "server.users[0] (ana): role \"boss\"",
        ),
        (
            ("server.users", user("ana", "viewer", "plain-text")),
            "server.users[0] (ana): password_hash is not a PHC string",
        ),
        (
            (
                "server.tokens",
                token("bi", "viewer", "token_env", "ERPSYNC_DESK_TEST_UNSET_TOKEN"),
            ),
            "ERPSYNC_DESK_TEST_UNSET_TOKEN",
        ),
    ] {
        base.clone().push(extra.0, extra.1).write(&env.config_path);
        let err = DeskState::from_config(&env.config(), store.clone())
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn hash_password_reads_stdin_and_prints_an_argon2_hash() {
    use std::io::Write;
    use std::process::Stdio;
    let run = |input: &str| {
        let mut child = common::cli::erpsync()
            .args(["users", "hash-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("correct horse 马\n");
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(auth::verify_password(hash, "correct horse 马"));
    let empty = run("");
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password on stdin"));
}

#[tokio::test]
async fn pages_escape_what_users_typed() {
    let d = Desk::start().await;
    let id = d.first("open").await["id"].as_i64().unwrap();
    let (cookie, csrf) = login(&d, "mia", "mia-pw").await.unwrap();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url(&format!("/flags/{id}/acknowledge")))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("note", "<script>alert(1)</script> 已确认"),
            ("assignee", "mia"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        format!("/flags/{id}?done=acknowledge").as_str()
    );
    let page = http
        .get(d.url(&format!("/flags/{id}?done=acknowledge")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("charset=utf-8"));
    let html = page.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; 已确认"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("Acknowledged."));
    // The page posted with a version the flag no longer has: the stale form is refused.
    let stale = http
        .post(d.url(&format!("/flags/{id}/resolve")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("note", "x"), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(stale
        .text()
        .await
        .unwrap()
        .contains("Someone changed this flag"));
    assert_eq!(
        d.store.discrepancy(id).await.unwrap().unwrap().status,
        DiscrepancyStatus::Acknowledged
    );
}
