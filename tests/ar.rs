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

/// Against the mock: the CLI's figures add up to the mock's own open items, per company
/// code and currency; grouping by collector splits the same money; a promise made through
/// `notes add` is kept once the mock clears the items and a pull sees it; statements come
/// out in Chinese with the customer's items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_against_the_mock() {
    let env = common::TestEnv::start(30, 300).await;
    env.toml(&env.mock.base_url(), 1)
        .set("collectors.01", "ana")
        .set("collectors.02", "ben")
        .set("ar.promise_grace_days", 2)
        .set("ar.payment.beneficiary", "Muster AG")
        .set("ar.payment.iban", "DE02 1203 0000 0000 2020 51")
        .write(&env.config_path);
    let (code, _, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{err}");

    let as_of = "2026-11-25";
    let (code, out, err) = env.cli(&["ar", "kpis", "--as-of", as_of, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    // The mock's own open customer items, per company code and currency.
    let ds = env.mock.dataset();
    let mut expected: BTreeMap<(String, String), (Decimal, Decimal, u64)> = BTreeMap::new();
    let day = d(as_of);
    for i in ds
        .open_items
        .iter()
        .filter(|i| i.account_type == b'D' && !i.is_cleared)
    {
        let e = expected
            .entry((i.company_code.to_string(), i.currency.to_string()))
            .or_default();
        e.0 += i.amount;
        if i.net_due_date < day {
            e.1 += i.amount;
        }
        e.2 += 1;
    }
    let got: BTreeMap<(String, String), (Decimal, Decimal, u64)> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["company_code"].as_str().unwrap().to_string(),
                    r["currency"].as_str().unwrap().to_string(),
                ),
                (
                    dec(r["open_amount"].as_str().unwrap()),
                    dec(r["overdue_amount"].as_str().unwrap()),
                    r["items"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(expected.len() >= 2, "two currencies at least: {expected:?}");

    // The same KPIs as a workbook: a header of the JSON names, one row per group, amounts
    // and counts as numbers (not text), equal to the JSON's.
    {
        use calamine::{Data, Reader};
        let file = env.dir.path().join("kpis.xlsx");
        let (code, out, err) = env.cli(&[
            "ar",
            "kpis",
            "--as-of",
            as_of,
            "--xlsx",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("{} KPI row(s)", rows.len())), "{out}");
        let mut book = calamine::open_workbook::<calamine::Xlsx<_>, _>(&file).unwrap();
        let sheet = book.worksheet_range("KPIs").unwrap();
        let mut lines = sheet.rows();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let body: Vec<&[Data]> = lines.collect();
        assert_eq!(body.len(), rows.len());
        for (line, json) in body.iter().zip(&rows) {
            assert_eq!(
                line[col("company_code")].to_string(),
                json["company_code"].as_str().unwrap()
            );
            assert_eq!(
                line[col("currency")].to_string(),
                json["currency"].as_str().unwrap()
            );
            for field in ["open_amount", "overdue_amount"] {
                let Data::Float(n) = line[col(field)] else {
                    panic!("{field} is not a number: {:?}", line[col(field)])
                };
                let exact = dec(json[field].as_str().unwrap());
                assert!(
                    (Decimal::try_from(n).unwrap() - exact).abs() < dec("0.005"),
                    "{field}"
                );
            }
            assert_eq!(
                line[col("items")],
                Data::Float(json["items"].as_u64().unwrap() as f64)
            );
        }
    }
    for r in &rows {
        let buckets: Decimal = r["buckets"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| dec(v.as_str().unwrap()))
            .sum();
        assert_eq!(buckets, dec(r["open_amount"].as_str().unwrap()), "{r}");
    }

    // By collector: the same money, split; the clerks 01 and 02 show as ana and ben.
    let (code, out, err) = env.cli(&[
        "ar",
        "kpis",
        "--by",
        "collector",
        "--as-of",
        as_of,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let by_collector: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mut split: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut names = std::collections::BTreeSet::new();
    for r in &by_collector {
        *split
            .entry((
                r["company_code"].as_str().unwrap().to_string(),
                r["currency"].as_str().unwrap().to_string(),
            ))
            .or_default() += dec(r["open_amount"].as_str().unwrap());
        if let Some(c) = r["collector"].as_str() {
            names.insert(c.to_string());
        }
    }
    let totals: BTreeMap<(String, String), Decimal> =
        expected.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    assert_eq!(split, totals);
    assert!(names.contains("ana") && names.contains("ben"), "{names:?}");

    // The call list, then a promise through `notes add`, kept once the mock clears the items.
    let (code, out, err) = env.cli(&["ar", "worklist", "--as-of", as_of, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!list.is_empty());
    assert_eq!(list[0]["rank"], 1);
    let top = list[0]["customer"].as_str().unwrap().to_string();
    let cur = list[0]["overdue"][0]["currency"]
        .as_str()
        .unwrap()
        .to_string();
    let today = Utc::now().date_naive();
    let promise_date = today.checked_add_days(Days::new(5)).unwrap().to_string();
    // As of today, the promise covers the customer's items overdue today in that currency.
    let cust_index = ds.customers.iter().position(|c| c.customer == top).unwrap();
    let rows_to_clear: Vec<usize> = ds
        .open_items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.account_type == b'D'
                && !i.is_cleared
                && i.party as usize == cust_index
                && i.currency == cur
                && i.net_due_date < today
                && i.amount > Decimal::ZERO
        })
        .map(|(n, _)| n)
        .collect();
    let owed: Decimal = rows_to_clear.iter().map(|&n| ds.open_items[n].amount).sum();
    let (code, _, err) = env.cli(&[
        "notes",
        "add",
        "--customer",
        &top,
        "--by",
        "ana",
        "--text",
        "客户承诺本周内付清逾期款项",
        "--channel",
        "chat",
        "--via",
        "WeChat",
        "--promise-amount",
        &owed.to_string(),
        "--promise-currency",
        &cur,
        "--promise-date",
        &promise_date,
    ]);
    assert_eq!(code, 0, "{err}");
    let status_of = |as_of: &str| {
        let (code, out, err) = env.cli(&["ar", "worklist", "--as-of", as_of, "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let list: Vec<Value> = serde_json::from_str(&out).unwrap();
        list.into_iter().find(|e| e["customer"] == top.as_str())
    };
    let today_s = today.to_string();
    let entry = status_of(&today_s).expect("still overdue today");
    assert_eq!(entry["promise"]["status"], "open", "{entry:#}");
    assert_eq!(entry["section"], "promised");
    // Nothing paid, three weeks later: broken.
    let later = today.checked_add_days(Days::new(21)).unwrap().to_string();
    let entry = status_of(&later).expect("still overdue later");
    assert_eq!(entry["promise"]["status"], "broken", "{entry:#}");
    assert_eq!(entry["urgent"], "broken_promise");
    assert_eq!(entry["rank"], 1);
    // The customer pays: the mock clears the items, a pull sees it, the promise is kept.
    for &n in &rows_to_clear {
        env.mock.clear_open_item(n, today);
    }
    let (code, _, err) = env.cli(&["sync", "--only", "open-items"]);
    assert_eq!(code, 0, "{err}");
    if let Some(entry) = status_of(&later) {
        assert_eq!(
            entry["promise"],
            Value::Null,
            "a kept promise is not pending: {entry:#}"
        );
    }

    // A statement and a reminder in Chinese, as HTML and XLSX.
    let html = env.dir.path().join("statement.html");
    let (code, _, err) = env.cli(&[
        "ar",
        "statement",
        "--customer",
        &top,
        "--lang",
        "zh",
        "--as-of",
        as_of,
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("对账单"), "{text}");
    assert!(text.contains("Muster AG"));
    let first_doc = ds
        .open_items
        .iter()
        .find(|i| i.account_type == b'D' && !i.is_cleared && i.party as usize == cust_index)
        .unwrap()
        .document
        .to_string();
    assert!(text.contains(&first_doc), "{first_doc} in {text}");
    let xlsx = env.dir.path().join("reminder.xlsx");
    let (code, _, err) = env.cli(&[
        "ar",
        "statement",
        "--customer",
        &top,
        "--lang",
        "zh",
        "--kind",
        "reminder",
        "--as-of",
        as_of,
        "--xlsx",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 1000);

    // Snapshot, and bad usage exits 2.
    let (code, out, err) = env.cli(&["ar", "snapshot", "--as-of", as_of]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("snapshot 2026-11-25"), "{out}");
    let (code, _, err) = env.cli(&["ar", "kpis", "--as-of", "yesterday"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = env.cli(&["ar", "kpis", "--by", "region"]);
    assert_eq!(code, 2);
}

/// With the optional `sales_items` entity mapped, a pull stores the sales history (cleared
/// items included) and DSO is computed; a second pull reads only from the cursor on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dso_from_the_sales_history() {
    let env = common::TestEnv::start(20, 200).await;
    // The shipped mapping has the entity commented out: switch it on.
    // (the commented block from `# [entities.sales_items]` to the next blank line).
    let mut inside = false;
    let mapping: String = common::MAPPING
        .lines()
        .map(|l| {
            if l.starts_with("# [entities.sales_items]") {
                inside = true;
            } else if l.trim().is_empty() {
                inside = false;
            }
            match l.strip_prefix("# ") {
                Some(rest) if inside => rest.to_string(),
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(mapping.contains("\n[entities.sales_items]"), "{mapping}");
    std::fs::write(env.dir.path().join("mapping.toml"), &mapping).unwrap();
    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    let store = env.store().await;
    assert!(store.ar_has_sales().await.unwrap());
    let cursor = store
        .get_cursor("sales_items.posted_through")
        .await
        .unwrap()
        .expect("cursor written");
    assert!(cursor.as_str() <= "2026-11-25", "{cursor}");
    // Every customer item of the mock posted in the window, cleared ones too.
    let ds = env.mock.dataset();
    let today = Utc::now().date_naive();
    let window = today.checked_sub_months(chrono::Months::new(13)).unwrap();
    let expected = ds
        .open_items
        .iter()
        .filter(|i| i.account_type == b'D' && i.posting_date >= window)
        .count();
    assert!(ds
        .open_items
        .iter()
        .any(|i| i.account_type == b'D' && i.is_cleared));
    let groups = store
        .ar_sales_groups(&Default::default(), window, today)
        .await
        .unwrap();
    let stored: usize = groups.iter().map(|g| g.amounts.len()).sum();
    assert_eq!(stored, expected);

    let (code, out, err) = env.cli(&["ar", "kpis", "--as-of", "2026-11-25", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mut with_dso = 0;
    for r in &rows {
        if let (Some(dso), Some(best), Some(add)) = (
            r["dso"].as_f64(),
            r["best_possible_dso"].as_f64(),
            r["add"].as_f64(),
        ) {
            with_dso += 1;
            assert!(dso >= best && (dso - best - add).abs() < 0.011, "{r}");
            assert!(dso > 0.0 && dso <= 366.0, "{r}");
        }
    }
    assert!(with_dso > 0, "{out}");
    // Again: incremental from the cursor, nothing duplicated.
    let (code, _, err) = env.cli(&["sync", "--only", "open-items"]);
    assert_eq!(code, 0, "{err}");
    let groups = store
        .ar_sales_groups(&Default::default(), window, today)
        .await
        .unwrap();
    assert_eq!(
        groups.iter().map(|g| g.amounts.len()).sum::<usize>(),
        expected
    );
}

/// The API answers what the command line prints; the desk pages show the same figures to a
/// signed-in collector (their own call list by default), and a call logged on the customer
/// page — in Chinese, with a promise — reaches the mock ERP exactly once through the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_desk_agree_with_the_cli() {
    use erpsync::service::desk::{self, DeskState};
    use reqwest::{Client, StatusCode};
    use std::sync::Arc;

    let env = common::TestEnv::start(30, 300).await;
    common::desk::ar_team(&env).write(&env.config_path);
    let (code, _, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{err}");
    let store = env.store().await;
    let state = Arc::new(DeskState::from_config(&env.config(), store.clone()).unwrap());
    let base = format!("http://{}", common::serve(desk::router(state)).await);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http
                .get(url)
                .bearer_auth(common::desk::VIEWER_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let as_of = "2026-11-25";
    for (cli_args, path) in [
        (
            vec!["ar", "kpis", "--as-of", as_of, "--format", "json"],
            format!("/api/v1/ar/kpis?as_of={as_of}"),
        ),
        (
            vec![
                "ar",
                "kpis",
                "--by",
                "collector",
                "--as-of",
                as_of,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/kpis?by=collector&as_of={as_of}"),
        ),
        (
            vec![
                "ar",
                "worklist",
                "--collector",
                "ana",
                "--as-of",
                as_of,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/worklist?collector=ana&as_of={as_of}"),
        ),
    ] {
        let (code, out, err) = env.cli(&cli_args);
        assert_eq!(code, 0, "{err}");
        let cli: Value = serde_json::from_str(&out).unwrap();
        assert!(!cli.as_array().unwrap().is_empty(), "{cli_args:?}");
        assert_eq!(api(path.clone()).await, cli, "{path}");
    }
    let spec = api("/api/v1/openapi.json".into()).await;
    assert!(spec["paths"]["/api/v1/ar/kpis"]["get"].is_object());
    // Without credentials: 401.
    let r = http
        .get(format!("{base}/api/v1/ar/kpis"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The collector's pages.
    let (cookie, csrf) =
        common::desk::sign_in(&http, &base, common::desk::ANA.0, common::desk::ANA.1).await;
    let page = |path: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let overview = page(format!("/ar?as_of={as_of}")).await;
    let kpis = api(format!("/api/v1/ar/kpis?as_of={as_of}")).await;
    for r in kpis.as_array().unwrap() {
        let open = dec(r["open_amount"].as_str().unwrap());
        let shown = erpsync::ar::statement::fmt_amount(open);
        assert!(overview.contains(&shown), "{shown} on the overview");
        let id = format!(
            "aging-{}-{}",
            r["company_code"].as_str().unwrap(),
            r["currency"].as_str().unwrap()
        );
        assert!(overview.contains(&id), "{id}");
    }
    assert!(overview.contains("<svg class=\"chart trend\""));
    let calls = page(format!("/ar/calls?as_of={as_of}")).await;
    assert!(
        calls.contains("collector ana"),
        "a collector sees their own list"
    );
    let list = api(format!("/api/v1/ar/worklist?collector=ana&as_of={as_of}")).await;
    let customer = list[0]["customer"].as_str().unwrap().to_string();
    assert!(calls.contains(&format!("/ar/customers/{customer}")));
    let customer_page = page(format!("/ar/customers/{customer}?as_of={as_of}")).await;
    assert!(customer_page.contains("id=\"log-call\""));
    let text = "客户答应周五前付款，请届时跟进";
    let back = format!("/ar/customers/{customer}");
    let r = http
        .post(format!("{base}/notes"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("customer", customer.as_str()),
            ("text", text),
            ("channel", "chat"),
            ("via", "WeChat"),
            ("promise_amount", "1000.00"),
            ("promise_currency", "EUR"),
            ("promise_date", "2026-12-11"),
            ("back", back.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{back}?done=note")
    );
    let customer_page = page(back.clone()).await;
    assert!(
        customer_page.contains(text),
        "the note shows on the customer page"
    );
    assert!(customer_page.contains("promise 1,000.00 EUR by 2026-12-11"));
    // The collector sees where the note stands on its way to SAP: queued, then sent.
    let badge = |status: &str| format!("data-status=\"{status}\"");
    assert!(
        customer_page.contains(&badge("queued")) && !customer_page.contains(&badge("sent")),
        "{customer_page}"
    );
    // Pushed twice: written once.
    for _ in 0..2 {
        let (code, _, err) = env.cli(&["push"]);
        assert_eq!(code, 0, "{err}");
    }
    let customer_page = page(back.clone()).await;
    assert!(
        customer_page.contains(&badge("sent")) && !customer_page.contains(&badge("queued")),
        "{customer_page}"
    );
    let written = env
        .mock
        .writes()
        .iter()
        .filter(|w| w.body.to_string().contains(text))
        .count();
    assert_eq!(written, 1, "{:?}", env.mock.writes());
    // A statement in Chinese through the API, as the customer page links it.
    let r = http
        .get(format!(
            "{base}/api/v1/ar/customers/{customer}/statement?format=html&lang=zh&as_of={as_of}"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("对账单") && html.contains("合计"), "{html}");
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
