//! The outbox's dead-letter and read-back bookkeeping (`OutboxStore`), on SQLite always and
//! on PostgreSQL when `ERPSYNC_TEST_POSTGRES_URL` names a server (required on CI).

use chrono::{DateTime, TimeZone, Utc};
use erpsync::model::note::{CollectorNote, NoteDetails, PromiseToPay};
use erpsync::model::{CustomerId, Note, NoteChannel};
use erpsync::store::{self, OutboxStatus, SharedStore, Store, StoreError};
use futures_util::FutureExt;
use sqlx::Connection;
use std::future::Future;
use std::io::Write;
use std::panic::AssertUnwindSafe;

const PG_URL_VAR: &str = "ERPSYNC_TEST_POSTGRES_URL";

async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = store::open(&url).await.expect("sqlite store opens");
    store.migrate().await.expect("sqlite migrations run");
    test(store).await;
}

async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(url) = std::env::var(PG_URL_VAR) else {
        if std::env::var_os("CI").is_some() {
            panic!("{PG_URL_VAR} is not set: on CI the PostgreSQL store tests must run");
        }
        let _ = writeln!(std::io::stderr(), "SKIPPED postgres: {PG_URL_VAR} not set");
        return;
    };
    let schema = format!("erpsync_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("postgres test server reachable");
    // The name is generated above (letters, digits, '_'), so formatting it in is safe.
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let outcome = AssertUnwindSafe(async {
        let store = store::open_postgres_in_schema(&url, &schema)
            .await
            .expect("postgres store opens");
        store.migrate().await.expect("postgres migrations run");
        let pool = store.pool().clone();
        test(std::sync::Arc::new(store)).await;
        pool.close().await;
    })
    .catch_unwind()
    .await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, minute, 0).unwrap()
}

fn note(key: &str) -> CollectorNote {
    CollectorNote {
        note: Note {
            customer: CustomerId::parse("4711").unwrap(),
            item: None,
            author: "ana".into(),
            text: "客户承诺周五付款".into(),
            channel: NoteChannel::Chat,
            created_at: at(0),
            idempotency_key: key.into(),
        },
        details: NoteDetails {
            via: Some("WeChat".into()),
            follow_up: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            promise: Some(PromiseToPay {
                amount: "12345678901234567890.12".parse().unwrap(),
                currency: "CNY".into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            }),
        },
    }
}

async fn dead_letters_are_dropped_audited_and_kept(store: SharedStore) {
    let n = note("k-drop");
    let entry = store.add_collector_note(&n).await.unwrap();
    // Queued twice (a client retry): one entry, and the payload keeps every detail.
    assert_eq!(store.add_collector_note(&n).await.unwrap().id, entry.id);
    let back: CollectorNote = serde_json::from_value(entry.payload.clone()).unwrap();
    assert_eq!(back, n);

    let refused = store.outbox_drop(entry.id, "ana", "why", at(1)).await;
    assert!(matches!(refused, Err(StoreError::Refused(m)) if m.contains("pending")));
    store
        .outbox_mark_failed(
            entry.id,
            "HTTP 400: no such customer",
            at(2),
            Some(OutboxStatus::Failed),
        )
        .await
        .unwrap();
    store
        .outbox_drop(entry.id, "ana", "customer merged", at(3))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(e.status, OutboxStatus::Dropped);
    assert_eq!(e.dropped_by.as_deref(), Some("ana"));
    assert_eq!(e.dropped_at, Some(at(3)));
    assert_eq!(e.drop_reason.as_deref(), Some("customer merged"));
    assert_eq!(e.last_error.as_deref(), Some("HTTP 400: no such customer"));
    assert!(store.outbox_due(10).await.unwrap().is_empty(), "never sent");
    assert!(store.outbox_retry_by(entry.id, "ben", at(4)).await.is_err());
    let audit = store.outbox_audit(entry.id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].actor.as_str(),
            audit[0].at
        ),
        ("drop", "ana", at(3))
    );
    assert_eq!(
        (audit[0].from_status, audit[0].to_status),
        (OutboxStatus::Failed, OutboxStatus::Dropped)
    );
    assert_eq!(
        store
            .outbox_list(Some(OutboxStatus::Dropped))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn retries_verification_and_requeues_are_recorded(store: SharedStore) {
    let entry = store.add_collector_note(&note("k-verify")).await.unwrap();
    store
        .outbox_mark_failed(entry.id, "timeout", at(1), Some(OutboxStatus::Dead))
        .await
        .unwrap();
    store.outbox_retry_by(entry.id, "ben", at(2)).await.unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!((e.status, e.attempts), (OutboxStatus::Pending, 0));
    assert!(store
        .outbox_mark_verified(entry.id, "ref", at(3))
        .await
        .is_err());
    store.outbox_mark_sent(entry.id, at(3)).await.unwrap();
    let key = "A_CustomerText(Customer='0000004711',Language='EN',LongTextID='Z001')";
    store
        .outbox_mark_verified(entry.id, key, at(4))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(
        (e.erp_ref.as_deref(), e.verified_at),
        (Some(key), Some(at(4)))
    );
    assert_eq!(store.outbox_sent_after(0, 10).await.unwrap().len(), 1);
    assert!(store
        .outbox_sent_after(entry.id, 10)
        .await
        .unwrap()
        .is_empty());

    store
        .outbox_requeue(entry.id, "read-back: not in the text", at(5))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(e.status, OutboxStatus::Pending);
    assert_eq!((e.sent_at, e.verified_at), (None, None));
    assert_eq!(e.last_error.as_deref(), Some("read-back: not in the text"));
    let actions: Vec<(String, String)> = store
        .outbox_audit(entry.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.actor))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("retry".to_string(), "ben".to_string()),
            ("requeue".to_string(), "erpsync".to_string())
        ]
    );
    assert!(
        store
            .outbox_requeue(entry.id, "again", at(6))
            .await
            .is_err(),
        "only sent ones"
    );
}

#[tokio::test]
async fn sqlite_dead_letters() {
    on_sqlite(dead_letters_are_dropped_audited_and_kept).await;
}

#[tokio::test]
async fn postgres_dead_letters() {
    on_postgres(dead_letters_are_dropped_audited_and_kept).await;
}

#[tokio::test]
async fn sqlite_verification() {
    on_sqlite(retries_verification_and_requeues_are_recorded).await;
}

#[tokio::test]
async fn postgres_verification() {
    on_postgres(retries_verification_and_requeues_are_recorded).await;
}
