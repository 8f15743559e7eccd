//! IDoc XML inbound (SAP ALE): customer masters (DEBMAS05/06/07) and billing documents
//! (INVOIC01/02), read as a stream and translated into the canonical model.
//!
//! - [`reader`]: the streaming XML reader (bounded memory; no DTDs, no entity expansion).
//! - [`mapping`]: the `mappings/idoc-*.toml` files: segment/field → model field.
//! - [`translate`]: control record, DEBMAS and INVOIC → model values, one IDoc at a time.
//! - [`ack`]: acknowledgements per IDoc in the form of SAP's `SYSTAT01` STATUS message.
//! - [`inbox`]: the inbox folder: reads its files, hands their IDocs to a sink (the store,
//!   through `sync`), writes the acknowledgement and moves each file to `processed/` or
//!   `quarantine/`.

pub mod ack;
pub mod inbox;
pub mod mapping;
pub mod reader;
pub mod translate;

pub use mapping::{IdocMapping, IdocMappingError};

/// `[idoc]`: the folder IDoc files arrive in; `processed/` and `quarantine/` are made inside it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdocConfig {
    pub inbox: std::path::PathBuf,
    /// `POST /idoc` refuses (413) a body larger than this many MiB.
    #[serde(default = "default_max_post_mb")]
    pub max_post_mb: u64,
}

/// Large enough for any IDoc file an SAP port sends in practice (the import streams, so
/// size costs disk, not memory), small enough that one client cannot fill the disk.
pub const DEFAULT_MAX_POST_MB: u64 = 512;

fn default_max_post_mb() -> u64 {
    DEFAULT_MAX_POST_MB
}
pub use reader::{IdocReader, RawIdoc, XmlFault};
pub use translate::{
    Contact, Control, CustomerIdoc, IdocContent, IdocError, IdocKind, MessageFunction, ParsedIdoc,
    Translator,
};
