//! The whole loop against the mock SAP system over real HTTP: pull, flag, review, push.

mod common;

use chrono::Utc;
use common::{ErpsyncToml, TestEnv};
use erpsync::erp::connect;
use erpsync::erp::sap_writer::notes;
use erpsync::mock_erp::FaultSpec;
use erpsync::model::note::{CollectorNote, NoteDetails};
use erpsync::model::{CustomerId, DiscrepancyStatus, Note, NoteChannel};
use erpsync::push;
use erpsync::store::{DiscrepancyFilter, OutboxStatus, SharedStore};
use erpsync::sync::{self, reconcile_run, SyncContext, SyncReport};
use std::collections::BTreeSet;

type Key = common::FindingKey;

fn first_customer(env: &TestEnv) -> CustomerId {
    CustomerId::parse(&env.mock.dataset().customers[0].customer).unwrap()
}

async fn sync_and_reconcile(
    env: &TestEnv,
) -> (SharedStore, SyncReport, reconcile_run::ReconcileReport) {
    let store = env.store().await;
    let ctx = SyncContext::new(env.config(), store.clone()).unwrap();
    let report = sync::run(&ctx, &[]).await.expect("sync succeeds");
    let now = Utc::now();
    let rec = reconcile_run::run(store.as_ref(), now.date_naive(), now)
        .await
        .unwrap();
    (store, report, rec)
}

async fn open_keys(store: &SharedStore) -> BTreeSet<Key> {
    common::open_findings(store.as_ref()).await
}

