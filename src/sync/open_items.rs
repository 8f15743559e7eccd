//! AR open items: the mapping's filter keeps out cleared items and supplier lines; after a
//! complete pull, items no longer open are marked cleared (kept, not deleted).

use super::{SyncContext, SyncError, SyncReport};
use crate::erp::odata::{Pager, Record};
use chrono::Utc;

pub async fn pull(ctx: &SyncContext, report: &mut SyncReport) -> Result<(), SyncError> {
    let seen_at = Utc::now();
    let mapping = ctx.mapping.entity("open_items");
    let mut pager = Pager::new(&ctx.client, mapping, None);
    while let Some(page) = pager.next_page().await? {
        let mut rows = Vec::with_capacity(page.entities.len());
        for raw in &page.entities {
            match Record::new(mapping, raw).open_item() {
                Ok(item) => rows.push(item),
                Err(e) => report.reject(e),
            }
        }
        ctx.store.upsert_open_items(&rows, seen_at).await?;
        report.add("open_items", rows.len());
    }
    // Only reached when every page was read: a failed pull never clears anything.
    let cleared = ctx.store.retire_unseen_open_items(seen_at).await?;
    *report.retired.entry("open_items".into()).or_default() += cleared;
    Ok(())
}
