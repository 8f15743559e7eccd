//! Set writes against row writes: PostgreSQL writes flags, their audit entries and pulled open
//! items as sets (one statement over arrays per batch), SQLite row by row or in multi-row
//! `VALUES`. The same steps must leave the same flags and audit entries in both. And a pull
//! of unchanged open items leaves their rows alone, yet still marks cleared an item that is
//! no longer in the ERP.

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use erpsync::model::{
    CustomerId, Discrepancy, DiscrepancyStatus, Exposure, Finding, Rule, Severity, StatusChange,
};
use erpsync::store::{DiscrepancyFilter, FindingsReport, SharedStore};
use rust_decimal::Decimal;
use std::str::FromStr;

mod common;

use common::ErpsyncToml;

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
        + Duration::microseconds(654_321)
        + Duration::hours(hours)
}

fn finding(rule: Rule, customer: &str, scope: &str, amount: &str) -> Finding {
    Finding {
        rule,
        severity: Severity::High,
        customer: CustomerId::parse(customer).unwrap(),
        scope: scope.parse().unwrap(),
        field: "payment_terms".into(),
        contract_id: Some("C-1".into()),
        contract_value: "NT30".into(),
        master_value: "NT60".into(),
        explanation: "master gives 30 days more, \"quoted\" & 'so'".into(),
        exposure: Exposure {
            amount: Decimal::from_str(amount).unwrap(),
            currency: "EUR".into(),
            items: 3,
            days: 30,
            ..Exposure::default()
        }
        .priced(Decimal::from_str("0.0730").unwrap()),
    }
}

/// Every flag (by id) with its audit log, and the reports of the steps.
type Dump = (
    Vec<(Discrepancy, Vec<StatusChange>)>,
    Vec<FindingsReport>,
    Vec<u64>,
);

/// Every path of recording findings: new flags (many, across set chunks), unchanged ones,
/// changed ones, closed and reopened ones, a waiver kept and one reopened by new facts.
async fn lifecycle(store: SharedStore) -> Dump {
    use DiscrepancyStatus::*;
    let mut reports = Vec::new();
    let mut closed = Vec::new();
    // Enough new flags for more than one set statement (5,000 rows each).
    let many: Vec<Finding> = (0..6_100)
        .map(|i| {
            let scope = match i % 4 {
                0 => "CC 1010".to_string(),
                1 => "SA 1010/10/00".to_string(),
                2 => format!("contract C-{i}"),
                _ => "customer".to_string(),
            };
            finding(
                Rule::PaymentTermsCompanyCode,
                &format!("{}", 1000 + i),
                &scope,
                &format!("{i}.50"),
            )
        })
        .collect();
    reports.push(store.record_findings(&many, at(0)).await.unwrap());
    // The same once more: every flag unchanged.
    reports.push(store.record_findings(&many, at(1)).await.unwrap());
    let ids: Vec<i64> = {
        let mut all: Vec<i64> = store
            .list_discrepancies(&DiscrepancyFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        all.sort_unstable();
        all
    };
    // A reviewer waives two flags and resolves another.
    for (i, to) in [(1, Waived), (5, Waived), (3, Resolved)] {
        store
            .change_status(ids[i], to, "ana", Some("fine"), None, at(2))
            .await
            .unwrap();
    }
    // The next run: the odd half of the flags is not found again (closed), one flag has
    // another amount, a waived one comes with the same facts (stays waived), another waived
    // one with new facts and the resolved one again (both reopened), one is new.
    let mut next: Vec<Finding> = many.iter().step_by(2).cloned().collect();
    next[0].exposure.amount = Decimal::from_str("-17.25").unwrap();
    next[0].explanation = "changed".into();
    next.push(many[1].clone());
    let mut new_facts = many[5].clone();
    new_facts.master_value = "Z215".into();
    next.push(new_facts);
    next.push(many[3].clone());
    next.push(finding(
        Rule::PaymentTermsCompanyCode,
        "99999",
        "credit",
        "1",
    ));
    // A finding twice in one batch: the first speaks for the flag.
    next.push(finding(
        Rule::PaymentTermsCompanyCode,
        "99999",
        "credit",
        "2",
    ));
    reports.push(store.record_findings(&next, at(3)).await.unwrap());
    closed.push(
        store
            .close_unseen_findings(&[Rule::PaymentTermsCompanyCode], at(3))
            .await
            .unwrap(),
    );
    // The closed ones come back.
    reports.push(store.record_findings(&many, at(4)).await.unwrap());
    closed.push(
        store
            .close_unseen_findings(&[Rule::PaymentTermsCompanyCode], at(4))
            .await
            .unwrap(),
    );
    let mut flags = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    flags.sort_by_key(|d| d.id);
    let mut dump = Vec::new();
    for d in flags {
        let log = store.audit_log(d.id).await.unwrap();
        dump.push((d, log));
    }
    (dump, reports, closed)
}

#[tokio::test]
async fn flags_and_audit_entries_written_as_sets_equal_the_row_writes() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = common::sqlite_store(dir.path(), "rows.db").await;
    let (rows, reports, closed) = lifecycle(sqlite).await;
    assert_eq!(
        reports,
        [
            FindingsReport {
                new: 6_100,
                ..Default::default()
            },
            FindingsReport {
                still_open: 6_100,
                ..Default::default()
            },
            FindingsReport {
                new: 1,
                reopened: 2,
                still_open: 3_050 + 1,
            },
            FindingsReport {
                reopened: 3_050 - 3,
                still_open: 3_050 + 3,
                ..Default::default()
            },
        ]
    );
    assert_eq!(closed, [3_050 - 3, 1]);
    let audits: usize = rows.iter().map(|(_, log)| log.len()).sum();
    assert!(audits > 6_100 + 3_050 * 2, "{audits}");

    let mut set = None;
    common::postgres::with_store(
        "flags_and_audit_entries_written_as_sets_equal_the_row_writes",
        "erpsync_sets",
        |store| async {
            set = Some(lifecycle(store).await);
        },
    )
    .await;
    let Some((set_rows, set_reports, set_closed)) = set else {
        return;
    };
    assert_eq!(set_reports, reports);
    assert_eq!(set_closed, closed);
    assert_eq!(set_rows.len(), rows.len());
    for (pg, sqlite) in set_rows.iter().zip(&rows) {
        assert_eq!(pg, sqlite);
    }
}

