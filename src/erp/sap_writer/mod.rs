//! The SAP writer: collectors' notes into the customer's long text over OData
//! (`A_CustomerText` of `API_BUSINESS_PARTNER`, one by one or as `$batch`), dispute
//! statuses and dunning blocks over SOAP (`DisputeManagementManageDisputeCaseIn`,
//! `JournalEntryBulkChangeRequest_In`), each read before it is written so a repeat after a
//! lost answer never writes twice.

pub mod batch;
pub mod disputes;
pub mod dunning;
pub mod notes;

use super::mapping::Targets;
use super::odata::ODataClient;
use super::soap::client::SoapClient;
use super::writer::{CaseState, DunningPolicy, ErpWriter, NoteReadBack, Outcome, WriteError};
use crate::model::note::CollectorNote;
use crate::model::{DisputeRules, DisputeStatusChange};
use async_trait::async_trait;

/// Writes to the targets a mapping names, in the session of one OData client (the SOAP
/// calls share it).
pub struct SapWriter {
    odata: ODataClient,
    soap: SoapClient,
    targets: Targets,
}

impl SapWriter {
    pub fn new(client: ODataClient, targets: Targets) -> Self {
        SapWriter {
            soap: SoapClient::new(client.clone()),
            odata: client,
            targets,
        }
    }
}

#[async_trait]
impl ErpWriter for SapWriter {
    fn read_only(&self) -> Option<String> {
        None
    }

    async fn write_note(
        &self,
        note: &CollectorNote,
        simulate: bool,
    ) -> Result<Outcome, WriteError> {
        notes::send_collector(&self.odata, &self.targets.notes, note, simulate).await
    }

    fn note_batches(&self, notes: &[CollectorNote], batch_size: usize) -> Vec<Vec<usize>> {
        batch::plan(&self.targets.notes, notes, batch_size)
    }

    async fn write_notes(&self, notes: &[CollectorNote]) -> Vec<Result<Outcome, WriteError>> {
        batch::send_notes(&self.odata, &self.targets.notes, notes).await
    }

    async fn set_dispute_status(
        &self,
        change: &DisputeStatusChange,
        rules: &DisputeRules,
        simulate: bool,
    ) -> Result<Outcome, WriteError> {
        let target = &self.targets.dispute_status;
        disputes::send(&self.soap, target, change, rules, simulate).await
    }

    async fn apply_dunning_block(
        &self,
        change: &DisputeStatusChange,
        policy: &DunningPolicy,
    ) -> Result<(), WriteError> {
        dunning::apply(&self.soap, &self.targets.dispute_status, change, policy).await
    }

    async fn read_back_notes(
        &self,
        notes: &[CollectorNote],
    ) -> Result<Vec<NoteReadBack>, WriteError> {
        notes::read_back(&self.odata, &self.targets.notes, notes).await
    }

    async fn read_case(&self, case_id: &str) -> Result<Option<CaseState>, WriteError> {
        let case = disputes::read_case(&self.soap, &self.targets.dispute_status, case_id).await?;
        Ok(case.map(|c| CaseState {
            erp_ref: c.case_guid,
            status_code: c.status_code,
            status_name: c.status_name,
            closed: c.closed,
        }))
    }
}
