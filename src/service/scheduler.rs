//! The scheduler: one loop per job. A loop waits for its interval (plus jitter, longer
//! after failures), takes the job's lease when the job is leased, runs the single step
//! ([`super::jobs::run_once`]) inside a span with the run's id, records the outcome, and
//! gives the lease back. Because each job has exactly one loop, a job never overlaps
//! itself in an instance; the lease keeps it from overlapping across instances. A failing
//! job only delays its own loop.

use super::jobs::{run_once, Job, JobContext, JobOutcome};
use super::metrics as m;
use super::settings::{ScheduleConfig, ServiceSettings};
use crate::erp::ErpKind;
use crate::sync::{Entity, SyncSettings};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// A job and how often it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSpec {
    pub job: Job,
    pub interval: Duration,
}

/// The jobs the schedule and the pulls' settings ask for.
pub fn jobs_for(s: &ScheduleConfig, sync: &SyncSettings) -> Vec<JobSpec> {
    let mut specs = vec![
        JobSpec {
            job: Job::Pull(Entity::PaymentTerms),
            interval: s.payment_terms,
        },
        JobSpec {
            job: Job::Pull(Entity::Customers),
            interval: s.customers,
        },
        JobSpec {
            job: Job::Pull(Entity::Contracts),
            interval: s.contracts,
        },
        JobSpec {
            job: Job::Pull(Entity::OpenItems),
            interval: s.open_items,
        },
        JobSpec {
            job: Job::Reconcile,
            interval: s.reconcile,
        },
        JobSpec {
            job: Job::Push,
            interval: s.push,
        },
        JobSpec {
            job: Job::VerifyOutbox,
            interval: s.verify_outbox,
        },
    ];
    // Files dropped into the inbox by an SAP file port (the HTTP endpoint imports what it
    // receives at once).
    if sync.idoc.is_some() {
        specs.push(JobSpec {
            job: Job::IdocInbox,
            interval: s.idoc_inbox,
        });
    }
    // An IDoc-only ERP is neither asked for customers and open items (they arrive in the
    // inbox) nor written to: the outbox keeps what is queued.
    if sync.erp.kind == ErpKind::Idoc {
        specs.retain(|spec| {
            !matches!(
                spec.job,
                Job::Pull(Entity::Customers | Entity::OpenItems) | Job::Push | Job::VerifyOutbox
            )
        });
    }
    specs
}

/// How long to wait before the next turn: the interval, doubled per consecutive failure
/// (capped at `max_backoff`, but never below the interval), plus up to `jitter` of random
/// delay (`random` in `[0, 1)`).
pub fn next_delay(
    interval: Duration,
    failures: u32,
    max_backoff: Duration,
    jitter: Duration,
    random: f64,
) -> Duration {
    let base = if failures == 0 {
        interval
    } else {
        let factor = 2u32.saturating_pow(failures.min(16));
        interval
            .saturating_mul(factor)
            .min(max_backoff.max(interval))
    };
    base + jitter.mul_f64(random.clamp(0.0, 1.0))
}

/// A random number in `[0, 1)`; jitter needs spread, not quality.
fn random_unit() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() >> 64) as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// This instance's view of a job, for the status page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LocalJobStatus {
    pub name: &'static str,
    pub interval_secs: f64,
    pub leased: bool,
    pub running: bool,
    pub runs: u64,
    pub failures: u64,
    pub consecutive_failures: u32,
    /// Turns skipped because another instance held the lease.
    pub skipped: u64,
    pub last_run_id: Option<String>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_outcome: Option<JobOutcome>,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// What the job loops and the HTTP handlers share.
pub struct Shared {
    pub ctx: JobContext,
    pub started_at: DateTime<Utc>,
    status: Mutex<BTreeMap<&'static str, LocalJobStatus>>,
    last_erp_contact: Mutex<Option<DateTime<Utc>>>,
    /// Pulls that stored something wake the reconciliation loop.
    reconcile_wanted: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(ctx: JobContext, specs: &[JobSpec]) -> Shared {
        let status = specs
            .iter()
            .map(|s| {
                (
                    s.job.name(),
                    LocalJobStatus {
                        name: s.job.name(),
                        interval_secs: s.interval.as_secs_f64(),
                        leased: s.job.leased(),
                        ..LocalJobStatus::default()
                    },
                )
            })
            .collect();
        Shared {
            ctx,
            started_at: Utc::now(),
            status: Mutex::new(status),
            last_erp_contact: Mutex::new(None),
            reconcile_wanted: Notify::new(),
        }
    }

    pub fn job_status(&self) -> Vec<LocalJobStatus> {
        lock(&self.status).values().cloned().collect()
    }