/// (key, seen_at, cleared_at) of every open item, as text, and on PostgreSQL each row's
/// version (`xmin`): a row written again has another.
async fn item_rows(url: &str) -> Vec<(String, String, Option<String>, String)> {
    use sqlx::Row;
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let rows = sqlx::query(
            "SELECT company_code || '/' || fiscal_year || '/' || document || '/' || item AS k, \
             seen_at, cleared_at FROM open_items ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), String::new()))
            .collect()
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows = sqlx::query(
            "SELECT company_code || '/' || fiscal_year || '/' || document || '/' || item AS k, \
             seen_at::text, cleared_at::text, xmin::text FROM open_items ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }
}

/// Syncs the open items twice over unchanged data, then once after the ERP cleared one.
async fn resync_leaves_unchanged_items_alone(url: &str, dir: &std::path::Path) {
    let mock = common::mock::start(erpsync::mock_erp::MockErpConfig {
        customers: 60,
        open_items: 600,
        ..Default::default()
    })
    .await;
    common::mock::write_files(dir, &mock, common::MAPPING, common::PASSWORD_FILE);
    let config = ErpsyncToml::with_store(url)
        .sap(&mock.base_url(), "10s", 1, common::PASSWORD_FILE)
        .load_in(dir);
    let (first, store) = common::sync_and_reconcile(config.clone()).await;
    let pulled = first.pulled["open_items"];
    assert!(pulled > 100, "{pulled}");
    let before = item_rows(url).await;
    assert_eq!(before.len() as u64, pulled);
    assert!(before.iter().all(|(_, _, cleared, _)| cleared.is_none()));
    let flags = common::open_findings(store.as_ref()).await;

    let (again, _) = common::sync_and_reconcile(config.clone()).await;
    assert_eq!(again.pulled["open_items"], pulled);
    assert_eq!(again.retired.get("open_items").copied().unwrap_or(0), 0);
    assert_eq!(
        item_rows(url).await,
        before,
        "an unchanged pull wrote items"
    );
    assert_eq!(common::open_findings(store.as_ref()).await, flags);
    // Judged again in full, every flag is found as it is stored: only its last_seen moves
    // (a finding that reads back different would take the row-by-row update instead).
    let now = chrono::Utc::now();
    let settings = erpsync::reconcile::RuleSettings::default();
    let report =
        erpsync::sync::reconcile_run::run_full(store.as_ref(), &settings, now.date_naive(), now)
            .await
            .unwrap();
    assert_eq!((report.new, report.reopened, report.closed), (0, 0, 0));
    let stored = store
        .list_discrepancies(&DiscrepancyFilter::default())
        .await
        .unwrap();
    assert!(!stored.is_empty());
    for d in &stored {
        assert_eq!(d.updated_at, d.first_seen, "{d:?}");
        assert_eq!(d.last_seen, now.trunc_subsecs(6), "{d:?}");
    }

    // The ERP clears one customer item: the next full pull marks it cleared, and only it.
    let row = mock
        .dataset()
        .open_items
        .iter()
        .position(|i| i.account_type == b'D' && !i.is_cleared)
        .unwrap();
    mock.clear_open_item(row, chrono::Utc::now().date_naive());
    let (third, _) = common::sync_and_reconcile(config).await;
    assert_eq!(third.pulled["open_items"], pulled - 1);
    assert_eq!(third.retired["open_items"], 1);
    let after = item_rows(url).await;
    assert_eq!(after.len(), before.len());
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(old, new)| old != new)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    let (old, new) = changed[0];
    assert_eq!(
        (&new.0, &new.1),
        (&old.0, &old.1),
        "the same item, seen when it was"
    );
    assert!(new.2.is_some(), "{} not marked cleared", new.0);
    mock.shutdown().await;
}

#[tokio::test]
async fn an_unchanged_resync_writes_no_items_yet_retires_a_cleared_one_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("items.db").display());
    resync_leaves_unchanged_items_alone(&url, dir.path()).await;
}

