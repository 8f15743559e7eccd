//! The queue store itself, on SQLite and PostgreSQL: filters, paging by key, totals.

use super::common::postgres;
use erpsync::model::{
    CustomerGeneral, CustomerId, DiscrepancyStatus, Exposure, Finding, Rule, Severity,
};
use erpsync::store::queue::QueueCursor;
use erpsync::store::DiscrepancyFilter;
use erpsync::store::SharedStore;
use rust_decimal::Decimal;
use std::time::{Duration, Instant};

fn finding(i: usize, customers: usize) -> Finding {
    let k = i / customers;
    Finding {
        rule: Rule::ALL[k % 5],
        severity: [Severity::Low, Severity::Medium, Severity::High][i % 3],
        customer: CustomerId::parse(&format!("{:010}", 100_000 + i % customers)).unwrap(),
        scope: if k < 5 { "CC 1010" } else { "SA 2020/10/00" }
            .parse()
            .unwrap(),
        field: "payment_terms".into(),
        contract_id: Some(format!("K{i}")),
        contract_value: "NT30".into(),
        master_value: "NT60".into(),
        explanation: "due 30 days later than agreed".into(),
        // Many equal amounts: the keyset must break ties by id without losing rows.
        exposure: Exposure {
            amount: Decimal::from((i % 97) as i64 * 1000),
            currency: "EUR".into(),
            items: 1,
            days: 30,
            ..Exposure::default()
        },
    }
}

/// Fills `store` with `n` flags over `customers` customers (named, some in Chinese).
async fn fill(store: &SharedStore, n: usize, customers: usize) {
    let now = chrono::Utc::now();
    let general: Vec<CustomerGeneral> = (0..customers)
        .map(|c| CustomerGeneral {
            customer: CustomerId::parse(&format!("{:010}", 100_000 + c)).unwrap(),
            name: if c % 2 == 0 {
                format!("Müller Handel {c}")
            } else {
                format!("上海贸易有限公司 {c}")
            },
            address: None,
            deletion_flag: false,
            posting_block: false,
            last_changed: None,
        })
        .collect();
    store.upsert_customers(&general, now).await.unwrap();
    let all: Vec<Finding> = (0..n).map(|i| finding(i, customers)).collect();
    for chunk in all.chunks(20_000) {
        store.record_findings(chunk, now).await.unwrap();
    }
}

/// Every page in turn; checks each took less than `limit`.
async fn all_pages(
    store: &SharedStore,
    filter: &DiscrepancyFilter,
    size: u32,
    limit: Duration,
) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = None;
    let mut slowest = Duration::ZERO;
    loop {
        let started = Instant::now();
        let page = store.queue_page(filter, after, size).await.unwrap();
        let took = started.elapsed();
        assert!(took < limit, "a page took {took:?} (at {} rows)", ids.len());
        slowest = slowest.max(took);
        ids.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(next) => after = Some(QueueCursor::decode(&next).unwrap()),
            None => {
                eprintln!(
                    "{} rows in pages of {size}: slowest page {slowest:?}",
                    ids.len()
                );
                return ids;
            }
        }
    }
}

async fn check(store: SharedStore, n: usize, customers: usize) {
    fill(&store, n, customers).await;
    let everything = store
        .queue_all(&DiscrepancyFilter::default())
        .await
        .unwrap();
    assert_eq!(everything.len(), n);
    let in_order: Vec<i64> = everything.iter().map(|d| d.id).collect();
    assert!(everything
        .windows(2)
        .all(|w| w[0].finding.exposure.amount >= w[1].finding.exposure.amount));

    // Keyset paging returns the same rows in the same order, each page quickly, also
    // deep into the queue.
    let paged = all_pages(
        &store,
        &DiscrepancyFilter::default(),
        500,
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(paged, in_order);

    let filter = DiscrepancyFilter {
        severity: Some(Severity::High),
        company_code: Some("2020".into()),
        ..Default::default()
    };
    let expected: Vec<i64> = everything
        .iter()
        .filter(|d| {
            d.finding.severity == Severity::High
                && d.finding.scope.to_string().starts_with("SA 2020/")
        })
        .map(|d| d.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        all_pages(&store, &filter, 97, Duration::from_secs(2)).await,
        expected
    );

    // Search: number with or without leading zeros, part of a name in any case or script.
    for (q, customer) in [("100007", "0000100007"), ("0000100007", "0000100007")] {
        let page = store
            .queue_page(
                &DiscrepancyFilter {
                    search: Some(q.into()),
                    ..Default::default()
                },
                None,
                500,
            )
            .await
            .unwrap();
        assert!(!page.items.is_empty());
        assert!(
            page.items
                .iter()
                .all(|d| d.finding.customer.as_str() == customer),
            "{q}"
        );
    }
    for q in ["贸易有限公司 3", "müller handel 2", "MÜLLER"] {
        let page = store
            .queue_page(
                &DiscrepancyFilter {
                    search: Some(q.into()),
                    ..Default::default()
                },
                None,
                50,
            )
            .await
            .unwrap();
        assert!(!page.items.is_empty(), "{q}");
        let ids: Vec<CustomerId> = page
            .items
            .iter()
            .map(|d| d.finding.customer.clone())
            .collect();
        let names = store.customer_names(&ids).await.unwrap();
        assert!(
            names
                .values()
                .all(|n| n.to_lowercase().contains(&q.to_lowercase())),
            "{q}: {names:?}"
        );
    }
    let page = store
        .queue_page(
            &DiscrepancyFilter {
                search: Some("100%".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert!(page.items.is_empty(), "% is a character, not a wildcard");

    // Counts per status ignore the status filter; reassignment is audited.
    let first = &everything[0];
    let now = chrono::Utc::now();
    store
        .change_status(
            first.id,
            DiscrepancyStatus::Acknowledged,
            "mia",
            None,
            None,
            now,
        )
        .await
        .unwrap();
    let moved = store.reassign(first.id, "max", "mia", now).await.unwrap();
    assert_eq!(moved.assignee.as_deref(), Some("max"));
    let audit = store.audit_log(first.id).await.unwrap();
    assert_eq!(
        audit.last().unwrap().note.as_deref(),
        Some("assigned to max")
    );
    assert_eq!(audit.last().unwrap().actor, "mia");
    let counts = store
        .queue_status_counts(&DiscrepancyFilter {
            status: Some(DiscrepancyStatus::Open),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        counts,
        vec![
            (DiscrepancyStatus::Open, n as u64 - 1),
            (DiscrepancyStatus::Acknowledged, 1)
        ]
    );
    let mine = store
        .queue_page(
            &DiscrepancyFilter {
                assignee: Some("max".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        mine.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![first.id]
    );
    assert!(
        store
            .reassign(everything[1].id, "max", "mia", now)
            .await
            .is_err(),
        "open flags have no assignee to change"
    );
    let names = store
        .customer_names(std::slice::from_ref(&first.finding.customer))
        .await
        .unwrap();
    assert!(names[&first.finding.customer].contains(' '));
}

#[tokio::test]
async fn the_queue_pages_100k_flags_by_key_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    check(
        super::common::sqlite_store(dir.path(), "queue.db").await,
        100_000,
        10_000,
    )
    .await;
}

#[tokio::test]
async fn the_queue_pages_by_key_on_postgres() {
    let test = "the_queue_pages_by_key_on_postgres";
    postgres::with_store(test, "erpsync_desk", |store| check(store, 5_000, 500)).await;
}
