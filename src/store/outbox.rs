//! Outbox bookkeeping beyond queueing and sending: notes with the collector's details,
//! dead letters a person drops (kept, never deleted), audited retries, and the read-back
//! that records the ERP's own ids or puts back what the ERP does not hold.
//!
//! Every manual or verifying action writes an `outbox_audit` row in the same transaction
//! as the status it changes, so `outbox list` and `outbox show` can say who did what, when
//! and why.

use super::sql::{Col, Conn, DbRow, Dialect, SqlStore, OUTBOX_COLS};
use super::{OutboxEntry, OutboxKind, OutboxStatus, Result, StoreError};
use crate::model::note::CollectorNote;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{ColumnIndex, Database, Executor, IntoArguments};

/// One audited action on an outbox entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxAudit {
    pub outbox_id: i64,
    pub at: DateTime<Utc>,
    /// A user, or `erpsync` for the read-back.
    pub actor: String,
    /// `retry`, `drop`, `verified`, `requeue`.
    pub action: String,
    pub from_status: OutboxStatus,
    pub to_status: OutboxStatus,
    pub note: Option<String>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a note with the collector's details: the note row and its outbox entry in one
    /// transaction; the same idempotency key again returns the entry already queued.
    async fn add_collector_note(&self, note: &CollectorNote) -> Result<OutboxEntry>;
    async fn outbox_entry(&self, id: i64) -> Result<OutboxEntry>;
    /// A person gives a failed or dead entry up: it becomes `dropped` with who, when and
    /// why, and stays in the outbox (never deleted, never sent).
    async fn outbox_drop(&self, id: i64, by: &str, reason: &str, at: DateTime<Utc>) -> Result<()>;
    /// `outbox retry` with the person recorded: failed or dead back to pending, audited.
    async fn outbox_retry_by(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()>;
    async fn outbox_audit(&self, id: i64) -> Result<Vec<OutboxAudit>>;
    /// The read-back found what a sent entry wrote: records the ERP's own id for it.
    async fn outbox_mark_verified(&self, id: i64, erp_ref: &str, at: DateTime<Utc>) -> Result<()>;
    /// The read-back did not find what a sent entry wrote: pending again, audited with why.
    async fn outbox_requeue(&self, id: i64, why: &str, at: DateTime<Utc>) -> Result<()>;
    /// Sent entries, oldest first, after `after_id`: what the periodic check compares.
    async fn outbox_sent_after(&self, after_id: i64, limit: u32) -> Result<Vec<OutboxEntry>>;
}

