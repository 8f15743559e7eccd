//! erpsync keeps an ERP's accounts-receivable master data honest.
//!
//! The modules follow the flow (see README, "Architecture"):
//! - [`ar`]: collections figures (aging, OD%, DSO, CEI, promises, call list); pure.
//! - [`collections`]: the collections workbench use cases over the store (CLI, API, desk).
//! - [`model`]: canonical types and pure domain rules (payment terms, due dates). No I/O.
//! - [`erp`]: connectors that speak the ERP's dialect (OData, SOAP, T052 files) and mappings.
//! - [`contracts`]: contract sources (register CSV) and the contract terms-text parser.
//! - [`store`]: persistence (SQLite or PostgreSQL) behind one trait, with the outbox and audit log.
//! - [`sync`]: pull jobs that read ERP sources page by page and batch writes into the store.
//! - [`reconcile`]: pure rules that compare contracts with master records, and exposure.
//! - [`export`]: the review queue as XLSX and CSV, for the CLI and the desk.
//! - [`html`]: HTML escaping for the desk's pages and the printable statements.
//! - [`push`]: the outbox worker that writes notes and dispute statuses back through an ERP writer.
//! - [`service`]: the background service.
//! - [`mock_erp`]: an SAP-dialect ERP for the demo, tests and benchmarks.
//! - [`config`] and [`cli`]: the operator's surface.

pub mod ar;
pub mod cli;
pub mod collections;
pub mod config;
pub mod contracts;
pub mod erp;
pub mod export;
pub mod html;
pub mod mock_erp;
pub mod model;
pub mod push;
pub mod reconcile;
pub mod service;
pub mod store;
pub mod sync;
