//! Write-backs: collectors' notes and dispute status changes, each recorded with its outbox
//! entry in one transaction, and the outbox's life from there: sending, failures, dead
//! letters a person drops (kept, never deleted), audited retries, and the read-back that
//! records the ERP's own ids or puts back what the ERP does not hold.
//!
//! Every manual or verifying action writes an `outbox_audit` row in the same transaction
//! as the status it changes, so `outbox list` and `outbox show` can say who did what, when
//! and why. Claims by concurrent workers are in `jobs.rs`.

use super::decode::narrow;
use super::dialect::{sql_impl, Conn, SqlStore, Q};
use super::findings::SYSTEM_ACTOR;
use super::{Result, StoreError};
use crate::model::note::CollectorNote;
use crate::model::{CustomerId, DisputeStatusChange, OpenItemKey};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

pub(super) const OUTBOX_COLS: &str =
    "id, kind, idempotency_key, payload, status, attempts, last_error, \
     created_at, updated_at, sent_at, erp_ref, verified_at, dropped_by, dropped_at, drop_reason";

/// What an outbox entry asks the ERP to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    Note,
    DisputeStatus,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Note => "note",
            OutboxKind::DisputeStatus => "dispute_status",
        }
    }
}

/// `pending`: to be sent (again; `last_error` says why an earlier try failed);
/// `sent`: the ERP accepted it; `failed`: the ERP rejected it for good (validation);
/// `dead`: given up after too many attempts. `outbox retry` moves failed/dead back to pending;
/// `dropped`: a person gave a failed/dead entry up (`outbox drop`); kept, never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
    Dead,
    Dropped,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Dropped => "dropped",
        }
    }
}

