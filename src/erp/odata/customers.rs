//! Customers' general data with their addresses: each page of `customers` is handed over
//! with the addresses of its customers read (the first address per business partner), so a
//! customer is stored whole.

use super::{Connection, ErpError, RecordPages};
use crate::erp::mapping::EntityMapping;
use crate::erp::source::{PagedSource, SourcePage};
use crate::model::{Address, CustomerGeneral, CustomerId};
use std::collections::HashMap;
use std::convert::Infallible;

/// Customers per address lookup: keeps the `$filter` well inside URL length limits.
const ADDRESS_CHUNK: usize = 40;

pub struct CustomerPages<'m> {
    pages: RecordPages<'m, CustomerGeneral>,
    erp: &'m Connection,
    /// `None` where the mapping reads no addresses, or once the ERP refused them.
    addresses: Option<&'m EntityMapping>,
}

impl<'m> CustomerPages<'m> {
    pub(super) fn new(erp: &'m Connection) -> Self {
        let mapping = erp.mapping.entity("customers");
        CustomerPages {
            pages: erp.pages(mapping, |r| r.customer_general()),
            erp,
            addresses: erp.mapping.optional_entity("addresses"),
        }
    }

    /// Reads the addresses of one page of customers; what cannot be read goes to `rejected`.
    async fn attach(
        &mut self,
        rows: &mut [CustomerGeneral],
        rejected: &mut Vec<String>,
    ) -> Result<(), ErpError> {
        let Some(mapping) = self.addresses else {
            return Ok(());
        };
        let property = mapping.property("customer").unwrap_or("BusinessPartner");
        let mut found: HashMap<CustomerId, Address> = HashMap::new();
        for chunk in rows.chunks(ADDRESS_CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|c| c.customer.as_str()).collect();
            let mut pages = self.erp.lookup(mapping, property, &ids, |r| r.address());
            loop {
                let page = match pages.next_page().await {
                    Ok(Some(page)) => page,
                    Ok(None) => break,
                    // Addresses are an extra: a system that does not expose them (or not to
                    // this user) still gets its customers synced, and the report says what
                    // is missing; later pages do not ask again.
                    Err(e) if e.is_refused() => {
                        self.addresses = None;
                        rejected.push(format!("customers are stored without addresses: {e}"));
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                rejected.extend(page.rejected);
                for (id, address) in page.records {
                    found.entry(id).or_insert(address);
                }
            }
        }
        for row in rows.iter_mut() {
            if let Some(mut address) = found.remove(&row.customer) {
                address.name = row.name.clone();
                row.address = Some(address);
            }
        }
        Ok(())
    }
}

impl PagedSource for CustomerPages<'_> {
    type Record = CustomerGeneral;
    type Removed = Infallible;

    async fn next_page(
        &mut self,
    ) -> Result<Option<SourcePage<CustomerGeneral, Infallible>>, ErpError> {
        let Some(mut page) = self.pages.next_page().await? else {
            return Ok(None);
        };
        self.attach(&mut page.records, &mut page.rejected).await?;
        Ok(Some(page))
    }
}
