//! The collections workbench: figures read from the store on both backends, and end to end
//! against the mock ERP through the `erpsync ar …` commands.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use erpsync::ar::ArSettings;
use erpsync::collections::kpis::{kpis, GroupBy, KpiQuery};
use erpsync::model::note::{CollectorNote, NoteDetails, PromiseToPay};
use erpsync::model::open_item::AppliedTerms;
use erpsync::model::{
    CompanyCodeData, CustomerGeneral, CustomerId, Note, NoteChannel, OpenItem, OpenItemKey,
};
use erpsync::store::SharedStore;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;

mod common;
#[path = "ar/desk.rs"]
mod desk;
#[path = "ar/mock.rs"]
mod mock;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn item(cust: &str, cc: &str, doc: &str, cur: &str, amount: &str, due: &str) -> OpenItem {
    OpenItem {
        key: OpenItemKey {
            company_code: cc.into(),
            fiscal_year: "2026".into(),
            document: doc.into(),
            item: "1".into(),
        },
        customer: CustomerId::parse(cust).unwrap(),
        document_date: d("2025-01-01"),
        posting_date: d("2025-01-01"),
        baseline_date: d(due),
        payment_terms: Some("NT30".into()),
        applied: AppliedTerms::default(),
        net_due_date: Some(d(due)),
        amount: dec(amount),
        currency: cur.into(),
        dunning_level: None,
        dunning_block: None,
        dispute_case: None,
    }
}

fn company(cust: &str, cc: &str, clerk: &str) -> CompanyCodeData {
    CompanyCodeData {
        customer: CustomerId::parse(cust).unwrap(),
        company_code: cc.into(),
        payment_terms: Some("NT30".into()),
        reconciliation_account: None,
        accounting_clerk: Some(clerk.into()),
        dunning_procedure: None,
        deletion_flag: false,
        posting_block: false,
    }
}

fn at(day: &str) -> DateTime<Utc> {
    let d = d(day);
    Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
}

/// The hand-worked case of `ar::figures` (EUR with every bucket and a credit memo, CNY),
/// spread over two customers with two clerks, plus an item cleared before the as-of date
/// and one cleared after it.
async fn plant(store: &SharedStore) {
    let seen = at("2026-12-01");
    store
        .upsert_customers(
            &[
                CustomerGeneral {
                    customer: CustomerId::parse("1").unwrap(),
                    name: "Alpha GmbH".into(),
                    address: None,
                    deletion_flag: false,
                    posting_block: false,
                    last_changed: None,
                },
                CustomerGeneral {
                    customer: CustomerId::parse("2").unwrap(),
                    name: "北京贝塔科技有限公司".into(),
                    address: None,
                    deletion_flag: false,
                    posting_block: false,
                    last_changed: None,
                },
            ],
            seen,
        )
        .await
        .unwrap();
    store
        .upsert_company_codes(
            &[company("1", "1010", "01"), company("2", "1010", "02")],
            seen,
        )
        .await
        .unwrap();
    store
        .upsert_open_items(
            &[
                item("1", "1010", "A", "EUR", "1000.00", "2027-01-15"),
                item("1", "1010", "B", "EUR", "500.00", "2026-12-01"),
                item("1", "1010", "C", "EUR", "-200.00", "2026-11-30"),
                item("2", "1010", "D", "EUR", "300.00", "2026-10-31"),
                item("2", "1010", "E", "EUR", "400.00", "2026-07-04"),
                item("2", "1010", "F", "EUR", "250.00", "2025-12-31"),
                item("2", "1010", "G", "CNY", "8000.00", "2026-12-31"),
                item("2", "1010", "H", "CNY", "2000.00", "2026-09-01"),
                // Cleared on 2026-12-15 (below): open on 2026-12-10, not on 2026-12-31.
                item("2", "1010", "X", "EUR", "999.00", "2026-10-01"),
            ],
            seen,
        )
        .await
        .unwrap();
    // A pull on 2026-12-15 sees every item but X: X is cleared that day.
    let later = at("2026-12-15");
    let mut again: Vec<OpenItem> = Vec::new();
    for (cust, doc, cur, amt, due) in [
        ("1", "A", "EUR", "1000.00", "2027-01-15"),
        ("1", "B", "EUR", "500.00", "2026-12-01"),
        ("1", "C", "EUR", "-200.00", "2026-11-30"),
        ("2", "D", "EUR", "300.00", "2026-10-31"),
        ("2", "E", "EUR", "400.00", "2026-07-04"),
        ("2", "F", "EUR", "250.00", "2025-12-31"),
        ("2", "G", "CNY", "8000.00", "2026-12-31"),
        ("2", "H", "CNY", "2000.00", "2026-09-01"),
    ] {
        again.push(item(cust, "1010", doc, cur, amt, due));
    }
    store.upsert_open_items(&again, later).await.unwrap();
    assert_eq!(store.retire_unseen_open_items(later).await.unwrap(), 1);
}

