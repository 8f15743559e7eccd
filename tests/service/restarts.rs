//! Stopping the service: SIGTERM within the grace period, SIGKILL and a restart, nothing lost or written twice.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_long_pull_exits_0_within_the_grace_period_and_a_restart_completes() {
    let mock = MockErpConfig {
        customers: 20,
        open_items: 2000,
        faults: "delay=400@A_OperationalAcctgDocItemCube:*".parse().unwrap(),
        ..MockErpConfig::default()
    };
    let grace = Duration::from_secs(4);
    let env = Env::start(mock, QUIET_SCHEDULE, "4s").await;
    let store = env.store().await;
    let mut svc = env.spawn("info");
    // Wait until the open-items pull has stored some pages but not all.
    eventually(
        Duration::from_secs(30),
        "a partial open-items pull",
        || async {
            let n = store.counts().await.ok()?.open_items;
            (n >= 100).then_some(())
        },
    )
    .await;
    let status = svc.status().await;
    assert_eq!(
        job(&status, "pull-open-items")["this_instance"]["running"],
        true
    );

    let sent = Instant::now();
    svc.signal("TERM");
    let exit = svc
        .wait_exit(grace + Duration::from_millis(500))
        .unwrap_or_else(|| panic!("no exit within the grace period; logs:\n{}", svc.logs()));
    assert_eq!(exit.code(), Some(0), "{}", svc.logs());
    assert!(sent.elapsed() <= grace + Duration::from_millis(500));
    assert!(
        svc.logs().contains("job abandoned at shutdown"),
        "{}",
        svc.logs()
    );

    // Whole pages only (100 entities each; nothing half-written), fewer than the ERP has.
    let stored = open_item_count(&store).await;
    assert!(stored < env.open_items_in_erp(), "{stored}");
    let runs = store.job_runs().await.unwrap();
    let run = runs.iter().find(|r| r.name == "pull-open-items").unwrap();
    assert_eq!(run.last_error.as_deref(), Some("abandoned at shutdown"));
    assert!(
        store.leases().await.unwrap().is_empty(),
        "an orderly stop gives its leases back"
    );

    // A restart (faults gone) completes the pull: exactly what the ERP has.
    env.mock.set_faults(FaultSpec::none());
    let svc = env.spawn("info");
    eventually(Duration::from_secs(30), "the pull completed", || async {
        let s = svc.status().await;
        job(&s, "pull-open-items")["this_instance"]["last_success_at"]
            .is_string()
            .then_some(())
    })
    .await;
    assert_eq!(open_item_count(&store).await, env.open_items_in_erp());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_and_restart_resume_with_nothing_lost_and_nothing_written_twice() {
    let mock = MockErpConfig {
        customers: 20,
        open_items: 1000,
        faults: "delay=300@A_OperationalAcctgDocItemCube:*,delay=250@A_CustomerText:*"
            .parse()
            .unwrap(),
        ..MockErpConfig::default()
    };
    let env = Env::start(mock, QUIET_SCHEDULE, "5s").await;
    let store = env.store().await;
    store.migrate().await.unwrap();
    // One note per customer, so each note is one write of its own.
    let notes: Vec<Note> = env.mock.dataset().customers[..12]
        .iter()
        .map(|c| note_for(&c.customer, "Called about the overdue invoice"))
        .collect();
    for n in &notes {
        store.add_note(&without_details(n)).await.unwrap();
    }
    let mut svc = env.spawn("info");
    // Kill it in the middle of both the push and the open-items pull.
    eventually(Duration::from_secs(30), "some notes written", || async {
        let written = writes_per_note(&env.mock, &notes)
            .iter()
            .filter(|n| **n > 0)
            .count();
        (written >= 2).then_some(())
    })
    .await;
    svc.kill9();
    let stored = open_item_count(&store).await;
    assert!(
        stored < env.open_items_in_erp(),
        "killed mid-pull: {stored}"
    );
    assert!(
        writes_per_note(&env.mock, &notes).contains(&0),
        "killed mid-push"
    );

    // The next start takes the dead instance's leases and claims after they expire.
    env.mock.set_faults(FaultSpec::none());
    let svc = env.spawn("info");
    eventually(
        Duration::from_secs(40),
        "all notes sent and items pulled",
        || async {
            let pending = store.outbox_list(Some(OutboxStatus::Pending)).await.ok()?;
            let s = svc.status().await;
            let pulled = job(&s, "pull-open-items")["this_instance"]["last_success_at"].is_string();
            (pending.is_empty() && pulled).then_some(())
        },
    )
    .await;
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
}
