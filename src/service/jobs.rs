//! The service's jobs and their single step: [`run_once`] does one run of one job and
//! nothing else (no waiting, no leases, no metrics), so it can be tested on its own; the
//! scheduler decides when, where and how often.

use crate::erp::connect;
use crate::push::{self, PushReport};
use crate::store::StoreError;
use crate::sync::{self, reconcile_run, Entity, SyncContext, SyncError};
use chrono::Utc;
use serde::Serialize;
use std::collections::BTreeMap;

/// One kind of recurring work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Job {
    Pull(Entity),
    Reconcile,
    Push,
    /// The IDoc inbox (directory of IDoc XML files), when `[idoc]` is configured.
    IdocInbox,
    /// Reads back what was sent and queues again what the ERP lost.
    VerifyOutbox,
}

impl Job {
    /// The name used in logs, metrics, leases and the status page.
    pub fn name(self) -> &'static str {
        match self {
            Job::Pull(Entity::PaymentTerms) => "pull-payment-terms",
            Job::Pull(Entity::Customers) => "pull-customers",
            Job::Pull(Entity::Contracts) => "pull-contracts",
            Job::Pull(Entity::OpenItems) => "pull-open-items",
            Job::Reconcile => "reconcile",
            Job::Push => "push",
            Job::IdocInbox => "idoc-inbox",
            Job::VerifyOutbox => "verify-outbox",
        }
    }

    /// Whether every successful run of this job has talked to the ERP (the readiness
    /// check trusts these runs, from any instance, as proof the ERP is reachable).
    pub fn always_contacts_erp(self) -> bool {
        matches!(
            self,
            Job::Pull(Entity::Customers) | Job::Pull(Entity::OpenItems)
        )
    }

    /// Whether the job is run by one instance at a time (under a lease). The push job is
    /// not: every instance drains, and outbox claims keep them off each other's entries.
    pub fn leased(self) -> bool {
        !matches!(self, Job::Push)
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobOutcome {
    /// Records stored, by entity.
    pub pulled: BTreeMap<String, u64>,
    /// Records the ERP sent that could not be read (left out, logged).
    pub rejected: u64,
    pub push: Option<PushReport>,
    pub findings: Option<u64>,
    /// The ERP answered during this run (payment terms come from a file, an empty outbox
    /// sends nothing: such runs prove nothing about the ERP).
    pub erp_answered: bool,
}

impl JobOutcome {
    /// Whether the run may have changed what reconciliation looks at.
    pub fn changed_data(&self) -> bool {
        self.pulled.values().any(|n| *n > 0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
    /// The run panicked; the scheduler counts it as a failed run and tries again later.
    #[error("the run panicked: {0}")]
    Panicked(String),
}

/// Jobs whose next run panics on purpose (see [`panic_in_next_run`]).
static PANIC_NEXT: std::sync::Mutex<Vec<Job>> = std::sync::Mutex::new(Vec::new());

/// Makes the next run of `job` in this process panic before doing anything, so tests can
/// prove the scheduler survives a panicking run. Nothing in the agent calls it: only code
/// linking the library (a test) can.
#[doc(hidden)]
pub fn panic_in_next_run(job: Job) {
    PANIC_NEXT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(job);
}

fn panic_wanted(job: Job) -> bool {
    let mut wanted = PANIC_NEXT.lock().unwrap_or_else(|e| e.into_inner());
    match wanted.iter().position(|j| *j == job) {
        Some(i) => {
            wanted.remove(i);
            true
        }
        None => false,
    }
}

/// What a job run works with.
pub struct JobContext {
    pub sync: SyncContext,
    pub service: crate::service::ServiceSettings,
    /// This instance's id: lease holder and outbox claimer.
    pub instance: String,
}

/// One run of `job`. Pulls land page by page, each page (with its cursor) in one
/// transaction, so a run dropped halfway leaves whole pages only.
pub async fn run_once(ctx: &JobContext, job: Job) -> Result<JobOutcome, JobError> {
    if panic_wanted(job) {
        panic!("panic injected into {}", job.name());
    }
    let mut outcome = JobOutcome::default();
    let store = ctx.sync.store.as_ref();
    match job {
        Job::Pull(entity) => {
            let report = sync::run(&ctx.sync, &[entity]).await?;
            outcome.pulled = report.pulled;
            outcome.rejected = report.rejected.len() as u64;
            outcome.erp_answered = match entity {
                Entity::PaymentTerms => false,
                Entity::Contracts => ctx.sync.config.reads_erp_contracts(),
                Entity::Customers | Entity::OpenItems => true,
            };
            if entity == Entity::OpenItems {
                // The day's AR snapshot follows every open-items pull (taken again the same
                // day, it replaces the earlier one); a failure is logged, the pull stands.
                let now = Utc::now();
                match crate::collections::snapshot::take(store, now.date_naive(), now).await {
                    Ok(rows) => crate::service::metrics::ar_figures(&rows),
                    Err(e) => {
                        tracing::warn!(error = %e, "AR snapshot after the open-items pull failed")
                    }
                }
            }
        }
        Job::Reconcile => {
            let now = Utc::now();
            let rules = &ctx.sync.config.rules;
            let report = reconcile_run::run_with(store, rules, now.date_naive(), now).await?;
            outcome.findings = Some(report.findings);
        }
        Job::Push => {
            let config = &ctx.service;
            let erp = ctx.sync.odata()?;
            let writer = connect::writer_for(&erp.client, &erp.mapping);
            let report = push::drain_claimed(
                store,
                writer.as_ref(),
                &config.push,
                &ctx.instance,
                config.schedule.lease,
            )
            .await?;
            outcome.erp_answered = report.notes + report.dispute_statuses + report.simulated > 0;
            outcome.push = Some(report);
        }
        Job::VerifyOutbox => {
            let erp = ctx.sync.odata()?;
            let writer = connect::writer_for(&erp.client, &erp.mapping);
            let report = crate::push::verify::verify_sent(store, writer.as_ref())
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            outcome.erp_answered = report.checked > 0;
            for f in report.requeued.iter().chain(&report.differing) {
                tracing::warn!(
                    outbox_id = f.outbox_id,
                    kind = f.kind,
                    target = %f.target,
                    why = %f.why,
                    "sent entry not as the ERP holds it"
                );
            }
            if !report.requeued.is_empty() {
                tracing::warn!(
                    requeued = report.requeued.len(),
                    "the ERP no longer holds some sent entries; they are queued again"
                );
            }
        }
        Job::IdocInbox => {
            let config = &ctx.sync.config;
            let Some(idoc) = &config.idoc else {
                return Err(JobError::Other("no [idoc] inbox configured".into()));
            };
            let mut report = crate::sync::SyncReport::default();
            crate::sync::idoc_inbox::pick_up(
                ctx.sync.store.clone(),
                &config.base_dir,
                &idoc.inbox,
                &mut report,
            )
            .await?;
            outcome.pulled = report.pulled;
            outcome.rejected = report.rejected.len() as u64;
            // An IDoc-only ERP is only ever heard through its inbox.
            outcome.erp_answered = config.erp.kind == crate::erp::ErpKind::Idoc;
        }
    }
    Ok(outcome)
}
