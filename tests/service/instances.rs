//! Two instances on PostgreSQL share the work, and one may die.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_share_the_work_and_one_may_die() {
    let test = "two_instances_on_postgres_share_the_work_and_one_may_die";
    let Some(schema) = PgSchema::create(test, "erpsync_svc").await else {
        return;
    };
    let outcome = two_instances(&schema.url()).await;
    schema.drop().await;
    outcome.expect("two instances");
}

async fn two_instances(store_url: &str) -> Result<(), String> {
    let mock = MockErpConfig {
        customers: 40,
        open_items: 600,
        faults: "delay=150@A_CustomerText:*,delay=100@A_OperationalAcctgDocItemCube:*"
            .parse()
            .unwrap(),
        ..MockErpConfig::default()
    };
    let schedule: Schedule = &[
        ("customers", "2s"),
        ("open_items", "2s"),
        ("contracts", "2s"),
        ("payment_terms", "2s"),
        ("reconcile", "2s"),
        ("push", "300ms"),
        ("jitter", "200ms"),
        ("lease", "2s"),
    ];
    let mut env = Env::start(mock, schedule, "5s").await;
    env.extra_env
        .push(("ERPSYNC_STORE__URL".into(), store_url.to_string()));
    let store = env.store().await;
    store.migrate().await.unwrap();
    let notes: Vec<Note> = env.mock.dataset().customers[..30]
        .iter()
        .map(|c| note_for(&c.customer, "Payment promised"))
        .collect();
    for n in &notes {
        store.add_note(&without_details(n)).await.unwrap();
    }

    let mut a = env.spawn("info");
    let b = env.spawn("info");
    let a_id = a.status().await["instance"].as_str().unwrap().to_string();
    let b_id = b.status().await["instance"].as_str().unwrap().to_string();
    assert_ne!(a_id, b_id);
    // Let both work a while, then kill one in the middle of it.
    eventually(
        Duration::from_secs(30),
        "a third of the notes written",
        || async {
            let written = writes_per_note(&env.mock, &notes)
                .iter()
                .filter(|n| **n > 0)
                .count();
            (written >= 10).then_some(())
        },
    )
    .await;
    let a_status = a.status().await;
    a.kill9();
    let killed_at = Utc::now();

    // The survivor finishes the outbox, and runs every job after the kill (the leased
    // ones once the dead instance's leases expired).
    eventually(
        Duration::from_secs(60),
        "outbox drained, every job run by B",
        || async {
            let pending = store.outbox_list(Some(OutboxStatus::Pending)).await.ok()?;
            let runs = store.job_runs().await.ok()?;
            let names = [
                "pull-customers",
                "pull-open-items",
                "pull-contracts",
                "pull-payment-terms",
                "reconcile",
                "push",
            ];
            let all_by_b = names.iter().all(|n| {
                runs.iter().any(|r| {
                    r.name == *n
                        && r.instance == b_id
                        && r.last_error.is_none()
                        && r.last_finished_at > killed_at
                })
            });
            (pending.is_empty() && all_by_b).then_some(())
        },
    )
    .await;
    // Exactly once, although A died with claims in hand.
    assert_eq!(writes_per_note(&env.mock, &notes), vec![1; notes.len()]);
    assert_eq!(
        store
            .outbox_list(Some(OutboxStatus::Sent))
            .await
            .unwrap()
            .len(),
        notes.len()
    );
    assert_eq!(open_item_count(&store).await, env.open_items_in_erp());
    // Both instances did work before the kill: the jobs were shared, not run twice over.
    let runs = store.job_runs().await.unwrap();
    assert!(runs.iter().all(|r| r.runs >= 1));
    // Which instance takes a leased job first is a race, so this asserts that the leased
    // work was split across both (or that one found the other's lease), not who won.
    let b_status = b.status().await;
    let sum = |status: &serde_json::Value, field: &str| -> u64 {
        status["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["name"] != "push")
            .map(|j| j["this_instance"][field].as_u64().unwrap())
            .sum()
    };
    let shared = sum(&a_status, "runs") > 0 && sum(&b_status, "runs") > 0;
    let skipped = sum(&a_status, "skipped") + sum(&b_status, "skipped");
    assert!(
        shared || skipped > 0,
        "leased jobs were not shared: A {a_status} B {b_status}"
    );
    drop(b);
    Ok(())
}
