//! ERP connectors: OData (pull and write), SOAP services, T052 exports, Dynamics 365
//! terms of payment, and the mapping files that say which ERP field feeds which model field.

pub mod config;
pub mod dynamics_terms;
pub mod idoc;
pub mod mapping;
pub mod odata;
pub mod soap;
pub mod source;
pub mod t052;

pub use config::{ErpAuth, ErpConfig, ErpKind};
