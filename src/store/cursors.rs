//! Incremental-sync cursors (watermarks, delta links), committed with the data they cover.
//!
//! A pull writes its pages first; the last page, the retirement of what a full pull did not
//! see, and the new cursor are then committed in one transaction. So a cursor never claims
//! data the store does not hold, and a full pull never leaves a cursor behind without its
//! retirement (the next, incremental, pull could not retire anything): a pull that dies
//! half-way starts again from the old cursor, and the upserts it repeats are idempotent.

use super::dialect::{sql_impl, Conn, SqlStore};
use super::masters::{encode_contract, encode_open_item};
use super::upsert::{key_text, CONTRACTS, OPEN_ITEMS};
use super::Result;
use crate::model::{Contract, OpenItem, OpenItemKey};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

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
    /// Ends an ERP contracts pull the same way: its last page `rows`, the contracts of
    /// `source` a full pull (`retire`) did not see marked ended, and `cursor`, in one
    /// transaction.
    async fn finish_contracts_pull(
        &self,
        rows: &[Contract],
        source: &str,
        seen_at: DateTime<Utc>,
        retire: bool,
        cursor: Option<(&str, &str)>,
    ) -> Result<u64>;
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Sets a cursor inside the caller's transaction, stamped `at`.
        pub(super) async fn write_cursor(
            conn: &mut Conn<D>,
            name: &str,
            value: &str,
            at: DateTime<Utc>,
        ) -> Result<()> {
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
    }
}

sql_impl! {
    #[async_trait]
    impl<D> CursorStore for SqlStore<D> {
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
            Self::write_cursor(&mut conn, name, value, at).await
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
            let mut tx = self.pool().begin().await?;
            let key = |r: &OpenItem| r.key.to_string();
            Self::upsert_rows(&mut tx, &OPEN_ITEMS, rows, key, encode_open_item, seen_at).await?;
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
                retired += Self::retire_open_items(&mut tx, seen_at).await?;
            }
            if let Some((name, value)) = cursor {
                Self::write_cursor(&mut tx, name, value, Utc::now()).await?;
            }
            tx.commit().await?;
            Ok(retired)
        }

        async fn finish_contracts_pull(
            &self,
            rows: &[Contract],
            source: &str,
            seen_at: DateTime<Utc>,
            retire: bool,
            cursor: Option<(&str, &str)>,
        ) -> Result<u64> {
            let key = |r: &Contract| key_text(&[&r.source, &r.id]);
            let mut tx = self.pool().begin().await?;
            Self::upsert_rows(&mut tx, &CONTRACTS, rows, key, encode_contract, seen_at).await?;
            let mut retired = 0;
            if retire {
                retired = Self::retire_contracts(&mut tx, source, seen_at).await?;
            }
            if let Some((name, value)) = cursor {
                Self::write_cursor(&mut tx, name, value, Utc::now()).await?;
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
}