async fn figures_by_company_code_and_collector(store: SharedStore) {
    plant(&store).await;
    let mut settings = ArSettings::default();
    settings.collectors.insert("01".into(), "ana".into());
    let q = KpiQuery {
        by: GroupBy::CompanyCode,
        company_code: None,
        collector: None,
        as_of: d("2026-12-31"),
    };
    let rows = kpis(store.as_ref(), &settings, &q).await.unwrap();
    let json = serde_json::to_value(&rows).unwrap();
    let by_cur: BTreeMap<String, &Value> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["currency"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(by_cur.len(), 2, "{json:#}");
    let eur = by_cur["EUR"];
    assert_eq!(eur["company_code"], "1010");
    assert_eq!(eur["items"], 6);
    assert_eq!(eur["open_amount"], "2250.00");
    assert_eq!(eur["overdue_amount"], "1250.00");
    assert_eq!(eur["overdue_percent"], "55.56");
    assert_eq!(eur["ar_over_60_amount"], "950.00");
    assert_eq!(eur["ar_over_60_percent"], "42.22");
    assert_eq!(eur["ar_over_360_amount"], "250.00");
    assert_eq!(eur["ar_over_360_percent"], "11.11");
    assert_eq!(eur["buckets"]["not_due"], "1000.00");
    assert_eq!(eur["buckets"]["1_30"], "500.00");
    assert_eq!(eur["buckets"]["31_60"], "-200.00");
    assert_eq!(eur["buckets"]["61_90"], "300.00");
    assert_eq!(eur["buckets"]["91_180"], "400.00");
    assert_eq!(eur["buckets"]["181_360"], "0");
    assert_eq!(eur["buckets"]["over_360"], "250.00");
    // No sales history: DSO is null, never guessed.
    assert_eq!(eur["dso"], Value::Null);
    assert_eq!(eur["best_possible_dso"], Value::Null);
    assert_eq!(eur["add"], Value::Null);
    assert!(eur.get("collector").is_none());
    let cny = by_cur["CNY"];
    assert_eq!(cny["open_amount"], "10000.00");
    assert_eq!(cny["overdue_percent"], "20.00");

    // As of 2026-12-10, X (cleared on the 15th) was still open: 70 days past due.
    let early = KpiQuery {
        as_of: d("2026-12-10"),
        ..q.clone()
    };
    let rows = kpis(store.as_ref(), &settings, &early).await.unwrap();
    let eur = rows.iter().find(|r| r.currency == "EUR").unwrap();
    assert_eq!(eur.items, 7);
    assert_eq!(eur.open_amount, dec("3249.00"));

    // By collector: ana (clerk 01) has customer 1's EUR items, clerk 02 the rest.
    let by = KpiQuery {
        by: GroupBy::Collector,
        ..q.clone()
    };
    let rows = kpis(store.as_ref(), &settings, &by).await.unwrap();
    let got: Vec<(Option<String>, String, Decimal)> = rows
        .iter()
        .map(|r| {
            (
                r.collector.clone().flatten(),
                r.currency.clone(),
                r.open_amount,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("02".into()), "CNY".into(), dec("10000.00")),
            (Some("02".into()), "EUR".into(), dec("950.00")),
            (Some("ana".into()), "EUR".into(), dec("1300.00")),
        ]
    );
    // Filtered to one collector, by user name.
    let ana = KpiQuery {
        collector: Some("ana".into()),
        ..q.clone()
    };
    let rows = kpis(store.as_ref(), &settings, &ana).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].open_amount, dec("1300.00"));
    // By customer.
    let cust = KpiQuery {
        by: GroupBy::Customer,
        ..q.clone()
    };
    let rows = kpis(store.as_ref(), &settings, &cust).await.unwrap();
    let got: Vec<(Option<String>, String)> = rows
        .iter()
        .map(|r| (r.customer.clone(), r.currency.clone()))
        .collect();
    assert_eq!(
        got,
        // Ordered by company code, currency, then customer.
        vec![
            (Some("0000000002".into()), "CNY".into()),
            (Some("0000000001".into()), "EUR".into()),
            (Some("0000000002".into()), "EUR".into()),
        ]
    );

    // Snapshots round-trip exactly, and a retake replaces the day.
    let snap =
        erpsync::collections::snapshot::take(store.as_ref(), d("2026-12-31"), at("2026-12-31"))
            .await
            .unwrap();
    assert_eq!(snap.len(), 3);
    erpsync::collections::snapshot::take(store.as_ref(), d("2026-12-31"), at("2026-12-31"))
        .await
        .unwrap();
    let back = store
        .ar_snapshots(d("2026-12-01"), d("2026-12-31"), None)
        .await
        .unwrap();
    assert_eq!(back, snap);
}

#[tokio::test]
async fn figures_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "ar.db").await;
    figures_by_company_code_and_collector(store).await;
}

