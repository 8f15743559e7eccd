//! What `[erp]` names, opened in one place: the source sync reads (OData or the IDoc
//! inbox, by `[erp] kind`) and the writer push writes through (the SAP writer when the
//! mapping names `[targets]`, else the read-only one).

use super::mapping::Mapping;
use super::odata::{ConnectError, Connection, ODataClient};
use super::sap_writer::SapWriter;
use super::writer::{ErpWriter, ReadOnlyWriter};
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

/// The writer for `mapping`: the SAP writer when it names `[targets]`, else the read-only one.
pub fn writer_for(client: &ODataClient, mapping: &Mapping) -> Box<dyn ErpWriter> {
    if mapping.writes_back() {
        Box::new(SapWriter::new(client.clone(), mapping.targets.clone()))
    } else {
        Box::new(ReadOnlyWriter {
            mapping: mapping.path.clone(),
        })
    }
}
