//! The background service (`erpsync run`).
//!
//! - [`scheduler`]: one loop per job (interval, jitter, backoff, lease, span per run).
//! - [`jobs`]: the jobs and their single step, [`jobs::run_once`], testable on its own.
//! - [`http`]: `/healthz`, `/readyz`, `/metrics`, `/status`.
//! - [`metrics`]: metric names and the Prometheus recorder.
//! - [`shutdown`]: SIGTERM/SIGINT to a [`CancellationToken`].
//! - [`idoc_endpoint`]: `POST /idoc`, mounted when `[idoc] inbox` is configured.
//! - [`desk`]: the review desk pages and the `/api/v1/…` JSON API.
//!
//! Shutdown is a value passed in: [`run`] takes a token; when it is cancelled no job starts
//! again, running jobs get `server.shutdown_grace` to finish, and what is still running
//! near its end is dropped. Dropping is safe because every batch (with its cursor) is one
//! transaction: an unfinished one rolls back, and the next start pulls it again.

pub mod desk;
pub mod headers;
pub mod http;
pub mod idoc_endpoint;
pub mod jobs;
pub mod metrics;
pub mod scheduler;
pub mod settings;
pub mod shutdown;

pub use settings::{ScheduleConfig, ServerConfig, ServerToken, ServerUser, ServiceSettings};

use crate::store::{SharedStore, StoreError};
use crate::sync::{SyncContext, SyncError, SyncSettings};
use jobs::JobContext;
use scheduler::{job_loop, jobs_for, Shared};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
    #[error(transparent)]
    IdocEndpoint(#[from] idoc_endpoint::IdocEndpointError),
    #[error(transparent)]
    Desk(#[from] desk::DeskError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// An id for this process, unique among instances sharing a store: host, pid and a random
/// part (a pid can come back after a restart; the lease of the old process must not).
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

/// When running jobs are dropped during shutdown: most of the grace period is theirs to
/// finish, the rest is kept for rolling back, recording and exiting.
pub fn abandon_after(grace: Duration) -> Duration {
    grace.saturating_sub((grace / 4).min(Duration::from_secs(5)))
}

/// Runs the service until `stop` is cancelled, then shuts down within the grace period.
/// Applies the store's migrations first.
pub async fn run(
    settings: ServiceSettings,
    sync: SyncSettings,
    store: SharedStore,
    stop: CancellationToken,
) -> Result<(), ServiceError> {
    let handle = metrics::install()?;
    store.migrate().await?;
    let instance = instance_id();
    let specs = jobs_for(&settings.schedule, &sync);
    if sync.erp.allow_insecure_http {
        tracing::warn!(
            "[erp] allow_insecure_http = true: ERP credentials may be sent unencrypted over \
             plain http:// to another host"
        );
    }
    if sync.erp.kind == crate::erp::ErpKind::Idoc {
        tracing::warn!("{}", crate::sync::IDOC_ONLY_NO_PUSH);
    }
    let listen = settings.server.listen;
    let grace = settings.server.shutdown_grace;
    let sync = SyncContext::new(sync, store.clone())?;
    let shared = Arc::new(Shared::new(
        JobContext {
            sync,
            service: settings,
            instance: instance.clone(),
        },
        &specs,
    ));

    // Built before listening, so a missing token secret stops the start with its reason.
    let idoc_endpoint = match &shared.ctx.sync.config.idoc {
        Some(idoc) => Some(idoc_endpoint::IdocEndpointState::from_config(
            &shared.ctx.service,
            idoc,
            store.clone(),
        )?),
        None => None,
    };
    let desk = Arc::new(desk::DeskState::from_config(
        shared.ctx.service.clone(),
        store.clone(),
    )?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })?;
    let http_state = Arc::new(http::HttpState {
        shared: shared.clone(),
        desk: desk.clone(),
        metrics: handle,
        migrated: true,
    });
    let app = http::router(http_state.clone());
    // POST /idoc when an inbox is configured: SAP's XML HTTP port posts IDocs there.
    let app = match idoc_endpoint {
        Some(state) => app.merge(idoc_endpoint::router(state)),
        None => app,
    };
    // The review desk and its API: `/`, `/login`, `/flags/…`, `/api/v1/…`.
    let app = app.merge(desk::router(desk));
    let http_stop = CancellationToken::new();
    // Probes and metrics on a second address, e.g. for a scraper on another network.
    let metrics_addr = match shared.ctx.service.server.metrics_listen {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|source| ServiceError::Listen { addr: at, source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| ServiceError::Listen { addr: at, source })?;
            let ops = http::ops_router(http_state);
            let done = http_stop.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, ops)
                    .with_graceful_shutdown(async move { done.cancelled().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics HTTP server stopped");
                }
            });
            Some(bound)
        }
        None => None,
    };
    let http_done = http_stop.clone();
    let server = tokio::spawn(async move {
        // Connection info gives the login rate limit the client's address.
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move { http_done.cancelled().await })
        .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    tracing::info!(
        addr = %addr,
        metrics_addr = ?metrics_addr,
        instance = %instance,
        store = store.backend(),
        jobs = specs.len(),
        "erpsync service listening"
    );

    let tracker = TaskTracker::new();
    let abandon = CancellationToken::new();
    for spec in specs {
        tracker.spawn(job_loop(
            spec,
            shared.clone(),
            stop.clone(),
            abandon.clone(),
        ));
    }
    tracker.close();

    stop.cancelled().await;
    let started = std::time::Instant::now();
    tracing::info!(
        grace_secs = grace.as_secs_f64(),
        "stopping: no new job runs"
    );
    if tokio::time::timeout(abandon_after(grace), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("jobs still running near the end of the grace period: abandoning them");
        abandon.cancel();
        let left = grace.saturating_sub(started.elapsed());
        if tokio::time::timeout(left, tracker.wait()).await.is_err() {
            tracing::error!("jobs did not stop within the grace period");
        }
    }
    // Health and metrics stay up while jobs drain, so the stop is observable.
    http_stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_abandoned_before_the_grace_period_ends() {
        let s = Duration::from_secs;
        assert_eq!(abandon_after(s(30)), s(25));
        assert_eq!(abandon_after(s(8)), s(6));
        assert_eq!(abandon_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn instance_ids_differ_between_calls() {
        assert_ne!(instance_id(), instance_id());
    }
}
