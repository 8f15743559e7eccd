//! Contracts from the ERP (sales contracts) and from register files.

use super::ContractSourceKind;
use super::{land, stored_cursor, SyncContext, SyncError, SyncReport};
use crate::contracts::register;
use chrono::Utc;

/// Contracts per store transaction when loading a register file.
const BATCH: usize = 500;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    for source in &ctx.config.contracts {
        match (source.kind, &source.path) {
            (ContractSourceKind::Erp, _) => pull_erp(ctx, report).await?,
            (ContractSourceKind::File, Some(path)) => load_file(ctx, path, report).await?,
            (ContractSourceKind::File, None) => {
                return Err(SyncError::Source(
                    "a file contract source has no path".into(),
                ))
            }
        }
    }
    Ok(())
}

async fn pull_erp(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let erp = ctx.odata()?;
    let Some(mapping) = erp.mapping.optional_entity("contracts") else {
        return Err(SyncError::Source(format!(
            "a contract source reads the ERP, but the mapping {} has no [entities.contracts]",
            ctx.config.erp.mapping.display()
        )));
    };
    let read = erp.changes("contracts", mapping, |r| r.contract());
    let stored = stored_cursor(ctx, read.cursor_key().as_deref()).await?;
    let mut pages = read.start(stored.as_deref())?;
    let store = &ctx.store;
    land(
        &mut pages,
        report,
        "contracts",
        |rows| {
            let store = store.clone();
            async move { store.upsert_contracts(&rows, seen_at).await }
        },
        // The last page, the end of what a full pull did not see (an incremental pull sees
        // only changed contracts) and the cursor land together.
        |rows, _, ending| {
            let store = store.clone();
            async move {
                let ended = store
                    .finish_contracts_pull(&rows, "erp", seen_at, ending.full, ending.cursor())
                    .await?;
                Ok(Some(ended))
            }
        },
    )
    .await
}

async fn load_file(
    ctx: &SyncContext,
    path: &std::path::Path,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| SyncError::Source(format!("contract register {name}: {e}")))?;
    let loaded = register::read(std::io::BufReader::new(file), &name)
        .map_err(|e| SyncError::Source(e.to_string()))?;
    for rejected in loaded.rejected {
        report.reject(rejected);
    }
    for chunk in loaded.contracts.chunks(BATCH) {
        ctx.store.upsert_contracts(chunk, seen_at).await?;
        report.add("contracts", chunk.len());
    }
    let ended = ctx.store.retire_unseen_contracts(&name, seen_at).await?;
    *report.retired.entry("contracts".into()).or_default() += ended;
    Ok(())
}
