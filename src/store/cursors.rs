//! Incremental-sync cursors (watermarks, delta links), committed with the data they cover.
//!
//! A pull writes its pages first; the last page, the retirement of what a full pull did not
//! see, and the new cursor are then committed in one transaction. So a cursor never claims
//! data the store does not hold, and a full pull never leaves a cursor behind without its
//! retirement (the next, incremental, pull could not retire anything): a pull that dies
//! half-way starts again from the old cursor, and the upserts it repeats are idempotent.

use super::sql::{Col, Conn, DbRow, Dialect, SqlStore, OPEN_ITEMS};
use super::Result;
use crate::model::{OpenItem, OpenItemKey};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{ColumnIndex, Database, Executor, IntoArguments, Row};

#[async_trait]
pub trait CursorStore: Send + Sync {
    /// The stored value of cursor `name` (e.g. `open_items.watermark`), if any.
    async fn get_cursor(&self, name: &str) -> Result<Option<String>>;
    /// Sets cursor `name` to `value` (inserted or replaced), stamped `at`.
    async fn set_cursor(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()>;
    /// Forgets cursor `name`, so the next pull is a full one.
    async fn clear_cursor(&self, name: &str) -> Result<()>;
    /// Stores a page of an open-items pull in one transaction: upserts `rows` (seen at
    /// `seen_at`, when the pull started), marks cleared the items a delta answer reported
    /// `removed`, and what a full pull (`retire`, on its last page) did not see, and sets
    /// `cursor` (name, value) when given. Returns how many items were marked cleared.
    async fn finish_open_items_pull(
        &self,
        rows: &[OpenItem],
        removed: &[OpenItemKey],
        seen_at: DateTime<Utc>,
        retire: bool,
        cursor: Option<(&str, &str)>,
    ) -> Result<u64>;
}

#[async_trait]
impl<D> CursorStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    for<'n> &'n str: ColumnIndex<DbRow<D>>,
    i64: Col<D::DB>,
    String: Col<D::DB>,
    bool: Col<D::DB>,
    NaiveDate: Col<D::DB>,
    Option<i64>: Col<D::DB>,
    Option<String>: Col<D::DB>,
    Option<NaiveDate>: Col<D::DB>,
    Option<D::Amount>: Col<D::DB>,
    Option<D::Stamp>: Col<D::DB>,
{
    async fn get_cursor(&self, name: &str) -> Result<Option<String>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query::<D::DB>("SELECT value FROM sync_cursors WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<String, _>("value")?),
            None => None,
        })
    }

    async fn set_cursor(&self, name: &str, value: &str, at: DateTime<Utc>) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query::<D::DB>(
            "INSERT INTO sync_cursors (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name.to_string())
        .bind(value.to_string())
        .bind(Some(D::stamp(at)))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn finish_open_items_pull(
        &self,
        rows: &[OpenItem],
        removed: &[OpenItemKey],
        seen_at: DateTime<Utc>,
        retire: bool,
        cursor: Option<(&str, &str)>,
    ) -> Result<u64> {
        let cols = OPEN_ITEMS.cols;
        let key = 4;
        let sql = format!(
            "INSERT INTO open_items ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            cols.join(", "),
            (1..=cols.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", "),
            cols[..key].join(", "),
            cols[key..]
                .iter()
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut tx = self.pool().begin().await?;
        for r in rows {
            SqlStore::<D>::bind_open_item(sqlx::query::<D::DB>(&sql), r, seen_at)
                .execute(&mut *tx)
                .await?;
        }
        let mut retired = 0;
        let by_key = format!(
            "UPDATE open_items SET cleared_at = $1 WHERE cleared_at IS NULL AND {} = $2 \
             AND {} = $3 AND {} = $4 AND {} = $5",
            cols[0], cols[1], cols[2], cols[3]
        );
        for k in removed {
            let done = sqlx::query::<D::DB>(&by_key)
                .bind(D::stamp(seen_at))
                .bind(k.company_code.clone())
                .bind(k.fiscal_year.clone())
                .bind(k.document.clone())
                .bind(k.item.clone())
                .execute(&mut *tx)
                .await?;
            retired += D::rows_affected(&done);
        }
        if retire {
            let done = sqlx::query::<D::DB>(
                "UPDATE open_items SET cleared_at = $1 WHERE cleared_at IS NULL AND seen_at < $1",
            )
            .bind(D::stamp(seen_at))
            .execute(&mut *tx)
            .await?;
            retired += D::rows_affected(&done);
        }
        if let Some((name, value)) = cursor {
            sqlx::query::<D::DB>(
                "INSERT INTO sync_cursors (name, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(name.to_string())
            .bind(value.to_string())
            .bind(Some(D::stamp(Utc::now())))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(retired)
    }

    async fn clear_cursor(&self, name: &str) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query::<D::DB>("DELETE FROM sync_cursors WHERE name = $1")
            .bind(name.to_string())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