#[tokio::test]
async fn an_unchanged_resync_writes_no_items_yet_retires_a_cleared_one_postgres() {
    let test = "an_unchanged_resync_writes_no_items_yet_retires_a_cleared_one_postgres";
    let Some(schema) = common::postgres::PgSchema::create(test, "erpsync_resync").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    resync_leaves_unchanged_items_alone(&schema.url(), dir.path()).await;
    schema.drop().await;
}

fn item(doc: &str, amount: &str) -> erpsync::model::OpenItem {
    use erpsync::model::open_item::AppliedTerms;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    erpsync::model::OpenItem {
        key: erpsync::model::OpenItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            document: doc.to_string(),
            item: "1".into(),
        },
        customer: CustomerId::parse("4711").unwrap(),
        document_date: day,
        posting_date: day,
        baseline_date: day,
        payment_terms: Some("Z215".into()),
        applied: AppliedTerms {
            discount1_days: Some(10),
            discount1_percent: Some(Decimal::from_str("2.000").unwrap()),
            discount2_days: None,
            discount2_percent: None,
            net_days: Some(30),
        },
        net_due_date: day.checked_add_days(chrono::Days::new(30)),
        amount: Decimal::from_str(amount).unwrap(),
        currency: "EUR".into(),
        dunning_level: Some(2),
        dunning_block: None,
        dispute_case: None,
    }
}

