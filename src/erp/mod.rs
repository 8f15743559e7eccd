//! ERP connectors: OData (pull and write), SOAP services, T052 exports, and the
//! mapping files that say which ERP field feeds which model field.

pub mod idoc;
pub mod mapping;
pub mod odata;
pub mod soap;
pub mod t052;
