//! Crash test of the push path: the real `erpsync push` binary against the in-process mock
//! ERP, killed with SIGKILL at random moments and started again, over and over. The mock
//! answers every text and dispute-case request slowly, so kills land before a request is
//! sent, while the ERP holds it, and after the ERP accepted it but before the outbox was
//! marked. At the end every note must be in the ERP exactly once (each of its parts) and
//! every dispute case must hold the last status queued for it.

mod common;

use chrono::Utc;
use common::TestEnv;
use erpsync::erp::sap_writer::{disputes, notes};
use erpsync::erp::soap::client::SoapClient;
use erpsync::mock_erp::FaultSpec;
use erpsync::model::note::{CollectorNote, NoteDetails, PromiseToPay};
use erpsync::model::{CustomerId, DisputeStatusChange, Note, NoteChannel};
use erpsync::store::OutboxStatus;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Kills of a running `erpsync push` the test must reach.
const MIN_KILLS: usize = 50;
/// The longest entry the test's mapping allows, so long notes are split into parts.
const MAX_LENGTH: usize = 180;

/// A small deterministic generator (xorshift), seeded from the clock and printed, so a
/// failing run can be repeated with `PUSH_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn write_config(env: &TestEnv, batch: bool) {
    let mapping =
        common::MAPPING.replace("max_length = 65000", &format!("max_length = {MAX_LENGTH}"));
    assert!(mapping.contains(&format!("max_length = {MAX_LENGTH}")));
    std::fs::write(env.dir.path().join("mapping.toml"), mapping).unwrap();
    env.toml(&env.mock.base_url(), 1)
        .set("erp.timeout", "5s")
        .unset("contracts")
        .set("push.max_attempts", 1000)
        .set("push.batch", batch)
        .set("push.batch_size", 7)
        .write(&env.config_path);
}

