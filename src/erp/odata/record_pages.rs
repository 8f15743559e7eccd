//! An entity set read as pages of model values: the [`Pager`]'s pages, each record
//! converted through the mapping (a record that cannot be read is handed over as rejected,
//! with its reason, and the rest of the page is kept).
//!
//! Read from a cursor ([`Changes`]), a set is read incrementally: by the mapping's
//! `watermark` (what changed since the newest change the last pull saw, minus an overlap),
//! or, with `delta = true` where removals are read, by the delta link the last pull ended
//! with (what changed and what left the query). Without a cursor the read is a full one;
//! a tracked full read asks the service for a delta link to end with.

use super::watermark::Watermark;
use super::{ErpError, ODataClient, Pager, Record};
use crate::erp::mapping::EntityMapping;
use crate::erp::source::{Cursor, CursorError, PagedSource, SourcePage};
use std::convert::Infallible;

/// Converts one record of the set into a model value.
pub type Convert<T> = fn(&Record<'_>) -> Result<T, ErpError>;

pub struct RecordPages<'m, T, K = Infallible> {
    pager: Pager,
    mapping: &'m EntityMapping,
    convert: Convert<T>,
    removed_key: Option<Convert<K>>,
    watermark: Option<Watermark>,
    /// Where the delta link is kept, when the read tracks changes.
    delta_key: Option<String>,
    /// The delta link the last page carried.
    delta: Option<String>,
}

impl<'m, T> RecordPages<'m, T> {
    /// Every page of the set `pager` walks: a full read, with no cursor.
    pub fn new(pager: Pager, mapping: &'m EntityMapping, convert: Convert<T>) -> Self {
        RecordPages {
            pager,
            mapping,
            convert,
            removed_key: None,
            watermark: None,
            delta_key: None,
            delta: None,
        }
    }
}

impl<T: Send, K: Send> PagedSource for RecordPages<'_, T, K> {
    type Record = T;
    type Removed = K;

    async fn next_page(&mut self) -> Result<Option<SourcePage<T, K>>, ErpError> {
        let Some(page) = self.pager.next_page().await? else {
            return Ok(None);
        };
        let last = self.pager.is_done();
        let mut out = SourcePage {
            records: Vec::with_capacity(page.len()),
            removed: Vec::new(),
            rejected: Vec::new(),
            last,
        };
        for entity in page.entities() {
            if let Some(w) = self.watermark.as_mut() {
                w.see(&entity);
            }
            match (self.convert)(&Record::new(self.mapping, entity)) {
                Ok(record) => out.records.push(record),
                Err(e) => out.rejected.push(e.to_string()),
            }
        }
        if let Some(key) = self.removed_key {
            for entity in page.removed() {
                match key(&Record::new(self.mapping, entity)) {
                    Ok(k) => out.removed.push(k),
                    Err(e) => out.rejected.push(e.to_string()),
                }
            }
        }
        if last && self.delta_key.is_some() {
            if page.delta.is_none() {
                tracing::warn!("the service sent no delta link: the next pull is a full one");
            }
            self.delta = page.delta.clone();
        }
        Ok(Some(out))
    }

    fn next_cursor(&self) -> Option<Cursor> {
        match (&self.delta_key, &self.delta) {
            (Some(key), Some(link)) => Some(Cursor {
                key: key.clone(),
                value: link.clone(),
            }),
            _ => self.watermark.as_ref().and_then(Watermark::next_cursor),
        }
    }

    /// A delta read (resumed from a link) is never full; a tracked first read is.
    fn is_full(&self) -> bool {
        self.watermark.as_ref().is_none_or(Watermark::is_full) && !self.pager.is_resumed()
    }

    /// A delta link the service no longer knows: it answers 404 or 410.
    fn cursor_expired(&self, error: &ErpError) -> bool {
        self.pager.is_resumed()
            && matches!(
                error,
                ErpError::Status {
                    status: 404 | 410,
                    ..
                }
            )
    }
}

/// One entity set read from a cursor: where the cursor is kept, and the read from it.
pub struct Changes<'m, T, K = Infallible> {
    client: &'m ODataClient,
    entity: &'m str,
    mapping: &'m EntityMapping,
    convert: Convert<T>,
    removed_key: Option<Convert<K>>,
}

impl<'m, T> Changes<'m, T> {
    pub fn new(
        client: &'m ODataClient,
        entity: &'m str,
        mapping: &'m EntityMapping,
        convert: Convert<T>,
    ) -> Self {
        Changes {
            client,
            entity,
            mapping,
            convert,
            removed_key: None,
        }
    }

    /// Reads what a delta answer reports removed as keys made by `key`; with the
    /// mapping's `delta = true`, the read then follows delta links.
    pub fn with_removals<K>(self, key: Convert<K>) -> Changes<'m, T, K> {
        Changes {
            client: self.client,
            entity: self.entity,
            mapping: self.mapping,
            convert: self.convert,
            removed_key: Some(key),
        }
    }
}

impl<'m, T, K> Changes<'m, T, K> {
    fn tracks_delta(&self) -> bool {
        self.mapping.delta && self.removed_key.is_some()
    }

    /// The slot the cursor is kept in; `None` for a set read in full every time.
    pub fn cursor_key(&self) -> Option<String> {
        if self.tracks_delta() {
            Some(format!("{}.delta", self.entity))
        } else {
            Watermark::key(self.entity, self.mapping)
        }
    }

    /// The read from `stored` (the value last handed over in the slot [`Self::cursor_key`]
    /// names), or a full one from `None`.
    pub fn start(&self, stored: Option<&str>) -> Result<RecordPages<'m, T, K>, CursorError> {
        let (pager, watermark) = if self.tracks_delta() {
            let pager = match stored {
                Some(link) => {
                    tracing::info!(entity = self.entity, "delta pull");
                    Pager::resume(self.client, self.mapping, link)?
                }
                None => Pager::new(self.client, self.mapping, None).tracking_changes(),
            };
            (pager, None)
        } else {
            let watermark = Watermark::start(self.entity, self.mapping, stored)?;
            let pager = Pager::new(self.client, self.mapping, watermark.filter());
            (pager, Some(watermark))
        };
        Ok(RecordPages {
            pager,
            mapping: self.mapping,
            convert: self.convert,
            removed_key: self.removed_key,
            watermark,
            delta_key: self.cursor_key().filter(|_| self.tracks_delta()),
            delta: None,
        })
    }
}