/// A full pull's keys decide what it clears: an item not read is cleared, one read unchanged
/// is left as it was, one changed is written; a cleared item read again is open again; an
/// item another writer stored after the pull began is not cleared; a pull that is not full
/// clears only the removals it was told of.
async fn pulls_clear_by_the_keys_they_read(store: SharedStore) {
    use erpsync::store::cursors::SeenKeys;
    let open_docs = |store: SharedStore| async move {
        store
            .open_items_for(&[CustomerId::parse("4711").unwrap()])
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.key.document.clone(), i.amount.to_string()))
            .collect::<Vec<_>>()
    };
    let all = [item("1", "10.00"), item("2", "20.00"), item("3", "30.00")];
    store.write_pulled_open_items(&all, at(0)).await.unwrap();
    // A full pull reads 1 unchanged and 3 changed, both in its last batch; not 2.
    let mut seen = SeenKeys::default();
    let cleared = store
        .finish_open_items_pull(
            &[all[0].clone(), item("3", "31.00")],
            &[],
            at(1),
            Some(&mut seen),
            Some(("open_items.test", "c1")),
        )
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    assert_eq!(
        open_docs(store.clone()).await,
        [("1".into(), "10.00".into()), ("3".into(), "31.00".into())]
    );
    assert_eq!(
        store
            .get_cursor("open_items.test")
            .await
            .unwrap()
            .as_deref(),
        Some("c1")
    );
    // 2 comes back unchanged: open again. 4 is stored by another writer meanwhile.
    store
        .write_pulled_open_items(&[item("2", "20.00")], at(2))
        .await
        .unwrap();
    store
        .upsert_open_items(&[item("4", "40.00")], at(3))
        .await
        .unwrap();
    assert_eq!(open_docs(store.clone()).await.len(), 4);
    // A full pull that began when 4 was stored and read only 2: 1 and 3 are cleared.
    let mut seen = SeenKeys::default();
    seen.add(&all[1].key);
    let cleared = store
        .finish_open_items_pull(&[], &[], at(3), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, 2);
    assert_eq!(
        open_docs(store.clone()).await,
        [("2".into(), "20.00".into()), ("4".into(), "40.00".into())]
    );
    // Not full: only the removal it was told of.
    let cleared = store
        .finish_open_items_pull(&[], &[item("4", "0").key], at(4), None, None)
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    assert_eq!(
        open_docs(store.clone()).await,
        [("2".into(), "20.00".into())]
    );
}

#[tokio::test]
async fn pulls_clear_by_the_keys_they_read_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "keys.db").await;
    pulls_clear_by_the_keys_they_read(store).await;
}

#[tokio::test]
async fn pulls_clear_by_the_keys_they_read_postgres() {
    common::postgres::with_store(
        "pulls_clear_by_the_keys_they_read_postgres",
        "erpsync_keys",
        pulls_clear_by_the_keys_they_read,
    )
    .await;
}

/// More candidates than one read of their keys holds: items not read are found in every
/// chunk, at its edges too.
async fn clearing_reads_the_candidates_in_chunks(store: SharedStore) {
    use erpsync::store::cursors::SeenKeys;
    let items: Vec<_> = (0..120_003)
        .map(|i| item(&format!("{i}"), "1.00"))
        .collect();
    for batch in items.chunks(20_000) {
        store.write_pulled_open_items(batch, at(0)).await.unwrap();
    }
    // Key order is text order: "0", "1", "10", "100", … The ones not read are spread over
    // the chunks and sit at their edges.
    let mut sorted: Vec<&str> = items.iter().map(|i| i.key.document.as_str()).collect();
    sorted.sort_unstable();
    let unread: Vec<&str> = [0, 1, 49_999, 50_000, 50_001, 99_999, 100_000, 120_002]
        .iter()
        .map(|&i| sorted[i])
        .collect();
    let mut seen = SeenKeys::default();
    for i in &items {
        if !unread.contains(&i.key.document.as_str()) {
            seen.add(&i.key);
        }
    }
    // What a full pull beginning now finds stored: every item, over every chunk; and only
    // the items changed since are to be written.
    let mut stored = store.stored_open_items(at(1)).await.unwrap();
    assert_eq!(stored.len(), items.len());
    let mut pulled = items.clone();
    for &i in &[0, 49_999, 50_000, 120_002] {
        pulled[i].amount += Decimal::ONE;
    }
    let changed = stored.changed(pulled);
    let docs: Vec<&str> = changed.iter().map(|i| i.key.document.as_str()).collect();
    assert_eq!(docs, ["0", "49999", "50000", "120002"]);
    assert_eq!(stored.skipped(), items.len() as u64 - 4);

    let cleared = store
        .finish_open_items_pull(&[], &[], at(1), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, unread.len() as u64);
    // Cleared items are not stored open: seen again, they are written (open again).
    let mut stored = store.stored_open_items(at(2)).await.unwrap();
    assert_eq!(stored.len(), items.len() - unread.len());
    let again: Vec<_> = items
        .iter()
        .filter(|i| unread.contains(&i.key.document.as_str()))
        .cloned()
        .collect();
    assert_eq!(stored.changed(again).len(), unread.len());
    let open = store
        .open_items_for(&[CustomerId::parse("4711").unwrap()])
        .await
        .unwrap();
    assert_eq!(open.len(), items.len() - unread.len());
    assert!(open
        .iter()
        .all(|i| !unread.contains(&i.key.document.as_str())));
}

