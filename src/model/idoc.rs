//! An IDoc on its way into the store: the control-record facts kept for it (DOCNUM
//! idempotency, "newer" order per object), the data it carries in model form, and what
//! applying it did. The IDoc inbox builds these; the store applies them.

use super::{CompanyCodeData, Contact, CreditLimit, CustomerGeneral, OpenItem, SalesAreaData};

/// The control-record facts the store records for an IDoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdocReceipt {
    /// 16 characters, leading zeros: the idempotency key.
    pub docnum: String,
    pub idoc_type: String,
    pub message_type: String,
    /// What a newer IDoc supersedes, e.g. `DEBMAS:0000004711`.
    pub object_key: String,
    /// `CREDAT CRETIM DOCNUM` as one text whose order is "newer".
    pub order_key: String,
    /// The file (or HTTP request) the IDoc came in.
    pub source: String,
}

/// The data an IDoc carries, already in model form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdocData {
    Customer {
        general: CustomerGeneral,
        company_codes: Vec<CompanyCodeData>,
        sales_areas: Vec<SalesAreaData>,
        credit_limits: Vec<CreditLimit>,
        contacts: Vec<Contact>,
    },
    OpenItem(OpenItem),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdocApply {
    pub receipt: IdocReceipt,
    pub data: IdocData,
}

/// What applying one IDoc did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdocApplied {
    /// Its data is now in the store.
    Applied,
    /// This DOCNUM was applied before; nothing was written.
    Duplicate,
    /// Recorded, but the store already holds a newer IDoc's data for the object: `by` is
    /// that IDoc's DOCNUM.
    Superseded { by: String },
}
