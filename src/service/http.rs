//! The service's HTTP surface for operations: `/healthz` (the process answers),
//! `/readyz` (store reachable, migrations applied, ERP contact recent enough),
//! `/metrics` (Prometheus text) and `/status` (jobs, leases, cursors, outbox as JSON).
//!
//! Health, readiness and metrics are anonymous (probes and scrapers carry no credentials,
//! and they say nothing an attacker can use); `/status` names cursors, job errors with ERP
//! messages, host and pid, so it wants a desk session or an API token of any role.

use super::desk::api::{error, store_error};
use super::desk::{sso_gate, Auth, DeskState};
use super::jobs::Job;
use super::metrics as m;
use super::scheduler::Shared;
use crate::sync::Entity;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long a readiness probe waits for the store.
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct HttpState {
    pub shared: Arc<Shared>,
    /// Who may read `/status`.
    pub desk: Arc<DeskState>,
    pub metrics: PrometheusHandle,
    /// Set once the store's migrations ran at start-up.
    pub migrated: bool,
}

/// Everything: the probes, metrics and `/status`.
pub fn router(state: Arc<HttpState>) -> Router {
    let status =
        Router::new()
            .route("/status", get(status))
            .layer(axum::middleware::from_fn_with_state(
                state.desk.clone(),
                sso_gate,
            ));
    ops_router(state.clone()).merge(status.with_state(state))
}

/// `/healthz`, `/readyz` and `/metrics` alone (also what `server.metrics_listen` serves).
pub fn ops_router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn(super::headers::harden))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// The newest successful ERP contact this instance made or any instance recorded in the
/// store (with several instances, one of them may do all the pulling).
async fn last_erp_contact(st: &HttpState) -> Option<DateTime<Utc>> {
    let local = st.shared.last_erp_contact();
    let stored = st
        .shared
        .ctx
        .sync
        .store
        .job_runs()
        .await
        .ok()
        .into_iter()
        .flatten()
        .filter(|r| {
            [Job::Pull(Entity::Customers), Job::Pull(Entity::OpenItems)]
                .iter()
                .any(|j| j.always_contacts_erp() && j.name() == r.name)
        })
        .filter_map(|r| r.last_success_at)
        .max();
    local.max(stored)
}

async fn readyz(State(st): State<Arc<HttpState>>) -> Response {
    let store = st.shared.ctx.sync.store.clone();
    let store_check = match tokio::time::timeout(STORE_PROBE_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => Ok("reachable".to_string()),
        // The error text may name the store's URL: it goes to the log, not to the probe.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the store is unreachable");
            Err("unreachable (see the service log)".to_string())
        }
        Err(_) => Err(format!("no answer within {STORE_PROBE_TIMEOUT:?}")),
    };
    let migrations = if st.migrated {
        Ok("applied".to_string())
    } else {
        Err("not applied".to_string())
    };
    let limit = st.shared.ctx.service.server.erp_contact_limit;
    let erp = if store_check.is_err() {
        Err("unknown (store unreachable)".to_string())
    } else {
        match last_erp_contact(&st).await {
            None => Err("no successful ERP contact yet".to_string()),
            Some(at) => {
                let age = (Utc::now() - at).to_std().unwrap_or_default();
                if age <= limit {
                    Ok(format!("last contact {}s ago", age.as_secs()))
                } else {
                    Err(format!(
                        "last contact {}s ago, longer than the limit of {}s (server.erp_contact_limit)",
                        age.as_secs(),
                        limit.as_secs()
                    ))
                }
            }
        }
    };
    let ready = store_check.is_ok() && migrations.is_ok() && erp.is_ok();
    let show = |r: &Result<String, String>| match r {
        Ok(s) => json!({"ok": true, "detail": s}),
        Err(s) => json!({"ok": false, "detail": s}),
    };
    let body = json!({
        "ready": ready,
        "checks": {
            "store": show(&store_check),
            "migrations": show(&migrations),
            "erp": show(&erp),
        }
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn metrics(State(st): State<Arc<HttpState>>) -> Response {
    if let Err(e) = m::refresh_store_gauges(st.shared.ctx.sync.store.as_ref()).await {
        // The counters are still worth serving; the store gauges keep their last values.
        tracing::warn!(error = %e, "cannot read the store for metrics");
    }
    metrics::gauge!(m::UP).set(1.0);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(),
    )
        .into_response()
}

async fn status(State(st): State<Arc<HttpState>>, headers: HeaderMap) -> Response {
    match st.desk.authenticate(&headers).await {
        // Any role may read it, `erp` tokens too.
        Auth::Ok(_) | Auth::NoDeskRole(_) => {}
        Auth::Unavailable => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot check credentials now",
            )
        }
        Auth::Missing | Auth::Invalid => {
            return error(
                StatusCode::UNAUTHORIZED,
                "credentials needed: a desk session or an API token",
            )
        }
    }
    let store = st.shared.ctx.sync.store.clone();
    let result = async {
        let runs = store.job_runs().await?;
        let leases = store.leases().await?;
        let cursors = store.status_cursors().await?;
        let outbox: serde_json::Map<String, serde_json::Value> = store
            .outbox_status_counts()
            .await?
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), json!(n)))
            .collect();
        Ok::<_, crate::store::StoreError>((runs, leases, cursors, outbox))
    }
    .await;
    let (runs, leases, cursors, outbox) = match result {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let jobs: Vec<serde_json::Value> = st
        .shared
        .job_status()
        .into_iter()
        .map(|local| {
            let stored = runs.iter().find(|r| r.name == local.name);
            let lease = leases.iter().find(|l| l.name == local.name);
            json!({
                "name": local.name,
                "this_instance": local,
                "all_instances": stored,
                "lease": lease,
            })
        })
        .collect();
    Json(json!({
        "instance": st.shared.ctx.instance,
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": st.shared.started_at,
        "store": store.backend(),
        "last_erp_contact": last_erp_contact(&st).await,
        "jobs": jobs,
        "leases": leases,
        "cursors": cursors,
        "outbox": outbox,
    }))
    .into_response()
}
