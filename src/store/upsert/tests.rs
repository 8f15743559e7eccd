use super::*;
use crate::model::open_item::AppliedTerms;
use crate::model::{CustomerGeneral, CustomerId, OpenItem, OpenItemKey};
use crate::store::{MasterStore, ReconcileStore, Store};
use chrono::TimeZone;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, minute, 0).unwrap()
}

fn customer(id: &str, name: &str) -> CustomerGeneral {
    CustomerGeneral {
        customer: CustomerId::parse(id).unwrap(),
        name: name.into(),
        address: None,
        deletion_flag: false,
        posting_block: false,
        last_changed: Some(at(0)),
    }
}

/// An open item of customer 1, for the store's unit tests.
pub(in crate::store) fn item(doc: &str) -> OpenItem {
    let date = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    OpenItem {
        key: OpenItemKey {
            company_code: "1010".into(),
            fiscal_year: "2026".into(),
            document: doc.into(),
            item: "001".into(),
        },
        customer: CustomerId::parse("1").unwrap(),
        document_date: date,
        posting_date: date,
        baseline_date: date,
        payment_terms: Some("NT30".into()),
        applied: AppliedTerms {
            discount1_days: Some(10),
            discount1_percent: Some(Decimal::new(2000, 3)),
            discount2_days: None,
            discount2_percent: None,
            net_days: Some(30),
        },
        net_due_date: date.checked_add_days(chrono::Days::new(30)),
        amount: Decimal::new(-125050, 2),
        currency: "EUR".into(),
        dunning_level: Some(1),
        dunning_block: None,
        dispute_case: None,
    }
}

