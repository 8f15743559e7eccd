//! The write side of an ERP, as the outbox worker sees it: write a collector's note (one,
//! or many at once), set a dispute case's status (or only check that it could be set),
//! set or lift the dunning block of a case's items, and read back what was written.
//!
//! Implementations own their protocol (`sap_writer::SapWriter`: OData
//! and SOAP) and answer in domain terms only: an [`Outcome`], or a [`WriteError`] that says
//! whether trying again later can help. A mapping without `[targets]` gets the
//! [`ReadOnlyWriter`], which writes nothing and says why.

use super::ErpError;
use crate::model::note::CollectorNote;
use crate::model::{DisputeRules, DisputeStatusChange};
use async_trait::async_trait;
use std::path::PathBuf;

/// How one write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// An earlier attempt had already arrived; nothing written again.
    AlreadyThere,
    /// Simulation: validated against the ERP, nothing written.
    Simulated,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// Worth retrying later (network, timeouts, 5xx, 429, lock conflicts).
    #[error("{0}")]
    Transient(String),
    /// The ERP refused the command itself; retrying will not help.
    #[error("{0}")]
    Permanent(String),
}

impl From<ErpError> for WriteError {
    fn from(e: ErpError) -> Self {
        if e.is_transient() {
            WriteError::Transient(e.to_string())
        } else {
            WriteError::Permanent(e.to_string())
        }
    }
}

/// The dunning block a dispute's items carry while it is open (`[push] dunning_block`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunningPolicy {
    /// The blocking reason set on the items.
    pub block: String,
    /// Case statuses that lift the block; a case the ERP reports closed lifts it as well.
    pub lift_statuses: Vec<String>,
}

/// A written note as the ERP holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteReadBack {
    /// What the ERP calls the place the note went to (recorded on the outbox entry).
    pub erp_ref: String,
    /// Parts of the note the ERP holds no marker of.
    pub missing_parts: usize,
    pub parts: usize,
}

/// A dispute case as the ERP holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    /// The ERP's own id of the case (recorded on the outbox entry).
    pub erp_ref: String,
    pub status_code: String,
    pub status_name: String,
    pub closed: bool,
}

#[async_trait]
pub trait ErpWriter: Send + Sync {
    /// Why this writer writes nothing (the outbox keeps every entry); `None` when it writes.
    fn read_only(&self) -> Option<String>;

    /// Writes one note, unless the ERP already holds it; with `simulate`, only checks that
    /// it could be written.
    async fn write_note(&self, note: &CollectorNote, simulate: bool)
        -> Result<Outcome, WriteError>;

    /// How [`ErpWriter::write_notes`] should be called for `notes`: groups of their indices,
    /// in order, each at most about `batch_size` notes (notes that go to the same place are
    /// kept in one group).
    fn note_batches(&self, notes: &[CollectorNote], batch_size: usize) -> Vec<Vec<usize>> {
        let all: Vec<usize> = (0..notes.len()).collect();
        all.chunks(batch_size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Writes many notes at once; one result per note, in the order given.
    async fn write_notes(&self, notes: &[CollectorNote]) -> Vec<Result<Outcome, WriteError>>;

    /// Sets a dispute case's status, checked against the status the ERP holds now; with
    /// `simulate`, only asks the ERP whether it would take it.
    async fn set_dispute_status(
        &self,
        change: &DisputeStatusChange,
        rules: &DisputeRules,
        simulate: bool,
    ) -> Result<Outcome, WriteError>;

    /// Sets the dunning block on the case's items, or lifts it when the case, as the ERP
    /// holds it now, is in one of the lifting statuses or closed.
    async fn apply_dunning_block(
        &self,
        change: &DisputeStatusChange,
        policy: &DunningPolicy,
    ) -> Result<(), WriteError>;

    /// Reads back where each note went and which of its parts the ERP holds; one answer
    /// per note, in the order given.
    async fn read_back_notes(
        &self,
        notes: &[CollectorNote],
    ) -> Result<Vec<NoteReadBack>, WriteError>;

    /// The case as the ERP holds it now; `None` when the ERP does not know it.
    async fn read_case(&self, case_id: &str) -> Result<Option<CaseState>, WriteError>;
}

/// The writer of an ERP erpsync only reads from (a mapping without `[targets]`): it writes
/// nothing, so what is queued stays in the outbox until a mapping that writes is configured.
#[derive(Debug, Clone)]
pub struct ReadOnlyWriter {
    /// The mapping file, named when saying why nothing is written.
    pub mapping: PathBuf,
}

impl ReadOnlyWriter {
    fn refuse(&self) -> WriteError {
        WriteError::Transient(self.read_only().unwrap_or_default())
    }
}

#[async_trait]
impl ErpWriter for ReadOnlyWriter {
    fn read_only(&self) -> Option<String> {
        Some(format!(
            "the mapping {} names no write-back targets ([targets]): nothing is sent, the \
             outbox keeps every entry",
            self.mapping.display()
        ))
    }

    async fn write_note(&self, _: &CollectorNote, _: bool) -> Result<Outcome, WriteError> {
        Err(self.refuse())
    }

    async fn write_notes(&self, notes: &[CollectorNote]) -> Vec<Result<Outcome, WriteError>> {
        notes.iter().map(|_| Err(self.refuse())).collect()
    }

    async fn set_dispute_status(
        &self,
        _: &DisputeStatusChange,
        _: &DisputeRules,
        _: bool,
    ) -> Result<Outcome, WriteError> {
        Err(self.refuse())
    }

    async fn apply_dunning_block(
        &self,
        _: &DisputeStatusChange,
        _: &DunningPolicy,
    ) -> Result<(), WriteError> {
        Err(self.refuse())
    }

    /// Nothing was written through this writer: there is nothing to read back.
    async fn read_back_notes(&self, _: &[CollectorNote]) -> Result<Vec<NoteReadBack>, WriteError> {
        Err(self.refuse())
    }

    async fn read_case(&self, _: &str) -> Result<Option<CaseState>, WriteError> {
        Err(self.refuse())
    }
}