    pub fn last_erp_contact(&self) -> Option<DateTime<Utc>> {
        *lock(&self.last_erp_contact)
    }

    fn update(&self, job: Job, f: impl FnOnce(&mut LocalJobStatus)) {
        if let Some(s) = lock(&self.status).get_mut(job.name()) {
            f(s);
        }
    }

    fn settings(&self) -> &ServiceSettings {
        &self.ctx.service
    }
}

/// How a turn ended.
enum Turn {
    Finished(Result<JobOutcome, super::jobs::JobError>),
    /// Shutdown ran out of grace; the step was dropped (its open transaction rolls back).
    Abandoned,
    /// Another instance took the lease over (this one stalled past its expiry).
    LeaseLost,
}

/// Runs `spec`'s job until `stop` is cancelled. A run under way when `stop` comes is
/// finished, unless `abandon` comes first.
pub async fn job_loop(
    spec: JobSpec,
    shared: Arc<Shared>,
    stop: CancellationToken,
    abandon: CancellationToken,
) {
    let job = spec.job;
    let name = job.name();
    let sched = shared.settings().schedule.clone();
    let store = shared.ctx.sync.store.clone();
    let instance = shared.ctx.instance.clone();
    let lease_for = chrono::Duration::from_std(sched.lease).unwrap_or(chrono::Duration::minutes(2));
    let mut failures: u32 = 0;
    // The wait before the next turn: the interval, doubled per failure up to the cap, jittered.
    let backoff = |interval, failures| {
        next_delay(
            interval,
            failures,
            sched.max_backoff,
            sched.jitter,
            random_unit(),
        )
    };
    // The first turn comes soon after start (only jitter apart), except reconciliation,
    // which waits for the first pull to store something (or its interval).
    let mut delay = if job == Job::Reconcile {
        backoff(spec.interval, 0)
    } else {
        sched.jitter.mul_f64(random_unit())
    };
    loop {
        let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        shared.update(job, |s| s.next_run_at = Some(next));
        let triggered = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(delay) => false,
            _ = shared.reconcile_wanted.notified(), if job == Job::Reconcile => true,
        };
        if stop.is_cancelled() {
            break;
        }

        if job.leased() {
            let now = Utc::now();
            match store
                .lease_acquire(name, &instance, now, now + lease_for)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(job = name, "another instance holds the lease; skipped");
                    m::job_skipped(name);
                    shared.update(job, |s| s.skipped += 1);
                    // Look again once the lease could have expired: if its holder died,
                    // the job moves here then, not an interval later.
                    delay = backoff(spec.interval.min(sched.lease), 0);
                    continue;
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(job = name, error = %e, "cannot take the job lease");
                    delay = backoff(spec.interval, failures);
                    continue;
                }
            }
        }

        // The interval holds for the whole cluster (and across restarts): a job that some
        // instance finished successfully less than an interval ago is not run again yet.
        if job.leased() && !triggered {
            if let Some(wait) = recently_done(store.as_ref(), name, spec.interval).await {
                let _ = store.lease_release(name, &instance).await;
                tracing::debug!(
                    job = name,
                    wait_ms = wait.as_millis() as u64,
                    "done recently; next turn later"
                );
                delay = wait + sched.jitter.mul_f64(random_unit());
                continue;
            }
        }

        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let started_at = Utc::now();
        let started = Instant::now();
        shared.update(job, |s| {
            s.running = true;
            s.last_run_id = Some(run_id.clone());
            s.last_started_at = Some(started_at);
        });
        let span = tracing::info_span!("job", job = name, run_id = %run_id, instance = %instance);
        let turn = async {
            tracing::info!("job started");
            // A panic in the run is caught here, so it ends this turn as a failure (logged,
            // counted, backed off, lease released) instead of ending the job's loop. The
            // shared state is only touched under `lock`, which tolerates poisoning.
            let work = AssertUnwindSafe(run_once(&shared.ctx, job)).catch_unwind();
            tokio::pin!(work);
            let mut renew =
                tokio::time::interval((sched.lease / 3).max(Duration::from_millis(100)));
            renew.tick().await;
            loop {
                tokio::select! {
                    r = &mut work => break Turn::Finished(r.unwrap_or_else(|p| {
                        Err(super::jobs::JobError::Panicked(panic_text(p.as_ref())))
                    })),
                    _ = abandon.cancelled() => break Turn::Abandoned,
                    _ = renew.tick(), if job.leased() => {
                        match store.lease_renew(name, &instance, Utc::now() + lease_for).await {
                            Ok(true) => {}
                            Ok(false) => break Turn::LeaseLost,
                            // A store hiccup: the lease still runs; try again next tick.
                            Err(e) => tracing::warn!(error = %e, "cannot renew the job lease"),
                        }
                    }
                }
            }
        }
        .instrument(span.clone())
        .await;
        let elapsed = started.elapsed();
        let finished_at = Utc::now();
        let _entered = span.enter();
        let error = match &turn {
            Turn::Finished(Ok(outcome)) => {
                for (entity, n) in &outcome.pulled {
                    m::pulled(name, entity, *n);
                }
                if let Some(p) = &outcome.push {
                    m::pushed("sent", p.notes + p.dispute_statuses - p.already_there);
                    m::pushed("already_there", p.already_there);
                    m::pushed("retry_later", p.retry_later);
                    m::pushed("failed", p.failed);
                    m::pushed("dead", p.dead);
                }
                if outcome.erp_answered {
                    *lock(&shared.last_erp_contact) = Some(finished_at);
                    m::erp_contact(finished_at.timestamp() as f64);
                }
                if outcome.changed_data() {
                    shared.reconcile_wanted.notify_one();
                }
                tracing::info!(elapsed_ms = elapsed.as_millis() as u64, pulled = ?outcome.pulled, "job finished");
                None
            }
            Turn::Finished(Err(e)) => {
                tracing::warn!(elapsed_ms = elapsed.as_millis() as u64, error = %e, "job failed");
                Some(e.to_string())
            }
            Turn::Abandoned => {
                tracing::warn!(
                    elapsed_ms = elapsed.as_millis() as u64,
                    "job abandoned at shutdown; its unfinished batch was not stored"
                );
                Some("abandoned at shutdown".to_string())
            }
            Turn::LeaseLost => {
                tracing::warn!("job lease lost to another instance; run dropped");
                Some("lease lost to another instance".to_string())
            }
        };
        drop(_entered);
        m::job_finished(
            name,
            elapsed,
            error.is_none(),
            finished_at.timestamp() as f64,
        );
        if error.is_some() {
            failures = failures.saturating_add(1);
        } else {
            failures = 0;
        }
        shared.update(job, |s| {
            s.running = false;
            s.runs += 1;
            if let Some(e) = &error {
                s.failures += 1;
                s.last_error = Some(e.clone());
            } else {
                s.last_error = None;
                s.last_success_at = Some(finished_at);
            }
            s.consecutive_failures = failures;
            if let Turn::Finished(Ok(o)) = &turn {
                s.last_outcome = Some(o.clone());
            }
        });
        if let Err(e) = store
            .record_job_run(name, &instance, started_at, finished_at, error.as_deref())
            .await
        {
            tracing::warn!(job = name, error = %e, "cannot record the job run");
        }
        if job.leased() && !matches!(turn, Turn::LeaseLost) {
            if let Err(e) = store.lease_release(name, &instance).await {
                tracing::warn!(job = name, error = %e, "cannot release the job lease");
            }
        }
        if matches!(turn, Turn::Abandoned) {
            break;
        }
        delay = backoff(spec.interval, failures);
    }
}

