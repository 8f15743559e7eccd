//! Sync: pull jobs that page through the ERP and land each page in the store in one
//! transaction, then reconciliation over what was stored.
//!
//! A page is converted record by record: a record that cannot be read is reported (entity
//! set, key, field, reason) and left out, and the rest of the page is stored. An ERP or
//! store failure stops the job with a one-line error; what earlier pages stored stays.

pub mod contracts;
pub mod idoc_inbox;
pub mod masters;
pub mod open_items;
pub mod reconcile_run;
pub mod terms;

use crate::config::Config;
use crate::erp::mapping::Mapping;
use crate::erp::odata::{ErpError, ODataClient, Page, Pager};
use crate::store::{SharedStore, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Erp(#[from] ErpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Source(String),
}

/// What `sync --only` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entity {
    PaymentTerms,
    Customers,
    Contracts,
    OpenItems,
}

impl Entity {
    /// In dependency order: terms and customers before what refers to them.
    pub const ALL: [Entity; 4] = [
        Entity::PaymentTerms,
        Entity::Customers,
        Entity::Contracts,
        Entity::OpenItems,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::PaymentTerms => "payment-terms",
            Entity::Customers => "customers",
            Entity::Contracts => "contracts",
            Entity::OpenItems => "open-items",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == s.trim())
            .ok_or_else(|| {
                format!("unknown entity {s:?} (customers, payment-terms, open-items, contracts)")
            })
    }
}

/// What a sync did: rows stored per entity, and the records it could not read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub pulled: BTreeMap<String, u64>,
    pub retired: BTreeMap<String, u64>,
    pub rejected: Vec<String>,
    /// Messages the ERP attached to successful answers (SAP's `sap-message` header).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub erp_messages: Vec<String>,
    /// The ERP refused the address reads once; later pages skip them.
    #[serde(skip)]
    pub addresses_unavailable: bool,
}

impl SyncReport {
    pub fn add(&mut self, entity: &str, n: usize) {
        *self.pulled.entry(entity.to_string()).or_default() += n as u64;
    }

    /// A record left out: logged and kept in the report, never silently dropped.
    pub fn reject(&mut self, error: impl fmt::Display) {
        let message = error.to_string();
        tracing::warn!(reason = %message, "record left out");
        self.rejected.push(message);
    }
}

/// Rows written per store transaction. Servers page small (SAP Gateway by 100 to 1,000
/// entities), and a transaction per page would cost a commit per page; rows gather across
/// pages until there are this many, or the set ends. Small enough to keep memory flat.
pub(crate) const WRITE_BATCH: usize = 5_000;

/// A batch is written at the latest this long after the previous write, however small: a
/// slow ERP's rows still land as they come (and a pull that is stopped keeps them).
pub(crate) const WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Rows read and not yet written.
pub(crate) struct Batch<T> {
    pub rows: Vec<T>,
    since: std::time::Instant,
}

impl<T> Batch<T> {
    pub fn new() -> Self {
        Batch {
            rows: Vec::new(),
            since: std::time::Instant::now(),
        }
    }

    /// [`WRITE_BATCH`] rows are waiting, or some have waited [`WRITE_INTERVAL`].
    pub fn is_due(&self) -> bool {
        self.rows.len() >= WRITE_BATCH
            || (!self.rows.is_empty() && self.since.elapsed() >= WRITE_INTERVAL)
    }

    /// The rows to write now; the interval starts again.
    pub fn take(&mut self) -> Vec<T> {
        self.since = std::time::Instant::now();
        std::mem::take(&mut self.rows)
    }
}

/// Stores one batch while the next page is read: the database writes on its own thread (or
/// server) while the ERP answers and the answer is parsed, so neither waits for the other.
/// Batches still land in order, one write at a time.
pub(crate) async fn store_while_reading(
    write: impl std::future::Future<Output = Result<(), StoreError>>,
    pager: &mut Pager,
) -> Result<Option<Page>, SyncError> {
    let (written, next) = tokio::join!(write, pager.next_page());
    written?;
    Ok(next?)
}

/// What the pull jobs work with.
pub struct SyncContext {
    pub config: Config,
    pub mapping: Mapping,
    pub client: ODataClient,
    pub store: SharedStore,
    /// `sync --full`: ignore watermarks, read everything, and mark what the ERP no longer
    /// has (open items cleared, contracts ended).
    pub full: bool,
}

impl SyncContext {
    pub fn new(config: Config, store: SharedStore) -> Result<Self, SyncError> {
        let mapping =
            Mapping::load(&config.erp.mapping).map_err(|e| SyncError::Source(e.to_string()))?;
        let client = ODataClient::new(&config.erp)?;
        Ok(SyncContext {
            config,
            mapping,
            client,
            store,
            full: false,
        })
    }
}

impl SyncContext {
    /// Reads each pulled service's `$metadata` so decimals are checked against their
    /// declared precision and scale. A service whose metadata cannot be read is pulled
    /// without those checks (logged): the pull itself reports any real outage.
    pub async fn load_metadata(&mut self) {
        let services: std::collections::BTreeSet<String> = self
            .mapping
            .entities
            .values()
            .map(|e| e.service.clone())
            .collect();
        let mut found = BTreeMap::new();
        for service in services {
            let url = crate::erp::odata::query::with_sap_client(
                self.client
                    .service_root(&service)
                    .join("$metadata")
                    .expect("valid segment"),
                self.client.sap_client(),
            );
            match self.client.get_metadata(&service, &url).await {
                Ok(md) => {
                    found.insert(service, md);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no $metadata: decimals are not checked against their declared precision")
                }
            }
        }
        self.mapping.apply_metadata(&found);
    }
}

/// Pulls the given entities (all when empty), in dependency order.
pub async fn run(ctx: &SyncContext, only: &[Entity]) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    if let Some(idoc) = &ctx.config.idoc {
        // IDocs waiting in the inbox first: the pulls and reconciliation then see them.
        idoc_inbox::pick_up(
            ctx.store.clone(),
            &ctx.config.base_dir,
            &idoc.inbox,
            &mut report,
        )
        .await?;
    }
    for entity in Entity::ALL {
        if !only.is_empty() && !only.contains(&entity) {
            continue;
        }
        let started = std::time::Instant::now();
        match entity {
            Entity::PaymentTerms => terms::pull(ctx, &mut report).await?,
            Entity::Customers => masters::pull(ctx, &mut report).await?,
            Entity::Contracts => contracts::pull(ctx, &mut report).await?,
            Entity::OpenItems => open_items::pull(ctx, &mut report).await?,
        }
        tracing::info!(entity = %entity, elapsed_ms = started.elapsed().as_millis() as u64, "pulled");
    }
    report.erp_messages.extend(ctx.client.take_sap_messages());
    Ok(report)
}