/// A second batch with one changed and one unchanged customer, and the same for items:
/// the unchanged customer keeps its row (its `seen_at` stays, nothing is queued), the
/// changed one is written; every item seen takes the pull's stamp, since it decides
/// what a complete pull clears. Returns the customers' and the items' `seen_at`.
async fn unchanged_rows_are_left_alone<D: Dialect>(store: &SqlStore<D>)
where
    SqlStore<D>: Store,
    for<'c> &'c mut Conn<D>: sqlx::Executor<'c, Database = D::DB>,
    for<'q> <D::DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, D::DB>,
    for<'n> &'n str: sqlx::ColumnIndex<<D::DB as sqlx::Database>::Row>,
    usize: sqlx::ColumnIndex<<D::DB as sqlx::Database>::Row>,
    D::Stamp: Col<D::DB> + Unpin,
{
    store.migrate().await.unwrap();
    let customers = [customer("1", "A"), customer("2", "B")];
    store.upsert_customers(&customers, at(1)).await.unwrap();
    let items = [item("0100000001"), item("0100000002")];
    store.upsert_open_items(&items, at(1)).await.unwrap();
    let queued = store.reconcile_queue().await.unwrap();
    store.dequeue_reconciled(&queued).await.unwrap();

    let mut changed = customer("2", "B renamed");
    changed.posting_block = true;
    store
        .upsert_customers(&[customer("1", "A"), changed], at(2))
        .await
        .unwrap();
    let mut moved = item("0100000002");
    moved.amount = Decimal::new(-99, 0);
    store
        .upsert_open_items(&[item("0100000001"), moved], at(2))
        .await
        .unwrap();

    let seen = |table: &'static str, key: &'static str| {
        let sql = format!("SELECT seen_at FROM {table} ORDER BY {key}");
        async move {
            sqlx::query_scalar::<D::DB, D::Stamp>(&sql)
                .fetch_all(store.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|s| D::stamp_back(s).unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seen("customers", "customer").await, [at(1), at(2)]);
    assert_eq!(seen("open_items", "document").await, [at(2), at(2)]);
    let back = store
        .customer(&CustomerId::parse("2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (back.general.name.as_str(), back.general.posting_block),
        ("B renamed", true)
    );
    let items = store
        .open_items_for(&[CustomerId::parse("1").unwrap()])
        .await
        .unwrap();
    assert_eq!(items[1].amount, Decimal::new(-99, 0));
    assert_eq!(items[0], item("0100000001"));
    // Only the changes queue customers: the renamed customer's blocking, the item's
    // amount (both of customer 1 and 2 here).
    let queued: Vec<String> = store
        .reconcile_queue()
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.customer.as_str().to_string())
        .collect();
    assert_eq!(queued, ["0000000001", "0000000002"]);
    store
        .dequeue_reconciled(&store.reconcile_queue().await.unwrap())
        .await
        .unwrap();
    // The same batch once more: nothing changed, nothing queued.
    store
        .upsert_customers(&[customer("1", "A")], at(3))
        .await
        .unwrap();
    assert!(store.reconcile_queue().await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_leaves_unchanged_rows_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = crate::store::open_sqlite(&url).await.unwrap();
    unchanged_rows_are_left_alone(&store).await;
}

/// Runs where `ERPSYNC_TEST_POSTGRES_URL` names a server (in a schema of its own).
#[tokio::test]
async fn postgres_set_writes_leave_unchanged_rows_alone() {
    let Ok(url) = std::env::var("ERPSYNC_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = format!("erpsync_upsert_{}", uuid::Uuid::new_v4().simple());
    let admin = crate::store::open_postgres(&url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin.pool())
        .await
        .unwrap();
    let store = crate::store::open_postgres_in_schema(&url, &schema)
        .await
        .unwrap();
    unchanged_rows_are_left_alone(&store).await;
    store.pool().close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await
        .unwrap();
}

#[test]
fn set_statements_bind_one_array_per_data_column_and_skip_unchanged_rows() {
    let kinds = [Kind::Text, Kind::Text, Kind::Amount, Kind::Text];
    let sql = CREDIT_LIMITS.set_sql(&kinds);
    assert_eq!(
        sql,
        "INSERT INTO customer_credit (customer, segment, amount, currency, seen_at) \
         SELECT u.customer, u.segment, u.amount::numeric, u.currency, $5 \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) \
         AS u(customer, segment, amount, currency) \
         ON CONFLICT (customer, segment) DO UPDATE SET amount = excluded.amount, \
         currency = excluded.currency, seen_at = excluded.seen_at \
         WHERE customer_credit.amount IS DISTINCT FROM excluded.amount \
         OR customer_credit.currency IS DISTINCT FROM excluded.currency"
    );
    // Items: every row seen is stamped (no WHERE), and an item seen again is open again;
    // each row's digest is written last.
    let sql = OPEN_ITEMS.sql(|_| "?".into(), 1);
    assert!(
        sql.ends_with(
            "cleared_at = excluded.cleared_at, digest_hi = excluded.digest_hi, \
             digest_lo = excluded.digest_lo"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("seen_at, cleared_at, digest_hi, digest_lo) VALUES"),
        "{sql}"
    );
    // Items as a pull writes them: unchanged open ones are skipped, a cleared one seen
    // again is written (open again), and so is one stored without its digest.
    let sql = OPEN_ITEMS_PULLED.sql(|_| "?".into(), 1);
    assert!(
        sql.ends_with(
            "open_items.dispute_case IS DISTINCT FROM excluded.dispute_case \
             OR open_items.cleared_at IS NOT NULL \
             OR open_items.digest_hi IS DISTINCT FROM excluded.digest_hi \
             OR open_items.digest_lo IS DISTINCT FROM excluded.digest_lo"
        ),
        "{sql}"
    );
    let kinds = [
        [Kind::Text; 5].as_slice(),
        &[Kind::Date; 3],
        &[Kind::Text; 12],
        &[Kind::Int; 2],
    ]
    .concat();
    let sql = OPEN_ITEMS_PULLED.set_sql(&kinds);
    assert!(
        sql.contains("dispute_case, digest_hi, digest_lo, seen_at, cleared_at) SELECT"),
        "{sql}"
    );
    assert!(
        sql.contains("u.digest_hi::bigint, u.digest_lo::bigint, $23, NULL FROM UNNEST("),
        "{sql}"
    );
    assert!(sql.contains("$22::text[]) AS u("), "{sql}");
    assert!(
        sql.contains("WHERE open_items.customer IS DISTINCT FROM"),
        "{sql}"
    );
}
