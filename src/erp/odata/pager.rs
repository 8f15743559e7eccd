//! Walking an entity set page by page, so that memory holds one page at a time whatever
//! the size of the extract.
//!
//! The server's next links (`__next`, `@odata.nextLink`, Atom `rel="next"`, each carrying
//! its `$skiptoken`) are followed as given, but only to the ERP's own scheme, host and port
//! (the credentials go with every request) and never twice in one pull (a loop). With `[erp] page_size` set, the pager also pages
//! on its own: it asks for windows of `$top=page_size` (ordered by the mapping's keys, so
//! `$skip` is stable) and, when a window comes back full without a next link, asks for the
//! next one with `$skip`. A server that pages itself inside a window is followed as usual.
//!
//! Pages are read ahead by a task of the pager's own, one page beyond the one waiting to
//! be taken: the ERP prepares the next page and it is parsed while the caller stores the
//! current one. Memory still holds a few pages at most; dropping the pager stops the task.

use super::page::{Layout, Page};
use super::query::{entity_set_url, Query};
use super::{ErpError, ODataClient};
use crate::erp::mapping::EntityMapping;
use crate::erp::metadata::ODataVersion;
use std::sync::Arc;
use tracing::Instrument;
use url::Url;

/// A page and whether it is the last one.
type Read = Result<(Page, bool), ErpError>;

pub struct Pager {
    /// The walk through the set, until the first page is asked for; then it runs in `task`.
    walk: Option<Walk>,
    pages: Option<tokio::sync::mpsc::Receiver<Read>>,
    task: Option<tokio::task::JoinHandle<()>>,
    done: bool,
    resumed: bool,
}

impl Drop for Pager {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Where the walk through an entity set stands.
struct Walk {
    client: ODataClient,
    what: String,
    version: ODataVersion,
    /// The properties each page keeps: the mapping's.
    layout: Arc<Layout>,
    root: Url,
    query: Query,
    next: Option<Url>,
    /// Client-driven paging: entities per `$top` window, where the current window starts,
    /// and how many entities it has given so far.
    window: Option<u32>,
    window_start: u64,
    window_read: u64,
    pages: u64,
    entities: u64,
    total: Option<u64>,
    /// Ask for a delta link (`Prefer: odata.track-changes`).
    track_changes: bool,
    /// Every URL read in this pull: a link back to one of them is a loop.
    seen: std::collections::HashSet<Url>,
}

impl Pager {
    /// Starts at the first page of `mapping`'s entity set, selecting the mapped properties,
    /// with the mapping's filter and `extra_filter` (joined with `and`).
    pub fn new(
        client: &ODataClient,
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
        let window = client.page_size();
        let mut query = Query {
            select,
            filter: mapping.filter.clone(),
            order_by: mapping.order_by.clone(),
            top: window,
            skip: None,
            inline_count: true,
            version: mapping.version,
        };
        if let Some(f) = extra_filter {
            query = query.and_filter(f);
        }
        let root = client.service_root(&mapping.service);
        let first = entity_set_url(&root, &mapping.entity_set, &query, client.sap_client());
        Pager {
            walk: Some(Walk {
                client: client.clone(),
                what: mapping.entity_set.clone(),
                version: mapping.version,
                layout: Arc::new(Layout::of_mapping(mapping)),
                root,
                query,
                next: Some(first),
                window,
                window_start: 0,
                window_read: 0,
                pages: 0,
                entities: 0,
                total: None,
                track_changes: false,
                seen: Default::default(),
            }),
            pages: None,
            task: None,
            done: false,
            resumed: false,
        }
    }

    /// Whether this reads a link given earlier (a delta link) rather than the set itself.
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// Asks the server to track changes, so the last page carries a delta link.
    pub fn tracking_changes(mut self) -> Self {
        if let Some(walk) = &mut self.walk {
            walk.track_changes = true;
        }
        self
    }

    /// Reads from a link the server gave earlier (a delta link, as the page handed it
    /// over): what changed since.
    pub fn resume(
        client: &ODataClient,
        mapping: &EntityMapping,
        link: &str,
    ) -> Result<Self, ErpError> {
        let link = Url::parse(link).map_err(|e| ErpError::Malformed {
            what: mapping.entity_set.clone(),
            url: link.to_string(),
            reason: format!("the stored delta link is not a URL: {e}"),
        })?;
        let mut pager = Pager::new(client, mapping, None);
        if let Some(walk) = &mut pager.walk {
            walk.next = Some(link);
            walk.window = None;
            walk.track_changes = true;
        }
        pager.resumed = true;
        Ok(pager)
    }

    /// No page is left to read: the page just returned was the last one.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page>, ErpError> {
        if self.done {
            return Ok(None);
        }
        if let Some(walk) = self.walk.take() {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            self.pages = Some(rx);
            self.task = Some(tokio::spawn(walk.run(tx).in_current_span()));
        }
        let Some(pages) = &mut self.pages else {
            return Ok(None);
        };
        match pages.recv().await {
            Some(Ok((page, last))) => {
                self.done = last;
                Ok(Some(page))
            }
            Some(Err(e)) => {
                self.done = true;
                Err(e)
            }
            // The task ends after the last page or an error, both of which it sends first.
            None => {
                self.done = true;
                Err(ErpError::Setup(
                    "the page reader stopped before the last page".into(),
                ))
            }
        }
    }
}

impl Walk {
    /// Reads page after page into `pages` until the last one or an error (which is sent
    /// too), or until the pager is gone.
    async fn run(mut self, pages: tokio::sync::mpsc::Sender<Read>) {
        loop {
            let read = match self.next_page().await {
                Ok(Some(page)) => Ok((page, self.next.is_none())),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let stop = !matches!(read, Ok((_, false)));
            if pages.send(read).await.is_err() || stop {
                return;
            }
        }
    }

    /// The next page, or `None` after the last one.
    async fn next_page(&mut self) -> Result<Option<Page>, ErpError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        // Checked before anything is sent: a foreign host never sees the credentials.
        self.client.check_link(&self.what, &url)?;
        if !self.seen.insert(url.clone()) {
            return Err(ErpError::Malformed {
                what: self.what.clone(),
                url: url.to_string(),
                reason: "the next link leads back to a page already read in this pull (a loop)"
                    .into(),
            });
        }
        let page = self
            .client
            .get_page_in(
                &self.what,
                &url,
                self.version,
                self.track_changes,
                &self.layout,
            )
            .await?;
        self.pages += 1;
        let n = page.len() as u64;
        self.entities += n;
        self.window_read += n;
        // Only the first answer's count describes the whole set; later windows count again.
        if self.total.is_none() {
            self.total = page.count;
        }
        tracing::info!(
            entity_set = %self.what,
            page = self.pages,
            read = self.entities,
            total = self.total,
            "page read"
        );
        if let Some(n) = &page.next {
            self.next = Some(self.client.next_url(&url, n)?);
        } else if let Some(size) = self.window {
            // A full window without a next link: the server does not page, so there may
            // be more. A short one is the end.
            if self.window_read >= u64::from(size) && n > 0 {
                self.window_start += self.window_read;
                self.window_read = 0;
                let mut q = self.query.clone();
                q.skip = Some(self.window_start);
                // The count was had once; asking again costs the server a full scan.
                q.inline_count = false;
                self.next = Some(entity_set_url(
                    &self.root,
                    &self.what,
                    &q,
                    self.client.sap_client(),
                ));
            }
        }
        Ok(Some(page))
    }
}
