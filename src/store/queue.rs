//! The review queue as the desk pages through it: filtered, sorted by exposure, paged by
//! key (never by OFFSET, which reads and discards every row before the page), with the
//! count per status for the same filter.
//!
//! The order is `exposure_sort DESC, id`, the order of the `discrepancies_by_*` indexes, so
//! a page after a cursor is an index range scan whatever the queue's size.

use super::dialect::{sql_impl, Col, Dialect, SqlStore};
use super::findings::DISCREPANCY_COLS;
use super::{DiscrepancyFilter, Result, StoreError};
use crate::model::{CustomerId, Discrepancy, DiscrepancyStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Database;
use std::collections::HashMap;

/// The most rows one page may hold.
pub const MAX_PAGE: u32 = 500;

/// Where a page starts: just after this (exposure order key, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    pub exposure_sort: i64,
    pub id: i64,
}

impl QueueCursor {
    /// The opaque text form the API hands out (`next`) and takes back (`after`).
    pub fn encode(&self) -> String {
        format!("{}_{}", self.exposure_sort, self.id)
    }

    pub fn decode(text: &str) -> Option<QueueCursor> {
        let (sort, id) = text.split_once('_')?;
        Some(QueueCursor {
            exposure_sort: sort.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// One page of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuePage {
    pub items: Vec<Discrepancy>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Up to `limit` (at most [`MAX_PAGE`]) flags matching `filter` after `after`, largest
    /// exposure first.
    async fn queue_page(
        &self,
        filter: &DiscrepancyFilter,
        after: Option<QueueCursor>,
        limit: u32,
    ) -> Result<QueuePage>;
    /// Every flag matching `filter` (up to its `limit`), in queue order (for exports and
    /// lists).
    async fn queue_all(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>>;
    /// Flags per status for `filter` with its status ignored (the tabs above the list; the
    /// filter's total is among them, so a page needs no count of its own).
    async fn queue_status_counts(
        &self,
        filter: &DiscrepancyFilter,
    ) -> Result<Vec<(DiscrepancyStatus, u64)>>;
    /// Hands an acknowledged flag to `assignee` (audited as `actor`'s change, status kept).
    async fn reassign(
        &self,
        id: i64,
        assignee: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy>;
    /// The names of these customers, where the master has them.
    async fn customer_names(&self, customers: &[CustomerId])
        -> Result<HashMap<CustomerId, String>>;
    /// Compare-and-set on a flag's version (`updated_at`): moves it to `at` and returns
    /// `true` only if it still was `seen`. Whoever wins may act; a page showing the old
    /// version, in this instance or another, is refused from then on.
    async fn take_version(&self, id: i64, seen: DateTime<Utc>, at: DateTime<Utc>) -> Result<bool>;
}

/// A WHERE clause with its parameters, in bind order.
struct Clause {
    sql: String,
    binds: Vec<String>,
}

impl Clause {
    fn new() -> Clause {
        Clause {
            sql: " WHERE 1 = 1".into(),
            binds: Vec::new(),
        }
    }

    fn param(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql += " AND ";
        self.sql += condition;
    }
}

/// `%` and `_` in what a user types are literal characters, not wildcards.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn where_clause(filter: &DiscrepancyFilter, with_status: bool) -> Clause {
    let mut w = Clause::new();
    if let (true, Some(status)) = (with_status, filter.status) {
        let p = w.param(status.as_str().into());
        w.and(&format!("status = {p}"));
    }
    if let Some(rule) = filter.rule {
        let p = w.param(rule.as_str().into());
        w.and(&format!("rule = {p}"));
    }
    if let Some(severity) = filter.severity {
        let p = w.param(severity.as_str().into());
        w.and(&format!("severity = {p}"));
    }
    if let Some(cc) = &filter.company_code {
        let p = w.param(cc.clone());
        w.and(&format!("(company_code = {p} OR sales_org = {p})"));
    }
    if let Some(assignee) = &filter.assignee {
        let p = w.param(assignee.clone());
        w.and(&format!("assignee = {p}"));
    }
    if let Some(customer) = &filter.customer {
        let p = w.param(customer.as_str().into());
        w.and(&format!("customer = {p}"));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim) {
        if !search.is_empty() {
            let name = w.param(format!("%{}%", like_literal(&search.to_lowercase())));
            let mut cond = format!(
                "customer IN (SELECT customer FROM customers WHERE LOWER(name) LIKE {name} ESCAPE '\\')"
            );
            // Customer numbers are stored with their leading zeros (ten digits).
            if search.chars().all(|c| c.is_ascii_digit()) && search.len() <= 10 {
                let padded = w.param(format!("{search:0>10}"));
                let start = w.param(format!("{}%", search));
                cond = format!("customer = {padded} OR customer LIKE {start} OR {cond}");
            } else {
                let start = w.param(format!("{}%", like_literal(search)));
                cond = format!("customer LIKE {start} ESCAPE '\\' OR {cond}");
            }
            w.and(&format!("({cond})"));
        }
    }
    w
}

fn bind_all<'q, D: Dialect>(
    mut query: sqlx::query::Query<'q, D::DB, <D::DB as Database>::Arguments<'q>>,
    binds: &[String],
) -> sqlx::query::Query<'q, D::DB, <D::DB as Database>::Arguments<'q>>
where
    String: Col<D::DB>,
{
    for b in binds {
        query = query.bind(b.clone());
    }
    query
}

sql_impl! {
#[async_trait]
impl<D> QueueStore for SqlStore<D> {
    async fn queue_page(
        &self,
        filter: &DiscrepancyFilter,
        after: Option<QueueCursor>,
        limit: u32,
    ) -> Result<QueuePage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let base = where_clause(filter, true);
        let mut sql = format!(
            "SELECT {DISCREPANCY_COLS}, exposure_sort AS exposure_sort_key FROM discrepancies{}",
            base.sql
        );
        let n = base.binds.len();
        if after.is_some() {
            // (sort, id) after the cursor in `sort DESC, id ASC` order.
            sql += &format!(
                " AND (exposure_sort < ${a} OR (exposure_sort = ${a} AND id > ${b}))",
                a = n + 1,
                b = n + 2
            );
        }
        let limit_param = n + if after.is_some() { 3 } else { 1 };
        // One row more than asked tells whether another page follows.
        sql += &format!(" ORDER BY exposure_sort DESC, id LIMIT ${limit_param}");
        let mut query = bind_all::<D>(sqlx::query::<D::DB>(&sql), &base.binds);
        if let Some(c) = after {
            query = query.bind(c.exposure_sort).bind(c.id);
        }
        let rows = query
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await?;
        let more = rows.len() > limit as usize;
        let mut items = Vec::with_capacity(limit as usize);
        let mut last_sort = None;
        for row in rows.iter().take(limit as usize) {
            last_sort = Some(Self::get::<i64>(row, "exposure_sort_key")?);
            items.push(Self::discrepancy_row(row)?);
        }
        let next = match (more, items.last(), last_sort) {
            (true, Some(d), Some(exposure_sort)) => Some(
                QueueCursor {
                    exposure_sort,
                    id: d.id,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(QueuePage { items, next })
    }

    async fn queue_all(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>> {
        let w = where_clause(filter, true);
        let mut sql = format!(
            "SELECT {DISCREPANCY_COLS} FROM discrepancies{} ORDER BY exposure_sort DESC, id",
            w.sql
        );
        if filter.limit.is_some() {
            sql += &format!(" LIMIT ${}", w.binds.len() + 1);
        }
        let mut query = bind_all::<D>(sqlx::query::<D::DB>(&sql), &w.binds);
        if let Some(limit) = filter.limit {
            query = query.bind(i64::from(limit));
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(Self::discrepancy_row)
            .collect()
    }

    async fn queue_status_counts(
        &self,
        filter: &DiscrepancyFilter,
    ) -> Result<Vec<(DiscrepancyStatus, u64)>> {
        let w = where_clause(filter, false);
        let sql = format!(
            "SELECT status, COUNT(*) AS n FROM discrepancies{} GROUP BY status",
            w.sql
        );
        let rows = bind_all::<D>(sqlx::query::<D::DB>(&sql), &w.binds)
            .fetch_all(self.pool())
            .await?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in &rows {
            let status: String = Self::get(row, "status")?;
            let status = status
                .parse::<DiscrepancyStatus>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let n: i64 = Self::get(row, "n")?;
            counts.push((status, n.max(0) as u64));
        }
        counts.sort_by_key(|(s, _)| DiscrepancyStatus::ALL.iter().position(|x| x == s));
        Ok(counts)
    }

    async fn take_version(&self, id: i64, seen: DateTime<Utc>, at: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query::<D::DB>(
            "UPDATE discrepancies SET updated_at = $1 WHERE id = $2 AND updated_at = $3",
        )
        .bind(D::stamp(at))
        .bind(id)
        .bind(D::stamp(seen))
        .execute(self.pool())
        .await?;
        Ok(D::rows_affected(&done) == 1)
    }

    async fn reassign(
        &self,
        id: i64,
        assignee: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy> {
        let mut tx = self.pool().begin().await?;
        let current = Self::flag_to_change(&mut tx, id).await?;
        if current.status != DiscrepancyStatus::Acknowledged {
            return Err(StoreError::Refused(format!(
                "discrepancy {id} is {}: only an acknowledged flag has an assignee to change",
                current.status
            )));
        }
        sqlx::query::<D::DB>(
            "UPDATE discrepancies SET assignee = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(assignee.to_string())
        .bind(D::stamp(at))
        .execute(&mut *tx)
        .await?;
        let note = format!("assigned to {assignee}");
        let status = current.status;
        Self::audit(&mut tx, id, at, actor, Some(status), status, Some(&note)).await?;
        let changed = Self::flag_changed(&mut tx, id).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn customer_names(
        &self,
        customers: &[CustomerId],
    ) -> Result<HashMap<CustomerId, String>> {
        let mut names = HashMap::new();
        for chunk in customers.chunks(500) {
            let params = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT customer, name FROM customers WHERE customer IN ({params}) AND name IS NOT NULL"
            );
            let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == 500);
            for c in chunk {
                query = query.bind(c.as_str().to_string());
            }
            for row in query.fetch_all(self.pool()).await? {
                let id: String = Self::get(&row, "customer")?;
                let name: Option<String> = Self::get(&row, "name")?;
                if let (Ok(id), Some(name)) = (CustomerId::parse(&id), name) {
                    names.insert(id, name);
                }
            }
        }
        Ok(names)
    }
}
}
