//! The IDoc inbox as the ERP source of an IDoc system: [`erp::idoc::inbox`] reads the files,
//! acknowledges and files them away; this module gives it the store to apply them to and
//! puts its counts into the sync report.
//!
//! [`erp::idoc::inbox`]: crate::erp::idoc::inbox

use super::{SyncError, SyncReport};
use crate::erp::idoc::inbox::{IdocInbox, IdocSink, InboxError};
use crate::erp::idoc::Translator;
use crate::model::idoc::{IdocApplied, IdocApply};
use crate::store::{SharedStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::path::Path;

pub use crate::erp::idoc::inbox::FileReport;

/// Applies IDoc files to a store: the inbox, with the store as its sink.
#[derive(Clone)]
pub struct IdocImporter {
    inbox: IdocInbox,
    store: StoreSink,
}

/// The store, applying each batch of IDocs in one transaction.
#[derive(Clone)]
struct StoreSink(SharedStore);

#[async_trait]
impl IdocSink for StoreSink {
    type Error = StoreError;
    async fn apply(
        &self,
        batch: &[IdocApply],
        at: DateTime<Utc>,
    ) -> Result<Vec<IdocApplied>, StoreError> {
        self.0.apply_idocs(batch, at).await
    }
}

fn sync_error(e: InboxError<StoreError>) -> SyncError {
    match e {
        InboxError::Sink(e) => SyncError::Store(e),
        InboxError::File(why) => SyncError::Source(why),
    }
}

impl IdocImporter {
    pub fn new(store: SharedStore, translator: Translator) -> Self {
        IdocImporter {
            inbox: IdocInbox::new(translator),
            store: StoreSink(store),
        }
    }

    /// The mappings for a config folder: `mappings/idoc-debmas.toml` and
    /// `mappings/idoc-invoic.toml` under `base_dir` when present (a customer's Z-segments),
    /// else the shipped ones.
    pub fn translator_for(base_dir: &Path) -> Result<Translator, SyncError> {
        IdocInbox::translator_for(base_dir).map_err(|e| SyncError::Source(e.to_string()))
    }

    /// Imports every file waiting in `inbox` (oldest name first); `processed/` and
    /// `quarantine/` are made inside it. Only a store failure (or an inbox whose folders
    /// cannot be made) stops it; a file that cannot be read is quarantined.
    pub async fn import_inbox(&self, inbox: &Path) -> Result<Vec<FileReport>, SyncError> {
        self.inbox
            .import_inbox(inbox, &self.store)
            .await
            .map_err(sync_error)
    }

    /// Imports one file; `processed/` and `quarantine/` are made beside it.
    pub async fn import_file(&self, path: &Path) -> Result<FileReport, SyncError> {
        self.inbox
            .import_file(path, &self.store)
            .await
            .map_err(sync_error)
    }

    /// Imports `path` as if it were called `name` in folder `dir` (an upload held under a
    /// temporary name).
    pub async fn import_as(
        &self,
        path: &Path,
        dir: &Path,
        name: &str,
    ) -> Result<FileReport, SyncError> {
        self.inbox
            .import_as(path, dir, name, &self.store)
            .await
            .map_err(sync_error)
    }
}

/// Picks up the configured inbox during `sync`: counts go into the sync report, rejected
/// IDocs into its list of records left out.
pub async fn pick_up(
    store: SharedStore,
    base_dir: &Path,
    inbox: &Path,
    report: &mut SyncReport,
) -> Result<Vec<FileReport>, SyncError> {
    std::fs::create_dir_all(inbox)
        .map_err(|e| SyncError::Source(format!("cannot create {}: {e}", inbox.display())))?;
    let importer = IdocImporter::new(store, IdocImporter::translator_for(base_dir)?);
    let files = importer.import_inbox(inbox).await?;
    for f in &files {
        report.add("idocs_applied", f.applied as usize);
        report.add("idocs_duplicate", f.duplicates as usize);
        report.add("idocs_superseded", f.superseded as usize);
        for e in &f.errors {
            report.reject(format!("quarantined: {e}"));
        }
    }
    Ok(files)
}
