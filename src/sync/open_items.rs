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
//! service no longer knows (404/410) means a full pull.

use super::{Batch, SyncContext, SyncError, SyncReport, WriteBehind};
use crate::erp::mapping::EntityMapping;
use crate::erp::odata::json;
use crate::erp::odata::query::changed_since;
use crate::erp::odata::{Connection, ErpError, Pager, Record};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

/// Overlap when the mapping names none: a day covers date-only fields (`LastChangeDate`),
/// clock differences and postings committed late.
const DEFAULT_OVERLAP_SECONDS: u64 = 86_400;

/// Where an incremental pull of one entity starts, and what it has seen so far.
pub(super) struct Watermark {
    cursor: String,
    property: Option<String>,
    /// `None`: a full pull.
    filter: Option<String>,
    latest: Option<DateTime<Utc>>,
}

impl Watermark {
    /// Reads the stored cursor of `entity` and builds the `$filter` term for changes
    /// since then. Full when the mapping has no watermark, on `--full`, or on a first pull.
    pub(super) async fn start(
        ctx: &SyncContext,
        entity: &str,
        mapping: &EntityMapping,
    ) -> Result<Watermark, SyncError> {
        let cursor = format!("{entity}.watermark");
        let Some(property) = mapping.watermark.clone() else {
            return Ok(Watermark {
                cursor,
                property: None,
                filter: None,
                latest: None,
            });
        };
        let stored = if ctx.full {
            None
        } else {
            ctx.store.get_cursor(&cursor).await?
        };
        let since = match stored {
            None => None,
            Some(v) => Some(
                DateTime::parse_from_rfc3339(&v)
                    .map_err(|e| SyncError::Source(format!("stored cursor {cursor} = {v:?}: {e}")))?
                    .with_timezone(&Utc),
            ),
        };
        let filter = since.and_then(|since| {
            let overlap = mapping
                .watermark_overlap_seconds
                .unwrap_or(DEFAULT_OVERLAP_SECONDS);
            changed_since(mapping, since - Duration::seconds(overlap as i64))
        });
        match &filter {
            Some(f) => tracing::info!(entity, filter = %f, "incremental pull"),
            None => tracing::info!(entity, "full pull"),
        }
        Ok(Watermark {
            cursor,
            property: Some(property),
            filter,
            latest: since,
        })
    }

    pub(super) fn filter(&self) -> Option<String> {
        self.filter.clone()
    }

    pub(super) fn is_full(&self) -> bool {
        self.filter.is_none()
    }

    /// Notes the watermark value of a record that was read.
    pub(super) fn see(&mut self, raw: &Map<String, Value>) {
        let Some(p) = &self.property else { return };
        if let Some(Ok(Some(at))) = raw.get(p).map(json::as_datetime) {
            if self.latest.is_none_or(|l| at > l) {
                self.latest = Some(at);
            }
        }
    }

    /// The cursor to commit with the last page: (name, newest change read), if the mapping
    /// has a watermark and something was read.
    pub(super) fn next_cursor(&self) -> Option<(String, String)> {
        match (&self.property, self.latest) {
            (Some(_), Some(latest)) => Some((self.cursor.clone(), latest.to_rfc3339())),
            _ => None,
        }
    }
}

/// Where a delta-tracked pull keeps its delta link.
const DELTA_CURSOR: &str = "open_items.delta";

pub async fn pull(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mapping = erp.mapping.entity("open_items");
    let stored = if mapping.delta && !ctx.full {
        ctx.store.get_cursor(DELTA_CURSOR).await?
    } else {
        None
    };
    if let Some(link) = stored {
        tracing::info!(entity = "open_items", "delta pull");
        let pager = Pager::resume(&erp.client, mapping, &link)?;
        match pull_pages(ctx, erp, report, pager, None).await {
            Err(SyncError::Erp(ErpError::Status {
                status: 404 | 410, ..
            })) => {
                tracing::warn!("the service no longer knows the delta link: full pull");
                ctx.store.clear_cursor(DELTA_CURSOR).await?;
            }
            other => return other,
        }
    }
    let watermark = if mapping.delta {
        None
    } else {
        Some(Watermark::start(ctx, "open_items", mapping).await?)
    };
    let filter = watermark.as_ref().and_then(Watermark::filter);
    let mut pager = Pager::new(&erp.client, mapping, filter);
    if mapping.delta {
        pager = pager.tracking_changes();
    }
    pull_pages(ctx, erp, report, pager, watermark).await
}

/// Reads every page and stores it; the last page goes with the clearing of what a full
/// pull did not see and the new cursor (delta link or watermark), in one transaction, so a
/// cursor never moves without the data it covers, nor a full pull's cursor without its
/// clearing. Only reached when every page was read, so a failed pull clears nothing.
async fn pull_pages(
    ctx: &SyncContext,
    erp: &Connection,
    report: &mut SyncReport,
    mut pager: Pager,
    mut watermark: Option<Watermark>,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let mapping = erp.mapping.entity("open_items");
    // A delta read (no watermark, resumed) is never full; a tracked first read is.
    let full = watermark.as_ref().is_none_or(Watermark::is_full) && !pager.is_resumed();
    let mut batch = Batch::new();
    let mut writer = WriteBehind::default();
    let mut removed = Vec::new();
    let mut page = pager.next_page().await?;
    while let Some(current) = page {
        for raw in &current.entities {
            if let Some(w) = watermark.as_mut() {
                w.see(raw);
            }
            match Record::new(mapping, raw).open_item() {
                Ok(item) => batch.rows.push(item),
                Err(e) => report.reject(e),
            }
        }
        for raw in &current.removed {
            match Record::new(mapping, raw).open_item_key() {
                Ok(key) => removed.push(key),
                Err(e) => report.reject(e),
            }
        }
        let last = pager.is_done();
        // Rows gather across pages; removals are applied with the rows read before them.
        if !last && removed.is_empty() {
            drop(current);
            if batch.is_due() {
                let rows = batch.take();
                report.add("open_items", rows.len());
                let store = ctx.store.clone();
                writer
                    .write(async move { store.upsert_open_items(&rows, seen_at).await })
                    .await?;
            }
            page = pager.next_page().await?;
            continue;
        }
        writer.finish().await?;
        let rows = batch.take();
        report.add("open_items", rows.len());
        let cursor = if !last {
            None
        } else if let Some(link) = &current.delta {
            Some((DELTA_CURSOR.to_string(), link.clone()))
        } else {
            watermark.as_ref().and_then(Watermark::next_cursor)
        };
        if last && mapping.delta && current.delta.is_none() {
            tracing::warn!("the service sent no delta link: the next pull is a full one");
        }
        let cleared = ctx
            .store
            .finish_open_items_pull(
                &rows,
                &removed,
                seen_at,
                full && last,
                cursor.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
            )
            .await?;
        *report.retired.entry("open_items".into()).or_default() += cleared;
        removed.clear();
        page = pager.next_page().await?;
    }
    Ok(())
}
