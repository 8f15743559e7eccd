//! Dispute-case status changes, to be written into the ERP's dispute management.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeStatusChange {
    /// The dispute case ID in the ERP (`CaseID`).
    pub case_id: String,
    /// The ERP's status key (customer-defined in SAP, e.g. `OPEN`, `INPR`, `CLSD`).
    pub status: String,
    pub requested_by: String,
    pub note: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub idempotency_key: String,
}