impl FromStr for OutboxStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "sent" => Ok(OutboxStatus::Sent),
            "failed" => Ok(OutboxStatus::Failed),
            "dead" => Ok(OutboxStatus::Dead),
            "dropped" => Ok(OutboxStatus::Dropped),
            _ => Err(StoreError::Corrupt(format!("unknown outbox status {s:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: OutboxKind,
    pub idempotency_key: String,
    /// The serialized [`CollectorNote`] or [`DisputeStatusChange`].
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// What the ERP calls what was written (text key, case ID), recorded after a read-back.
    #[serde(default)]
    pub erp_ref: Option<String>,
    /// When a read-back last confirmed the ERP holds it.
    #[serde(default)]
    pub verified_at: Option<DateTime<Utc>>,
    /// Who dropped it (`outbox drop`), when and why.
    #[serde(default)]
    pub dropped_by: Option<String>,
    #[serde(default)]
    pub dropped_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub drop_reason: Option<String>,
}

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
    // ---- write-back: record and outbox entry in one transaction ----
    /// Queues a note with every collector detail it has (channel, via, follow-up, promise
    /// to pay): the note row and its outbox entry in one transaction. The desk, the API and
    /// the CLI all add notes this way; the same idempotency key again returns the entry
    /// already queued.
    async fn add_note(&self, note: &CollectorNote) -> Result<OutboxEntry>;
    async fn add_dispute_status(&self, change: &DisputeStatusChange) -> Result<OutboxEntry>;
    /// The status last requested for a dispute case, if any.
    async fn last_dispute_status(&self, case_id: &str) -> Result<Option<String>>;

    // ---- sending ----
    /// Pending entries, oldest first.
    async fn outbox_due(&self, limit: u32) -> Result<Vec<OutboxEntry>>;
    async fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// Records a failed attempt: stays pending, or becomes `failed`/`dead` when
    /// `final_status` says so.
    async fn outbox_mark_failed(
        &self,
        id: i64,
        error: &str,
        at: DateTime<Utc>,
        final_status: Option<OutboxStatus>,
    ) -> Result<()>;

    // ---- reading and managing ----
    async fn outbox_list(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxEntry>>;
    async fn outbox_entry(&self, id: i64) -> Result<OutboxEntry>;
    /// Failed or dead back to pending, with a fresh attempt budget.
    async fn outbox_retry(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// `outbox retry` with the person recorded: failed or dead back to pending, audited.
    async fn outbox_retry_by(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()>;
    /// A person gives a failed or dead entry up: it becomes `dropped` with who, when and
    /// why, and stays in the outbox (never deleted, never sent).
    async fn outbox_drop(&self, id: i64, by: &str, reason: &str, at: DateTime<Utc>) -> Result<()>;
    async fn outbox_audit(&self, id: i64) -> Result<Vec<OutboxAudit>>;

    // ---- read-back ----
    /// The read-back found what a sent entry wrote: records the ERP's own id for it.
    async fn outbox_mark_verified(&self, id: i64, erp_ref: &str, at: DateTime<Utc>) -> Result<()>;
    /// The read-back did not find what a sent entry wrote: pending again, audited with why.
    async fn outbox_requeue(&self, id: i64, why: &str, at: DateTime<Utc>) -> Result<()>;
    /// Sent entries, oldest first, after `after_id`: what the periodic check compares.
    async fn outbox_sent_after(&self, after_id: i64, limit: u32) -> Result<Vec<OutboxEntry>>;

    // ---- what the desk shows ----
    /// A customer's notes, newest first (at most `limit`), each with where its outbox entry
    /// stands: the pages show whether a note reached the ERP.
    async fn notes_with_status(
        &self,
        customer: &CustomerId,
        limit: u32,
    ) -> Result<Vec<NoteWithStatus>>;
}

/// A collector's note as stored, with its outbox entry's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteWithStatus {
    pub at: DateTime<Utc>,
    pub author: String,
    pub channel: String,
    pub text: String,
    /// The open item the note is about; `None` for the customer as a whole.
    pub item: Option<OpenItemKey>,
    /// `None` only for a note whose outbox entry is missing (never expected).
    pub outbox_id: Option<i64>,
    pub status: Option<OutboxStatus>,
    /// The ERP's message on the last failed attempt.
    pub last_error: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
}

fn payload<T: Serialize>(record: &T) -> Result<serde_json::Value> {
    serde_json::to_value(record).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))
}

fn missing(id: i64) -> StoreError {
    StoreError::NotFound {
        what: "outbox entry",
        id: id.to_string(),
    }
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Inserts a write-back's record (`insert`, `ON CONFLICT (idempotency_key) DO
        /// NOTHING`) and queues it, in one transaction.
        async fn record_and_queue(
            &self,
            insert: Q<'_, D>,
            kind: OutboxKind,
            key: &str,
            payload: serde_json::Value,
            at: DateTime<Utc>,
        ) -> Result<OutboxEntry> {
            let mut tx = self.pool().begin().await?;
            let done = insert.execute(&mut *tx).await?;
            let inserted = D::rows_affected(&done) == 1;
            let entry = Self::enqueue(&mut tx, inserted, kind, key, payload, at).await?;
            tx.commit().await?;
            Ok(entry)
        }

        /// Queues a write-back whose record was just inserted (`inserted`), or returns the
        /// entry already queued under the same idempotency key: adding a record twice (a
        /// client retry) queues it once.
        async fn enqueue(
            conn: &mut Conn<D>,
            inserted: bool,
            kind: OutboxKind,
            key: &str,
            payload: serde_json::Value,
            at: DateTime<Utc>,
        ) -> Result<OutboxEntry> {
            // The outbox key is unique across kinds: a note and a dispute status change must
            // not share one, or the worker could take one for the other having arrived.
            let sql = format!("SELECT {OUTBOX_COLS} FROM outbox WHERE idempotency_key = $1");
            let queued = sqlx::query::<D::DB>(&sql)
                .bind(key.to_string())
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| Self::outbox_entry(&row))
                .transpose()?;
            match queued {
                Some(entry) if !inserted && entry.kind == kind => return Ok(entry),
                None if inserted => {}
                _ => {
                    return Err(StoreError::Refused(format!(
                        "idempotency key {key:?} is already used by another record"
                    )))
                }
            }
            let sql = format!(
                "INSERT INTO outbox (kind, idempotency_key, payload, status, attempts, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING {OUTBOX_COLS}"
            );
            let row = sqlx::query::<D::DB>(&sql)
                .bind(kind.as_str().to_string())
                .bind(key.to_string())
                .bind(payload.to_string())
                .bind(D::stamp(at))
                .fetch_one(&mut *conn)
                .await?;
            Self::outbox_entry(&row)
        }

        async fn outbox_status_of(conn: &mut Conn<D>, id: i64) -> Result<OutboxStatus> {
            let row = sqlx::query::<D::DB>("SELECT status FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| missing(id))?;
            Self::get::<String>(&row, "status")?.parse()
        }

        /// The status of an entry a person acts on, refused unless it failed or died:
        /// only those can be retried or dropped (`done` names the action).
        async fn failed_or_dead(conn: &mut Conn<D>, id: i64, done: &str) -> Result<OutboxStatus> {
            let from = Self::outbox_status_of(conn, id).await?;
            if !matches!(from, OutboxStatus::Failed | OutboxStatus::Dead) {
                return Err(StoreError::Refused(format!(
                    "outbox entry {id} is {}: only failed or dead entries can be {done}",
                    from.as_str()
                )));
            }
            Ok(from)
        }

        /// Failed or dead back to pending, in the caller's transaction. A fresh attempt
        /// budget: the worker gives up by attempt count, and an entry retried by hand must not
        /// die on its first new failure. last_error stays as history until the next attempt
        /// replaces it.
        async fn retry_in(conn: &mut Conn<D>, id: i64, at: DateTime<Utc>) -> Result<OutboxStatus> {
            let from = Self::failed_or_dead(conn, id, "retried").await?;
            sqlx::query::<D::DB>(
                "UPDATE outbox SET status = 'pending', attempts = 0, updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(D::stamp(at))
            .execute(&mut *conn)
            .await?;
            Ok(from)
        }

        /// One `UPDATE … WHERE id = $1` of an entry that must exist.
        async fn update_entry(&self, id: i64, query: Q<'_, D>) -> Result<()> {
            let done = query.execute(self.pool()).await?;
            if D::rows_affected(&done) == 0 {
                return Err(missing(id));
            }
            Ok(())
        }

        #[allow(clippy::too_many_arguments)] // one audit row's columns, bound in order
        async fn outbox_audit_row(
            conn: &mut Conn<D>,
            id: i64,
            at: DateTime<Utc>,
            actor: &str,
            action: &str,
            from: OutboxStatus,
            to: OutboxStatus,
            note: Option<&str>,
        ) -> Result<()> {
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
    }
}

sql_impl! {
    #[async_trait]
    impl<D> OutboxStore for SqlStore<D> {
        async fn add_note(&self, cn: &CollectorNote) -> Result<OutboxEntry> {
            let note = &cn.note;
            let item = note.item.as_ref();
            let promise = cn.details.promise.as_ref();
            let insert = sqlx::query::<D::DB>(
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
            .bind(promise.map(|p| p.date));
            let key = &note.idempotency_key;
            self.record_and_queue(insert, OutboxKind::Note, key, payload(cn)?, note.created_at)
                .await
        }

        async fn add_dispute_status(&self, change: &DisputeStatusChange) -> Result<OutboxEntry> {
            let insert = sqlx::query::<D::DB>(
                "INSERT INTO dispute_status_changes (case_id, status, requested_by, note, \
                 requested_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(change.case_id.clone())
            .bind(change.status.clone())
            .bind(change.requested_by.clone())
            .bind(change.note.clone())
            .bind(D::stamp(change.requested_at))
            .bind(change.idempotency_key.clone());
            let (key, at) = (&change.idempotency_key, change.requested_at);
            self.record_and_queue(insert, OutboxKind::DisputeStatus, key, payload(change)?, at)
                .await
        }

        async fn last_dispute_status(&self, case_id: &str) -> Result<Option<String>> {
            let row = sqlx::query::<D::DB>(
                "SELECT status FROM dispute_status_changes WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(case_id.to_string())
            .fetch_optional(self.pool())
            .await?;
            row.map(|r| Self::get::<String>(&r, "status")).transpose()
        }

        async fn outbox_due(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
            let sql = format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1"
            );
            sqlx::query::<D::DB>(&sql)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(Self::outbox_entry)
                .collect()
        }

        async fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
            let query = sqlx::query::<D::DB>(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, \
                 updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(D::stamp(at));
            self.update_entry(id, query).await
        }

        async fn outbox_mark_failed(
            &self,
            id: i64,
            error: &str,
            at: DateTime<Utc>,
            final_status: Option<OutboxStatus>,
        ) -> Result<()> {
            let status = final_status.unwrap_or(OutboxStatus::Pending);
            if status == OutboxStatus::Sent {
                return Err(StoreError::Refused(format!(
                    "outbox entry {id}: a failed attempt cannot mark it sent"
                )));
            }
            let query = sqlx::query::<D::DB>(
                "UPDATE outbox SET status = $2, attempts = attempts + 1, last_error = $3, \
                 updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(status.as_str().to_string())
            .bind(error.to_string())
            .bind(D::stamp(at));
            self.update_entry(id, query).await
        }

        async fn outbox_list(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxEntry>> {
            let mut sql = format!("SELECT {OUTBOX_COLS} FROM outbox");
            if status.is_some() {
                sql += " WHERE status = $1";
            }
            sql += " ORDER BY id";
            let mut query = sqlx::query::<D::DB>(&sql);
            if let Some(status) = status {
                query = query.bind(status.as_str().to_string());
            }
            query
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(Self::outbox_entry)
                .collect()
        }

        async fn outbox_entry(&self, id: i64) -> Result<OutboxEntry> {
            let sql = format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = $1");
            let row = sqlx::query::<D::DB>(&sql)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| missing(id))?;
            Self::outbox_entry(&row)
        }

        async fn outbox_retry(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            Self::retry_in(&mut tx, id, at).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn outbox_retry_by(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            let from = Self::retry_in(&mut tx, id, at).await?;
            let to = OutboxStatus::Pending;
            Self::outbox_audit_row(&mut tx, id, at, by, "retry", from, to, None).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn outbox_drop(
            &self,
            id: i64,
            by: &str,
            reason: &str,
            at: DateTime<Utc>,
        ) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            let from = Self::failed_or_dead(&mut tx, id, "dropped").await?;
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
            let to = OutboxStatus::Dropped;
            Self::outbox_audit_row(&mut tx, id, at, by, "drop", from, to, Some(reason)).await?;
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

        async fn outbox_mark_verified(
            &self,
            id: i64,
            erp_ref: &str,
            at: DateTime<Utc>,
        ) -> Result<()> {
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
            let to = OutboxStatus::Pending;
            Self::outbox_audit_row(&mut tx, id, at, SYSTEM_ACTOR, "requeue", from, to, Some(why))
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

        async fn notes_with_status(
            &self,
            customer: &CustomerId,
            limit: u32,
        ) -> Result<Vec<NoteWithStatus>> {
            let rows = sqlx::query::<D::DB>(
                "SELECT n.created_at, n.author, n.channel, n.text, n.company_code, \
                   n.fiscal_year, n.document, n.item, o.id AS outbox_id, o.status, \
                   o.last_error, o.attempts, o.sent_at \
                 FROM notes n LEFT JOIN outbox o ON o.idempotency_key = n.idempotency_key \
                 WHERE n.customer = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
            )
            .bind(customer.as_str().to_string())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let item = match Self::get::<Option<String>>(row, "company_code")? {
                    Some(company_code) => Some(OpenItemKey {
                        company_code,
                        fiscal_year: Self::get(row, "fiscal_year")?,
                        document: Self::get(row, "document")?,
                        item: Self::get(row, "item")?,
                    }),
                    None => None,
                };
                out.push(NoteWithStatus {
                    at: Self::stamp(row, "created_at")?,
                    author: Self::get(row, "author")?,
                    channel: Self::get(row, "channel")?,
                    text: Self::get(row, "text")?,
                    item,
                    outbox_id: Self::get(row, "outbox_id")?,
                    status: Self::get::<Option<String>>(row, "status")?
                        .map(|s| s.parse())
                        .transpose()?,
                    last_error: Self::get(row, "last_error")?,
                    attempts: narrow(
                        "attempts",
                        Self::get::<Option<i64>>(row, "attempts")?.unwrap_or(0),
                    )?,
                    sent_at: Self::opt_stamp(row, "sent_at")?,
                });
            }
            Ok(out)
        }
    }
}
