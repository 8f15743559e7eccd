//! The outbox and what it writes back: notes, dispute statuses, retries, dead letters.

use super::*;

pub(super) async fn outbox_lifecycle(store: SharedStore) {
    let n = note("note-1", at(0));
    let entry = store.add_note(&without_details(&n)).await.unwrap();
    assert_eq!(entry.kind, OutboxKind::Note);
    assert_eq!(entry.idempotency_key, "note-1");
    assert_eq!(entry.status, OutboxStatus::Pending);
    assert_eq!(
        (entry.attempts, entry.last_error.as_deref(), entry.sent_at),
        (0, None, None)
    );
    assert_eq!(
        serde_json::from_value::<Note>(entry.payload.clone()).unwrap(),
        n
    );
    let d = dispute("dispute-1", at(1));
    let second = store.add_dispute_status(&d).await.unwrap();
    assert_eq!(second.kind, OutboxKind::DisputeStatus);
    assert_eq!(
        serde_json::from_value::<DisputeStatusChange>(second.payload.clone()).unwrap(),
        d
    );
    let third = store
        .add_note(&without_details(&note("note-2", at(2))))
        .await
        .unwrap();

    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entry.id, second.id, third.id]
    );
    assert_eq!(due[0], entry);
    assert_eq!(store.outbox_due(1).await.unwrap().len(), 1);

    // A transient failure: still pending, attempt and error recorded.
    store
        .outbox_mark_failed(entry.id, "503 from ERP", at(3), None)
        .await
        .unwrap();
    let e = &store.outbox_due(10).await.unwrap()[0];
    assert_eq!(
        (e.id, e.status, e.attempts),
        (entry.id, OutboxStatus::Pending, 1)
    );
    assert_eq!(
        (e.last_error.as_deref(), e.updated_at),
        (Some("503 from ERP"), at(3))
    );

    store
        .outbox_mark_failed(entry.id, "gave up", at(4), Some(OutboxStatus::Dead))
        .await
        .unwrap();
    store
        .outbox_mark_failed(second.id, "case unknown", at(4), Some(OutboxStatus::Failed))
        .await
        .unwrap();
    store.outbox_mark_sent(third.id, at(5)).await.unwrap();
    assert!(store.outbox_due(10).await.unwrap().is_empty());

    let dead = store.outbox_list(Some(OutboxStatus::Dead)).await.unwrap();
    assert_eq!((dead.len(), dead[0].attempts), (1, 2));
    let sent = store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    assert_eq!((sent[0].id, sent[0].sent_at), (third.id, Some(at(5))));
    assert_eq!(
        store.outbox_list(Some(OutboxStatus::Failed)).await.unwrap()[0].id,
        second.id
    );
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 3);

    // Retry: failed/dead back to pending; sent and unknown entries are refused.
    store.outbox_retry(entry.id, at(6)).await.unwrap();
    store.outbox_retry(second.id, at(6)).await.unwrap();
    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(
        due.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entry.id, second.id]
    );
    assert_eq!(
        due[0].last_error.as_deref(),
        Some("gave up"),
        "history kept"
    );
    assert!(matches!(
        store.outbox_retry(third.id, at(6)).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        store.outbox_retry(third.id + 100, at(6)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.outbox_mark_sent(third.id + 100, at(6)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store
            .outbox_mark_failed(third.id + 100, "x", at(6), None)
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub(super) async fn write_back_is_idempotent(store: SharedStore) {
    let first = store
        .add_note(&without_details(&note("k-1", at(0))))
        .await
        .unwrap();
    // A retried request (same key) queues nothing new.
    let again = store
        .add_note(&without_details(&note("k-1", at(1))))
        .await
        .unwrap();
    assert_eq!(again, first);
    let d = store
        .add_dispute_status(&dispute("k-2", at(0)))
        .await
        .unwrap();
    assert_eq!(
        store
            .add_dispute_status(&dispute("k-2", at(0)))
            .await
            .unwrap(),
        d
    );
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 2);

    // The same key for a different kind of record is refused, and nothing is stored.
    let err = store
        .add_dispute_status(&dispute("k-1", at(2)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    assert_eq!(store.outbox_list(None).await.unwrap().len(), 2);
    let err = store
        .add_note(&without_details(&note("k-2", at(2))))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "{err:?}");

    // A note without an item round-trips through the payload.
    let mut plain = note("k-3", at(3));
    plain.item = None;
    let entry = store.add_note(&without_details(&plain)).await.unwrap();
    assert_eq!(
        serde_json::from_value::<Note>(entry.payload).unwrap(),
        plain
    );
}

pub(super) async fn large_batches_span_statements(store: SharedStore) {
    // More rows than one multi-row statement carries, and more customers than one IN list.
    let customers: Vec<_> = (1..=1500).map(|i| general(&i.to_string(), "c")).collect();
    let items: Vec<_> = (0..3000)
        .map(|i| {
            item(
                &(i % 1500 + 1).to_string(),
                &format!("{i:010}"),
                "1.01",
                None,
            )
        })
        .collect();
    store.upsert_customers(&customers, at(0)).await.unwrap();
    store.upsert_open_items(&items, at(0)).await.unwrap();
    let ids: Vec<_> = customers.iter().map(|c| c.customer.clone()).collect();
    let found = store.open_items_for(&ids).await.unwrap();
    assert_eq!(found.len(), 3000);
    let total: Decimal = found.iter().map(|i| i.amount).sum();
    assert_eq!(total, dec("3030.00"));
    let page = store.customers_page(None, 2000).await.unwrap();
    assert_eq!(page.len(), 1500);
    assert_eq!(page.last().unwrap().id().as_str(), "0000001500");
}

// ---------------------------------------------------------------- write-back records

fn minute(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, minute, 0).unwrap()
}

fn collector_note(key: &str) -> CollectorNote {
    CollectorNote {
        note: Note {
            customer: CustomerId::parse("4711").unwrap(),
            item: None,
            author: "ana".into(),
            text: "客户承诺周五付款".into(),
            channel: NoteChannel::Chat,
            created_at: minute(0),
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

pub(super) async fn a_note_reads_back_with_every_collector_detail(store: SharedStore) {
    let n = collector_note("k-details");
    let entry = store.add_note(&n).await.unwrap();
    // Read back from the store, not from what adding it returned.
    let stored = store.outbox_entry(entry.id).await.unwrap();
    let due = store.outbox_due(10).await.unwrap();
    assert_eq!(due.len(), 1);
    for payload in [stored.payload, due[0].payload.clone()] {
        let back: CollectorNote = serde_json::from_value(payload).unwrap();
        assert_eq!(back.note.channel, NoteChannel::Chat);
        assert_eq!(back.details.via.as_deref(), Some("WeChat"));
        assert_eq!(
            back.details.follow_up,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        );
        let promise = back.details.promise.as_ref().unwrap();
        assert_eq!(promise.amount.to_string(), "12345678901234567890.12");
        assert_eq!(
            (promise.currency.as_str(), promise.date),
            ("CNY", chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap())
        );
        assert_eq!(back, n);
    }

    // A note without details (as the desk sends today) is queued the same way, and its
    // payload carries no detail fields: it reads as the plain note it always was.
    let mut plain = n.clone();
    plain.note.idempotency_key = "k-plain".into();
    plain.details = NoteDetails::default();
    let entry = store.add_note(&plain).await.unwrap();
    let stored = store.outbox_entry(entry.id).await.unwrap();
    for field in ["via", "follow_up", "promise"] {
        assert!(
            stored.payload.get(field).is_none(),
            "{field} in {}",
            stored.payload
        );
    }
    assert_eq!(
        serde_json::from_value::<Note>(stored.payload.clone()).unwrap(),
        plain.note
    );
    assert_eq!(
        serde_json::from_value::<CollectorNote>(stored.payload).unwrap(),
        plain
    );
}

pub(super) async fn dead_letters_are_dropped_audited_and_kept(store: SharedStore) {
    let n = collector_note("k-drop");
    let entry = store.add_note(&n).await.unwrap();
    // Queued twice (a client retry): one entry, and the payload keeps every detail.
    assert_eq!(store.add_note(&n).await.unwrap().id, entry.id);
    let back: CollectorNote = serde_json::from_value(entry.payload.clone()).unwrap();
    assert_eq!(back, n);

    let refused = store.outbox_drop(entry.id, "ana", "why", minute(1)).await;
    assert!(matches!(refused, Err(StoreError::Refused(m)) if m.contains("pending")));
    store
        .outbox_mark_failed(
            entry.id,
            "HTTP 400: no such customer",
            minute(2),
            Some(OutboxStatus::Failed),
        )
        .await
        .unwrap();
    store
        .outbox_drop(entry.id, "ana", "customer merged", minute(3))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(e.status, OutboxStatus::Dropped);
    assert_eq!(e.dropped_by.as_deref(), Some("ana"));
    assert_eq!(e.dropped_at, Some(minute(3)));
    assert_eq!(e.drop_reason.as_deref(), Some("customer merged"));
    assert_eq!(e.last_error.as_deref(), Some("HTTP 400: no such customer"));
    assert!(store.outbox_due(10).await.unwrap().is_empty(), "never sent");
    assert!(store
        .outbox_retry_by(entry.id, "ben", minute(4))
        .await
        .is_err());
    let audit = store.outbox_audit(entry.id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].actor.as_str(),
            audit[0].at
        ),
        ("drop", "ana", minute(3))
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

pub(super) async fn retries_verification_and_requeues_are_recorded(store: SharedStore) {
    let entry = store.add_note(&collector_note("k-verify")).await.unwrap();
    store
        .outbox_mark_failed(entry.id, "timeout", minute(1), Some(OutboxStatus::Dead))
        .await
        .unwrap();
    store
        .outbox_retry_by(entry.id, "ben", minute(2))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!((e.status, e.attempts), (OutboxStatus::Pending, 0));
    assert!(store
        .outbox_mark_verified(entry.id, "ref", minute(3))
        .await
        .is_err());
    store.outbox_mark_sent(entry.id, minute(3)).await.unwrap();
    let key = "A_CustomerText(Customer='0000004711',Language='EN',LongTextID='Z001')";
    store
        .outbox_mark_verified(entry.id, key, minute(4))
        .await
        .unwrap();
    let e = store.outbox_entry(entry.id).await.unwrap();
    assert_eq!(
        (e.erp_ref.as_deref(), e.verified_at),
        (Some(key), Some(minute(4)))
    );
    assert_eq!(store.outbox_sent_after(0, 10).await.unwrap().len(), 1);
    assert!(store
        .outbox_sent_after(entry.id, 10)
        .await
        .unwrap()
        .is_empty());

    store
        .outbox_requeue(entry.id, "read-back: not in the text", minute(5))
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
            .outbox_requeue(entry.id, "again", minute(6))
            .await
            .is_err(),
        "only sent ones"
    );
}

/// The desk's reads: a customer's notes with their outbox state, a collector's customers
/// by accounting clerk, and the contracts of sources no longer configured retired.
pub(super) async fn what_the_desk_reads_of_notes_clerks_and_contract_sources(store: SharedStore) {
    // Notes, newest first, each with its entry's state and SAP's message.
    let older = store
        .add_note(&without_details(&note("n-1", at(-2))))
        .await
        .unwrap();
    let newer = store
        .add_note(&without_details(&note("n-2", at(-1))))
        .await
        .unwrap();
    store.outbox_mark_sent(older.id, at(-1)).await.unwrap();
    store
        .outbox_mark_failed(
            newer.id,
            "Text ID ZCOL unknown",
            at(0),
            Some(OutboxStatus::Failed),
        )
        .await
        .unwrap();
    let notes = store.notes_with_status(&cid("4711"), 10).await.unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].outbox_id, Some(newer.id));
    assert_eq!(notes[0].status, Some(OutboxStatus::Failed));
    assert_eq!(notes[0].last_error.as_deref(), Some("Text ID ZCOL unknown"));
    assert_eq!(notes[1].status, Some(OutboxStatus::Sent));
    assert_eq!(notes[1].sent_at, Some(at(-1)));
    assert_eq!(
        notes[1].item,
        Some(OpenItemKey::parse("1010/2026/1800000012/1").unwrap())
    );
    assert_eq!(
        store
            .notes_with_status(&cid("4711"), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .notes_with_status(&cid("4712"), 10)
        .await
        .unwrap()
        .is_empty());

    // Customers by accounting clerk.
    let now = at(0);
    store
        .upsert_customers(
            &[
                general("100", "A"),
                general("200", "B"),
                general("300", "C"),
            ],
            now,
        )
        .await
        .unwrap();
    let clerk = |id: &str, cc: &str, c: &str| CompanyCodeData {
        accounting_clerk: Some(c.to_string()),
        ..company(id, cc, Some("NT30"))
    };
    store
        .upsert_company_codes(
            &[
                clerk("100", "1010", "01"),
                clerk("100", "1710", "02"),
                clerk("200", "1010", "02"),
                clerk("300", "1010", "03"),
            ],
            now,
        )
        .await
        .unwrap();
    let mine = store
        .customers_of_clerks(&["02".to_string(), "09".to_string()])
        .await
        .unwrap();
    assert_eq!(mine, vec![cid("100"), cid("200")]);
    assert!(store.customers_of_clerks(&[]).await.unwrap().is_empty());

    // Contracts of sources no longer configured end; the configured ones stay.
    store
        .upsert_contracts(
            &[
                contract("K-1", "100", "clm"),
                contract("K-1", "100", "/srv/erpsync/contracts.csv"),
                contract("K-2", "200", "erp"),
            ],
            now,
        )
        .await
        .unwrap();
    let ended = store
        .retire_contracts_of_other_sources(&["clm".to_string(), "erp".to_string()], at(1))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let mut left: Vec<(String, String)> = store
        .contracts_for(&[cid("100"), cid("200")])
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.source, c.id))
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec![("clm".into(), "K-1".into()), ("erp".into(), "K-2".into())]
    );
}