#[async_trait]
impl<D> OutboxStore for SqlStore<D>
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
    async fn add_collector_note(&self, cn: &CollectorNote) -> Result<OutboxEntry> {
        let payload =
            serde_json::to_value(cn).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))?;
        let note = &cn.note;
        let item = note.item.as_ref();
        let promise = cn.details.promise.as_ref();
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query::<D::DB>(
            "INSERT INTO notes (customer, company_code, fiscal_year, document, item, author, \
             text, channel, created_at, idempotency_key, via, follow_up, promise_amount, \
             promise_currency, promise_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(note.customer.as_str().to_string())
        .bind(item.map(|i| i.company_code.clone()))
        .bind(item.map(|i| i.fiscal_year.clone()))
        .bind(item.map(|i| i.document.clone()))
        .bind(item.map(|i| i.item.clone()))
        .bind(note.author.clone())
        .bind(note.text.clone())
        .bind(note.channel.as_str().to_string())
        .bind(D::stamp(note.created_at))
        .bind(note.idempotency_key.clone())
        .bind(cn.details.via.clone())
        .bind(cn.details.follow_up)
        .bind(promise.map(|p| D::amount(p.amount)))
        .bind(promise.map(|p| p.currency.clone()))
        .bind(promise.map(|p| p.date))
        .execute(&mut *tx)
        .await?;
        let inserted = D::rows_affected(&done) == 1;
        let entry = Self::enqueue(
            &mut tx,
            inserted,
            OutboxKind::Note,
            &note.idempotency_key,
            payload,
            note.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn outbox_entry(&self, id: i64) -> Result<OutboxEntry> {
        let sql = format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1");
        let row = sqlx::query::<D::DB>(&sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "outbox entry",
                id: id.to_string(),
            })?;
        Self::outbox_entry(&row)
    }

    async fn outbox_drop(&self, id: i64, by: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let from = Self::outbox_status_of(&mut tx, id).await?;
        if !matches!(from, OutboxStatus::Failed | OutboxStatus::Dead) {
            return Err(StoreError::Refused(format!(
                "outbox entry {id} is {}: only failed or dead entries can be dropped",
                from.as_str()
            )));
        }
        sqlx::query::<D::DB>(
            "UPDATE outbox SET status = 'dropped', dropped_by = $2, dropped_at = $3, \
             drop_reason = $4, updated_at = $3, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(by.to_string())
        .bind(D::stamp(at))
        .bind(reason.to_string())
        .execute(&mut *tx)
        .await?;
        audit::<D>(
            &mut tx,
            id,
            at,
            by,
            "drop",
            from,
            OutboxStatus::Dropped,
            Some(reason),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_retry_by(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let from = Self::outbox_status_of(&mut tx, id).await?;
        if !matches!(from, OutboxStatus::Failed | OutboxStatus::Dead) {
            return Err(StoreError::Refused(format!(
                "outbox entry {id} is {}: only failed or dead entries can be retried",
                from.as_str()
            )));
        }
        // A fresh attempt budget: an entry retried by hand must not die on its first new
        // failure. last_error stays as history until the next attempt replaces it.
        sqlx::query::<D::DB>(
            "UPDATE outbox SET status = 'pending', attempts = 0, updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(D::stamp(at))
        .execute(&mut *tx)
        .await?;
        audit::<D>(
            &mut tx,
            id,
            at,
            by,
            "retry",
            from,
            OutboxStatus::Pending,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_audit(&self, id: i64) -> Result<Vec<OutboxAudit>> {
        sqlx::query::<D::DB>(
            "SELECT outbox_id, at, actor, action, from_status, to_status, note \
             FROM outbox_audit WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(OutboxAudit {
                outbox_id: Self::get(row, "outbox_id")?,
                at: Self::stamp(row, "at")?,
                actor: Self::get(row, "actor")?,
                action: Self::get(row, "action")?,
                from_status: Self::get::<String>(row, "from_status")?.parse()?,
                to_status: Self::get::<String>(row, "to_status")?.parse()?,
                note: Self::get(row, "note")?,
            })
        })
        .collect()
    }

    async fn outbox_mark_verified(&self, id: i64, erp_ref: &str, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query::<D::DB>(
            "UPDATE outbox SET erp_ref = $2, verified_at = $3 WHERE id = $1 AND status = 'sent'",
        )
        .bind(id)
        .bind(erp_ref.to_string())
        .bind(D::stamp(at))
        .execute(self.pool())
        .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::Refused(format!(
                "outbox entry {id} is not sent: nothing to verify"
            )));
        }
        Ok(())
    }

    async fn outbox_requeue(&self, id: i64, why: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let from = Self::outbox_status_of(&mut tx, id).await?;
        if from != OutboxStatus::Sent {
            return Err(StoreError::Refused(format!(
                "outbox entry {id} is {}: only sent entries are put back by the read-back",
                from.as_str()
            )));
        }
        sqlx::query::<D::DB>(
            "UPDATE outbox SET status = 'pending', attempts = 0, last_error = $2, \
             updated_at = $3, sent_at = NULL, verified_at = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(why.to_string())
        .bind(D::stamp(at))
        .execute(&mut *tx)
        .await?;
        audit::<D>(
            &mut tx,
            id,
            at,
            "erpsync",
            "requeue",
            from,
            OutboxStatus::Pending,
            Some(why),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_sent_after(&self, after_id: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        let sql = format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'sent' AND id > $1 \
             ORDER BY id LIMIT $2"
        );
        sqlx::query::<D::DB>(&sql)
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(Self::outbox_entry)
            .collect()
    }
}

#[allow(clippy::too_many_arguments)] // one audit row's columns, bound in order
async fn audit<D>(
    conn: &mut Conn<D>,
    id: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    from: OutboxStatus,
    to: OutboxStatus,
    note: Option<&str>,
) -> Result<()>
where
    D: Dialect,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    i64: Col<D::DB>,
    String: Col<D::DB>,
    Option<String>: Col<D::DB>,
{
    sqlx::query::<D::DB>(
        "INSERT INTO outbox_audit (outbox_id, at, actor, action, from_status, to_status, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(D::stamp(at))
    .bind(actor.to_string())
    .bind(action.to_string())
    .bind(from.as_str().to_string())
    .bind(to.as_str().to_string())
    .bind(note.map(str::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
