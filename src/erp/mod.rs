//! ERP connectors: OData (pull and write), SOAP services, T052 exports, Dynamics 365
//! terms of payment, and the mapping files that say which ERP field feeds which model field.
//! The read side is the [`source::PagedSource`] trait, the write side the [`writer::ErpWriter`]
//! trait; [`connect`] opens what `[erp]` names: the [`sap_writer`] over OData and
//! SOAP or the read-only writer for mappings without `[targets]`, and the OData source or
//! the IDoc inbox.

pub mod config;
pub mod connect;
pub mod dynamics_terms;
pub mod error;
pub mod error_text;
pub mod idoc;
pub mod mapping;
pub mod metadata;
pub mod odata;
pub mod sap_writer;
pub mod soap;
pub mod source;
pub mod t052;
pub mod writer;

pub use config::{ErpAuth, ErpConfig, ErpKind};
pub use error::ErpError;