fn note(customer: &str, i: usize) -> CollectorNote {
    // Every third note is long Chinese text, split into several parts.
    let text = if i % 3 == 0 {
        format!("第{i}次通话：客户确认收到发票，但对金额有异议，要求提供交货证明后再付款。")
            .repeat(3)
    } else {
        format!("call {i}: customer promised to pay after checking the invoice")
    };
    CollectorNote {
        note: Note {
            customer: CustomerId::parse(customer).unwrap(),
            item: None,
            author: "ana".into(),
            text,
            channel: if i % 2 == 0 {
                NoteChannel::Chat
            } else {
                NoteChannel::Phone
            },
            created_at: Utc::now(),
            idempotency_key: format!("crash-note-{i}-{}", uuid::Uuid::new_v4()),
        },
        details: NoteDetails {
            via: (i % 2 == 0).then(|| "WeChat".to_string()),
            follow_up: None,
            promise: (i % 5 == 0).then(|| PromiseToPay {
                amount: "1999.90".parse().unwrap(),
                currency: "CNY".into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            }),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_and_writes_nothing_twice() {
    crash_loop(false).await;
}

/// The same with notes sent as `$batch` change sets (`[push] batch = true`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_batch_pushes_loses_nothing_and_writes_nothing_twice() {
    crash_loop(true).await;
}

async fn crash_loop(batch: bool) {
    let env = TestEnv::start(12, 200).await;
    write_config(&env, batch);
    let store = env.store().await;
    let seed = std::env::var("PUSH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    println!("PUSH_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    // Notes spread over a few customers, so many land in the same text one after another.
    let customers: Vec<String> = env
        .mock
        .dataset()
        .customers
        .iter()
        .take(5)
        .map(|c| c.customer.clone())
        .collect();
    let mut queued_notes = Vec::new();
    for i in 0..60 {
        let n = note(&customers[i % customers.len()], i);
        store.add_note(&n).await.unwrap();
        queued_notes.push(n);
    }
    // Dispute cases the ERP still has open, each moved through several statuses.
    let cases: Vec<String> = env
        .mock
        .dataset()
        .dispute_cases
        .iter()
        .filter(|c| !matches!(c.status, "CLSD" | "VOID"))
        .take(4)
        .map(|c| c.case_id.clone())
        .collect();
    assert!(cases.len() >= 2, "the mock has open dispute cases");
    let mut last_status: BTreeMap<String, String> = BTreeMap::new();
    for round in 0..4 {
        for case in &cases {
            let status = ["INPR", "OPEN", "INPR", "RSLV"][round];
            store
                .add_dispute_status(&DisputeStatusChange {
                    case_id: case.clone(),
                    status: status.into(),
                    requested_by: "ben".into(),
                    note: Some(format!("round {round}")),
                    requested_at: Utc::now(),
                    idempotency_key: uuid::Uuid::new_v4().to_string(),
                })
                .await
                .unwrap();
            last_status.insert(case.clone(), status.into());
        }
    }

    // Every text and case request is answered slowly: a kill is likely while one is open.
    env.mock.set_faults(
        "delay=60@A_CustomerText:*,delay=60@DisputeCase:*,delay=150@$batch:*"
            .parse::<FaultSpec>()
            .unwrap(),
    );
    let mut kills = 0;
    let mut runs = 0;
    let started = Instant::now();
    while kills < MIN_KILLS {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "only {kills} kills in 4 minutes"
        );
        runs += 1;
        let mut child = common::cli::erpsync_with(&env.config_path)
            .arg("push")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("erpsync starts");
        let wait = Duration::from_millis(30 + rng.below(450));
        tokio::time::sleep(wait).await;
        match child.try_wait().unwrap() {
            Some(_) => {
                // It finished before the kill: more work for the next rounds.
                let pending = store
                    .outbox_list(Some(OutboxStatus::Pending))
                    .await
                    .unwrap();
                if pending.is_empty() {
                    requeue_for_more_kills(&store, &mut rng).await;
                }
            }
            None => {
                child.kill().expect("SIGKILL");
                child.wait().unwrap();
                kills += 1;
            }
        }
    }

    // Undisturbed runs finish what is left.
    env.mock.set_faults(FaultSpec::none());
    let mut last = (0, String::new(), String::new());
    for _ in 0..5 {
        last = env.cli(&["push"]);
        if last.0 == 0 {
            break;
        }
    }
    assert_eq!(last.0, 0, "final push: {} {}", last.1, last.2);
    println!("{runs} runs, {kills} SIGKILLs");

    let not_sent: Vec<_> = store
        .outbox_list(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.status != OutboxStatus::Sent)
        .collect();
    assert!(not_sent.is_empty(), "entries left: {not_sent:?}");

    let config = env.config();
    let (mapping, client) = common::erp_of(&config);
    let soap = SoapClient::new(client.clone());
    let target = &mapping.targets.notes;
    let mut split = 0;
    for n in &queued_notes {
        let text = notes::read_text(&client, target, &n.note).await.unwrap();
        let parts = n.erp_parts(target.max_length).unwrap();
        if parts.len() > 1 {
            split += 1;
        }
        for (i, part) in parts.iter().enumerate() {
            let marker = n.part_marker(i + 1, parts.len());
            assert_eq!(
                text.matches(&marker).count(),
                1,
                "{marker} must be in the ERP exactly once"
            );
            assert!(text.contains(part.as_str()), "part {marker} arrived whole");
        }
    }
    assert!(split > 0, "some notes were split into parts");
    for (case, status) in &last_status {
        let erp = disputes::read_case(&soap, &mapping.targets.dispute_status, case)
            .await
            .unwrap()
            .expect("case exists");
        assert_eq!(
            &erp.status_code, status,
            "case {case} holds its last status"
        );
    }
    // The ERP's own ids were recorded by the read-back for what it confirmed.
    let sent = store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    assert!(sent.iter().any(|e| e.erp_ref.is_some()));
}

/// When a run finished everything before it was killed, put a few sent notes back to
/// pending, as the read-back does for a text that lost them: their resend must find the
/// markers and write nothing, which the exactly-once check at the end proves.
async fn requeue_for_more_kills(store: &erpsync::store::SharedStore, rng: &mut Rng) {
    // Notes only: a dispute status sent again would move its case back in time.
    let sent: Vec<_> = store
        .outbox_list(Some(OutboxStatus::Sent))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == erpsync::store::OutboxKind::Note)
        .collect();
    for _ in 0..3 {
        if sent.is_empty() {
            return;
        }
        let e = &sent[rng.below(sent.len() as u64) as usize];
        let _ = store
            .outbox_requeue(
                e.id,
                "test: sent again to keep the crash loop busy",
                Utc::now(),
            )
            .await;
    }
}
