//! An entity set read as pages of model values: the [`Pager`]'s pages, each record
//! converted through the mapping (a record that cannot be read is handed over as rejected,
//! with its reason, and the rest of the page is kept).

use super::{ErpError, Pager, Record};
use crate::erp::mapping::EntityMapping;
use crate::erp::source::{PagedSource, SourcePage};

pub struct RecordPages<'m, T> {
    pager: Pager,
    mapping: &'m EntityMapping,
    convert: fn(&Record<'_>) -> Result<T, ErpError>,
}

impl<'m, T> RecordPages<'m, T> {
    pub fn new(
        pager: Pager,
        mapping: &'m EntityMapping,
        convert: fn(&Record<'_>) -> Result<T, ErpError>,
    ) -> Self {
        RecordPages {
            pager,
            mapping,
            convert,
        }
    }
}

impl<T: Send> PagedSource for RecordPages<'_, T> {
    type Record = T;

    async fn next_page(&mut self) -> Result<Option<SourcePage<T>>, ErpError> {
        let Some(page) = self.pager.next_page().await? else {
            return Ok(None);
        };
        let mut out = SourcePage {
            records: Vec::with_capacity(page.entities.len()),
            rejected: Vec::new(),
        };
        for raw in &page.entities {
            match (self.convert)(&Record::new(self.mapping, raw)) {
                Ok(record) => out.records.push(record),
                Err(e) => out.rejected.push(e),
            }
        }
        Ok(Some(out))
    }
}