#[tokio::test]
async fn figures_on_postgres() {
    common::postgres::with_store("figures_on_postgres", "ar_figures", |store| {
        figures_by_company_code_and_collector(store)
    })
    .await;
}

async fn promises(store: SharedStore) {
    plant(&store).await;
    // Customer 2 promised 300 EUR by 2026-12-20 on 2026-12-01 — its overdue EUR items
    // then were D (300), E (400), F (250) and X (999). X cleared on the 15th: kept.
    // Customer 1 promised 500 by 2026-12-05; B and C stay open: broken after the grace.
    let note = |cust: &str, amount: &str, date: &str, key: &str| CollectorNote {
        note: Note {
            customer: CustomerId::parse(cust).unwrap(),
            item: None,
            author: "ana".into(),
            text: "会在月底前付款".into(),
            channel: NoteChannel::Chat,
            created_at: at("2026-12-01"),
            idempotency_key: key.into(),
        },
        details: NoteDetails {
            via: Some("WeChat".into()),
            follow_up: None,
            promise: Some(PromiseToPay {
                amount: dec(amount),
                currency: "EUR".into(),
                date: d(date),
            }),
        },
    };
    store
        .add_note(&note("2", "300", "2026-12-20", "p2"))
        .await
        .unwrap();
    store
        .add_note(&note("1", "500", "2026-12-05", "p1"))
        .await
        .unwrap();
    let settings = ArSettings::default();
    let q = erpsync::collections::worklist::WorklistQuery {
        collector: None,
        company_code: None,
        limit: 50,
        as_of: d("2026-12-31"),
    };
    let list = erpsync::collections::worklist::worklist(store.as_ref(), &settings, &q)
        .await
        .unwrap();
    let json = serde_json::to_value(&list).unwrap();
    let c1 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["customer"] == "0000000001")
        .unwrap();
    assert_eq!(c1["promise"]["status"], "broken", "{json:#}");
    assert_eq!(c1["urgent"], "broken_promise");
    assert_eq!(c1["rank"], 1);
    assert_eq!(c1["last_note"]["via"], "WeChat");
    let c2 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["customer"] == "0000000002")
        .unwrap();
    // Kept promises are not shown as a pending promise.
    assert_eq!(c2["promise"], Value::Null, "{json:#}");
    assert_eq!(c2["section"], "call");
    assert_eq!(c2["oldest_days_past_due"], 365);
    // Before the promise date, customer 1's promise is open and not yet due: listed apart.
    let early = erpsync::collections::worklist::WorklistQuery {
        as_of: d("2026-12-03"),
        ..q
    };
    let list = erpsync::collections::worklist::worklist(store.as_ref(), &settings, &early)
        .await
        .unwrap();
    let c1 = list.iter().find(|e| e.customer == "0000000001").unwrap();
    assert_eq!(c1.section, erpsync::ar::worklist::Section::Promised);
}

#[tokio::test]
async fn promises_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "ar.db").await;
    promises(store).await;
}

#[tokio::test]
async fn promises_on_postgres() {
    common::postgres::with_store("promises_on_postgres", "ar_promises", promises).await;
}

/// `[ar]` and `[collectors]` are checked: out-of-range values and bad rates exit 2 naming
/// the key; an environment override of a key the file does not set is read as a number.
#[test]
fn ar_config_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mapping.toml"), common::MAPPING).unwrap();
    let base = || {
        common::ErpsyncToml::sqlite("erpsync.db")
            .odata("http://127.0.0.1:9/sap/opu/odata/sap/")
            .set("collectors.01", "ana")
    };
    let cases = [
        (
            base().set("ar.promise_grace_days", 500),
            "ar.promise_grace_days",
        ),
        (base().set("ar.dso_months", 0), "ar.dso_months"),
        (
            base().set("ar.ranking_rates.CNY", "-1"),
            "ar.ranking_rates.CNY",
        ),
        (base().set("collectors.LONG", "ana"), "collectors.LONG"),
        (base().set("ar.unknown", 1), "unknown"),
    ];
    for (toml, key) in cases {
        let path = toml.write_in(dir.path());
        let (code, _, err) = common::cli::run(&path, &["ar", "snapshot"]);
        assert_eq!(code, 2, "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
    }
    let path = base().write_in(dir.path());
    let config = erpsync::config::Config::from_str_with_env(
        &std::fs::read_to_string(&path).unwrap(),
        &path,
        dir.path(),
        [(
            "ERPSYNC_AR__PROMISE_GRACE_DAYS".to_string(),
            "5".to_string(),
        )],
    )
    .unwrap();
    assert_eq!(config.ar.promise_grace_days, 5);
    assert_eq!(config.ar.dso_months, 12);
    assert_eq!(config.ar.collector_name("01"), "ana");
    assert_eq!(config.ar.clerks_of("ana"), vec!["01".to_string()]);
}
