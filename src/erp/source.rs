//! Where sync reads the ERP from, chosen by `[erp] kind` and built here, in one place.
//!
//! An OData ERP is pulled: entity set by entity set, page by page from a cursor, through
//! the mapping ([`super::odata::Pager`] and [`super::odata::Record`]). An IDoc-only ERP
//! sends: its DEBMAS and INVOIC IDocs arrive as files in `[idoc] inbox` (or through
//! `POST /idoc`) and are read one IDoc at a time ([`super::idoc`]); there is nothing to ask
//! it for and nothing to write back to it.

use super::odata::{ConnectError, Connection, ErpError};
use super::{ErpConfig, ErpKind};

pub enum ErpSource {
    /// OData services (S/4HANA V2/V4, Dynamics 365 F&O).
    OData(Box<Connection>),
    /// IDoc files in the inbox: customer masters and billing documents.
    IdocInbox,
}

impl ErpSource {
    /// The source `[erp]` names: for OData the mapping is read and the client set up.
    pub fn open(config: &ErpConfig) -> Result<ErpSource, ConnectError> {
        Ok(match config.kind {
            ErpKind::Odata => ErpSource::OData(Box::new(Connection::open(config)?)),
            ErpKind::Idoc => ErpSource::IdocInbox,
        })
    }

    /// The OData connection, when the ERP is read over OData.
    pub fn odata(&self) -> Option<&Connection> {
        match self {
            ErpSource::OData(c) => Some(c.as_ref()),
            ErpSource::IdocInbox => None,
        }
    }
}

/// One page of canonical records, as a source hands it over.
pub struct SourcePage<T> {
    pub records: Vec<T>,
    /// Records the source sent that cannot be read: left out, each with its reason.
    pub rejected: Vec<ErpError>,
}

/// One entity kind read page by page, so memory holds a page at a time whatever the size
/// of the extract. Implemented over OData by [`super::odata::RecordPages`].
pub trait PagedSource {
    type Record;

    /// The next page, or `None` after the last one.
    fn next_page(
        &mut self,
    ) -> impl std::future::Future<Output = Result<Option<SourcePage<Self::Record>>, ErpError>> + Send;
}
