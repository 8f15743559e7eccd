//! Payment-terms definitions. Where the mapping reads them from the ERP
//! (`[entities.payment_terms]`, with `[entities.cash_discounts]` where discounts are kept
//! apart, as in Dynamics 365 F&O) they come from there. S/4HANA has no released API for
//! T052, so otherwise they come from a T052 export file named in the config, or SAP's
//! standard keys built in.

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::dynamics_terms::{self, FoCashDiscount, FoPaymentTerms, FoTermsError};
use crate::erp::mapping::EntityMapping;
use crate::erp::odata::{Connection, ErpError, Record};
use crate::erp::source::PagedSource;
use crate::erp::t052;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let erp = ctx.source.odata();
    if let Some((erp, mapping)) =
        erp.and_then(|e| Some((e, e.mapping.optional_entity("payment_terms")?)))
    {
        return pull_from_erp(ctx, erp, mapping, report).await;
    }
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

/// Reads the terms of payment (and cash discounts) the ERP holds and stores the definitions
/// the model can hold; every record it cannot is reported with the reason and left out, so
/// keys that use it are flagged as unknown rather than compared wrongly.
async fn pull_from_erp(
    ctx: &SyncContext,
    erp: &Connection,
    terms_mapping: &EntityMapping,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if let Some(path) = &ctx.config.payment_terms.file {
        tracing::warn!(
            file = %path.display(),
            "the mapping reads payment terms from the ERP; the payment terms file is not read"
        );
    }
    let terms: Vec<FoPaymentTerms> =
        read_all(erp, terms_mapping, report, |r| r.fo_payment_terms()).await?;
    let discounts: Vec<FoCashDiscount> = match erp.mapping.optional_entity("cash_discounts") {
        Some(m) => read_all(erp, m, report, |r| r.fo_cash_discount()).await?,
        None => Vec::new(),
    };
    let (definitions, refused) = dynamics_terms::book(&terms, &discounts);
    for e in refused {
        match e {
            // Pairs are built for every terms code and discount whether any customer uses
            // them or not; one nobody uses is no finding. A customer that does is flagged
            // as having unknown terms, and the log says why.
            FoTermsError::Combination { .. } => {
                tracing::info!(reason = %e, "payment terms pair left out")
            }
            _ => report.reject(e),
        }
    }
    ctx.store.upsert_payment_terms(&definitions).await?;
    report.add("payment_terms", definitions.len());
    Ok(())
}

/// Every record of one entity set, converted; records that cannot be read are reported.
async fn read_all<T: Send>(
    erp: &Connection,
    mapping: &EntityMapping,
    report: &mut SyncReport,
    convert: fn(&Record<'_>) -> Result<T, ErpError>,
) -> Result<Vec<T>, SyncError> {
    let mut out = Vec::new();
    let mut pages = erp.pages(mapping, convert);
    while let Some(mut page) = pages.next_page().await? {
        for e in page.rejected {
            report.reject(e);
        }
        out.append(&mut page.records);
    }
    Ok(out)
}
