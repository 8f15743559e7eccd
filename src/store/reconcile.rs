//! What reconciliation reads and remembers: customers with all their levels and open
//! items in one round trip per page, and the queue of customers whose data changed since
//! a run last judged them (filled by triggers, see migration 0010).

use super::dialect::{sql_impl, Dialect, SqlStore};
use super::packed;
use super::upsert::{Upsert, COMPANY_CODES, CREDIT_LIMITS, CUSTOMERS, OPEN_ITEMS, SALES_AREAS};
use super::{Result, StoreError};
use crate::model::{
    CompanyCodeData, CreditLimit, Customer, CustomerId, OpenItem, Rule, SalesAreaData,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A customer as reconciliation sees it: master data at every level, and open items.
pub type CustomerItems = (Customer, Vec<OpenItem>);

/// Which customers a read covers.
#[derive(Debug, Clone, Copy)]
pub enum CustomerSelection<'a> {
    /// The next `limit` customers after `after`, by number.
    After {
        after: Option<&'a CustomerId>,
        limit: u32,
    },
    /// Exactly these (unknown ones are skipped).
    Ids(&'a [CustomerId]),
}

/// A customer waiting to be judged again, and the version of its queue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedCustomer {
    pub customer: CustomerId,
    pub version: i64,
}

#[async_trait]
pub trait ReconcileStore: Send + Sync {
    /// The selected customers, ordered by number, each with its levels and open items.
    async fn customers_with_items(
        &self,
        selection: CustomerSelection<'_>,
    ) -> Result<Vec<CustomerItems>>;
    /// Brings the database's statistics of what a run reads up to date, where the backend
    /// plans by them (PostgreSQL): right after a first pull (a bulk load) the planner would
    /// otherwise take the tables for the empty ones they were and scan them whole once per
    /// customer. Nothing in SQLite.
    async fn refresh_statistics(&self) -> Result<()>;
    /// Every queued customer with its entry's version.
    async fn reconcile_queue(&self) -> Result<Vec<QueuedCustomer>>;
    /// Removes the entries a run judged, unless they changed again since it read them
    /// (their version moved on): those stay for the next run.
    async fn dequeue_reconciled(&self, judged: &[QueuedCustomer]) -> Result<()>;
    /// [`FindingStore::close_unseen_findings`](super::findings::FindingStore::close_unseen_findings) for these customers only.
    async fn close_unseen_findings_of(
        &self,
        rules: &[Rule],
        customers: &[CustomerId],
        run_at: DateTime<Utc>,
    ) -> Result<u64>;
    /// The fingerprint of the rules, definitions and day the last run judged by.
    async fn reconcile_fingerprint(&self) -> Result<Option<String>>;
    async fn set_reconcile_fingerprint(&self, fingerprint: &str, at: DateTime<Utc>) -> Result<()>;
}

fn pack<D: Dialect>(fields: &[&str]) -> String {
    packed::pack_expr(fields, D::as_text, D::SEP_SQL)
}

type Levels = (
    Vec<CompanyCodeData>,
    Vec<SalesAreaData>,
    Vec<CreditLimit>,
    Vec<OpenItem>,
);

/// A customer's packed levels and items (`[cc, sa, credit, items]`), each sorted as the
/// column-by-column read sorts them.
fn unpack(id: &CustomerId, [cc, sa, credit, items]: &[String; 4]) -> Result<Levels> {
    let mut company_codes = rows(cc, |r| packed::company_code(id, r))?;
    let mut sales_areas = rows(sa, |r| packed::sales_area(id, r))?;
    let mut credit_limits = rows(credit, |r| packed::credit_limit(id, r))?;
    let mut items = rows(items, packed::open_item)?;
    sort_levels(&mut company_codes, &mut sales_areas, &mut credit_limits);
    items.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((company_codes, sales_areas, credit_limits, items))
}

/// The packed rows of one aggregate, decoded.
fn rows<T>(text: &str, decode: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    packed::records(text)?.into_iter().map(decode).collect()
}

/// One order for a customer's levels whichever way they were read.
pub(super) fn sort_levels(
    company_codes: &mut [CompanyCodeData],
    sales_areas: &mut [SalesAreaData],
    credit_limits: &mut [CreditLimit],
) {
    company_codes.sort_by(|a, b| a.company_code.cmp(&b.company_code));
    sales_areas.sort_by_key(|s| s.area.to_string());
    credit_limits.sort_by(|a, b| a.segment.cmp(&b.segment));
}