#[tokio::test]
async fn clearing_reads_the_candidates_in_chunks_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "chunks.db").await;
    clearing_reads_the_candidates_in_chunks(store).await;
}

#[tokio::test]
async fn clearing_reads_the_candidates_in_chunks_postgres() {
    common::postgres::with_store(
        "clearing_reads_the_candidates_in_chunks_postgres",
        "erpsync_chunks",
        clearing_reads_the_candidates_in_chunks,
    )
    .await;
}

/// A full pull's end compares what it left unwritten with the stored items it found as
/// they are: when they are the same (as many, same digests), nothing is cleared and no key
/// is read; otherwise the keys decide, as before: an item the ERP no longer lists is
/// cleared, however the counts fall.
async fn found_items_end_a_pull_without_reading_keys(store: SharedStore) {
    use erpsync::store::cursors::SeenKeys;
    use erpsync::store::unchanged::Found;
    let items: Vec<_> = (1..=3).map(|i| item(&i.to_string(), "1.00")).collect();
    let open = |store: SharedStore| async move {
        let open = store
            .open_items_for(&[CustomerId::parse("4711").unwrap()])
            .await
            .unwrap();
        open.into_iter().map(|i| i.key.document).collect::<Vec<_>>()
    };
    store.write_pulled_open_items(&items, at(0)).await.unwrap();
    let read = |docs: &[&str]| {
        let mut seen = SeenKeys::default();
        for i in items
            .iter()
            .filter(|i| docs.contains(&i.key.document.as_str()))
        {
            seen.add(&i.key);
        }
        seen
    };

    // Every stored item read as it is: found, all three.
    let mut stored = store.stored_open_items(at(1)).await.unwrap();
    assert!(stored.changed(items.clone()).is_empty());
    let all = stored.found();
    assert_eq!(all.rows, 3);
    // The end trusts what was found and reads no key: shown here by keys that leave "3"
    // out, which a read of the keys would clear.
    let mut seen = read(&["1", "2"]);
    seen.found_stored(all);
    let cleared = store
        .finish_open_items_pull(&[], &[], at(1), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, 0);
    assert_eq!(open(store.clone()).await, ["1", "2", "3"]);

    // As many found, but digests that are not those of what is left: the keys decide.
    let mut seen = read(&["1", "2"]);
    seen.found_stored(Found {
        rows: all.rows,
        sum: all.sum + 1,
    });
    let cleared = store
        .finish_open_items_pull(&[], &[], at(1), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    assert_eq!(open(store.clone()).await, ["1", "2"]);

    // The ERP no longer lists "2": the pull finds only "1" as stored, and clears "2".
    let mut stored = store.stored_open_items(at(2)).await.unwrap();
    assert!(stored.changed(vec![items[0].clone()]).is_empty());
    let mut seen = read(&["1"]);
    seen.found_stored(stored.found());
    let cleared = store
        .finish_open_items_pull(&[], &[], at(2), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, 1);
    assert_eq!(open(store.clone()).await, ["1"]);

    // A changed item written at the end leaves nothing unwritten but what was found.
    let mut stored = store.stored_open_items(at(3)).await.unwrap();
    let mut changed = items[0].clone();
    changed.amount += Decimal::ONE;
    let last = stored.changed(vec![changed]);
    assert_eq!(last.len(), 1);
    let mut seen = read(&["1"]);
    seen.found_stored(stored.found());
    let cleared = store
        .finish_open_items_pull(&last, &[], at(3), Some(&mut seen), None)
        .await
        .unwrap();
    assert_eq!(cleared, 0);
    assert_eq!(open(store.clone()).await, ["1"]);
}

#[tokio::test]
async fn found_items_end_a_pull_without_reading_keys_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "found.db").await;
    found_items_end_a_pull_without_reading_keys(store).await;
}

#[tokio::test]
async fn found_items_end_a_pull_without_reading_keys_postgres() {
    common::postgres::with_store(
        "found_items_end_a_pull_without_reading_keys_postgres",
        "erpsync_found",
        found_items_end_a_pull_without_reading_keys,
    )
    .await;
}

