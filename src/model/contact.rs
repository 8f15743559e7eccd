//! A customer's contact person (SAP KNVK), as IDocs carry it and the store keeps it.

use super::CustomerId;
use serde::Serialize;

/// A contact person of a customer: who to call, in which department and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub customer: CustomerId,
    /// The contact's number in the ERP (KNVK-PARNR).
    pub contact: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The ERP marked the contact for deletion.
    pub deleted: bool,
}
