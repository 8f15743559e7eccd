//! Job leases and outbox claims, on SQLite and PostgreSQL.

use super::*;

// ---------------------------------------------------------------- leases and claims

/// The lease and claim statements, on SQLite and (when configured) PostgreSQL.
async fn check_leases_and_claims(store: SharedStore) {
    use chrono::Duration as D;
    let t0 = Utc::now();
    // Acquire inserts; a second holder is refused while the lease runs.
    assert!(store
        .lease_acquire("pull-customers", "a", t0, t0 + D::seconds(10))
        .await
        .unwrap());
    assert!(!store
        .lease_acquire(
            "pull-customers",
            "b",
            t0 + D::seconds(1),
            t0 + D::seconds(11)
        )
        .await
        .unwrap());
    // The holder renews; a stranger cannot.
    assert!(store
        .lease_renew("pull-customers", "a", t0 + D::seconds(20))
        .await
        .unwrap());
    assert!(!store
        .lease_renew("pull-customers", "b", t0 + D::seconds(30))
        .await
        .unwrap());
    // Expired: taken over by another holder, and the old holder's renewal then fails.
    assert!(!store
        .lease_acquire(
            "pull-customers",
            "b",
            t0 + D::seconds(19),
            t0 + D::seconds(29)
        )
        .await
        .unwrap());
    assert!(store
        .lease_acquire(
            "pull-customers",
            "b",
            t0 + D::seconds(21),
            t0 + D::seconds(31)
        )
        .await
        .unwrap());
    assert!(!store
        .lease_renew("pull-customers", "a", t0 + D::seconds(40))
        .await
        .unwrap());
    let leases = store.leases().await.unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].holder, "b");
    // Release by a non-holder does nothing; by the holder frees it at once.
    store.lease_release("pull-customers", "a").await.unwrap();
    assert_eq!(store.leases().await.unwrap().len(), 1);
    store.lease_release("pull-customers", "b").await.unwrap();
    assert!(store
        .lease_acquire(
            "pull-customers",
            "a",
            t0 + D::seconds(22),
            t0 + D::seconds(32)
        )
        .await
        .unwrap());

    // Job runs accumulate; the last success survives a later failure.
    store
        .record_job_run("reconcile", "a", t0, t0 + D::seconds(1), None)
        .await
        .unwrap();
    store
        .record_job_run(
            "reconcile",
            "b",
            t0 + D::seconds(2),
            t0 + D::seconds(3),
            Some("boom"),
        )
        .await
        .unwrap();
    let runs = store.job_runs().await.unwrap();
    let r = runs.iter().find(|r| r.name == "reconcile").unwrap();
    assert_eq!((r.runs, r.failures, r.instance.as_str()), (2, 1, "b"));
    assert_eq!(r.last_error.as_deref(), Some("boom"));
    assert!(r.last_success_at.is_some());

    // Claims: two claimers split the pending entries; an expired claim is taken over.
    let mut keys = Vec::new();
    for i in 0..5 {
        let n = note_for("0000004711", &format!("note {i}"));
        keys.push(store.add_note(&without_details(&n)).await.unwrap().id);
    }
    let a = store
        .outbox_claim("a", t0, t0 + D::seconds(10), 3)
        .await
        .unwrap();
    let b = store
        .outbox_claim("b", t0, t0 + D::seconds(10), 3)
        .await
        .unwrap();
    assert_eq!(
        a.iter().map(|e| e.id).collect::<Vec<_>>(),
        keys[..3].to_vec()
    );
    assert_eq!(
        b.iter().map(|e| e.id).collect::<Vec<_>>(),
        keys[3..].to_vec()
    );
    assert!(store
        .outbox_claim("c", t0 + D::seconds(5), t0 + D::seconds(15), 10)
        .await
        .unwrap()
        .is_empty());
    store.outbox_mark_sent(a[0].id, t0).await.unwrap();
    let c = store
        .outbox_claim("c", t0 + D::seconds(11), t0 + D::seconds(21), 10)
        .await
        .unwrap();
    assert_eq!(
        c.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![keys[1], keys[2], keys[3], keys[4]]
    );
    assert_eq!(store.outbox_release_claims("c").await.unwrap(), 4);
    assert_eq!(
        store
            .outbox_claim("d", t0 + D::seconds(12), t0 + D::seconds(22), 10)
            .await
            .unwrap()
            .len(),
        4
    );
    let counts = store.outbox_status_counts().await.unwrap();
    assert!(
        counts.contains(&(OutboxStatus::Pending, 4)) && counts.contains(&(OutboxStatus::Sent, 1)),
        "{counts:?}"
    );
    assert!(store.status_cursors().await.unwrap().is_empty());
}

#[tokio::test]
async fn leases_and_outbox_claims_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    check_leases_and_claims(common::sqlite_store(dir.path(), "s.db").await).await;
}

#[tokio::test]
async fn leases_and_outbox_claims_on_postgres() {
    let test = "leases_and_outbox_claims_on_postgres";
    postgres::with_store(test, "erpsync_lease", check_leases_and_claims).await;
}