#[tokio::test]
async fn every_planted_mismatch_is_found_and_no_decoy_is_flagged() {
    let env = TestEnv::start(120, 1500).await;
    let (store, report, _) = sync_and_reconcile(&env).await;
    assert!(
        report.rejected.is_empty(),
        "records left out: {:?}",
        report.rejected
    );
    let found = open_keys(&store).await;
    let planted = common::planted(env.mock.dataset());
    // Every rule has a planted case.
    for rule in erpsync::model::Rule::ALL {
        assert!(
            planted.iter().any(|(r, ..)| *r == rule.as_str()),
            "the mock plants no case of {rule}"
        );
    }
    let missed: Vec<_> = planted.difference(&found).collect();
    let unexpected: Vec<_> = found.difference(&planted).collect();
    assert!(
        missed.is_empty(),
        "planted mismatches not found: {missed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "flags nobody planted: {unexpected:#?}"
    );
    for decoy in env.mock.dataset().decoys() {
        let key = (
            decoy.rule.to_string(),
            decoy.customer.clone(),
            decoy.scope.clone(),
            decoy.field.to_string(),
        );
        assert!(!found.contains(&key), "decoy flagged: {decoy:?}");
    }
}

#[tokio::test]
async fn cleared_items_and_supplier_lines_never_enter() {
    let env = TestEnv::start(60, 800).await;
    let (store, _, _) = sync_and_reconcile(&env).await;
    let held = store.list_open_items(&Default::default()).await.unwrap();
    let expected = env.mock.dataset().open_customer_items().count();
    assert_eq!(
        held.len(),
        expected,
        "exactly the uncleared customer items are held"
    );
    assert!(expected > 0);
}

/// After a full run, only the customers whose data changed are judged again; their flags
/// follow the change and nobody else's are touched. New settings judge everyone.
#[tokio::test]
async fn only_changed_customers_are_judged_again() {
    let env = TestEnv::start(80, 600).await;
    let (store, _, first) = sync_and_reconcile(&env).await;
    assert!(first.full, "the first run judges everyone");
    assert_eq!(first.customers, 80);
    let open_before = open_keys(&store).await;

    let (_, _, second) = sync_and_reconcile(&env).await;
    assert!(!second.full);
    assert_eq!(
        second.customers, 0,
        "a pull that changed nothing queues nobody"
    );
    assert_eq!((second.new, second.closed), (0, 0));

    // The master of a planted company-code mismatch is corrected, as a pull would write it.
    let planted = env
        .mock
        .dataset()
        .planted()
        .into_iter()
        .find(|p| p.rule == "payment_terms_company_code" && p.scope == "CC 1010")
        .expect("a planted company-code mismatch");
    let id = CustomerId::parse(&planted.customer).unwrap();
    let customer = store.customer(&id).await.unwrap().unwrap();
    let mut cc = customer
        .company_codes
        .iter()
        .find(|c| c.company_code == "1010")
        .unwrap()
        .clone();
    let wrong = cc.payment_terms.replace("NT30".into());
    store
        .upsert_company_codes(&[cc.clone()], Utc::now())
        .await
        .unwrap();
    let now = Utc::now();
    let rules = erpsync::reconcile::RuleSettings::default();
    let third = reconcile_run::run_with(store.as_ref(), &rules, now.date_naive(), now)
        .await
        .unwrap();
    assert!(!third.full);
    assert_eq!(third.customers, 1, "only the changed customer is judged");
    // Its company-code flag closes, and so does the company code vs sales area one
    // (the sales area had NT30 all along).
    let fixed: BTreeSet<Key> = open_before
        .iter()
        .filter(|(rule, customer, scope, _)| {
            *customer == planted.customer
                && scope == "CC 1010"
                && rule == "payment_terms_company_code"
                || *customer == planted.customer && rule == "payment_terms_company_vs_sales_area"
        })
        .cloned()
        .collect();
    assert!(fixed.contains(&(
        planted.rule.to_string(),
        planted.customer.clone(),
        planted.scope.clone(),
        planted.field.to_string(),
    )));
    assert_eq!(third.closed, fixed.len() as u64, "its fixed flags close");
    // The invoices billed while the master was wrong still carry NT45: now that the master
    // agrees with the contract, nothing explains them, and they are flagged.
    let billed: Key = (
        "open_item_billed_terms".into(),
        planted.customer.clone(),
        "CC 1010".into(),
        "payment_terms".into(),
    );
    assert_eq!(third.new, 1);
    let open_now = open_keys(&store).await;
    let mut expected: BTreeSet<Key> = open_before.difference(&fixed).cloned().collect();
    expected.insert(billed);
    assert_eq!(open_now, expected, "every other flag is left as it was");

    // Broken again: reopened by the next incremental run.
    cc.payment_terms = wrong;
    store.upsert_company_codes(&[cc], Utc::now()).await.unwrap();
    let now = Utc::now();
    let fourth = reconcile_run::run_with(store.as_ref(), &rules, now.date_naive(), now)
        .await
        .unwrap();
    assert_eq!(
        (
            fourth.full,
            fourth.customers,
            fourth.reopened,
            fourth.closed
        ),
        (false, 1, fixed.len() as u64, 1)
    );
    assert_eq!(open_keys(&store).await, open_before);

    // Other settings can change any finding: everyone is judged again.
    let mut other = rules.clone();
    other.cost_of_capital = rust_decimal::Decimal::new(5, 2);
    let now = Utc::now();
    let fifth = reconcile_run::run_with(store.as_ref(), &other, now.date_naive(), now)
        .await
        .unwrap();
    assert!(fifth.full);
    assert_eq!(fifth.customers, 80);
    assert_eq!(open_keys(&store).await, open_before);
}

#[tokio::test]
async fn resync_keeps_ids_and_a_fixed_cause_closes_its_flag() {
    let env = TestEnv::start(80, 600).await;
    let (store, _, first) = sync_and_reconcile(&env).await;
    let before = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    assert!(first.new > 0);

    let (_, _, second) = sync_and_reconcile(&env).await;
    assert_eq!(second.new, 0, "a re-run opens nothing new");
    assert_eq!(second.closed, 0);
    let after = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    let ids = |v: &[erpsync::model::Discrepancy]| v.iter().map(|d| d.id).collect::<BTreeSet<_>>();
    assert_eq!(
        ids(&before),
        ids(&after),
        "ids are stable and nothing is duplicated"
    );

    // Fix a cause at the source: drop the register contract for a customer the master lacks.
    let orphan = env
        .mock
        .dataset()
        .planted()
        .into_iter()
        .find(|p| p.rule == "customer_missing")
        .expect("the mock plants a contract for a missing customer");
    let register = std::fs::read_to_string(env.dir.path().join("contracts.csv")).unwrap();
    let kept: Vec<&str> = register
        .lines()
        .filter(|l| !l.starts_with(&format!("{},", orphan.contract_id)))
        .collect();
    assert_eq!(kept.len() + 1, register.lines().count());
    std::fs::write(env.dir.path().join("contracts.csv"), kept.join("\n") + "\n").unwrap();

    let (_, _, third) = sync_and_reconcile(&env).await;
    assert_eq!(third.closed, 1, "exactly the fixed flag closes");
    let flag = after
        .iter()
        .find(|d| d.finding.scope == orphan.scope && d.finding.rule.as_str() == "customer_missing")
        .unwrap();
    let now = store.discrepancy(flag.id).await.unwrap().unwrap();
    assert_eq!(now.status, DiscrepancyStatus::Closed);
    let audit = store.audit_log(flag.id).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.to),
        ("erpsync", DiscrepancyStatus::Closed)
    );
}

