//! AR open items: the mapping's filter keeps out cleared items and supplier lines; after a
//! complete pull, items no longer open are marked cleared (kept, not deleted).
//!
//! With a `watermark` in the mapping, later pulls ask only for what changed since the last
//! one (minus an overlap); such a pull cannot see what disappeared, so only a full pull
//! (the first one, or `sync --full`) marks items cleared.
//!
//! With `delta = true`, the full pull asks the service to track changes and keeps the delta
//! link it ends with; later pulls read that link, which lists what changed and what left
//! the query (cleared items, marked cleared here), and keep the next one. A delta link the
//! service no longer knows means a full pull.
//!
//! Which of these applies is the source's business ([`crate::erp::odata::Changes`]): the
//! pull stores the cursor it is handed and hands it back.

use super::{land, stored_cursor, SyncContext, SyncError, SyncReport};
use crate::erp::odata::Connection;
use crate::erp::source::PagedSource;
use crate::model::{OpenItem, OpenItemKey};
use crate::store::cursors::SeenKeys;
use crate::store::unchanged::StoredOpenItems;
use crate::store::SharedStore;
use chrono::Utc;
use std::sync::{Arc, Mutex};
use tracing::Instrument;

pub async fn pull(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mapping = erp.mapping.entity("open_items");
    let read = erp
        .changes("open_items", mapping, |r| r.open_item())
        .with_removals(|r| r.open_item_key());
    let key = read.cursor_key();
    let stored = stored_cursor(ctx, key.as_deref()).await?;
    let mut pages = read.start(stored.as_deref())?;
    match pull_pages(ctx, report, &mut pages).await {
        Err(SyncError::Erp(e)) if pages.cursor_expired(&e) => {
            tracing::warn!("the service no longer knows the delta link: full pull");
            if let Some(key) = &key {
                ctx.store.clear_cursor(key).await?;
            }
            let mut pages = read.start(None)?;
            pull_pages(ctx, report, &mut pages).await
        }
        other => other,
    }
}

/// Reads every page and stores it; the last page goes with the clearing of what a full
/// pull did not see and the new cursor, in one transaction.
///
/// Items that arrive unchanged are not written again: the keys of every item read are
/// kept ([`SeenKeys`]) and, at the end of a full pull, the open items not among them (and
/// not written since the pull began) are the ones marked cleared. A full pull also reads
/// what is stored ([`StoredOpenItems`], beside its first pages) and hands the store only
/// the items that differ: a re-read of unchanged data then asks the database for nothing
/// but that read, and, at its end, whether what it left unwritten is what it found (then
/// there is nothing to clear, and no key is read).
async fn pull_pages(
    ctx: &SyncContext,
    report: &mut SyncReport,
    pages: &mut impl PagedSource<Record = OpenItem, Removed = OpenItemKey>,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let store = &ctx.store;
    let stored = Arc::new(Stored::read(store.clone(), pages.is_full(), seen_at));
    let seen = Mutex::new(SeenKeys::default());
    let read = |rows: &[OpenItem]| {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows {
            seen.add(&row.key);
        }
    };
    land(
        pages,
        report,
        "open_items",
        |rows| {
            read(&rows);
            let store = store.clone();
            let stored = stored.clone();
            // Told apart on the writing task, beside the reading of the next pages.
            async move {
                let rows = stored.ready().await.changed(rows);
                store.write_pulled_open_items(&rows, seen_at).await
            }
        },
        |rows, removed, ending| {
            read(&rows);
            let mut keys = ending
                .full
                .then(|| std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner())));
            let store = store.clone();
            let stored = stored.clone();
            async move {
                let rows = {
                    let mut stored = stored.ready().await;
                    let rows = stored.changed(rows);
                    if let Some(keys) = keys.as_mut() {
                        keys.found_stored(stored.found());
                    }
                    rows
                };
                let cleared = store
                    .finish_open_items_pull(
                        &rows,
                        &removed,
                        seen_at,
                        keys.as_mut(),
                        ending.cursor(),
                    )
                    .await?;
                Ok(Some(cleared))
            }
        },
    )
    .await?;
    let stored = stored.ready().await;
    if !stored.is_empty() {
        tracing::info!(
            stored = stored.len(),
            unchanged = stored.skipped(),
            "open items read as stored were not written again"
        );
    }
    Ok(())
}

/// The open items stored when a full pull began, read beside its first pages: the first
/// write waits for them.
struct Stored(tokio::sync::Mutex<Reading>);

struct Reading {
    pending: Option<tokio::task::JoinHandle<StoredOpenItems>>,
    stored: StoredOpenItems,
}

impl Stored {
    fn read(store: SharedStore, full: bool, before: chrono::DateTime<Utc>) -> Self {
        let pending = full.then(|| tokio::spawn(stored_items(store, before).in_current_span()));
        Stored(tokio::sync::Mutex::new(Reading {
            pending,
            stored: StoredOpenItems::none(),
        }))
    }

    async fn ready(&self) -> tokio::sync::MappedMutexGuard<'_, StoredOpenItems> {
        let mut reading = self.0.lock().await;
        if let Some(pending) = reading.pending.take() {
            reading.stored = pending.await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the read of the stored open items stopped: every item pulled is written");
                StoredOpenItems::none()
            });
        }
        tokio::sync::MutexGuard::map(reading, |r| &mut r.stored)
    }
}

/// What a full pull finds stored; nothing when the stored items cannot be read (then every
/// row is written, and the database tells unchanged ones apart, as it would anyway). A pull
/// that reads only changes does not ask: it brings few rows.
async fn stored_items(store: SharedStore, before: chrono::DateTime<Utc>) -> StoredOpenItems {
    let started = std::time::Instant::now();
    match store.stored_open_items(before).await {
        Ok(stored) => {
            tracing::info!(
                stored = stored.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "stored open items read"
            );
            stored
        }
        Err(e) => {
            tracing::warn!(error = %e, "stored open items not read: every item pulled is written");
            StoredOpenItems::none()
        }
    }
}