/// Items read back from the store are told apart exactly: every kind of value (absent,
/// empty, non-ASCII, negative, another scale) written and read back counts as unchanged,
/// any change in any one of them as changed; an item written since the pull began is not
/// among what it found stored.
async fn stored_items_match_what_was_written(store: SharedStore, url: &str) {
    let mut odd = item("2", "-0.50");
    odd.payment_terms = None;
    odd.applied = Default::default();
    odd.net_due_date = None;
    odd.dunning_level = None;
    odd.dunning_block = Some(String::new());
    odd.dispute_case = Some("Streitfall «Größe» 争议 \u{1}".into());
    odd.currency = "JPY".into();
    let mut big = item("3", "123456789012345.678901");
    big.applied.discount1_percent = Some(Decimal::from_str("2.5").unwrap());
    big.key.item = "001".into();
    let all = vec![
        item("1", "10.00"),
        odd.clone(),
        big.clone(),
        item("4", "4.00"),
    ];
    store
        .write_pulled_open_items(&all[..3], at(0))
        .await
        .unwrap();
    // Every writer of the table keeps the digest (here: the one IDocs and seeds use).
    store.upsert_open_items(&all[3..], at(0)).await.unwrap();

    let mut stored = store.stored_open_items(at(1)).await.unwrap();
    assert_eq!(stored.len(), 4);
    let differ: Vec<_> = stored
        .changed(all.clone())
        .into_iter()
        .map(|i| i.key.document)
        .collect();
    assert!(differ.is_empty(), "read back, nothing differs: {differ:?}");

    type Change = fn(&mut erpsync::model::OpenItem);
    let changes: [(&str, Change); 12] = [
        ("amount scale", |i| {
            i.amount = Decimal::from_str("10.0").unwrap()
        }),
        ("customer", |i| {
            i.customer = CustomerId::parse("4712").unwrap()
        }),
        ("document date", |i| {
            i.document_date = i.document_date.succ_opt().unwrap()
        }),
        ("posting date", |i| {
            i.posting_date = i.posting_date.succ_opt().unwrap()
        }),
        ("baseline date", |i| {
            i.baseline_date = i.baseline_date.succ_opt().unwrap()
        }),
        ("terms absent", |i| i.payment_terms = None),
        ("discount days", |i| i.applied.discount1_days = Some(11)),
        ("net due absent", |i| i.net_due_date = None),
        ("currency", |i| i.currency = "USD".into()),
        ("dunning level", |i| i.dunning_level = Some(3)),
        ("dunning block", |i| i.dunning_block = Some("A".into())),
        ("dispute case", |i| i.dispute_case = Some("".into())),
    ];
    for (what, change) in changes {
        let mut stored = store.stored_open_items(at(1)).await.unwrap();
        let mut one = all[0].clone();
        change(&mut one);
        assert_eq!(stored.changed(vec![one]).len(), 1, "{what}");
    }
    // Written after the pull began (by another writer): not among what it found stored.
    assert_eq!(store.stored_open_items(at(0)).await.unwrap().len(), 0);

    // An item stored without a digest (before they were kept) is not taken as stored; the
    // pull writes it although its data is the same, and it has its digest from then on.
    exec(
        url,
        "UPDATE open_items SET digest_hi = NULL, digest_lo = NULL WHERE document = '1'",
    )
    .await;
    let mut stored = store.stored_open_items(at(1)).await.unwrap();
    assert_eq!(stored.len(), 3);
    let to_write = stored.changed(all.clone());
    assert_eq!(to_write.len(), 1);
    store
        .write_pulled_open_items(&to_write, at(1))
        .await
        .unwrap();
    let mut stored = store.stored_open_items(at(2)).await.unwrap();
    assert!(stored.changed(all.clone()).is_empty());
}

/// Runs one statement on the store at `url`, outside the store.
async fn exec(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn stored_items_match_what_was_written_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path(), "digests.db").await;
    let url = format!("sqlite://{}", dir.path().join("digests.db").display());
    stored_items_match_what_was_written(store, &url).await;
}

#[tokio::test]
async fn stored_items_match_what_was_written_postgres() {
    let test = "stored_items_match_what_was_written_postgres";
    let Some(schema) = common::postgres::PgSchema::create(test, "erpsync_digests").await else {
        return;
    };
    let store = schema.store().await;
    let pool = store.pool().clone();
    stored_items_match_what_was_written(std::sync::Arc::new(store), &schema.url()).await;
    pool.close().await;
    schema.drop().await;
}
