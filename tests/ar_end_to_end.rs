//! The collections workbench end to end against the mock's planted AR scenario
//! (`MockErpConfig::ar_scenario`): the figures worked out by hand from the plants, and the
//! command line (JSON and XLSX), the API (JSON and XLSX) and the desk pages showing the same;
//! calls logged on the customer page — a promise kept, one broken, a dispute status — reach
//! the ERP through the outbox exactly once.

use calamine::{Data, Reader};
use chrono::{Days, Utc};
use erpsync::ar::statement::fmt_amount;
use erpsync::mock_erp::{AR_AGING, AR_BREAKS, AR_DISPUTED, AR_DISPUTE_CASE, AR_KEEPS};
use erpsync::service::desk::{self, DeskState};
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;

mod common;

/// The mock's reference date: the plants' days past due are counted from it.
const AS_OF: &str = "2026-11-25";

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A desk on an in-process server, signed on as a collector, with an API token beside.
struct Desk {
    http: Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Desk {
    async fn api(&self, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(common::desk::VIEWER_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r
    }

    async fn json(&self, path: &str) -> Value {
        self.api(path).await.json().await.unwrap()
    }

    async fn page(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }

    /// Posts the log-a-call form of `customer`'s page; returns the redirect's target.
    async fn log_call(&self, customer: &str, fields: &[(&str, &str)]) -> String {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self
            .http
            .post(format!("{}/ar/customers/{customer}/call", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        location.unwrap()
    }
}

async fn start() -> (common::TestEnv, Desk) {
    let env = common::TestEnv::start_ar(30, 300).await;
    common::desk::ar_team(&env)
        .set("ar.promise_grace_days", 2)
        .write(&env.config_path);
    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let store = env.store().await;
    let state = Arc::new(DeskState::from_config(&env.config(), store).unwrap());
    let base = format!("http://{}", common::serve(desk::router(state)).await);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (cookie, csrf) =
        common::desk::sign_in(&http, &base, common::desk::ANA.0, common::desk::ANA.1).await;
    (
        env,
        Desk {
            http,
            base,
            cookie,
            csrf,
        },
    )
}

fn cli_json(env: &common::TestEnv, args: &[&str]) -> Value {
    let (code, out, err) = env.cli(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn row_of<'a>(rows: &'a Value, customer: &str, currency: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["customer"] == customer && r["currency"] == currency)
        .unwrap_or_else(|| panic!("{customer} {currency} in {rows:#}"))
}

/// A workbook's first sheet as header names and rows.
fn sheet(bytes: &[u8], name: &str) -> (Vec<String>, Vec<Vec<Data>>) {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    let mut rows = range.rows();
    let header = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    (header, rows.map(|r| r.to_vec()).collect())
}

fn number(cell: &Data) -> Decimal {
    let Data::Float(f) = cell else {
        panic!("not a number: {cell:?}")
    };
    Decimal::try_from(*f).unwrap().round_dp(2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planted_scenario_agrees_on_the_cli_the_api_and_the_desk() {
    let (env, desk) = start().await;

    // KPIs by customer: the plants, worked out by hand.
    let args = [
        "ar", "kpis", "--by", "customer", "--as-of", AS_OF, "--format", "json",
    ];
    let rows = cli_json(&env, &args);
    let aging = row_of(&rows, AR_AGING, "EUR");
    let expect = [
        ("not_due", "1000.00"),
        ("1_30", "1850.00"), // 2000.00 and the credit memo of −150.00
        ("31_60", "3000.00"),
        ("61_90", "4000.00"),
        ("91_180", "5000.00"),
        ("181_360", "6000.00"),
        ("over_360", "7000.00"),
    ];
    for (bucket, amount) in expect {
        assert_eq!(aging["buckets"][bucket], amount, "{bucket}: {aging:#}");
    }
    assert_eq!(aging["items"], 8);
    assert_eq!(aging["open_amount"], "27850.00");
    assert_eq!(aging["overdue_amount"], "26850.00");
    assert_eq!(aging["overdue_percent"], "96.41");
    assert_eq!(aging["ar_over_60_amount"], "22000.00");
    assert_eq!(aging["ar_over_60_percent"], "78.99");
    assert_eq!(aging["ar_over_360_amount"], "7000.00");
    assert_eq!(aging["ar_over_360_percent"], "25.13");
    assert_eq!(aging["dso"], Value::Null, "no sales history: no DSO");
    let keeps = row_of(&rows, AR_KEEPS, "CNY");
    assert_eq!(keeps["open_amount"], "47000.00");
    assert_eq!(keeps["overdue_percent"], "100.00");
    assert_eq!(row_of(&rows, AR_BREAKS, "EUR")["overdue_amount"], "7000.00");
    assert_eq!(row_of(&rows, AR_DISPUTED, "EUR")["open_amount"], "8400.00");

    // The API answers what the command line printed, for KPIs and call list alike.
    for (cli, path) in [
        (
            args.to_vec(),
            format!("/api/v1/ar/kpis?by=customer&as_of={AS_OF}"),
        ),
        (
            vec![
                "ar",
                "kpis",
                "--by",
                "collector",
                "--as-of",
                AS_OF,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/kpis?by=collector&as_of={AS_OF}"),
        ),
        (
            vec![
                "ar",
                "worklist",
                "--collector",
                "ana",
                "--as-of",
                AS_OF,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/worklist?collector=ana&as_of={AS_OF}"),
        ),
    ] {
        assert_eq!(desk.json(&path).await, cli_json(&env, &cli), "{path}");
    }

    // The desk shows the same figures: the overview per company code and currency, the
    // customer page item by item with the aging of the plants.
    let overview = desk.page(&format!("/ar?as_of={AS_OF}")).await;
    let by_cc: Value = desk.json(&format!("/api/v1/ar/kpis?as_of={AS_OF}")).await;
    for r in by_cc.as_array().unwrap() {
        let shown = fmt_amount(dec(r["open_amount"].as_str().unwrap()));
        assert!(overview.contains(&shown), "{shown} on the overview");
    }
    assert!(overview.contains("aging-1010-CNY") && overview.contains("aging-1010-EUR"));
    let page = desk
        .page(&format!("/ar/customers/{AR_AGING}?as_of={AS_OF}"))
        .await;
    assert!(page.contains("Altmann Maschinenbau GmbH"));
    for amount in ["1,000.00", "7,000.00", "-150.00", "27,850.00"] {
        assert!(page.contains(amount), "{amount} on the customer page");
    }
    assert!(page.contains(">421<"), "over 360 days past due shown");
    // A collector's call list is their own: ana has clerk 01's plants, not ben's.
    let calls = desk.page(&format!("/ar/calls?as_of={AS_OF}")).await;
    assert!(calls.contains(&format!("/ar/customers/{AR_AGING}")));
    assert!(calls.contains(&format!("/ar/customers/{AR_BREAKS}")));
    assert!(!calls.contains(&format!("/ar/customers/{AR_KEEPS}")));

    // The workbooks: the command line's and the API's hold the same cells, numbers as
    // numbers equal to the JSON's.
    let file = env.dir.path().join("calls.xlsx");
    let (code, out, err) = env.cli(&[
        "ar",
        "worklist",
        "--as-of",
        AS_OF,
        "--xlsx",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("written to"), "{out}");
    let from_cli = std::fs::read(&file).unwrap();
    let from_api = desk
        .api(&format!("/api/v1/ar/worklist.xlsx?as_of={AS_OF}"))
        .await
        .bytes()
        .await
        .unwrap();
    let (header, lines) = sheet(&from_cli, "Call list");
    assert_eq!(
        (header.clone(), lines.clone()),
        sheet(&from_api, "Call list")
    );
    let list = cli_json(
        &env,
        &["ar", "worklist", "--as-of", AS_OF, "--format", "json"],
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let expected_lines: usize = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["overdue"].as_array().unwrap().len())
        .sum();
    assert_eq!(lines.len(), expected_lines);
    let line = lines
        .iter()
        .find(|l| l[col("customer")] == AR_AGING)
        .unwrap();
    assert_eq!(line[col("currency")].to_string(), "EUR");
    assert_eq!(number(&line[col("overdue")]), dec("26850.00"));
    assert_eq!(number(&line[col("oldest_days_past_due")]), dec("421"));
    assert!(matches!(line[col("rank")], Data::Float(_)));
    let kpis_api = desk
        .api(&format!("/api/v1/ar/kpis.xlsx?by=customer&as_of={AS_OF}"))
        .await
        .bytes()
        .await
        .unwrap();
    let kpi_file = env.dir.path().join("kpis.xlsx");
    let (code, _, err) = env.cli(&[
        "ar",
        "kpis",
        "--by",
        "customer",
        "--as-of",
        AS_OF,
        "--xlsx",
        kpi_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        sheet(&kpis_api, "KPIs"),
        sheet(&std::fs::read(&kpi_file).unwrap(), "KPIs")
    );
    let spec = desk.json("/api/v1/openapi.json").await;
    for path in ["/api/v1/ar/kpis.xlsx", "/api/v1/ar/worklist.xlsx"] {
        assert!(spec["paths"][path]["get"].is_object(), "{path} in OpenAPI");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promises_kept_and_broken_and_a_dispute_status_reach_the_erp_once() {
    let (env, desk) = start().await;
    let today = Utc::now().date_naive();
    let by = today.checked_add_days(Days::new(3)).unwrap().to_string();
    // Two calls with promises of everything overdue, and one that moves the dispute on.
    let keep_text = "客户确认本周付清全部逾期款项";
    let back = desk
        .log_call(
            AR_KEEPS,
            &[
                ("text", keep_text),
                ("channel", "chat"),
                ("via", "WeChat"),
                ("promise_amount", "47000.00"),
                ("promise_currency", "CNY"),
                ("promise_date", &by),
            ],
        )
        .await;
    assert_eq!(back, format!("/ar/customers/{AR_KEEPS}?done=note"));
    let break_text = "Promised to pay both invoices by Friday";
    desk.log_call(
        AR_BREAKS,
        &[
            ("text", break_text),
            ("channel", "phone"),
            ("promise_amount", "7000.00"),
            ("promise_currency", "EUR"),
            ("promise_date", &by),
        ],
    )
    .await;
    let dispute_text = "Price difference accepted in part; credit note requested";
    let back = desk
        .log_call(
            AR_DISPUTED,
            &[
                ("text", dispute_text),
                ("channel", "email"),
                ("dispute_case", AR_DISPUTE_CASE),
                ("dispute_status", "INPR"),
            ],
        )
        .await;
    assert_eq!(back, format!("/ar/customers/{AR_DISPUTED}?done=call"));
    // A dispute status without its case is refused with the form kept, nothing queued.
    let r = desk
        .http
        .post(format!("{}/ar/customers/{AR_DISPUTED}/call", desk.base))
        .header("cookie", &desk.cookie)
        .form(&[
            ("csrf", desk.csrf.as_str()),
            ("text", "nur Status"),
            ("channel", "phone"),
            ("dispute_status", "RSLV"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("nur Status"));

    // The customer page shows the call with its promise.
    let page = desk.page(&format!("/ar/customers/{AR_KEEPS}")).await;
    assert!(page.contains(keep_text));
    assert!(
        page.contains(&format!("promise 47,000.00 CNY by {by}")),
        "{page}"
    );

    // Pushed twice: every note and the dispute status written once.
    for _ in 0..2 {
        let (code, _, err) = env.cli(&["push"]);
        assert_eq!(code, 0, "{err}");
    }
    let writes = env.mock.writes();
    for text in [keep_text, break_text, dispute_text] {
        let n = writes
            .iter()
            .filter(|w| w.entity_set != "DisputeCase" && w.body.to_string().contains(text))
            .count();
        assert_eq!(n, 1, "{text}: {writes:?}");
    }
    let case: Vec<_> = writes
        .iter()
        .filter(|w| w.entity_set == "DisputeCase" && w.key == AR_DISPUTE_CASE)
        .collect();
    assert_eq!(case.len(), 1, "{writes:?}");
    assert!(case[0].body.to_string().contains("INPR"), "{:?}", case[0]);

    // AR_KEEPS pays: the mock clears its overdue items, a pull sees it.
    for row in env.mock.dataset().ar_rows(AR_KEEPS, today) {
        env.mock.clear_open_item(row, today);
    }
    let (code, _, err) = env.cli(&["sync", "--only", "open-items"]);
    assert_eq!(code, 0, "{err}");
    // Past the promise date and the grace days: one kept (off the list), one broken (first).
    let later = today.checked_add_days(Days::new(10)).unwrap().to_string();
    let list = cli_json(
        &env,
        &["ar", "worklist", "--as-of", &later, "--format", "json"],
    );
    let entries = list.as_array().unwrap();
    assert!(
        !entries.iter().any(|e| e["customer"] == AR_KEEPS),
        "paid in full: not on the list: {list:#}"
    );
    let broken = entries.iter().find(|e| e["customer"] == AR_BREAKS).unwrap();
    assert_eq!(broken["promise"]["status"], "broken", "{broken:#}");
    assert_eq!(broken["urgent"], "broken_promise");
    assert_eq!(broken["rank"], 1);
    assert_eq!(
        desk.json(&format!("/api/v1/ar/worklist?as_of={later}"))
            .await,
        list
    );
}

/// The overview draws the OD% trend from the snapshots, one line per company code and
/// currency, and says where DSO would come from when there is no sales history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_draws_trends_from_snapshots() {
    let (env, desk) = start().await;
    for day in ["2026-11-18", "2026-11-25"] {
        let (code, _, err) = env.cli(&["ar", "snapshot", "--as-of", day]);
        assert_eq!(code, 0, "{err}");
    }
    let overview = desk.page(&format!("/ar?as_of={AS_OF}")).await;
    assert!(overview.contains("<svg class=\"chart trend\" id=\"trend-odp\""));
    for series in ["1010 EUR", "1010 CNY"] {
        assert!(
            overview.contains(&format!("data-series=\"{series}\"")),
            "{series}"
        );
    }
    assert!(overview.contains("id=\"trend-dso-none\""));
    // The statement page links its stylesheet (the desk's CSP refuses inline styles).
    let statement = desk
        .api(&format!(
            "/api/v1/ar/customers/{AR_AGING}/statement?format=html&lang=zh&as_of={AS_OF}"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(statement.contains("href=\"/assets/statement.css\""));
    assert!(!statement.contains("<style>"));
    let css = desk.page("/assets/statement.css").await;
    assert!(css.contains("@media print"));
}
