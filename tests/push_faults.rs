//! The push path under the mock ERP's faults: validation errors, 500s, 429 with
//! Retry-After, timeouts, CSRF expiry, 412 on an ETag, a `$batch` whose change set fails;
//! dead letters dropped with who, when and why; the read-back; the dunning block.
//! Nothing is lost, nothing is doubled, and each failure is visible in `outbox list`.

mod common;

use chrono::Utc;
use common::TestEnv;
use erpsync::config::PushConfig;
use erpsync::erp::connect;
use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::client::Write;
use erpsync::erp::odata::ODataClient;
use erpsync::erp::sap_writer::notes;
use erpsync::mock_erp::FaultSpec;
use erpsync::model::note::CollectorNote;
use erpsync::model::{DisputeStatusChange, NoteChannel};
use erpsync::push::{self, PushReport};
use erpsync::store::{OutboxStatus, SharedStore};
use std::time::Duration;

struct Ctx {
    env: TestEnv,
    store: SharedStore,
    mapping: Mapping,
    client: ODataClient,
    push: PushConfig,
}

async fn ctx() -> Ctx {
    let env = TestEnv::start(20, 200).await;
    let store = env.store().await;
    let config = env.config();
    let (mapping, client) = common::erp_of(&config);
    Ctx {
        mapping,
        client,
        push: config.push.clone(),
        store,
        env,
    }
}

impl Ctx {
    fn customer(&self, i: usize) -> String {
        self.env.mock.dataset().customers[i].customer.clone()
    }

    async fn note(&self, customer: &str, text: &str) -> CollectorNote {
        let n = self.note_unsaved(customer, text);
        self.store.add_note(&n).await.unwrap();
        n
    }

    fn note_unsaved(&self, customer: &str, text: &str) -> CollectorNote {
        common::notes::collector(customer, text, NoteChannel::Email)
    }

    async fn drain(&self, push: &PushConfig) -> PushReport {
        push::drain(
            self.store.as_ref(),
            connect::writer_for(&self.client, &self.mapping).as_ref(),
            push,
        )
        .await
        .unwrap()
    }

    /// How often the note's marker was written to the ERP.
    fn writes_of(&self, n: &CollectorNote) -> usize {
        self.env
            .mock
            .writes()
            .iter()
            .filter(|w| w.body.to_string().contains(&n.note.marker()))
            .count()
    }

    async fn in_erp(&self, n: &CollectorNote) -> usize {
        let text = notes::read_text(&self.client, &self.mapping.targets.notes, &n.note)
            .await
            .unwrap();
        text.matches(&n.note.marker()).count()
    }

    fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let (code, out, err) = self.env.cli(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str(&out).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validation_error_fails_at_once_and_a_dropped_entry_is_kept_with_who_and_why() {
    let c = ctx().await;
    let bad = c.note("0009999999", "customer not in the ERP").await;
    let good = c.note(&c.customer(0), "fine").await;
    let r = c.drain(&c.push).await;
    assert_eq!((r.notes, r.failed), (1, 1), "{r:?}");
    let failed = c
        .store
        .outbox_list(Some(OutboxStatus::Failed))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1, "no retries of a validation error");
    let why = failed[0].last_error.clone().unwrap();
    assert!(
        why.contains("400") && why.contains("does not exist"),
        "{why}"
    );
    assert_eq!(c.in_erp(&good).await, 1);
    assert_eq!(c.writes_of(&bad), 0);

    let id = failed[0].id.to_string();
    let (code, _, err) = c.env.cli(&["outbox", "drop", &id, "--by", "ana"]);
    assert_eq!(code, 2, "--reason is required: {err}");
    let (code, out, err) = c.env.cli(&[
        "outbox",
        "drop",
        &id,
        "--by",
        "ana",
        "--reason",
        "customer was merged into 4711",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dropped"), "{out}");
    let list = c.cli_json(&["outbox", "list", "--status", "dropped", "--format", "json"]);
    let entry = &list[0];
    assert_eq!(entry["status"], "dropped");
    assert_eq!(entry["dropped_by"], "ana");
    assert_eq!(entry["drop_reason"], "customer was merged into 4711");
    assert!(entry["dropped_at"].is_string());
    assert!(entry["last_error"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    let (code, table, _) = c.env.cli(&["outbox", "list"]);
    assert_eq!(code, 0);
    assert!(
        table.contains("dropped by ana") && table.contains("merged into 4711"),
        "{table}"
    );
    let shown = c.cli_json(&["outbox", "show", &id, "--format", "json"]);
    let audit = shown["audit"].as_array().unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "drop");
    assert_eq!(audit[0]["actor"], "ana");
    assert_eq!(audit[0]["from_status"], "failed");

    // A dropped entry is never sent and cannot be retried; a sent one cannot be dropped.
    let (code, _, err) = c.env.cli(&["outbox", "retry", &id]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("dropped"), "{err}");
    let sent_id = c.store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap()[0]
        .id
        .to_string();
    let (code, _, err) = c
        .env
        .cli(&["outbox", "drop", &sent_id, "--by", "ana", "--reason", "x"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(c.drain(&c.push).await, PushReport::default());
    assert_eq!(
        c.store.outbox_list(None).await.unwrap().len(),
        2,
        "nothing deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_stay_pending_until_max_attempts_then_dead_and_a_retry_sends_once() {
    let c = ctx().await;
    let n = c.note(&c.customer(1), "promised Friday").await;
    c.env
        .mock
        .set_faults("500@A_CustomerText:*".parse::<FaultSpec>().unwrap());
    let mut push = c.push.clone();
    push.max_attempts = 2;
    let r = c.drain(&push).await;
    assert_eq!(r.retry_later, 1);
    let pending = c
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert!(pending[0].last_error.as_deref().unwrap().contains("500"));
    let r = c.drain(&push).await;
    assert_eq!(r.dead, 1);
    let dead = c.store.outbox_list(Some(OutboxStatus::Dead)).await.unwrap();
    assert!(dead[0].last_error.as_deref().unwrap().contains("500"));

    c.env.mock.set_faults(FaultSpec::none());
    let id = dead[0].id.to_string();
    let (code, _, err) = c.env.cli(&["outbox", "retry", &id, "--by", "ben"]);
    assert_eq!(code, 0, "{err}");
    let shown = c.cli_json(&["outbox", "show", &id, "--format", "json"]);
    assert_eq!(shown["audit"][0]["action"], "retry");
    assert_eq!(shown["audit"][0]["actor"], "ben");
    assert_eq!(shown["audit"][0]["from_status"], "dead");
    let r = c.drain(&push).await;
    assert_eq!((r.notes, r.verified), (1, 1));
    assert_eq!((c.writes_of(&n), c.in_erp(&n).await), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_csrf_expiry_and_412_conflicts_each_end_in_one_write() {
    let c = ctx().await;
    // 429 with Retry-After: the client waits as told and the same drain sends it.
    c.env
        .mock
        .set_faults("429@A_CustomerText:1".parse::<FaultSpec>().unwrap());
    let a = c.note(&c.customer(1), "rate limited").await;
    let r = c.drain(&c.push).await;
    assert_eq!(r.notes, 1, "{r:?}");
    assert!(c.env.mock.faults_fired() >= 1);
    // The CSRF token expires with the session: fetched anew, written once.
    c.env
        .mock
        .set_faults("csrf-expire@A_CustomerText:1".parse::<FaultSpec>().unwrap());
    let b = c.note(&c.customer(2), "after csrf expiry").await;
    let r = c.drain(&c.push).await;
    assert_eq!(r.notes, 1, "{r:?}");
    assert_eq!(c.env.mock.faults_fired(), 1);
    for n in [&a, &b] {
        assert_eq!((c.writes_of(n), c.in_erp(n).await), (1, 1));
    }

    // 412: someone edits the text between our read and our write; we read again and
    // append to their text, losing neither.
    c.note(&c.customer(3), "the text exists before").await;
    assert_eq!(c.drain(&c.push).await.notes, 1);
    let d = c.note(&c.customer(3), "written after a conflict").await;
    c.env
        .mock
        .set_faults("delay=1500@A_CustomerText:2".parse::<FaultSpec>().unwrap());
    let drain = {
        let store = c.store.clone();
        let config = c.env.config();
        tokio::spawn(async move {
            let (mapping, client) = common::erp_of(&config);
            push::drain(
                store.as_ref(),
                connect::writer_for(&client, &mapping).as_ref(),
                &config.push,
            )
            .await
            .unwrap()
        })
    };
    // The drain's read is answered at ~1.5 s, its write held until ~3 s: edit in between.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let target = &c.mapping.targets.notes;
    let current = notes::read_text(&c.client, target, &d.note).await.unwrap();
    let root = c.client.service_root(&target.service);
    let url = erpsync::erp::odata::query::with_sap_client(
        root.join(&notes::text_key(target, &d.note)).unwrap(),
        c.client.sap_client(),
    );
    let body = serde_json::json!({ "LongText": format!("{current}\nedited in SAP meanwhile") });
    c.client
        .write(
            "A_CustomerText",
            &root,
            &Write {
                method: reqwest::Method::PATCH,
                url: &url,
                body: &body,
                if_match: Some("*"),
                headers: vec![],
            },
        )
        .await
        .unwrap();
    let r = drain.await.unwrap();
    assert_eq!(r.notes, 1, "{r:?}");
    let text = notes::read_text(&c.client, target, &d.note).await.unwrap();
    assert!(text.contains("edited in SAP meanwhile"), "{text}");
    assert_eq!(text.matches(&d.note.marker()).count(), 1, "{text}");
    // Every write carried a Repeatability-Request-ID naming that very request: a UUID,
    // another for each request (the write rebuilt after the 412 is not the one refused).
    let ids: Vec<String> = c
        .env
        .mock
        .writes()
        .iter()
        .filter(|w| w.body.to_string().contains("LongText") && w.request_id.is_some())
        .filter_map(|w| w.request_id.clone())
        .collect();
    assert!(ids.len() >= 4, "{ids:?}");
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_ne!(id, &d.note.idempotency_key);
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_with_unknown_outcome_is_checked_before_sending_again() {
    let c = ctx().await;
    c.env
        .toml(&c.env.mock.base_url(), 0)
        .set("erp.timeout", "1s")
        .write(&c.env.config_path);
    let config = c.env.config();
    let client = ODataClient::new(&config.erp).unwrap();
    let n = c.note(&c.customer(4), "answer lost in a timeout").await;
    // The read is quick; the write is held past the client's timeout, then applied.
    c.env.mock.set_faults(
        "delay=1@A_CustomerText:1,delay=2500@A_CustomerText:1"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let r = push::drain(
        c.store.as_ref(),
        connect::writer_for(&client, &c.mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(r.retry_later, 1, "{r:?}");
    let pending = c
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert!(!pending[0].last_error.as_deref().unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let r = push::drain(
        c.store.as_ref(),
        connect::writer_for(&client, &c.mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(r.notes, 1, "{r:?}");
    assert_eq!(
        c.in_erp(&n).await,
        1,
        "one copy, whatever the held write did"
    );
    assert!(c.writes_of(&n) <= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_pushes_send_change_sets_and_a_failed_change_set_is_visible_alone() {
    let c = ctx().await;
    let mut push = c.push.clone();
    push.batch = true;
    push.batch_size = 3;
    let mut good = Vec::new();
    for i in 0..5 {
        // Two notes per customer: one change set carries both.
        good.push(
            c.note(&c.customer(5 + i / 2), &format!("batched {i}"))
                .await,
        );
    }
    let bad = c.note("0009999998", "no such customer").await;
    let r = c.drain(&push).await;
    assert_eq!((r.notes, r.failed), (5, 1), "{r:?}");
    for n in &good {
        assert_eq!((c.writes_of(n), c.in_erp(n).await), (1, 1));
    }
    let failed = c
        .store
        .outbox_list(Some(OutboxStatus::Failed))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].idempotency_key, bad.note.idempotency_key,
        "only the failing change set's entry"
    );
    let why = failed[0].last_error.as_deref().unwrap();
    assert!(
        why.contains("$batch") && why.contains("does not exist"),
        "{why}"
    );
    let (_, table, _) = c.env.cli(&["outbox", "list", "--status", "failed"]);
    assert!(table.contains("does not exist"), "{table}");

    // The whole batch request fails: nothing is marked, the next drain sends each once.
    let more = [
        c.note(&c.customer(5), "after a 503").await,
        c.note(&c.customer(9), "after a 503 too").await,
    ];
    c.env
        .mock
        .set_faults("503@$batch:1".parse::<FaultSpec>().unwrap());
    let r = c.drain(&push).await;
    assert_eq!(r.retry_later, 2, "{r:?}");
    c.env.mock.set_faults(FaultSpec::none());
    let r = c.drain(&push).await;
    assert_eq!(r.notes, 2, "{r:?}");
    for n in more.iter().chain(&good) {
        assert_eq!(c.in_erp(n).await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_back_records_erp_ids_and_requeues_a_note_the_erp_lost() {
    let c = ctx().await;
    let n = c.note(&c.customer(10), "will be lost in the ERP").await;
    let r = c.drain(&c.push).await;
    assert_eq!((r.notes, r.verified), (1, 1));
    let sent = c.store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    let key = notes::text_key(&c.mapping.targets.notes, &n.note);
    assert_eq!(sent[0].erp_ref.as_deref(), Some(key.as_str()));

    // Someone in SAP overwrites the text: the periodic check notices and queues it again.
    let target = &c.mapping.targets.notes;
    let root = c.client.service_root(&target.service);
    let url = erpsync::erp::odata::query::with_sap_client(
        root.join(&key).unwrap(),
        c.client.sap_client(),
    );
    c.client
        .write(
            "A_CustomerText",
            &root,
            &Write {
                method: reqwest::Method::PATCH,
                url: &url,
                body: &serde_json::json!({ "LongText": "replaced by hand" }),
                if_match: Some("*"),
                headers: vec![],
            },
        )
        .await
        .unwrap();
    let (code, out, err) = c.env.cli(&["outbox", "verify"]);
    assert_eq!(code, 1, "a missing note is a finding: {out}");
    assert!(out.contains("1 note(s) queued again"), "{out} {err}");
    let pending = c
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("read-back"));
    let r = c.drain(&c.push).await;
    assert_eq!(r.notes, 1);
    assert_eq!(c.in_erp(&n).await, 1);
    let (code, out, err) = c.env.cli(&["outbox", "verify"]);
    assert_eq!(code, 0, "{out} {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_dispute_blocks_dunning_of_its_items_and_resolving_it_lifts_the_block() {
    let c = ctx().await;
    let case = c
        .env
        .mock
        .dataset()
        .dispute_cases
        .iter()
        .find(|d| d.status == "OPEN")
        .expect("an open case")
        .case_id
        .clone();
    let mut push = c.push.clone();
    push.dunning_block = Some("X".into());
    for status in ["INPR", "RSLV"] {
        c.store
            .add_dispute_status(&DisputeStatusChange {
                case_id: case.clone(),
                status: status.into(),
                requested_by: "ben".into(),
                note: None,
                requested_at: Utc::now(),
                idempotency_key: uuid::Uuid::new_v4().to_string(),
            })
            .await
            .unwrap();
    }
    let r = c.drain(&push).await;
    assert_eq!(r.dispute_statuses, 2, "{r:?}");
    let blocks: Vec<String> = c
        .env
        .mock
        .writes()
        .iter()
        .filter(|w| w.entity_set == "JournalEntryBulkChange")
        .map(|w| {
            w.body["DunningBlockingReasonCode"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        blocks,
        vec!["X".to_string(), String::new()],
        "set, then lifted"
    );

    // A case SAP closed by itself: our change is refused and reported, the block lifted.
    let closed = c
        .env
        .mock
        .dataset()
        .dispute_cases
        .iter()
        .find(|d| d.status == "CLSD")
        .expect("a closed case")
        .case_id
        .clone();
    c.store
        .add_dispute_status(&DisputeStatusChange {
            case_id: closed.clone(),
            status: "INPR".into(),
            requested_by: "ben".into(),
            note: None,
            requested_at: Utc::now(),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .unwrap();
    let r = c.drain(&push).await;
    assert_eq!(r.failed, 1, "{r:?}");
    let failed = c
        .store
        .outbox_list(Some(OutboxStatus::Failed))
        .await
        .unwrap();
    assert!(
        failed[0].last_error.as_deref().unwrap().contains("closed"),
        "{failed:?}"
    );
    let lifted: Vec<String> = c
        .env
        .mock
        .writes()
        .iter()
        .filter(|w| w.entity_set == "JournalEntryBulkChange")
        .map(|w| {
            w.body["DunningBlockingReasonCode"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        lifted.len(),
        3,
        "the closed case's items had their block lifted"
    );
    assert_eq!(lifted[2], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_add_records_the_collector_details_and_the_erp_text_shows_them() {
    let c = ctx().await;
    let customer = c.customer(11);
    let (code, _, err) = c.env.cli(&[
        "notes",
        "add",
        "--customer",
        &customer,
        "--by",
        "ana",
        "--text",
        "客户说下周付款",
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
    for bad in [
        vec!["--promise-amount", "10"],
        vec![
            "--promise-amount",
            "ten",
            "--promise-currency",
            "EUR",
            "--promise-date",
            "2026-12-05",
        ],
        vec!["--follow-up", "next week"],
        vec!["--channel", "fax"],
    ] {
        let mut args = vec![
            "notes",
            "add",
            "--customer",
            &customer,
            "--by",
            "ana",
            "--text",
            "x",
        ];
        args.extend(bad.iter().copied());
        let (code, _, err) = c.env.cli(&args);
        assert_eq!(code, 2, "{bad:?} must be refused: {err}");
    }
    let list = c.cli_json(&["outbox", "list", "--format", "json"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "refused notes are not queued"
    );
    let payload = &list[0]["payload"];
    assert_eq!(payload["via"], "WeChat");
    assert_eq!(payload["follow_up"], "2026-12-01");
    assert_eq!(payload["promise"]["amount"], "1250.50");
    assert_eq!(payload["promise"]["currency"], "CNY");

    let (code, out, err) = c.env.cli(&["push"]);
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("read back: 1 confirmed"), "{out}");
    let cn: CollectorNote = serde_json::from_value(payload.clone()).unwrap();
    let text = notes::read_text(&c.client, &c.mapping.targets.notes, &cn.note)
        .await
        .unwrap();
    assert!(
        text.contains("ana (chat: WeChat) [follow-up 2026-12-01] [promise to pay 1250.50 CNY by 2026-12-05]: 客户说下周付款 [erpsync:"),
        "{text}"
    );
}

/// Notes can go to the text of one company code (`A_CustomerCompanyText`): the company code
/// of the note's open item, else the configured one; one by one and as `$batch`, read back
/// alike; a note the target cannot place fails for good with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_go_to_the_company_code_text_of_their_item() {
    use erpsync::erp::mapping::TextLevel;
    use erpsync::model::OpenItemKey;
    let mut c = ctx().await;
    {
        let t = &mut c.mapping.targets.notes;
        t.entity_set = "A_CustomerCompanyText".into();
        t.level = TextLevel::CompanyCode;
    }
    // A customer created in both company codes (the ERP refuses a text elsewhere).
    let ds = c.env.mock.dataset();
    let in_cc = |i: usize, cc: &str| {
        ds.company_codes
            .iter()
            .any(|r| r.customer as usize == i && r.company_code == cc)
    };
    let i = (0..ds.customers.len())
        .find(|&i| in_cc(i, "1010") && in_cc(i, "1710"))
        .expect("a customer in company codes 1010 and 1710");
    let customer = c.customer(i);
    let with_item = |text: &str, cc: &str| {
        let mut n = c.note_unsaved(&customer, text);
        n.note.item = Some(OpenItemKey {
            company_code: cc.into(),
            fiscal_year: "2026".into(),
            document: "1800000001".into(),
            item: "1".into(),
        });
        n
    };
    let a = with_item("Called about the 1010 invoice", "1010");
    let b = with_item("Called about the 1710 invoice", "1710");
    let bare = c.note_unsaved(&customer, "No item named");
    for n in [&a, &b, &bare] {
        c.store.add_note(n).await.unwrap();
    }
    let r = c.drain(&c.push).await;
    assert_eq!(r.notes, 2, "{r:?}");
    let failed = c
        .store
        .outbox_list(Some(OutboxStatus::Failed))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("company_code is not set"),
        "{failed:?}"
    );
    let target = &c.mapping.targets.notes;
    for (n, cc) in [(&a, "1010"), (&b, "1710")] {
        let key = notes::text_key(target, &n.note);
        assert!(key.contains(&format!("CompanyCode='{cc}'")), "{key}");
        let text = notes::read_text(&c.client, target, &n.note).await.unwrap();
        assert_eq!(text.matches(&n.note.marker()).count(), 1, "{cc}: {text}");
    }
    // The other company code's text does not hold the note.
    let in_1710 = notes::read_text(&c.client, target, &b.note).await.unwrap();
    assert!(!in_1710.contains(&a.note.marker()));

    // With a default company code the bare note finds its text; as a $batch this time.
    c.mapping.targets.notes.company_code = Some("1010".into());
    let d = c.note_unsaved(&customer, "Batched, no item");
    c.store.add_note(&d).await.unwrap();
    let mut batch = c.push.clone();
    batch.batch = true;
    let r = c.drain(&batch).await;
    assert_eq!(r.notes, 1, "{r:?}");
    let text = notes::read_text(&c.client, &c.mapping.targets.notes, &d.note)
        .await
        .unwrap();
    assert!(text.contains(&d.note.marker()), "{text}");
    assert!(
        text.contains(&a.note.marker()),
        "the same 1010 text: {text}"
    );
    // Read-back finds every sent note where it went.
    let v = push::verify::verify_sent(
        c.store.as_ref(),
        connect::writer_for(&c.client, &c.mapping).as_ref(),
    )
    .await
    .unwrap();
    assert!(v.requeued.is_empty(), "{v:?}");
}
