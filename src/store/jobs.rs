//! Background-service coordination: job leases shared by several instances, job run records,
//! and outbox claims.
//!
//! PostgreSQL is the coordinator when several `erpsync run` processes share one store: a
//! lease row says which instance runs a job until when, and is taken over only once it has
//! expired; outbox entries are claimed with `FOR UPDATE SKIP LOCKED`, so two instances
//! draining at once never take the same entry. On SQLite (one instance) the same SQL works,
//! without the row locks it does not have. Instants come from the caller's clock: instances
//! sharing a store need synchronised clocks (NTP), and lease times far above their skew.

use super::dialect::{sql_impl, SqlStore};
use super::outbox::OUTBOX_COLS;
use super::{OutboxEntry, OutboxStatus, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The last run of a job, as the status page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRun {
    pub name: String,
    /// The instance that ran it last.
    pub instance: String,
    pub runs: u64,
    pub failures: u64,
    pub last_started_at: DateTime<Utc>,
    pub last_finished_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// The error of the last run, `None` when it succeeded.
    pub last_error: Option<String>,
}

/// Who holds a job's lease, and until when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobLease {
    pub name: String,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A stored sync cursor, for the status page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CursorRow {
    pub name: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Takes the lease of `job` for `holder` until `until`, in one statement: inserted when
    /// nobody holds it, taken over when it expired before `now`, extended when `holder`
    /// already holds it. `false`: another instance holds it.
    async fn lease_acquire(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool>;
    /// Extends a held lease. `false`: the lease was lost (expired and taken over).
    async fn lease_renew(&self, job: &str, holder: &str, until: DateTime<Utc>) -> Result<bool>;
    /// Gives the lease up, so another instance may run the job at once.
    async fn lease_release(&self, job: &str, holder: &str) -> Result<()>;
    async fn leases(&self) -> Result<Vec<JobLease>>;

    /// Records one finished run of `job` (`error` is `None` on success).
    async fn record_job_run(
        &self,
        job: &str,
        instance: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()>;
    async fn job_runs(&self) -> Result<Vec<JobRun>>;

    /// Claims up to `limit` pending entries, oldest first, for `claimer` until `until`:
    /// entries another instance claimed are skipped until their claim expires (a killed
    /// instance's entries are taken over then).
    async fn outbox_claim(
        &self,
        claimer: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>>;
    /// Drops `claimer`'s remaining claims (entries it did not finish stay pending).
    async fn outbox_release_claims(&self, claimer: &str) -> Result<u64>;

    /// Outbox entries per status (for the outbox-depth metric).
    async fn outbox_status_counts(&self) -> Result<Vec<(OutboxStatus, u64)>>;

    /// The incremental-sync cursors held, by name.
    async fn status_cursors(&self) -> Result<Vec<CursorRow>>;
}

sql_impl! {
    #[async_trait]
    impl<D> JobStore for SqlStore<D> {
        async fn lease_acquire(
            &self,
            job: &str,
            holder: &str,
            now: DateTime<Utc>,
            until: DateTime<Utc>,
        ) -> Result<bool> {
            // One statement, so two instances racing for an expired lease cannot both win: the
            // conflict update re-checks the row it locked. No row comes back when the WHERE
            // refuses the takeover.
            let row = sqlx::query::<D::DB>(
                "INSERT INTO job_leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 acquired_at = excluded.acquired_at, expires_at = excluded.expires_at \
                 WHERE job_leases.expires_at < excluded.acquired_at \
                 OR job_leases.holder = excluded.holder \
                 RETURNING holder",
            )
            .bind(job.to_string())
            .bind(holder.to_string())
            .bind(D::stamp(now))
            .bind(D::stamp(until))
            .fetch_optional(self.pool())
            .await?;
            Ok(row.is_some())
        }

        async fn lease_renew(&self, job: &str, holder: &str, until: DateTime<Utc>) -> Result<bool> {
            let done = sqlx::query::<D::DB>(
                "UPDATE job_leases SET expires_at = $3 WHERE name = $1 AND holder = $2",
            )
            .bind(job.to_string())
            .bind(holder.to_string())
            .bind(D::stamp(until))
            .execute(self.pool())
            .await?;
            Ok(D::rows_affected(&done) == 1)
        }

        async fn lease_release(&self, job: &str, holder: &str) -> Result<()> {
            sqlx::query::<D::DB>("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
                .bind(job.to_string())
                .bind(holder.to_string())
                .execute(self.pool())
                .await?;
            Ok(())
        }

        async fn leases(&self) -> Result<Vec<JobLease>> {
            let sql = "SELECT name, holder, acquired_at, expires_at FROM job_leases ORDER BY name";
            self.all_rows(sql, |row| {
                Ok(JobLease {
                    name: Self::get(row, "name")?,
                    holder: Self::get(row, "holder")?,
                    acquired_at: Self::stamp(row, "acquired_at")?,
                    expires_at: Self::stamp(row, "expires_at")?,
                })
            })
            .await
        }

        async fn record_job_run(
            &self,
            job: &str,
            instance: &str,
            started_at: DateTime<Utc>,
            finished_at: DateTime<Utc>,
            error: Option<&str>,
        ) -> Result<()> {
            let failed = i64::from(error.is_some());
            let success = error.is_none().then(|| D::stamp(finished_at));
            sqlx::query::<D::DB>(
                "INSERT INTO job_runs (name, instance, runs, failures, last_started_at, \
                 last_finished_at, last_success_at, last_error) VALUES ($1, $2, 1, $3, $4, $5, $6, $7) \
                 ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, \
                 runs = job_runs.runs + 1, failures = job_runs.failures + excluded.failures, \
                 last_started_at = excluded.last_started_at, \
                 last_finished_at = excluded.last_finished_at, \
                 last_success_at = COALESCE(excluded.last_success_at, job_runs.last_success_at), \
                 last_error = excluded.last_error",
            )
            .bind(job.to_string())
            .bind(instance.to_string())
            .bind(failed)
            .bind(D::stamp(started_at))
            .bind(D::stamp(finished_at))
            .bind(success)
            .bind(error.map(str::to_string))
            .execute(self.pool())
            .await?;
            Ok(())
        }

        async fn job_runs(&self) -> Result<Vec<JobRun>> {
            let sql = "SELECT name, instance, runs, failures, last_started_at, last_finished_at, \
                 last_success_at, last_error FROM job_runs ORDER BY name";
            self.all_rows(sql, |row| {
                Ok(JobRun {
                    name: Self::get(row, "name")?,
                    instance: Self::get(row, "instance")?,
                    runs: Self::get::<i64>(row, "runs")?.max(0) as u64,
                    failures: Self::get::<i64>(row, "failures")?.max(0) as u64,
                    last_started_at: Self::stamp(row, "last_started_at")?,
                    last_finished_at: Self::stamp(row, "last_finished_at")?,
                    last_success_at: Self::opt_stamp(row, "last_success_at")?,
                    last_error: Self::get(row, "last_error")?,
                })
            })
            .await
        }

        async fn outbox_claim(
            &self,
            claimer: &str,
            now: DateTime<Utc>,
            until: DateTime<Utc>,
            limit: u32,
        ) -> Result<Vec<OutboxEntry>> {
            // PostgreSQL: rows another transaction is claiming right now are skipped instead of
            // waited for, so concurrent drains split the work. SQLite has no row locks (and its
            // writers are serialised anyway), so the plain subquery is already exclusive there.
            let lock = if D::NAME == "postgres" {
                " FOR UPDATE SKIP LOCKED"
            } else {
                ""
            };
            let sql = format!(
                "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN (\
                 SELECT id FROM outbox WHERE status = 'pending' \
                 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY id LIMIT $4{lock}) RETURNING {OUTBOX_COLS}"
            );
            let mut entries = sqlx::query::<D::DB>(&sql)
                .bind(claimer.to_string())
                .bind(D::stamp(until))
                .bind(D::stamp(now))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(Self::outbox_entry)
                .collect::<Result<Vec<_>>>()?;
            // RETURNING gives no order; sends must go oldest first.
            entries.sort_by_key(|e| e.id);
            Ok(entries)
        }

        async fn outbox_release_claims(&self, claimer: &str) -> Result<u64> {
            let done = sqlx::query::<D::DB>(
                "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1",
            )
            .bind(claimer.to_string())
            .execute(self.pool())
            .await?;
            Ok(D::rows_affected(&done))
        }

        async fn outbox_status_counts(&self) -> Result<Vec<(OutboxStatus, u64)>> {
            let sql = "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status";
            self.all_rows(sql, |row| {
                    let status: String = Self::get(row, "status")?;
                    let n: i64 = Self::get(row, "n")?;
                    Ok((status.parse()?, n.max(0) as u64))
                })
            .await
        }

        async fn status_cursors(&self) -> Result<Vec<CursorRow>> {
            let sql = "SELECT name, value, updated_at FROM sync_cursors ORDER BY name";
            self.all_rows(sql, |row| {
                    Ok(CursorRow {
                        name: Self::get(row, "name")?,
                        value: Self::get(row, "value")?,
                        updated_at: Self::stamp(row, "updated_at")?,
                    })
                })
            .await
        }
    }
}
