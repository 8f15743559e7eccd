//! AR open items: the mapping's filter keeps out cleared items and supplier lines; after a
//! complete pull, items no longer open are marked cleared (kept, not deleted).
//!
//! With a `watermark` in the mapping, later pulls ask only for what changed since the last
//! one (minus an overlap); such a pull cannot see what disappeared, so only a full pull
//! (the first one, or `sync --full`) marks items cleared.

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::mapping::EntityMapping;
use crate::erp::odata::json;
use crate::erp::odata::metadata::ODataVersion;
use crate::erp::odata::query::datetime_literal;
use crate::erp::odata::{Pager, Record};
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
        let filter = since.map(|since| {
            let overlap = mapping
                .watermark_overlap_seconds
                .unwrap_or(DEFAULT_OVERLAP_SECONDS);
            let from = since - Duration::seconds(overlap as i64);
            // Without metadata, SAP's usual V2 Edm.DateTime.
            let (ty, version) = mapping
                .watermark_type
                .clone()
                .unwrap_or(("Edm.DateTime".into(), ODataVersion::V2));
            format!("{property} ge {}", datetime_literal(from, &ty, version))
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

    /// Moves the cursor to the latest change read. Called only after every page is
    /// stored, so the cursor never gets ahead of the data it covers.
    pub(super) async fn commit(&self, ctx: &SyncContext) -> Result<(), SyncError> {
        if let (Some(_), Some(latest)) = (&self.property, self.latest) {
            ctx.store
                .set_cursor(&self.cursor, &latest.to_rfc3339(), Utc::now())
                .await?;
        }
        Ok(())
    }
}

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let mapping = ctx.mapping.entity("open_items");
    let mut watermark = Watermark::start(ctx, "open_items", mapping).await?;
    let mut pager = Pager::new(&ctx.client, mapping, watermark.filter());
    while let Some(page) = pager.next_page().await? {
        let mut rows = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            watermark.see(raw);
            match Record::new(mapping, raw).open_item() {
                Ok(item) => rows.push(item),
                Err(e) => report.reject(e),
            }
        }
        ctx.store.upsert_open_items(&rows, seen_at).await?;
        report.add("open_items", rows.len());
    }
    // Only reached when every page was read: a failed pull never clears anything, and an
    // incremental one cannot know what disappeared.
    if watermark.is_full() {
        let cleared = ctx.store.retire_unseen_open_items(seen_at).await?;
        *report.retired.entry("open_items".into()).or_default() += cleared;
    }
    watermark.commit(ctx).await?;
    Ok(())
}
