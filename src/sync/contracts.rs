//! Contracts from the ERP (sales contracts) and from register files.

use super::{land, stored_cursor, SyncContext, SyncError, SyncReport};
use super::{ContractSourceKind, ERP_CONTRACT_SOURCE};
use crate::contracts::register;
use chrono::Utc;

/// Contracts per store transaction when loading a register file.
const BATCH: usize = 500;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let started = Utc::now();
    for source in &ctx.config.contracts {
        match (source.kind, &source.path) {
            (ContractSourceKind::Erp, _) => pull_erp(ctx, report).await?,
            (ContractSourceKind::File, Some(path)) => {
                load_file(ctx, &source.name, path, report).await?
            }
            (ContractSourceKind::File, None) => {
                return Err(SyncError::Source(
                    "a file contract source has no path".into(),
                ))
            }
        }
    }
    // A source no longer configured holds no contracts: a register removed or renamed, or
    // one an earlier version keyed by its path as typed.
    let names: Vec<String> = ctx
        .config
        .contracts
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let ended = ctx
        .store
        .retire_contracts_of_other_sources(&names, started)
        .await?;
    if ended > 0 {
        *report.retired.entry("contracts".into()).or_default() += ended;
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
                    .finish_contracts_pull(
                        &rows,
                        ERP_CONTRACT_SOURCE,
                        seen_at,
                        ending.full,
                        ending.cursor(),
                    )
                    .await?;
                Ok(Some(ended))
            }
        },
    )
    .await
}

/// Loads the register at `path` as the source `name`: its contracts are keyed and shown by
/// the name, never by the path (which differs by folder and is no business of the desk's).
async fn load_file(
    ctx: &SyncContext,
    name: &str,
    path: &std::path::Path,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let file = std::fs::File::open(path).map_err(|e| {
        SyncError::Source(format!(
            "contract register {name} ({}): {e}",
            path.display()
        ))
    })?;
    let loaded = register::read(std::io::BufReader::new(file), name).map_err(|e| {
        SyncError::Source(format!("{e} (contract register file {})", path.display()))
    })?;
    for rejected in loaded.rejected {
        report.reject(rejected);
    }
    for chunk in loaded.contracts.chunks(BATCH) {
        ctx.store.upsert_contracts(chunk, seen_at).await?;
        report.add("contracts", chunk.len());
    }
    let ended = ctx.store.retire_unseen_contracts(name, seen_at).await?;
    *report.retired.entry("contracts".into()).or_default() += ended;
    Ok(())
}
