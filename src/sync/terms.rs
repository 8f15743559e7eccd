//! Payment-terms definitions: S/4HANA has no released API for T052, so they come from a
//! T052 export file named in the config, or SAP's standard keys built in.

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::t052;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let terms = match &ctx.config.payment_terms.file {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                SyncError::Source(format!("payment terms file {}: {e}", path.display()))
            })?;
            t052::parse(std::io::BufReader::new(file)).map_err(|e| {
                SyncError::Source(format!("payment terms file {}: {e}", path.display()))
            })?
        }
        None => t052::standard_terms(),
    };
    ctx.store.upsert_payment_terms(&terms).await?;
    report.add("payment_terms", terms.len());
    Ok(())
}
