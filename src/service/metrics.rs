//! Prometheus metrics: the `metrics` facade records, `metrics-exporter-prometheus` renders
//! `/metrics`. Every name starts with `erpsync_`. Counters and histograms are recorded where
//! things happen (one small function per event, so names and labels stay uniform); gauges
//! that describe the store (outbox depth, open discrepancies) are read from it at scrape
//! time, so every instance sharing a store reports the same numbers.

use crate::model::{DiscrepancyStatus, Rule};
use crate::store::{DiscrepancyFilter, OutboxStatus, Store, StoreError};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

pub const JOB_RUNS: &str = "erpsync_job_runs_total";
pub const JOB_FAILURES: &str = "erpsync_job_failures_total";
pub const JOB_DURATION: &str = "erpsync_job_duration_seconds";
pub const JOB_LAST_SUCCESS: &str = "erpsync_job_last_success_timestamp_seconds";
pub const JOB_SKIPPED: &str = "erpsync_job_skipped_total";
pub const ENTITIES_PULLED: &str = "erpsync_entities_pulled_total";
pub const OUTBOX_ENTRIES: &str = "erpsync_outbox_entries";
pub const PUSHED: &str = "erpsync_outbox_pushed_total";
pub const DISCREPANCIES_OPEN: &str = "erpsync_discrepancies_open";
pub const HTTP_CLIENT_REQUESTS: &str = "erpsync_http_client_requests_total";
pub const ERP_LAST_CONTACT: &str = "erpsync_erp_last_contact_timestamp_seconds";
pub const UP: &str = "erpsync_up";
pub const AR_OPEN: &str = "erpsync_ar_open_amount";
pub const AR_OVERDUE: &str = "erpsync_ar_overdue_amount";
pub const AR_OVER_60: &str = "erpsync_ar_over_60_amount";
pub const AR_OVER_360: &str = "erpsync_ar_over_360_amount";

/// Jobs run from a second to many minutes (a large pull).
const DURATION_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

#[derive(Debug, thiserror::Error)]
#[error("cannot set up metrics: {0}")]
pub struct MetricsError(String);

/// Installs the process-wide recorder once and returns its handle (the recorder is global
/// in the `metrics` facade, so a second service in the same process shares it).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(JOB_DURATION.into()), DURATION_BUCKETS)
        .map_err(|e| MetricsError(e.to_string()))?
        .install_recorder()
        .map_err(|e| MetricsError(e.to_string()))?;
    describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

fn describe() {
    metrics::describe_counter!(JOB_RUNS, "Job runs, by job");
    metrics::describe_counter!(JOB_FAILURES, "Job runs that failed, by job");
    metrics::describe_histogram!(JOB_DURATION, "Job run duration in seconds, by job");
    metrics::describe_gauge!(
        JOB_LAST_SUCCESS,
        "Unix time of the job's last successful run in this instance"
    );
    metrics::describe_counter!(
        JOB_SKIPPED,
        "Job turns skipped because another instance holds the job's lease"
    );
    metrics::describe_counter!(ENTITIES_PULLED, "Records stored by pull jobs, by entity");
    metrics::describe_gauge!(OUTBOX_ENTRIES, "Outbox entries in the store, by status");
    metrics::describe_counter!(PUSHED, "Outbox entries handled by this instance, by result");
    metrics::describe_gauge!(
        DISCREPANCIES_OPEN,
        "Open discrepancies in the store, by rule and severity"
    );
    metrics::describe_counter!(
        HTTP_CLIENT_REQUESTS,
        "Requests this instance made to the ERP, by HTTP status (or \"error\")"
    );
    metrics::describe_gauge!(
        ERP_LAST_CONTACT,
        "Unix time of the last successful ERP contact"
    );
    metrics::describe_gauge!(UP, "1 while the service runs");
    for (name, what) in [
        (AR_OPEN, "Open AR"),
        (AR_OVERDUE, "AR past due"),
        (AR_OVER_60, "AR more than 60 days past due"),
        (AR_OVER_360, "AR more than 360 days past due"),
    ] {
        metrics::describe_gauge!(
            name,
            format!("{what}, by company code and currency, as of the last open-items pull")
        );
    }
}

/// Sets the AR gauges from a day's snapshot (summed over collectors; one series per
/// company code and currency, never across currencies). A gauge is a float: exact enough
/// for a dashboard, and the exact figures are in `ar kpis`.
pub fn ar_figures(rows: &[crate::ar::snapshot::Snapshot]) {
    use rust_decimal::prelude::ToPrimitive;
    let mut by: BTreeMap<(&str, &str), crate::ar::Totals> = BTreeMap::new();
    for r in rows {
        let t = by.entry((&r.company_code, &r.currency)).or_default();
        if t.merge(&r.totals).is_err() {
            return;
        }
    }
    for ((cc, cur), t) in by {
        let labels = [
            ("company_code", cc.to_string()),
            ("currency", cur.to_string()),
        ];
        for (name, v) in [
            (AR_OPEN, t.open),
            (AR_OVERDUE, t.overdue),
            (AR_OVER_60, t.over_60),
            (AR_OVER_360, t.over_360),
        ] {
            metrics::gauge!(name, &labels).set(v.to_f64().unwrap_or(0.0));
        }
    }
}

pub fn job_finished(job: &'static str, elapsed: Duration, ok: bool, now_unix: f64) {
    metrics::counter!(JOB_RUNS, "job" => job).increment(1);
    metrics::histogram!(JOB_DURATION, "job" => job).record(elapsed.as_secs_f64());
    if ok {
        metrics::gauge!(JOB_LAST_SUCCESS, "job" => job).set(now_unix);
    } else {
        metrics::counter!(JOB_FAILURES, "job" => job).increment(1);
    }
}

pub fn job_skipped(job: &'static str) {
    metrics::counter!(JOB_SKIPPED, "job" => job).increment(1);
}

pub fn pulled(job: &'static str, entity: &str, n: u64) {
    metrics::counter!(ENTITIES_PULLED, "job" => job, "entity" => entity.to_string()).increment(n);
}

pub fn pushed(result: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!(PUSHED, "result" => result).increment(n);
    }
}

pub fn erp_contact(now_unix: f64) {
    metrics::gauge!(ERP_LAST_CONTACT).set(now_unix);
}

/// Sets the store-derived gauges from the store's current content. Every known label
/// combination is set (to 0 when absent), so a series that emptied does not keep its
/// last value.
pub async fn refresh_store_gauges(store: &dyn Store) -> Result<(), StoreError> {
    let mut depth: BTreeMap<&'static str, u64> = [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Dead,
        OutboxStatus::Dropped,
    ]
    .into_iter()
    .map(|s| (s.as_str(), 0))
    .collect();
    for (status, n) in store.outbox_status_counts().await? {
        *depth.entry(status.as_str()).or_default() += n;
    }
    for (status, n) in depth {
        metrics::gauge!(OUTBOX_ENTRIES, "status" => status).set(n as f64);
    }

    let mut open: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    for rule in Rule::ALL {
        for sev in ["low", "medium", "high"] {
            open.insert((rule.as_str(), sev), 0);
        }
    }
    let filter = DiscrepancyFilter {
        status: Some(DiscrepancyStatus::Open),
        ..DiscrepancyFilter::default()
    };
    for d in store.list_discrepancies(&filter).await? {
        *open
            .entry((d.finding.rule.as_str(), d.finding.severity.as_str()))
            .or_default() += 1;
    }
    for ((rule, severity), n) in open {
        metrics::gauge!(DISCREPANCIES_OPEN, "rule" => rule, "severity" => severity).set(n as f64);
    }
    Ok(())
}