/// The message a panic was raised with (`panic!` gives a `&str` or a `String`).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// How much of `interval` is left since the job's last successful run (by any instance),
/// `None` when it is due. A store error counts as due: the lease already guards overlap.
async fn recently_done(
    store: &dyn crate::store::Store,
    name: &str,
    interval: Duration,
) -> Option<Duration> {
    let runs = store.job_runs().await.ok()?;
    let last = runs.iter().find(|r| r.name == name)?.last_success_at?;
    let since = (Utc::now() - last).to_std().unwrap_or_default();
    interval.checked_sub(since).filter(|left| !left.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_the_interval_plus_jitter_and_doubles_per_failure_up_to_the_cap() {
        let s = Duration::from_secs;
        assert_eq!(next_delay(s(30), 0, s(600), s(5), 0.0), s(30));
        assert_eq!(next_delay(s(30), 0, s(600), s(10), 0.5), s(35));
        assert_eq!(next_delay(s(30), 1, s(600), Duration::ZERO, 0.9), s(60));
        assert_eq!(next_delay(s(30), 3, s(600), Duration::ZERO, 0.0), s(240));
        assert_eq!(next_delay(s(30), 10, s(600), Duration::ZERO, 0.0), s(600));
        // A cap below the interval never makes a failing job run more often.
        assert_eq!(next_delay(s(3600), 2, s(600), Duration::ZERO, 0.0), s(3600));
        assert_eq!(
            next_delay(s(30), u32::MAX, s(600), Duration::ZERO, 0.0),
            s(600)
        );
    }

    #[test]
    fn random_unit_stays_in_range() {
        for _ in 0..1000 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
