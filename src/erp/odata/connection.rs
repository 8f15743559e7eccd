//! The working objects of an OData ERP, built in one place from `[erp]`: the mapping file
//! (which entity set and field feeds which model field) and the client that talks to the
//! services it names.

use super::customers::CustomerPages;
use super::query::datetime_literal;
use super::record_pages::Convert;
use super::{Changes, ErpError, ODataClient, Pager, RecordPages};
use crate::erp::mapping::{EntityMapping, Mapping, MappingError};
use crate::erp::metadata::ODataVersion;
use crate::erp::ErpConfig;
use chrono::NaiveDate;

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
        convert: Convert<T>,
    ) -> RecordPages<'m, T> {
        RecordPages::new(Pager::new(&self.client, mapping, None), mapping, convert)
    }

    /// The customers' general data, each page with its customers' addresses where the
    /// mapping reads them.
    pub fn customers(&self) -> CustomerPages<'_> {
        CustomerPages::new(self)
    }

    /// The records of `mapping`'s entity set whose `property` is one of `values` (one
    /// `$filter` of equalities: keep `values` few enough for a URL), as model values.
    pub fn lookup<'m, T>(
        &self,
        mapping: &'m EntityMapping,
        property: &str,
        values: &[&str],
        convert: Convert<T>,
    ) -> RecordPages<'m, T> {
        let filter = super::query::any_of(property, values);
        RecordPages::new(
            Pager::new(&self.client, mapping, Some(filter)),
            mapping,
            convert,
        )
    }

    /// The records of `mapping`'s entity set whose `property` (a date) falls on or after
    /// `from`, as model values.
    pub fn dated_from<'m, T>(
        &self,
        mapping: &'m EntityMapping,
        property: &str,
        from: NaiveDate,
        convert: Convert<T>,
    ) -> RecordPages<'m, T> {
        let edm = match mapping.version {
            ODataVersion::V2 => "Edm.DateTime",
            ODataVersion::V4 => "Edm.Date",
        };
        let literal = datetime_literal(
            from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            edm,
            mapping.version,
        );
        let filter = format!("{property} ge {literal}");
        RecordPages::new(
            Pager::new(&self.client, mapping, Some(filter)),
            mapping,
            convert,
        )
    }

    /// `mapping`'s entity set (`entity` in the mapping) read from a cursor, as model values
    /// made by `convert`.
    pub fn changes<'m, T>(
        &'m self,
        entity: &'m str,
        mapping: &'m EntityMapping,
        convert: Convert<T>,
    ) -> Changes<'m, T> {
        Changes::new(&self.client, entity, mapping, convert)
    }

    /// Reads each mapped service's `$metadata` so decimals are checked against their
    /// declared precision and scale. A service whose metadata cannot be read is pulled
    /// without those checks (logged): the pull itself reports any real outage.
    pub async fn load_metadata(&mut self) {
        let services: std::collections::BTreeSet<String> = self
            .mapping
            .entities
            .values()
            .map(|e| e.service.clone())
            .collect();
        let mut found = std::collections::BTreeMap::new();
        for service in services {
            let url = super::query::with_sap_client(
                self.client
                    .service_root(&service)
                    .join("$metadata")
                    .expect("valid segment"),
                self.client.sap_client(),
            );
            match self.client.get_metadata(&service, &url).await {
                Ok(md) => {
                    found.insert(service, md);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no $metadata: decimals are not checked against their declared precision")
                }
            }
        }
        self.mapping.apply_metadata(&found);
    }
}
