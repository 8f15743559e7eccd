//! Incremental-sync cursors (watermarks, delta links), committed with the data they cover.
//!
//! A pull writes its pages first and moves the cursor only after the last page is stored,
//! so a cursor never claims data the store does not hold: a pull that dies half-way starts
//! again from the old cursor, and the upserts it repeats are idempotent.

use super::sql::{Col, Conn, DbRow, Dialect, SqlStore};
use super::Result;
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

    async fn clear_cursor(&self, name: &str) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query::<D::DB>("DELETE FROM sync_cursors WHERE name = $1")
            .bind(name.to_string())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}
