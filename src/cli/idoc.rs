//! `idoc import FILE…`: one-off IDoc loads through the same code path as the inbox.
//! Each file's `processed/` and `quarantine/` folders are made beside it.

use super::app::IdocCommand;
use super::{open, CliError};
use crate::sync::idoc_inbox::IdocImporter;
use std::path::Path;

pub async fn run(path: &Path, command: IdocCommand) -> Result<(), CliError> {
    let IdocCommand::Import { files } = command;
    for f in &files {
        if !f.is_file() {
            return Err(CliError::Usage(format!("{}: no such file", f.display())));
        }
    }
    let (config, store) = open(path).await?;
    let importer = IdocImporter::new(store, IdocImporter::translator_for(&config.base_dir)?);
    let mut quarantined = Vec::new();
    for f in &files {
        let r = importer.import_file(f).await?;
        println!(
            "{}: {} IDocs: applied {}, duplicates {}, superseded {}, quarantined {}{}",
            f.display(),
            r.idocs(),
            r.applied,
            r.duplicates,
            r.superseded,
            r.quarantined,
            if r.file_quarantined {
                " (broken XML: file quarantined)"
            } else {
                ""
            }
        );
        for e in &r.errors {
            println!("  quarantined: {e}");
        }
        if let Some(ack) = &r.ack {
            println!("  acknowledgement: {}", ack.display());
        }
        if r.quarantined > 0 || r.file_quarantined {
            quarantined.push(f.display().to_string());
        }
    }
    if quarantined.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "IDocs were quarantined from {} (see quarantine/ beside each file)",
            quarantined.join(", ")
        )))
    }
}
