//! The collections workbench's use cases: read the store, run the pure figures of
//! [`crate::ar`], and hand back what the CLI, the API, the desk and the service print or
//! serve — one implementation, so they all agree.

pub mod kpi_export;
pub mod kpis;
pub mod snapshot;
pub mod statement;
pub mod views;
pub mod worklist;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CollectionsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Overflow(#[from] crate::ar::figures::Overflow),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Output(String),
}

pub type Result<T, E = CollectionsError> = std::result::Result<T, E>;