/// A note queued the way the desk queues one: with no collector details.
fn without_details(note: &Note) -> CollectorNote {
    CollectorNote {
        note: note.clone(),
        details: NoteDetails::default(),
    }
}

#[tokio::test]
async fn an_erp_error_on_push_leaves_the_note_pending_and_a_later_push_sends_it_once() {
    let env = TestEnv::start(20, 100).await;
    let store = env.store().await;
    let config = env.config();
    let (mapping, client) = common::erp_of(&config);
    let note = Note {
        customer: first_customer(&env),
        item: None,
        author: "ana".into(),
        text: "Promised to pay on Friday".into(),
        channel: NoteChannel::Phone,
        created_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    };
    let entry = store.add_note(&without_details(&note)).await.unwrap();

    env.mock
        .set_faults("500@A_CustomerText:20".parse::<FaultSpec>().unwrap());
    let r = push::drain(
        store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!((r.notes, r.retry_later), (0, 1));
    let pending = store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, entry.id);
    assert!(pending[0].attempts >= 1);
    assert!(
        pending[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("500"),
        "{:?}",
        pending[0].last_error
    );
    assert!(
        env.mock
            .writes()
            .iter()
            .all(|w| w.entity_set != "A_CustomerText"),
        "nothing reached the ERP"
    );

    env.mock.set_faults(FaultSpec::default());
    let r = push::drain(
        store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(r.notes, 1);
    let r = push::drain(
        store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(r.notes, 0, "a sent note is not sent again");
    let writes: Vec<_> = env
        .mock
        .writes()
        .into_iter()
        .filter(|w| {
            w.entity_set == "A_CustomerText" && w.body.to_string().contains(&note.idempotency_key)
        })
        .collect();
    assert_eq!(writes.len(), 1, "exactly one write: {writes:?}");
    assert_eq!(
        store
            .outbox_list(Some(OutboxStatus::Sent))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_note_that_already_arrived_is_not_written_again() {
    let env = TestEnv::start(20, 100).await;
    let store = env.store().await;
    let config = env.config();
    let (mapping, client) = common::erp_of(&config);
    let note = Note {
        customer: first_customer(&env),
        item: None,
        author: "ana".into(),
        text: "Called, no answer".into(),
        channel: NoteChannel::Phone,
        created_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    };
    // The first attempt arrives, but its outcome is lost before the outbox learns it.
    let outcome = notes::send(&client, &mapping.targets.notes, &note, false)
        .await
        .unwrap();
    assert_eq!(outcome, push::Outcome::Sent);
    store.add_note(&without_details(&note)).await.unwrap();
    let r = push::drain(
        store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!((r.notes, r.already_there), (1, 1));
    let count = env
        .mock
        .writes()
        .iter()
        .filter(|w| w.body.to_string().contains(&note.idempotency_key))
        .count();
    assert_eq!(count, 1);
}

#[test]
fn demo_runs_the_whole_loop_and_reports_json() {
    let out = common::cli::erpsync()
        .args(["demo", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "demo failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(v["pulled"]["customers"], 200);
    assert!(v["pulled"]["open_items"].as_u64().unwrap() > 0);
    assert!(v["pulled"]["contracts"].as_u64().unwrap() > 0);
    assert!(v["discrepancies"]["open"].as_u64().unwrap() > 0);
    assert!(
        v["discrepancies"]["by_rule"]["payment_terms_company_code"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(v["pushed"]["notes"], 2);
    assert_eq!(v["pushed"]["dispute_statuses"], 1);
    assert_eq!(v["read_back"]["verified"], true);
}

// The binary talks to the mock on this test's runtime, so it needs worker threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_review_flow_and_json_shapes() {
    let env = TestEnv::start(60, 400).await;
    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pulled:"), "{out}");

    let (code, out, err) = env.cli(&["discrepancies", "list", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &list[0];
    for key in [
        "id",
        "rule",
        "severity",
        "status",
        "customer",
        "scope",
        "field",
        "contract_value",
        "master_value",
        "first_seen",
        "last_seen",
    ] {
        assert!(!first[key].is_null(), "missing {key} in {first}");
    }
    for key in ["amount", "currency", "items", "days"] {
        assert!(!first["exposure"][key].is_null(), "missing exposure.{key}");
    }
    assert!(
        first["exposure"]["amount"].is_string(),
        "amounts are decimal strings"
    );
    let id = first["id"].as_i64().unwrap().to_string();

    let (code, _, err) = env.cli(&["discrepancies", "acknowledge", &id, "--by", "mia"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.cli(&[
        "discrepancies",
        "waive",
        &id,
        "--by",
        "mia",
        "--note",
        "agreed exception",
        "--until",
        "2027-06-30",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.cli(&["discrepancies", "acknowledge", &id, "--by", "mia"]);
    assert_eq!(code, 1, "a waived flag cannot be acknowledged again");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");

    let (code, _, err) = env.cli(&["discrepancies", "approve", &id, "--by", "mia"]);
    assert_eq!(code, 1, "the one who waives cannot approve");
    assert!(err.contains("cannot also approve"), "{err}");
    let (code, _, err) = env.cli(&[
        "discrepancies",
        "approve",
        &id,
        "--by",
        "ben",
        "--note",
        "ok",
    ]);
    assert_eq!(code, 0, "{err}");

    let (code, out, _) = env.cli(&["discrepancies", "show", &id, "--format", "json"]);
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["status"], "waived");
    assert_eq!(shown["waiver_by"], "mia");
    assert_eq!(shown["waiver_approved_by"], "ben");
    let audit = shown["audit"].as_array().unwrap();
    let actors: Vec<&str> = audit.iter().map(|a| a["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["erpsync", "mia", "mia", "ben"]);

    // Exports: XLSX read back, one sheet per status; CSV with a header row.
    let xlsx = env.dir.path().join("queue.xlsx");
    let (code, _, err) = env.cli(&["discrepancies", "export", "--xlsx", xlsx.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
        assert!(book.sheet_names().contains(&"open".to_string()));
        let waived = book.worksheet_range("waived").unwrap();
        let header: Vec<String> = waived
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(&header[..4], ["id", "status", "severity", "rule"]);
        let row = waived.rows().nth(1).unwrap();
        assert_eq!(row[0], Data::Float(id.parse::<f64>().unwrap()));
        let exposure_col = header.iter().position(|h| h == "exposure").unwrap();
        assert!(
            matches!(row[exposure_col], Data::Float(_)),
            "money is a number: {:?}",
            row[exposure_col]
        );
        let cost_col = header.iter().position(|h| h == "cost").unwrap();
        assert!(
            matches!(row[cost_col], Data::Float(_)),
            "{:?}",
            row[cost_col]
        );
        // Every currency's share, side by side.
        let per_currency = row[header
            .iter()
            .position(|h| h == "exposure by currency")
            .unwrap()]
        .to_string();
        let items = row[header.iter().position(|h| h == "items").unwrap()].to_string();
        if items != "0" {
            assert!(per_currency.contains(" item"), "{per_currency:?}");
        }
        assert_eq!(
            row[header
                .iter()
                .position(|h| h == "waiver approved by")
                .unwrap()]
            .to_string(),
            "ben"
        );
    }
    let csv = env.dir.path().join("queue.csv");
    let (code, _, _) = env.cli(&[
        "discrepancies",
        "export",
        "--csv",
        csv.to_str().unwrap(),
        "--status",
        "waived",
    ]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text
        .trim_start_matches('\u{feff}')
        .starts_with("id,status,severity,rule"));
    assert_eq!(text.lines().count(), 2, "header and the one waived flag");

    let (code, out, _) = env.cli(&["customers", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let customers: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(customers.as_array().unwrap().len(), 60);
    let c = &customers[0];
    assert_eq!(
        c["customer"].as_str().unwrap().len(),
        10,
        "SAP keeps leading zeros"
    );
    assert!(c["company_codes"][0]["company_code"].is_string());
    assert!(c["sales_areas"][0]["sales_org"].is_string());

    let (code, out, _) = env.cli(&["open-items", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let items: serde_json::Value = serde_json::from_str(&out).unwrap();
    let i = &items[0];
    for key in [
        "company_code",
        "fiscal_year",
        "document",
        "item",
        "customer",
        "amount",
        "currency",
        "baseline_date",
    ] {
        assert!(!i[key].is_null(), "missing {key} in {i}");
    }

    let (code, _, err) = env.cli(&["discrepancies", "list", "--status", "bogus"]);
    assert_eq!(code, 2, "bad usage exits 2: {err}");
}

#[test]
fn an_unreachable_erp_is_a_one_line_error_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mapping.toml"), common::MAPPING).unwrap();
    std::fs::write(dir.path().join("pw"), "x").unwrap();
    let config = ErpsyncToml::sqlite("e.db")
        .odata("http://127.0.0.1:9/sap/opu/odata/sap/")
        .set("erp.max_retries", 0)
        .set("erp.timeout", "2s")
        .basic_auth("U", "pw")
        .write_in(dir.path());
    let out = common::cli::erpsync_with(&config)
        .args(["sync", "--only", "customers"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with("erpsync: A_Customer: cannot reach the ERP"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_stops_with_the_entity_named_and_keeps_what_was_stored() {
    let env = TestEnv::start(30, 100).await;
    env.mock.set_faults(
        "malformed@A_CustomerSalesArea:5"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let (code, _, err) = env.cli(&["sync", "--only", "customers"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("A_CustomerSalesArea") && err.contains("malformed"),
        "{err}"
    );
    let store = env.store().await;
    assert_eq!(
        store.counts().await.unwrap().customers,
        30,
        "customers stored before the bad page stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sap_error_body_is_reported_in_one_line_and_nothing_stored_is_lost() {
    let env = TestEnv::start(30, 100).await;
    let (code, _, err) = env.cli(&["sync", "--only", "customers"]);
    assert_eq!(code, 0, "{err}");
    let store = env.store().await;
    let before = store.counts().await.unwrap();

    env.mock
        .set_faults("500@A_CustomerCompany:*".parse::<FaultSpec>().unwrap());
    let (code, _, err) = env.cli(&["sync", "--only", "customers"]);
    assert_eq!(code, 1, "{err}");
    let last = err.trim().lines().last().unwrap();
    assert!(
        last.starts_with("erpsync: A_CustomerCompany: the ERP answered HTTP 500"),
        "{err}"
    );
    assert!(
        last.contains("A_CustomerCompany?"),
        "names the request: {last}"
    );
    let after = store.counts().await.unwrap();
    assert_eq!(before, after, "a failed pull loses nothing already stored");
}

#[tokio::test]
async fn customers_are_synced_without_addresses_when_the_erp_refuses_them() {
    let env = TestEnv::start(30, 50).await;
    env.mock.set_faults(
        "403@A_BusinessPartnerAddress:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let store = env.store().await;
    let ctx = SyncContext::new(env.config(), store.clone()).unwrap();
    let report = sync::run(&ctx, &[sync::Entity::Customers])
        .await
        .expect("sync goes on");
    assert_eq!(report.pulled["customers"], 30);
    assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
    assert!(report.rejected[0].contains("without addresses"));
    let c = store
        .customer(&first_customer(&env))
        .await
        .unwrap()
        .unwrap();
    assert!(c.general.address.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispute_statuses_follow_the_configured_transitions() {
    let env = TestEnv::start(20, 200).await;
    let none: Vec<&str> = Vec::new();
    env.toml(&env.mock.base_url(), 1)
        .set(
            "disputes.statuses",
            vec!["OPEN", "INPR", "RSLV", "CLSD", "VOID"],
        )
        .set("disputes.transitions.OPEN", vec!["INPR", "RSLV"])
        .set("disputes.transitions.INPR", vec!["RSLV", "OPEN"])
        .set("disputes.transitions.RSLV", vec!["CLSD", "INPR"])
        .set("disputes.transitions.CLSD", none.clone())
        .set("disputes.transitions.VOID", none)
        .write(&env.config_path);
    let cases = &env.mock.dataset().dispute_cases;
    let open_case = cases
        .iter()
        .find(|c| c.status == "OPEN")
        .unwrap()
        .case_id
        .clone();
    let closed_case = cases
        .iter()
        .find(|c| c.status == "CLSD")
        .unwrap()
        .case_id
        .clone();

    let (code, _, err) = env.cli(&[
        "disputes",
        "set-status",
        &open_case,
        "--status",
        "WAIT",
        "--by",
        "ana",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not one of the configured dispute statuses"),
        "{err}"
    );
    let (code, _, err) = env.cli(&[
        "disputes",
        "set-status",
        &open_case,
        "--status",
        "INPR",
        "--by",
        "ana",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.cli(&[
        "disputes",
        "set-status",
        &open_case,
        "--status",
        "CLSD",
        "--by",
        "ana",
    ]);
    assert_eq!(code, 2, "INPR → CLSD is not allowed: {err}");
    assert!(err.contains("from INPR to CLSD"), "{err}");

    // The store does not know this case; the ERP says it is closed, so the push refuses it.
    let (code, _, err) = env.cli(&[
        "disputes",
        "set-status",
        &closed_case,
        "--status",
        "RSLV",
        "--by",
        "ana",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = env.cli(&["push"]);
    assert_eq!(code, 1, "one entry could not be sent");
    let (_, out, _) = env.cli(&["outbox", "list", "--format", "json"]);
    let entries: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "the refused change was never queued");
    assert_eq!(entries[0]["status"], "sent");
    assert_eq!(entries[1]["status"], "failed");
    let why = entries[1]["last_error"].as_str().unwrap();
    assert!(
        why.contains("in CLSD") && why.contains("from CLSD to RSLV"),
        "{why}"
    );
    let updates: Vec<_> = env
        .mock
        .writes()
        .into_iter()
        .filter(|w| w.entity_set == "DisputeCase")
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].key, open_case);
}
