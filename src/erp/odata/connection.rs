//! The working objects of an OData ERP, built in one place from `[erp]`: the mapping file
//! (which entity set and field feeds which model field) and the client that talks to the
//! services it names.

use super::{ErpError, ODataClient, Pager, Record, RecordPages};
use crate::erp::mapping::{EntityMapping, Mapping, MappingError};
use crate::erp::ErpConfig;

/// An OData ERP as the pulls and the writes use it.
#[derive(Clone)]
pub struct Connection {
    pub mapping: Mapping,
    pub client: ODataClient,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The mapping file cannot be read or is wrong: a configuration mistake.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The client cannot be set up (TLS files, logon settings).
    #[error(transparent)]
    Client(#[from] ErpError),
}

impl Connection {
    /// Reads the mapping named by `[erp] mapping` and sets up the client.
    pub fn open(config: &ErpConfig) -> Result<Connection, ConnectError> {
        let mapping = Mapping::load(&config.mapping)?;
        let client = ODataClient::new(config)?;
        Ok(Connection { mapping, client })
    }

    /// `mapping`'s entity set, every page of it, as model values made by `convert`.
    pub fn pages<'m, T>(
        &self,
        mapping: &'m EntityMapping,
        convert: fn(&Record<'_>) -> Result<T, ErpError>,
    ) -> RecordPages<'m, T> {
        RecordPages::new(Pager::new(&self.client, mapping, None), mapping, convert)
    }
}
