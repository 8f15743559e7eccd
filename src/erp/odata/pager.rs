//! Walking an entity set page by page, following the server's next links, so that memory
//! holds one page at a time whatever the size of the extract.

use super::json::Page;
use super::query::{entity_set_url, Query};
use super::{ErpError, ODataClient};
use crate::erp::mapping::EntityMapping;
use url::Url;

pub struct Pager<'a> {
    client: &'a ODataClient,
    what: String,
    next: Option<Url>,
    pages: u64,
    entities: u64,
}

impl<'a> Pager<'a> {
    /// Starts at the first page of `mapping`'s entity set, selecting the mapped properties,
    /// with the mapping's filter and `extra_filter` (joined with `and`).
    pub fn new(
        client: &'a ODataClient,
        mapping: &EntityMapping,
        extra_filter: Option<String>,
    ) -> Self {
        // The watermark is read too: the next cursor is the newest change seen.
        let mut select: Vec<String> = mapping
            .fields
            .values()
            .chain(mapping.watermark.iter())
            .cloned()
            .collect();
        select.sort();
        select.dedup();
        let mut query = Query {
            select,
            filter: mapping.filter.clone(),
            order_by: mapping.order_by.clone(),
            top: None,
            inline_count: true,
        };
        if let Some(f) = extra_filter {
            query = query.and_filter(f);
        }
        let root = client.service_root(&mapping.service);
        let first = entity_set_url(&root, &mapping.entity_set, &query, client.sap_client());
        Pager {
            client,
            what: mapping.entity_set.clone(),
            next: Some(first),
            pages: 0,
            entities: 0,
        }
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page>, ErpError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let page = self.client.get_page(&self.what, &url).await?;
        self.pages += 1;
        self.entities += page.entities.len() as u64;
        if let Some(total) = page.count {
            tracing::debug!(entity_set = %self.what, page = self.pages, read = self.entities, total, "page read");
        }
        if let Some(n) = &page.next {
            let next = self.client.next_url(&url, n)?;
            if next == url {
                return Err(ErpError::Malformed {
                    what: self.what.clone(),
                    url: url.to_string(),
                    reason: "the next link points at the same page".into(),
                });
            }
            self.next = Some(next);
        }
        Ok(Some(page))
    }
}
