//! IDoc bookkeeping: which IDocs were applied (DOCNUM idempotency) and the newest per object.
//!
//! [`IdocStore::apply_idocs`] writes a batch of IDocs in one transaction: for each, the
//! DOCNUM record and the data it carries land together or not at all, so a crash never
//! leaves an IDoc half-applied nor recorded without its data. Per object (a customer, an
//! invoice) the store keeps the (CREDAT, CRETIM, DOCNUM) of the IDoc whose data it holds;
//! an older IDoc arriving later is recorded (status 53, with a note) and changes nothing.

use super::sql::{Col, Conn, DbRow, Dialect, SqlStore};
use super::Result;
use crate::model::{
    CompanyCodeData, CreditLimit, CustomerGeneral, CustomerId, OpenItem, SalesAreaData,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{ColumnIndex, Database, Executor, IntoArguments, Row};

/// A contact person (KNVK) as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContactRecord {
    pub customer: CustomerId,
    pub contact: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub deleted: bool,
}

/// The control-record facts the store records for an IDoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdocReceipt {
    /// 16 characters, leading zeros: the idempotency key.
    pub docnum: String,
    pub idoc_type: String,
    pub message_type: String,
    /// What a newer IDoc supersedes, e.g. `DEBMAS:0000004711`.
    pub object_key: String,
    /// `CREDAT CRETIM DOCNUM` as one text whose order is "newer".
    pub order_key: String,
    /// The file (or HTTP request) the IDoc came in.
    pub source: String,
}

/// The data an IDoc carries, already in model form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdocData {
    Customer {
        general: CustomerGeneral,
        company_codes: Vec<CompanyCodeData>,
        sales_areas: Vec<SalesAreaData>,
        credit_limits: Vec<CreditLimit>,
        contacts: Vec<ContactRecord>,
    },
    OpenItem(OpenItem),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdocApply {
    pub receipt: IdocReceipt,
    pub data: IdocData,
}

/// What applying one IDoc did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdocApplied {
    /// Its data is now in the store.
    Applied,
    /// This DOCNUM was applied before; nothing was written.
    Duplicate,
    /// Recorded, but the store already holds a newer IDoc's data for the object: `by` is
    /// that IDoc's DOCNUM.
    Superseded { by: String },
}

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
    async fn customer_contacts(&self, customer: &CustomerId) -> Result<Vec<ContactRecord>>;
}

