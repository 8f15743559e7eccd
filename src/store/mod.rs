//! Persistence: one [`Store`] trait, with a SQLite and a PostgreSQL implementation.
//!
//! Every write method runs in one transaction, so a batch lands whole or not at all.
//! Sync cursors and pull stamps are written in the same transaction as the data they
//! cover, so a crash never moves a cursor past data that was not stored.

use crate::model::{
    CompanyCodeData, Contract, CreditLimit, Customer, CustomerGeneral, CustomerId, Discrepancy,
    DiscrepancyStatus, DisputeStatusChange, Finding, Note, OpenItem, PaymentTerms, Rule,
    SalesAreaData, Severity, StatusChange,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::sync::Arc;

pub mod cursors;
pub mod idoc;
pub mod jobs;
pub mod outbox;
mod packed;
pub mod postgres;
pub mod queue;
pub mod reconcile;
mod sql;
pub mod sqlite;

pub use cursors::CursorStore;
pub use idoc::IdocStore;
pub use jobs::JobStore;
pub use outbox::{OutboxAudit, OutboxStore};
pub use queue::QueueStore;
pub use reconcile::{CustomerItems, CustomerSelection, QueuedCustomer, ReconcileStore};

pub use postgres::{open_postgres, open_postgres_in_schema, PgStore};
pub use sql::{Dialect, SqlStore};
pub use sqlite::{open_sqlite, SqliteStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported store url {0:?}: expected sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored value cannot be read: {0}")]
    Corrupt(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Refused(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which flags a list, an export or the desk's queue shows. Every field narrows; `None`
/// does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscrepancyFilter {
    pub status: Option<DiscrepancyStatus>,
    pub rule: Option<Rule>,
    pub severity: Option<Severity>,
    /// Flags scoped to this company code (`CC 1010`), and to sales areas of the sales
    /// organisation with the same number (`SA 1010/…`): SAP's usual one-to-one setup.
    pub company_code: Option<String>,
    pub assignee: Option<String>,
    pub customer: Option<CustomerId>,
    /// A customer number (or its start, leading zeros optional) or part of the name,
    /// case-insensitive.
    pub search: Option<String>,
    /// At most this many flags (lists; the queue pages by its own limit).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct OpenItemFilter {
    pub customer: Option<CustomerId>,
    /// Only items whose net due date is before this day.
    pub overdue_on: Option<NaiveDate>,
}

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
    /// The serialized [`Note`] or [`DisputeStatusChange`].
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

/// What recording a run's findings changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingsReport {
    pub new: u64,
    pub reopened: u64,
    pub still_open: u64,
}

/// Row counts per stored entity, for summaries and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub customers: u64,
    pub company_codes: u64,
    pub sales_areas: u64,
    pub open_items: u64,
    pub contracts: u64,
    pub payment_terms: u64,
}

#[async_trait]
/// Sub-traits group what later capabilities add (IDoc bookkeeping, job leases, cursors),
/// so each lives in its own file; `dyn Store` offers them all.
pub trait Store:
    IdocStore + JobStore + CursorStore + QueueStore + OutboxStore + ReconcileStore + Send + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;

    // ---- pulled master data: batched upserts, `seen_at` stamps what a pull saw ----
    async fn upsert_customers(
        &self,
        rows: &[CustomerGeneral],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_company_codes(
        &self,
        rows: &[CompanyCodeData],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_sales_areas(
        &self,
        rows: &[SalesAreaData],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Credit limits from the ERP's credit management (per segment).
    async fn upsert_credit_limits(
        &self,
        rows: &[CreditLimit],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_open_items(&self, rows: &[OpenItem], seen_at: DateTime<Utc>) -> Result<()>;
    async fn upsert_contracts(&self, rows: &[Contract], seen_at: DateTime<Utc>) -> Result<()>;
    async fn upsert_payment_terms(&self, rows: &[PaymentTerms]) -> Result<()>;
    /// After a complete pull of open items: items not seen since `seen_since` were cleared
    /// in the ERP; they are marked cleared (kept, not deleted) and no longer listed.
    async fn retire_unseen_open_items(&self, seen_since: DateTime<Utc>) -> Result<u64>;
    /// After a complete load of contracts from `source`: those not seen are marked ended.
    async fn retire_unseen_contracts(&self, source: &str, seen_since: DateTime<Utc>)
        -> Result<u64>;

    // ---- reading ----
    /// Customers with all their levels, ordered by number, after `after`.
    async fn customers_page(&self, after: Option<&CustomerId>, limit: u32)
        -> Result<Vec<Customer>>;
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>>;
    /// Current (not retired) contracts of these customers.
    async fn contracts_for(&self, customers: &[CustomerId]) -> Result<Vec<Contract>>;
    /// Current contracts whose customer is not in the master.
    async fn contracts_without_customer(&self) -> Result<Vec<Contract>>;
    /// Open (not cleared) items of these customers.
    async fn open_items_for(&self, customers: &[CustomerId]) -> Result<Vec<OpenItem>>;
    async fn list_open_items(&self, filter: &OpenItemFilter) -> Result<Vec<OpenItem>>;
    async fn payment_terms(&self) -> Result<Vec<PaymentTerms>>;
    async fn counts(&self) -> Result<Counts>;

    // ---- discrepancies ----
    /// Upserts findings by natural key (rule, customer, scope, field): a new one opens a
    /// discrepancy; one that was closed or resolved and is found again is reopened;
    /// otherwise values and `last_seen` are refreshed. Status changes are audited.
    async fn record_findings(
        &self,
        findings: &[Finding],
        run_at: DateTime<Utc>,
    ) -> Result<FindingsReport>;
    /// Closes (audited, actor `erpsync`) every not-closed discrepancy of these rules that
    /// the run at `run_at` did not find again: its cause was fixed at the source.
    async fn close_unseen_findings(&self, rules: &[Rule], run_at: DateTime<Utc>) -> Result<u64>;
    /// Sorted by exposure amount, largest first, then id.
    async fn list_discrepancies(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>>;
    async fn discrepancy(&self, id: i64) -> Result<Option<Discrepancy>>;
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
    /// (rule, status, count) for every combination present.
    async fn discrepancy_counts(&self) -> Result<Vec<(Rule, DiscrepancyStatus, u64)>>;

    // ---- write-back: record and outbox entry in one transaction ----
    async fn add_note(&self, note: &Note) -> Result<OutboxEntry>;
    async fn add_dispute_status(&self, change: &DisputeStatusChange) -> Result<OutboxEntry>;
    /// The status last requested for a dispute case, if any.
    async fn last_dispute_status(&self, case_id: &str) -> Result<Option<String>>;
    /// Pending entries, oldest first.
    async fn outbox_due(&self, limit: u32) -> Result<Vec<OutboxEntry>>;
    async fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
    /// Records a failed attempt: stays pending, or becomes `failed`/`dead` when `final_status` says so.
    async fn outbox_mark_failed(
        &self,
        id: i64,
        error: &str,
        at: DateTime<Utc>,
        final_status: Option<OutboxStatus>,
    ) -> Result<()>;
    async fn outbox_list(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxEntry>>;
    async fn outbox_retry(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
}

pub type SharedStore = Arc<dyn Store>;

/// Opens the store a URL names: `sqlite://path` (the file is created if missing) or
/// `postgres://…` / `postgresql://…`. Does not migrate: call [`Store::migrate`].
pub async fn open(url: &str) -> Result<SharedStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(open_sqlite(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(open_postgres(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}
