//! Contract sources (the register CSV; ERP sales contracts come through the OData
//! connector) and the parser for payment terms written as text.

pub mod register;
pub mod terms_text;
