//! A flag's life after reconciliation opened it: reviewers' moves, waivers (proposed by
//! one person, approved by another, reopened when they end) and the audit log that records
//! every change with who, when and why.

use super::dialect::{sql_impl, Conn, SqlStore};
use super::findings::SYSTEM_ACTOR;
use super::{Result, StoreError};
use crate::model::{Discrepancy, DiscrepancyStatus, StatusChange};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// A reviewer's action, checked against [`DiscrepancyStatus::reviewer_may_move_to`],
    /// written with its audit entry in one transaction.
    async fn change_status(
        &self,
        id: i64,
        to: DiscrepancyStatus,
        actor: &str,
        note: Option<&str>,
        waived_until: Option<NaiveDate>,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy>;
    /// A second person approves a proposed waiver (never the one who proposed it), audited.
    async fn approve_waiver(
        &self,
        id: i64,
        actor: &str,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy>;
    /// Reopens (audited) every waived discrepancy whose waiver ended before `today`.
    async fn expire_waivers(&self, today: NaiveDate, at: DateTime<Utc>) -> Result<u64>;
    async fn audit_log(&self, id: i64) -> Result<Vec<StatusChange>>;
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// The flag a reviewer acts on, in the action's transaction.
        pub(super) async fn flag_to_change(conn: &mut Conn<D>, id: i64) -> Result<Discrepancy> {
            Self::discrepancy_in(conn, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "discrepancy",
                    id: id.to_string(),
                })
        }

        /// The flag as the action left it.
        pub(super) async fn flag_changed(conn: &mut Conn<D>, id: i64) -> Result<Discrepancy> {
            Self::discrepancy_in(conn, id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("discrepancy {id} vanished")))
        }
    }
}

sql_impl! {
    #[async_trait]
    impl<D> ReviewStore for SqlStore<D> {
        async fn change_status(
            &self,
            id: i64,
            to: DiscrepancyStatus,
            actor: &str,
            note: Option<&str>,
            waived_until: Option<NaiveDate>,
            at: DateTime<Utc>,
        ) -> Result<Discrepancy> {
            let mut tx = self.pool().begin().await?;
            let current = Self::flag_to_change(&mut tx, id).await?;
            let from = current.status;
            if !from.reviewer_may_move_to(to) {
                return Err(StoreError::Refused(format!(
                    "discrepancy {id} cannot be moved from {from} to {to}"
                )));
            }
            // Whoever acknowledges a flag takes it on.
            let assignee = if to == DiscrepancyStatus::Acknowledged {
                Some(actor.to_string())
            } else {
                current.assignee
            };
            // Waiving proposes: the waiver counts once a second person approves it.
            let (waiver_by, until) = if to == DiscrepancyStatus::Waived {
                (Some(actor.to_string()), waived_until)
            } else {
                (None, None)
            };
            sqlx::query::<D::DB>(
                "UPDATE discrepancies SET status = $2, assignee = $3, waived_until = $4, \
                 updated_at = $5, waiver_by = $6, waiver_approved_by = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(to.as_str().to_string())
            .bind(assignee)
            .bind(until)
            .bind(D::stamp(at))
            .bind(waiver_by)
            .execute(&mut *tx)
            .await?;
            Self::audit(&mut tx, id, at, actor, Some(from), to, note).await?;
            let changed = Self::flag_changed(&mut tx, id).await?;
            tx.commit().await?;
            Ok(changed)
        }

        async fn approve_waiver(
            &self,
            id: i64,
            actor: &str,
            note: Option<&str>,
            at: DateTime<Utc>,
        ) -> Result<Discrepancy> {
            let mut tx = self.pool().begin().await?;
            let current = Self::flag_to_change(&mut tx, id).await?;
            if current.status != DiscrepancyStatus::Waived {
                return Err(StoreError::Refused(format!(
                    "discrepancy {id} is {}, not waived: there is no waiver to approve",
                    current.status
                )));
            }
            if let Some(by) = &current.waiver_approved_by {
                return Err(StoreError::Refused(format!(
                    "the waiver of discrepancy {id} was already approved by {by}"
                )));
            }
            if current.waiver_by.as_deref() == Some(actor) {
                return Err(StoreError::Refused(format!(
                    "{actor} proposed the waiver of discrepancy {id} and cannot also approve it"
                )));
            }
            sqlx::query::<D::DB>(
                "UPDATE discrepancies SET waiver_approved_by = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(actor.to_string())
            .bind(D::stamp(at))
            .execute(&mut *tx)
            .await?;
            let note = note.map_or_else(
                || "waiver approved".to_string(),
                |n| format!("waiver approved: {n}"),
            );
            let waived = DiscrepancyStatus::Waived;
            Self::audit(&mut tx, id, at, actor, Some(waived), waived, Some(&note)).await?;
            let changed = Self::flag_changed(&mut tx, id).await?;
            tx.commit().await?;
            Ok(changed)
        }

        async fn expire_waivers(&self, today: NaiveDate, at: DateTime<Utc>) -> Result<u64> {
            let mut tx = self.pool().begin().await?;
            let expired: Vec<i64> = sqlx::query::<D::DB>(
                "SELECT id FROM discrepancies WHERE status = 'waived' AND waived_until < $1 ORDER BY id",
            )
            .bind(today)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| Self::get::<i64>(row, "id"))
            .collect::<Result<_>>()?;
            for id in &expired {
                sqlx::query::<D::DB>(
                    "UPDATE discrepancies SET status = 'open', waived_until = NULL, waiver_by = NULL, \
                     waiver_approved_by = NULL, updated_at = $2 WHERE id = $1",
                )
                .bind(*id)
                .bind(D::stamp(at))
                .execute(&mut *tx)
                .await?;
                let (from, to) = (DiscrepancyStatus::Waived, DiscrepancyStatus::Open);
                let note = Some("waiver expired");
                Self::audit(&mut tx, *id, at, SYSTEM_ACTOR, Some(from), to, note).await?;
            }
            tx.commit().await?;
            Ok(expired.len() as u64)
        }

        async fn audit_log(&self, id: i64) -> Result<Vec<StatusChange>> {
            sqlx::query::<D::DB>(
                "SELECT discrepancy_id, at, actor, from_status, to_status, note \
                 FROM discrepancy_audit WHERE discrepancy_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(Self::status_change)
            .collect()
        }
    }
}