sql_impl! {
    #[async_trait]
    impl<D> ReconcileStore for SqlStore<D> {
        async fn customers_with_items(
            &self,
            selection: CustomerSelection<'_>,
        ) -> Result<Vec<CustomerItems>> {
            // One row per customer, its levels and items packed into text by the database:
            // the driver's cost is per row and per value, so this is what makes a full run
            // over a million items fast (see packed.rs).
            let agg = |fields: &[&str], table: &str, extra: &str| {
                format!(
                    "coalesce((SELECT {} FROM {table} x WHERE x.customer = c.customer{extra}), '')",
                    D::group_concat(&pack::<D>(fields))
                )
            };
            let level = |t: &Upsert| agg(t.level_cols(), t.table, "");
            let columns = format!(
                "{}, {} AS cc, {} AS sa, {} AS credit, {} AS items",
                CUSTOMERS
                    .data_cols()
                    .iter()
                    .map(|col| format!("c.{col}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                level(&COMPANY_CODES),
                level(&SALES_AREAS),
                level(&CREDIT_LIMITS),
                agg(OPEN_ITEMS.data_cols(), OPEN_ITEMS.table, " AND x.cleared_at IS NULL"),
            );
            let mut conn = self.pool().acquire().await?;
            let rows = match selection {
                CustomerSelection::After { after, limit } => {
                    let sql = format!(
                        "SELECT {columns} FROM customers c WHERE c.customer > $1 \
                         ORDER BY c.customer LIMIT $2"
                    );
                    sqlx::query::<D::DB>(&sql)
                        .bind(after.map(|c| c.as_str().to_string()).unwrap_or_default())
                        .bind(i64::from(limit))
                        .fetch_all(&mut *conn)
                        .await?
                }
                CustomerSelection::Ids(ids) => {
                    let mut rows = Vec::new();
                    for chunk in ids.chunks(500) {
                        let list = (1..=chunk.len())
                            .map(D::param)
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sql = format!(
                            "SELECT {columns} FROM customers c WHERE c.customer IN ({list}) \
                             ORDER BY c.customer"
                        );
                        let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == 500);
                        for id in chunk {
                            query = query.bind(id.as_str().to_string());
                        }
                        rows.extend(query.fetch_all(&mut *conn).await?);
                    }
                    rows
                }
            };
            let mut read: Vec<Option<CustomerItems>> = Vec::with_capacity(rows.len());
            let mut unreadable = Vec::new();
            for row in &rows {
                let general = Self::customer_general(row)?;
                let text = |col: &str| Self::get::<String>(row, col);
                let packed = [text("cc")?, text("sa")?, text("credit")?, text("items")?];
                match unpack(&general.customer, &packed) {
                    Ok((company_codes, sales_areas, credit_limits, items)) => {
                        let customer = Customer {
                            general,
                            company_codes,
                            sales_areas,
                            credit_limits,
                        };
                        read.push(Some((customer, items)));
                    }
                    Err(StoreError::Corrupt(why)) => {
                        tracing::warn!(
                            customer = %general.customer,
                            "packed read refused ({why}); reading the customer column by column"
                        );
                        unreadable.push(general);
                        read.push(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            if unreadable.is_empty() {
                return Ok(read.into_iter().flatten().collect());
            }
            // In the order they were left out, which is the order of the gaps.
            let mut again = Self::customers_by_columns(&mut conn, unreadable)
                .await?
                .into_iter();
            Ok(read
                .into_iter()
                .filter_map(|r| r.or_else(|| again.next()))
                .collect())
        }

        async fn refresh_statistics(&self) -> Result<()> {
            let tables = [
                CUSTOMERS.table,
                COMPANY_CODES.table,
                SALES_AREAS.table,
                CREDIT_LIMITS.table,
                OPEN_ITEMS.table,
                "contracts",
                "discrepancies",
            ];
            if let Some(sql) = D::analyze(&tables) {
                sqlx::query::<D::DB>(&sql).execute(self.pool()).await?;
            }
            Ok(())
        }

        async fn reconcile_queue(&self) -> Result<Vec<QueuedCustomer>> {
            let rows =
                sqlx::query::<D::DB>("SELECT customer, version FROM reconcile_queue ORDER BY customer")
                    .fetch_all(self.pool())
                    .await?;
            rows.iter()
                .map(|row| {
                    let raw: String = Self::get(row, "customer")?;
                    Ok(QueuedCustomer {
                        customer: CustomerId::parse(&raw)
                            .map_err(|e| StoreError::Corrupt(format!("queued customer: {e}")))?,
                        version: Self::get(row, "version")?,
                    })
                })
                .collect()
        }

        async fn dequeue_reconciled(&self, judged: &[QueuedCustomer]) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            for chunk in judged.chunks(400) {
                let clauses = (0..chunk.len())
                    .map(|i| {
                        format!(
                            "(customer = {} AND version = {})",
                            D::param(2 * i + 1),
                            D::param(2 * i + 2)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let sql = format!("DELETE FROM reconcile_queue WHERE {clauses}");
                let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == 400);
                for q in chunk {
                    query = query.bind(q.customer.as_str().to_string()).bind(q.version);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn close_unseen_findings_of(
            &self,
            rules: &[Rule],
            customers: &[CustomerId],
            run_at: DateTime<Utc>,
        ) -> Result<u64> {
            self.close_unseen_in(rules, Some(customers), run_at).await
        }

        async fn reconcile_fingerprint(&self) -> Result<Option<String>> {
            let row = sqlx::query::<D::DB>("SELECT fingerprint FROM reconcile_state WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get::<String, _>("fingerprint")?),
                None => None,
            })
        }

        async fn set_reconcile_fingerprint(
            &self,
            fingerprint: &str,
            at: DateTime<Utc>,
        ) -> Result<()> {
            sqlx::query::<D::DB>(
                "INSERT INTO reconcile_state (id, fingerprint, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, \
                 updated_at = excluded.updated_at",
            )
            .bind(fingerprint.to_string())
            .bind(D::stamp(at))
            .execute(self.pool())
            .await?;
            Ok(())
        }
    }
}
