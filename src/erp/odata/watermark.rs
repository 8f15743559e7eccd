//! Where an incremental pull of one entity set starts, and the newest change it has seen.
//!
//! With a `watermark` in the mapping, a pull asks only for what changed since the last one
//! (minus an overlap); such a pull cannot see what disappeared, so only a full pull (the
//! first one, or one started without a cursor) covers the whole set.

use super::page::Entity;
use super::query::changed_since;
use super::values;
use crate::erp::mapping::EntityMapping;
use crate::erp::source::{Cursor, CursorError};
use chrono::{DateTime, Duration, Utc};

/// Overlap when the mapping names none: a day covers date-only fields (`LastChangeDate`),
/// clock differences and postings committed late.
const DEFAULT_OVERLAP_SECONDS: u64 = 86_400;

pub(super) struct Watermark {
    cursor: String,
    property: Option<String>,
    /// `None`: a full pull.
    filter: Option<String>,
    latest: Option<DateTime<Utc>>,
}

impl Watermark {
    /// The slot `entity`'s watermark is kept in, when the mapping has one.
    pub(super) fn key(entity: &str, mapping: &EntityMapping) -> Option<String> {
        mapping
            .watermark
            .as_ref()
            .map(|_| format!("{entity}.watermark"))
    }

    /// Builds the `$filter` term for changes since `stored` (the value of the cursor
    /// [`Watermark::key`] names). Full when the mapping has no watermark or nothing is
    /// stored.
    pub(super) fn start(
        entity: &str,
        mapping: &EntityMapping,
        stored: Option<&str>,
    ) -> Result<Watermark, CursorError> {
        let cursor = format!("{entity}.watermark");
        let Some(property) = mapping.watermark.clone() else {
            return Ok(Watermark {
                cursor,
                property: None,
                filter: None,
                latest: None,
            });
        };
        let since = match stored {
            None => None,
            Some(v) => Some(
                DateTime::parse_from_rfc3339(v)
                    .map_err(|e| CursorError::Unreadable {
                        key: cursor.clone(),
                        value: v.to_string(),
                        reason: e.to_string(),
                    })?
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
    pub(super) fn see(&mut self, entity: &Entity<'_>) {
        let Some(p) = &self.property else { return };
        if let Some(Ok(Some(at))) = entity.property(p).map(values::as_datetime) {
            if self.latest.is_none_or(|l| at > l) {
                self.latest = Some(at);
            }
        }
    }

    /// The cursor to commit with the last page: the newest change read, if the mapping
    /// has a watermark and something was read.
    pub(super) fn next_cursor(&self) -> Option<Cursor> {
        match (&self.property, self.latest) {
            (Some(_), Some(latest)) => Some(Cursor {
                key: self.cursor.clone(),
                value: latest.to_rfc3339(),
            }),
            _ => None,
        }
    }
}
