//! Persistence: one [`Store`] trait, with a SQLite and a PostgreSQL implementation.
//!
//! Every write method runs in one transaction, so a batch lands whole or not at all.
//! Sync cursors and pull stamps are written in the same transaction as the data they
//! cover, so a crash never moves a cursor past data that was not stored.

use async_trait::async_trait;
use std::sync::Arc;

mod decode;
mod dialect;
mod upsert;

pub mod ar;
pub mod cursors;
pub mod findings;
pub mod idoc;
pub mod jobs;
pub mod masters;
pub mod outbox;
mod packed;
pub mod postgres;
pub mod queue;
pub mod reconcile;
pub mod review;
pub mod sessions;
pub mod sqlite;
pub mod unchanged;

pub use ar::{ArCustomer, ArFilter, ArGroup, ArStore, SalesRow};
pub use cursors::CursorStore;
pub use findings::{DiscrepancyFilter, FindingStore, FindingsReport};
pub use idoc::IdocStore;
pub use jobs::JobStore;
pub use masters::{Counts, MasterStore, OpenItemFilter};
pub use outbox::{NoteWithStatus, OutboxAudit, OutboxEntry, OutboxKind, OutboxStatus, OutboxStore};
pub use queue::QueueStore;
pub use reconcile::{CustomerItems, CustomerSelection, QueuedCustomer, ReconcileStore};
pub use review::ReviewStore;
pub use sessions::{SessionStore, StoredSession};

pub use dialect::{Dialect, SqlStore};
pub use postgres::{open_postgres, open_postgres_in_schema, PgStore};
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

/// Everything the store offers, one sub-trait per table group (each in its own file with
/// its SQL); `dyn Store` offers them all, so callers holding a [`SharedStore`] need no
/// other import.
#[async_trait]
pub trait Store:
    MasterStore
    + FindingStore
    + ReviewStore
    + OutboxStore
    + CursorStore
    + JobStore
    + IdocStore
    + QueueStore
    + ReconcileStore
    + SessionStore
    + ArStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> Result<()>;
    async fn ping(&self) -> Result<()>;
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
