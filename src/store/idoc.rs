//! IDoc bookkeeping: which IDocs were applied (DOCNUM idempotency) and the newest per object.
//!
//! [`IdocStore::apply_idocs`] writes a batch of IDocs in one transaction: for each, the
//! DOCNUM record and the data it carries land together or not at all, so a crash never
//! leaves an IDoc half-applied nor recorded without its data. Per object (a customer, an
//! invoice) the store keeps the (CREDAT, CRETIM, DOCNUM) of the IDoc whose data it holds;
//! an older IDoc arriving later is recorded (status 53, with a note) and changes nothing.

use super::dialect::{sql_impl, SqlStore};
use super::masters::{
    encode_company_code, encode_credit_limit, encode_customer, encode_open_item, encode_sales_area,
};
use super::upsert::{
    Binder, COMPANY_CODES, CONTACTS, CREDIT_LIMITS, CUSTOMERS, OPEN_ITEMS, SALES_AREAS,
};
use super::Result;
use crate::model::{Contact, CustomerId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The types an IDoc batch is applied in live in the model (the inbox builds them, the store
/// writes them); named here too because the store's callers have always found them here.
pub use crate::model::idoc::{IdocApplied, IdocApply, IdocData, IdocReceipt};

/// A recorded IDoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdocRecord {
    pub docnum: String,
    pub idoc_type: String,
    pub message_type: String,
    pub object_key: String,
    pub status: String,
    pub note: Option<String>,
    pub source: String,
}

#[async_trait]
pub trait IdocStore: Send + Sync {
    /// Applies a batch of IDocs in one transaction, in order; one outcome per IDoc.
    async fn apply_idocs(&self, batch: &[IdocApply], at: DateTime<Utc>)
        -> Result<Vec<IdocApplied>>;
    /// The record of an applied IDoc, by DOCNUM (16 characters, leading zeros).
    async fn idoc_record(&self, docnum: &str) -> Result<Option<IdocRecord>>;
    /// The DOCNUM whose data the store holds for an object.
    async fn idoc_current(&self, object_key: &str) -> Result<Option<String>>;
    /// A customer's contact persons, by contact number.
    async fn customer_contacts(&self, customer: &CustomerId) -> Result<Vec<Contact>>;
}

sql_impl! {
    #[async_trait]
    impl<D> IdocStore for SqlStore<D> {
        async fn apply_idocs(
            &self,
            batch: &[IdocApply],
            at: DateTime<Utc>,
        ) -> Result<Vec<IdocApplied>> {
            let received_sql =
                "INSERT INTO idoc_received (docnum, idoc_type, message_type, object_key, \
                 order_key, status, note, source, received_at) \
                 VALUES ($1, $2, $3, $4, $5, '53', NULL, $6, $7) ON CONFLICT (docnum) DO NOTHING";
            // Takes the object only for a newer IDoc: an older one leaves the row as it is.
            let current_sql =
                "INSERT INTO idoc_current (object_key, order_key, docnum) VALUES ($1, $2, $3) \
                 ON CONFLICT (object_key) DO UPDATE SET order_key = excluded.order_key, \
                 docnum = excluded.docnum WHERE idoc_current.order_key < excluded.order_key";
            // One row a statement: an IDoc carries one customer (or item) and its levels.
            let customer_sql = CUSTOMERS.sql(D::param, 1);
            let company_sql = COMPANY_CODES.sql(D::param, 1);
            let area_sql = SALES_AREAS.sql(D::param, 1);
            let contact_sql = CONTACTS.sql(D::param, 1);
            let credit_sql = CREDIT_LIMITS.sql(D::param, 1);
            let item_sql = OPEN_ITEMS.sql(D::param, 1);

            let mut out = Vec::with_capacity(batch.len());
            let mut tx = self.pool().begin().await?;
            for idoc in batch {
                let r = &idoc.receipt;
                let done = sqlx::query::<D::DB>(received_sql)
                    .bind(r.docnum.clone())
                    .bind(r.idoc_type.clone())
                    .bind(r.message_type.clone())
                    .bind(r.object_key.clone())
                    .bind(r.order_key.clone())
                    .bind(r.source.clone())
                    .bind(D::stamp(at))
                    .execute(&mut *tx)
                    .await?;
                if D::rows_affected(&done) == 0 {
                    out.push(IdocApplied::Duplicate);
                    continue;
                }
                let done = sqlx::query::<D::DB>(current_sql)
                    .bind(r.object_key.clone())
                    .bind(r.order_key.clone())
                    .bind(r.docnum.clone())
                    .execute(&mut *tx)
                    .await?;
                if D::rows_affected(&done) == 0 {
                    let row =
                        sqlx::query::<D::DB>("SELECT docnum FROM idoc_current WHERE object_key = $1")
                            .bind(r.object_key.clone())
                            .fetch_one(&mut *tx)
                            .await?;
                    let by: String = row.try_get("docnum")?;
                    sqlx::query::<D::DB>("UPDATE idoc_received SET note = $1 WHERE docnum = $2")
                        .bind(format!(
                            "superseded: the store already holds newer IDoc {by} for {}",
                            r.object_key
                        ))
                        .bind(r.docnum.clone())
                        .execute(&mut *tx)
                        .await?;
                    out.push(IdocApplied::Superseded { by });
                    continue;
                }
                match &idoc.data {
                    IdocData::Customer {
                        general: g,
                        company_codes,
                        sales_areas,
                        credit_limits,
                        contacts,
                    } => {
                        let seen = || D::stamp(at);
                    let customer = sqlx::query::<D::DB>(&customer_sql);
                    Binder::<D>::bind(customer, &CUSTOMERS, encode_customer, g, &seen())
                        .execute(&mut *tx)
                        .await?;
                    for c in company_codes {
                        let query = sqlx::query::<D::DB>(&company_sql);
                        Binder::<D>::bind(query, &COMPANY_CODES, encode_company_code, c, &seen())
                            .execute(&mut *tx)
                            .await?;
                    }
                    for s in sales_areas {
                        let query = sqlx::query::<D::DB>(&area_sql);
                        Binder::<D>::bind(query, &SALES_AREAS, encode_sales_area, s, &seen())
                            .execute(&mut *tx)
                            .await?;
                    }
                    for l in credit_limits {
                        let query = sqlx::query::<D::DB>(&credit_sql);
                        Binder::<D>::bind(query, &CREDIT_LIMITS, encode_credit_limit, l, &seen())
                            .execute(&mut *tx)
                            .await?;
                    }
                    for c in contacts {
                            sqlx::query::<D::DB>(&contact_sql)
                                .bind(c.customer.as_str().to_string())
                                .bind(c.contact.clone())
                                .bind(c.first_name.clone())
                                .bind(c.last_name.clone())
                                .bind(c.department.clone())
                                .bind(c.function.clone())
                                .bind(c.phone.clone())
                                .bind(c.email.clone())
                                .bind(c.deleted)
                                .bind(D::stamp(at))
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    IdocData::OpenItem(r) => {
                        Binder::<D>::bind(
                            sqlx::query::<D::DB>(&item_sql),
                            &OPEN_ITEMS,
                            encode_open_item,
                            r,
                            &D::stamp(at),
                        )
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                out.push(IdocApplied::Applied);
            }
            tx.commit().await?;
            Ok(out)
        }

        async fn idoc_record(&self, docnum: &str) -> Result<Option<IdocRecord>> {
            let row = sqlx::query::<D::DB>(
                "SELECT docnum, idoc_type, message_type, object_key, status, note, source \
                 FROM idoc_received WHERE docnum = $1",
            )
            .bind(docnum.to_string())
            .fetch_optional(self.pool())
            .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(IdocRecord {
                docnum: row.try_get("docnum")?,
                idoc_type: row.try_get("idoc_type")?,
                message_type: row.try_get("message_type")?,
                object_key: row.try_get("object_key")?,
                status: row.try_get("status")?,
                note: row.try_get("note")?,
                source: row.try_get("source")?,
            }))
        }

        async fn idoc_current(&self, object_key: &str) -> Result<Option<String>> {
            let row = sqlx::query::<D::DB>("SELECT docnum FROM idoc_current WHERE object_key = $1")
                .bind(object_key.to_string())
                .fetch_optional(self.pool())
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get("docnum")?),
                None => None,
            })
        }

        async fn customer_contacts(&self, customer: &CustomerId) -> Result<Vec<Contact>> {
            let rows = sqlx::query::<D::DB>(
                "SELECT customer, contact, first_name, last_name, department, function, phone, \
                 email, deleted FROM customer_contacts WHERE customer = $1 ORDER BY contact",
            )
            .bind(customer.as_str().to_string())
            .fetch_all(self.pool())
            .await?;
            rows.iter().map(Self::contact).collect()
        }
    }
}
