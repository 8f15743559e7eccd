//! The OData connector: reads entity sets page by page and turns SAP records into model
//! values through a mapping file; writes through the CSRF-protected client.

pub mod atom;
pub mod batch;
mod body;
pub mod client;
pub mod connection;
pub mod customers;
pub mod json;
pub mod oauth;
pub mod page;
pub mod pager;
pub mod query;
pub mod record;
pub mod record_pages;
pub mod values;
mod watermark;

pub use crate::erp::error::ErpError;
pub use client::{ODataClient, WriteResponse};
pub use connection::{ConnectError, Connection};
pub use page::{Layout, Page};
pub use pager::Pager;
pub use record::Record;
pub use record_pages::{Changes, RecordPages};
