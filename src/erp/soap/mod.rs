//! SOAP services of the ERP that have no OData counterpart.
//!
//! SAP exposes dispute management (FSCM-DM) to outside callers only as an enterprise
//! service (`DisputeManagementManageDisputeCaseIn`), so status changes go out as SOAP,
//! through the [`client::SoapClient`]. Message building and parsing live here for both
//! sides: the SAP writer uses the request builders and response parsers, `mock_erp` the
//! request parser and response builders, so the two cannot drift apart.

pub mod client;
pub mod dispute_case;
pub mod journal_entry;
mod xml;
