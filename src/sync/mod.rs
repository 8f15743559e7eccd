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
pub mod sales_items;
pub mod settings;
pub mod terms;

pub use settings::{
    ContractSourceConfig, ContractSourceKind, PaymentTermsConfig, SyncSettings,
    ERP_CONTRACT_SOURCE, IDOC_ONLY_NO_PUSH,
};

use crate::erp::connect::ErpSource;
use crate::erp::odata::{ConnectError, Connection, ErpError};
use crate::erp::source::{Cursor, CursorError, PagedSource};
use crate::store::{SharedStore, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Erp(#[from] ErpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Source(String),
}

impl From<CursorError> for SyncError {
    fn from(e: CursorError) -> Self {
        match e {
            CursorError::Erp(e) => SyncError::Erp(e),
            e @ CursorError::Unreadable { .. } => SyncError::Source(e.to_string()),
        }
    }
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
}

impl SyncReport {
    pub fn add(&mut self, entity: &str, n: usize) {
        *self.pulled.entry(entity.to_string()).or_default() += n as u64;
    }

    /// Adds what another part of the same sync did.
    pub fn merge(&mut self, other: SyncReport) {
        for (k, v) in other.pulled {
            *self.pulled.entry(k).or_default() += v;
        }
        for (k, v) in other.retired {
            *self.retired.entry(k).or_default() += v;
        }
        self.rejected.extend(other.rejected);
        self.erp_messages.extend(other.erp_messages);
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
/// pages until there are this many, or the set ends. Small enough to keep memory flat
/// (a batch being written, [`WRITES_QUEUED`] waiting and one gathering).
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

/// Runs one entity's pull when it is wanted, and logs how long it took.
async fn timed(
    entity: Entity,
    wanted: bool,
    pull: impl std::future::Future<Output = Result<(), SyncError>>,
) -> Result<(), SyncError> {
    if !wanted {
        return Ok(());
    }
    let started = std::time::Instant::now();
    pull.await?;
    tracing::info!(entity = %entity, elapsed_ms = started.elapsed().as_millis() as u64, "pulled");
    Ok(())
}

/// Batches that may wait behind the one being written: the reading runs this far ahead of
/// a write that is slower than it, or that waits (an open-items pull's first write waits
/// for the stored digests, read beside the first pages), before it waits too.
pub(crate) const WRITES_QUEUED: usize = 3;

type Write = futures_util::future::BoxFuture<'static, Result<(), StoreError>>;

/// Writes batches behind the reading: one task writes them, one at a time and in the order
/// they were read, while the next pages are read and converted. `finish` waits for the
/// last, before a pull commits its cursor with its last page. A failed write stops the
/// writing; the error is the answer to the next `write` or to `finish`.
#[derive(Default)]
pub(crate) struct WriteBehind {
    queue: Option<tokio::sync::mpsc::Sender<Write>>,
    writer: Option<tokio::task::JoinHandle<Result<(), StoreError>>>,
}

impl WriteBehind {
    /// Queues this batch's write; waits while [`WRITES_QUEUED`] are waiting already.
    pub async fn write(
        &mut self,
        write: impl std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
    ) -> Result<(), SyncError> {
        let write: Write = Box::pin(write.in_current_span());
        let queue = match &mut self.queue {
            Some(queue) => queue,
            None => {
                let (queue, mut batches) = tokio::sync::mpsc::channel::<Write>(WRITES_QUEUED);
                let writer = async move {
                    while let Some(write) = batches.recv().await {
                        write.await?;
                    }
                    Ok(())
                };
                self.writer = Some(tokio::spawn(writer.in_current_span()));
                self.queue.insert(queue)
            }
        };
        if queue.send(write).await.is_err() {
            // The writer stopped at a failed write: its error is the answer.
            self.finish().await?;
            return Err(SyncError::Source("a store write stopped".into()));
        }
        Ok(())
    }

    /// Waits for every batch queued to be written.
    pub async fn finish(&mut self) -> Result<(), SyncError> {
        // Closing the queue ends the writer after its last batch.
        self.queue = None;
        match self.writer.take() {
            Some(writer) => writer
                .await
                .map_err(|e| SyncError::Source(format!("a store write stopped: {e}")))?
                .map_err(SyncError::from),
            None => Ok(()),
        }
    }
}

/// How the pages landed so far end: the cursor to store with them and whether they
/// complete a full read (so what it did not see is gone). Nothing, before the last page.
#[derive(Default)]
pub(crate) struct Ending {
    pub cursor: Option<Cursor>,
    pub full: bool,
}

impl Ending {
    /// The cursor as the store takes it: (slot, value).
    pub fn cursor(&self) -> Option<(&str, &str)> {
        self.cursor
            .as_ref()
            .map(|c| (c.key.as_str(), c.value.as_str()))
    }
}

/// Reads every page of `pages` and lands its rows in the store. Rows gather across pages
/// into batches written behind the reading by `write`. What is left goes to `end` with what
/// the source reported removed (removals are applied with the rows read before them) and,
/// with the last page, how the read ended, for one transaction: a cursor never moves without
/// the data it covers, nor a full read's retirement of what it did not see without its last
/// rows; and a read that fails before its last page retires nothing. `end` answers how many
/// rows it retired, for a set that retires any.
pub(crate) async fn land<S, W, E>(
    pages: &mut S,
    report: &mut SyncReport,
    entity: &str,
    write: impl Fn(Vec<S::Record>) -> W,
    mut end: impl FnMut(Vec<S::Record>, Vec<S::Removed>, Ending) -> E,
) -> Result<(), SyncError>
where
    S: PagedSource,
    W: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
    E: std::future::Future<Output = Result<Option<u64>, StoreError>>,
{
    let mut batch = Batch::new();
    let mut writer = WriteBehind::default();
    let mut removed = Vec::new();
    while let Some(mut page) = pages.next_page().await? {
        for e in page.rejected {
            report.reject(e);
        }
        batch.rows.append(&mut page.records);
        removed.append(&mut page.removed);
        if !page.last && removed.is_empty() {
            if batch.is_due() {
                let rows = batch.take();
                report.add(entity, rows.len());
                writer.write(write(rows)).await?;
            }
            continue;
        }
        writer.finish().await?;
        let rows = batch.take();
        report.add(entity, rows.len());
        let ending = if page.last {
            Ending {
                cursor: pages.next_cursor(),
                full: pages.is_full(),
            }
        } else {
            Ending::default()
        };
        if let Some(retired) = end(rows, std::mem::take(&mut removed), ending).await? {
            *report.retired.entry(entity.into()).or_default() += retired;
        }
    }
    Ok(())
}

/// The value stored in a source's cursor slot; none on `sync --full`, which reads all.
pub(crate) async fn stored_cursor(
    ctx: &SyncContext,
    key: Option<&str>,
) -> Result<Option<String>, SyncError> {
    match key {
        Some(key) if !ctx.full => Ok(ctx.store.get_cursor(key).await?),
        _ => Ok(None),
    }
}

/// What the pull jobs work with.
pub struct SyncContext {
    pub config: SyncSettings,
    /// Where masters and open items come from: OData, or the IDoc inbox.
    pub source: ErpSource,
    pub store: SharedStore,
    /// `sync --full`: ignore watermarks, read everything, and mark what the ERP no longer
    /// has (open items cleared, contracts ended).
    pub full: bool,
}

impl SyncContext {
    pub fn new(config: impl Into<SyncSettings>, store: SharedStore) -> Result<Self, SyncError> {
        let config = config.into();
        let source = ErpSource::open(&config.erp).map_err(|e| match e {
            ConnectError::Mapping(e) => SyncError::Source(e.to_string()),
            ConnectError::Client(e) => SyncError::Erp(e),
        })?;
        Ok(SyncContext {
            config,
            source,
            store,
            full: false,
        })
    }

    /// The OData connection; an error naming the reason for an IDoc-only ERP.
    pub fn odata(&self) -> Result<&Connection, SyncError> {
        self.source.odata().ok_or_else(|| {
            SyncError::Source(
                "[erp] kind = \"idoc\": the ERP is not read or written over OData".into(),
            )
        })
    }
}

impl SyncContext {
    /// Reads each pulled service's `$metadata` so decimals are checked against their
    /// declared precision and scale. A service whose metadata cannot be read is pulled
    /// without those checks (logged): the pull itself reports any real outage.
    pub async fn load_metadata(&mut self) {
        let ErpSource::OData(erp) = &mut self.source else {
            return;
        };
        erp.load_metadata().await;
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
    let wanted = |e: Entity| only.is_empty() || only.contains(&e);
    // An IDoc-only ERP is asked for nothing: its customers and open items are the inbox
    // just read, its terms a T052 export, its contracts register files.
    let erp = ctx.source.odata();
    let from_odata = |e: Entity| wanted(e) && erp.is_some();
    let started = std::time::Instant::now();
    // Terms first: they are definitions the others' records name.
    timed(
        Entity::PaymentTerms,
        wanted(Entity::PaymentTerms),
        terms::pull(ctx, &mut report),
    )
    .await?;
    // Customers, contracts and open items do not depend on one another: they are pulled at
    // once, so one set's pages are on their way while another's are parsed or stored. Each
    // keeps its own report; they are joined in the order above.
    let mut parts = [
        SyncReport::default(),
        SyncReport::default(),
        SyncReport::default(),
    ];
    let [customers, contracts, items] = &mut parts;
    let (a, b, c) = tokio::join!(
        timed(Entity::Customers, from_odata(Entity::Customers), async {
            masters::pull(ctx, ctx.odata()?, customers).await
        }),
        timed(
            Entity::Contracts,
            wanted(Entity::Contracts),
            contracts::pull(ctx, contracts)
        ),
        timed(Entity::OpenItems, from_odata(Entity::OpenItems), async {
            open_items::pull(ctx, ctx.odata()?, items).await
        }),
    );
    for part in parts {
        report.merge(part);
    }
    a?;
    b?;
    c?;
    // The sales history (optional mapping entity) after the open items: DSO reads both.
    if from_odata(Entity::OpenItems) {
        sales_items::pull(
            ctx,
            ctx.odata()?,
            &mut report,
            ctx.config.sales_history_months,
        )
        .await?;
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "pull finished"
    );
    if let Some(erp) = erp {
        report.erp_messages.extend(erp.client.take_sap_messages());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn logged(
        log: &Arc<Mutex<Vec<usize>>>,
        i: usize,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(i);
            Ok(())
        }
    }

    /// Batches land one at a time, in the order read; the reading runs [`WRITES_QUEUED`]
    /// batches ahead of a write that waits, and no further.
    #[tokio::test]
    async fn batches_land_in_order_behind_the_reading() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (open, gate) = tokio::sync::oneshot::channel::<()>();
        let mut writer = WriteBehind::default();
        let first = logged(&log, 0);
        writer
            .write(async move {
                let _ = gate.await;
                first.await
            })
            .await
            .unwrap();
        for i in 1..=WRITES_QUEUED {
            tokio::time::timeout(Duration::from_secs(10), writer.write(logged(&log, i)))
                .await
                .expect("queued behind the waiting write")
                .unwrap();
        }
        let one_more = writer.write(logged(&log, 99));
        assert!(
            tokio::time::timeout(Duration::from_millis(200), one_more)
                .await
                .is_err(),
            "the reading waits once the queue is full"
        );
        assert!(log.lock().unwrap().is_empty());
        open.send(()).unwrap();
        writer.finish().await.unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            (0..=WRITES_QUEUED).collect::<Vec<_>>()
        );
    }

    /// A failed write stops the writing: what was queued behind it is not written, and
    /// the error is what `finish` (or the next write) answers.
    #[tokio::test]
    async fn a_failed_write_stops_the_writing_and_is_reported() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut writer = WriteBehind::default();
        writer
            .write(async { Err(StoreError::Refused("disk full".into())) })
            .await
            .unwrap();
        let _ = writer.write(logged(&log, 1)).await;
        let error = writer.finish().await.unwrap_err();
        assert!(error.to_string().contains("disk full"), "{error}");
        assert!(log.lock().unwrap().is_empty());
        // Nothing pending: finishing again is a no-op.
        writer.finish().await.unwrap();
    }
}