/// `INSERT … ON CONFLICT (key) DO UPDATE SET every other column` with `$n` parameters.
pub(super) fn upsert_sql(table: &str, cols: &[&str], key: usize) -> String {
    let params = (1..=cols.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let set = cols[key..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {table} ({}) VALUES ({params}) ON CONFLICT ({}) DO UPDATE SET {set}",
        cols.join(", "),
        cols[..key].join(", ")
    )
}

const CUSTOMER_COLS: &[&str] = &[
    "customer",
    "name",
    "addr_name",
    "addr_street",
    "addr_city",
    "addr_postal_code",
    "addr_country",
    "deletion_flag",
    "posting_block",
    "last_changed",
    "seen_at",
];
const COMPANY_COLS: &[&str] = &[
    "customer",
    "company_code",
    "payment_terms",
    "reconciliation_account",
    "accounting_clerk",
    "dunning_procedure",
    "deletion_flag",
    "posting_block",
    "seen_at",
];
const SALES_AREA_COLS: &[&str] = &[
    "customer",
    "sales_org",
    "distribution_channel",
    "division",
    "payment_terms",
    "currency",
    "credit_control_area",
    "deletion_flag",
    "seen_at",
];
const CONTACT_COLS: &[&str] = &[
    "customer",
    "contact",
    "first_name",
    "last_name",
    "department",
    "function",
    "phone",
    "email",
    "deleted",
    "seen_at",
];

#[async_trait]
impl<D> IdocStore for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    for<'n> &'n str: ColumnIndex<DbRow<D>>,
    i64: Col<D::DB>,
    String: Col<D::DB>,
    bool: Col<D::DB>,
    NaiveDate: Col<D::DB>,
    Option<i64>: Col<D::DB>,
    Option<String>: Col<D::DB>,
    Option<NaiveDate>: Col<D::DB>,
    Option<D::Amount>: Col<D::DB>,
    Option<D::Stamp>: Col<D::DB>,
{
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
        let customer_sql = upsert_sql("customers", CUSTOMER_COLS, 1);
        let company_sql = upsert_sql("customer_company", COMPANY_COLS, 2);
        let area_sql = upsert_sql("customer_sales_area", SALES_AREA_COLS, 4);
        let contact_sql = upsert_sql("customer_contacts", CONTACT_COLS, 2);
        let credit_sql = upsert_sql(
            "customer_credit",
            &["customer", "segment", "amount", "currency", "seen_at"],
            2,
        );
        let item_sql = upsert_sql("open_items", super::sql::OPEN_ITEMS.cols, 4);

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
                    let a = g.address.as_ref();
                    sqlx::query::<D::DB>(&customer_sql)
                        .bind(g.customer.as_str().to_string())
                        .bind(g.name.clone())
                        .bind(a.map(|a| a.name.clone()))
                        .bind(a.map(|a| a.street.clone()))
                        .bind(a.map(|a| a.city.clone()))
                        .bind(a.map(|a| a.postal_code.clone()))
                        .bind(a.map(|a| a.country.clone()))
                        .bind(g.deletion_flag)
                        .bind(g.posting_block)
                        .bind(g.last_changed.map(D::stamp))
                        .bind(D::stamp(at))
                        .execute(&mut *tx)
                        .await?;
                    for c in company_codes {
                        sqlx::query::<D::DB>(&company_sql)
                            .bind(c.customer.as_str().to_string())
                            .bind(c.company_code.clone())
                            .bind(c.payment_terms.clone())
                            .bind(c.reconciliation_account.clone())
                            .bind(c.accounting_clerk.clone())
                            .bind(c.dunning_procedure.clone())
                            .bind(c.deletion_flag)
                            .bind(c.posting_block)
                            .bind(D::stamp(at))
                            .execute(&mut *tx)
                            .await?;
                    }
                    for s in sales_areas {
                        sqlx::query::<D::DB>(&area_sql)
                            .bind(s.customer.as_str().to_string())
                            .bind(s.area.sales_org.clone())
                            .bind(s.area.distribution_channel.clone())
                            .bind(s.area.division.clone())
                            .bind(s.payment_terms.clone())
                            .bind(s.currency.clone())
                            .bind(s.credit_control_area.clone())
                            .bind(s.deletion_flag)
                            .bind(D::stamp(at))
                            .execute(&mut *tx)
                            .await?;
                    }
                    for l in credit_limits {
                        sqlx::query::<D::DB>(&credit_sql)
                            .bind(l.customer.as_str().to_string())
                            .bind(l.segment.clone())
                            .bind(D::amount(l.amount))
                            .bind(l.currency.clone())
                            .bind(D::stamp(at))
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
                    SqlStore::<D>::bind_open_item(sqlx::query::<D::DB>(&item_sql), r, D::stamp(at))
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

    async fn customer_contacts(&self, customer: &CustomerId) -> Result<Vec<ContactRecord>> {
        let rows = sqlx::query::<D::DB>(
            "SELECT customer, contact, first_name, last_name, department, function, phone, \
             email, deleted FROM customer_contacts WHERE customer = $1 ORDER BY contact",
        )
        .bind(customer.as_str().to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let raw: String = row.try_get("customer")?;
                Ok(ContactRecord {
                    customer: CustomerId::parse(&raw)
                        .map_err(|e| super::StoreError::Corrupt(e.to_string()))?,
                    contact: row.try_get("contact")?,
                    first_name: row.try_get("first_name")?,
                    last_name: row.try_get("last_name")?,
                    department: row.try_get("department")?,
                    function: row.try_get("function")?,
                    phone: row.try_get("phone")?,
                    email: row.try_get("email")?,
                    deleted: row.try_get("deleted")?,
                })
            })
            .collect()
    }
}
