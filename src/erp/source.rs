//! How sync reads an ERP: page by page from a cursor ([`PagedSource`]). Which source
//! `[erp] kind` names is chosen in `erp::connect`.
//!
//! An OData ERP is pulled: entity set by entity set, page by page from a cursor, through
//! the mapping (`odata::Pager` and `odata::Record`). An IDoc-only ERP
//! sends: its DEBMAS and INVOIC IDocs arrive as files in `[idoc] inbox` (or through
//! `POST /idoc`) and are read one IDoc at a time ([`super::idoc`]); there is nothing to ask
//! it for and nothing to write back to it.
//!
//! A source that reads incrementally hands over a [`Cursor`] with its last page; the caller
//! stores it with the rows it covers and hands its value back, unread, to the next read.

use super::ErpError;

/// Where an incremental read stands. The source names the slot it is kept in (so one
/// entity's watermark and its delta link never mix) and alone reads the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub value: String,
}

/// A stored cursor the source cannot start from.
#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// Not a value this source hands over: a configuration or data mistake, not the ERP's.
    #[error("stored cursor {key} = {value:?}: {reason}")]
    Unreadable {
        key: String,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Erp(#[from] ErpError),
}

/// One page of canonical records, as a source hands it over.
pub struct SourcePage<T, K> {
    pub records: Vec<T>,
    /// Keys of records the source reports gone since the cursor (a delta read).
    pub removed: Vec<K>,
    /// What the source could not read and left out, each with its reason as the sync
    /// report shows it: records that cannot be converted, a part of the ERP that refused.
    pub rejected: Vec<String>,
    /// No page follows: the read's cursor and completeness are known now.
    pub last: bool,
}

/// A page of what `S` reads.
pub type PageOf<S> = SourcePage<<S as PagedSource>::Record, <S as PagedSource>::Removed>;

/// One entity kind read page by page, so memory holds a page at a time whatever the size
/// of the extract. Implemented over OData by `odata::RecordPages`.
pub trait PagedSource {
    type Record;
    /// What a removal names: the record's key.
    type Removed;

    /// The next page, or `None` after the last one.
    fn next_page(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Option<PageOf<Self>>, ErpError>> + Send;

    /// After the last page: where the next read starts, if the source reads incrementally
    /// and has seen something to start from.
    fn next_cursor(&self) -> Option<Cursor> {
        None
    }

    /// The read covers the whole set: what it did not see is gone from the ERP.
    fn is_full(&self) -> bool {
        true
    }

    /// `error` says the cursor this read started from has expired: a full read is due.
    fn cursor_expired(&self, _error: &ErpError) -> bool {
        false
    }
}
