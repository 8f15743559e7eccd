//! The one implementation of [`Store`], generic over the sqlx backend.
//!
//! Both backends run the same SQL text (`$n` parameters, `ON CONFLICT`, `RETURNING` work in
//! SQLite and PostgreSQL alike). What differs is confined to [`Dialect`]: how an amount and
//! a timestamp are bound and read back, and which migrations to run.

use super::{
    Counts, DiscrepancyFilter, FindingsReport, OpenItemFilter, OutboxEntry, OutboxStatus,
    Result, Store, StoreError,
};
use crate::model::{
    CompanyCodeData, Contract, Customer, CustomerGeneral, CustomerId, Discrepancy,
    DiscrepancyStatus, DisputeStatusChange, Finding, Note, OpenItem, PaymentTerms, Rule,
    SalesAreaData, StatusChange,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use std::marker::PhantomData;

/// A value the backend can bind and read back (bundles sqlx's three traits).
pub trait Col<DB: Database>:
    Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Send + Sync + 'static
{
}
impl<DB: Database, T> Col<DB> for T where
    T: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Send + Sync + 'static
{
}

/// The per-backend hooks of [`SqlStore`].
pub trait Dialect: Send + Sync + 'static {
    type DB: Database;
    /// How an exact amount is stored: canonical decimal text in SQLite, NUMERIC in PostgreSQL.
    type Amount: Col<Self::DB>;
    /// How an instant is stored: fixed-width UTC text in SQLite, TIMESTAMPTZ in PostgreSQL.
    type Stamp: Col<Self::DB>;
    const NAME: &'static str;
    fn amount(value: Decimal) -> Self::Amount;
    fn amount_back(value: Self::Amount) -> Result<Decimal>;
    fn stamp(value: DateTime<Utc>) -> Self::Stamp;
    fn stamp_back(value: Self::Stamp) -> Result<DateTime<Utc>>;
    fn migrate(pool: &Pool<Self::DB>) -> BoxFuture<'_, Result<()>>;
}

/// [`Store`] over a sqlx pool of backend `D::DB`.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::DB>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> SqlStore<D> {
    pub fn new(pool: Pool<D::DB>) -> Self {
        SqlStore {
            pool,
            dialect: PhantomData,
        }
    }

    pub fn pool(&self) -> &Pool<D::DB> {
        &self.pool
    }
}

fn not_yet<T>() -> Result<T> {
    Err(StoreError::Refused("not yet".into()))
}

#[async_trait]
impl<D> Store for SqlStore<D>
where
    D: Dialect,
    for<'c> &'c mut <D::DB as Database>::Connection: Executor<'c, Database = D::DB>,
    for<'q> <D::DB as Database>::Arguments<'q>: IntoArguments<'q, D::DB>,
    for<'n> &'n str: ColumnIndex<<D::DB as Database>::Row>,
    i64: Col<D::DB>,
    String: Col<D::DB>,
    bool: Col<D::DB>,
    NaiveDate: Col<D::DB>,
{
    fn backend(&self) -> &'static str {
        D::NAME
    }
    async fn migrate(&self) -> Result<()> {
        D::migrate(&self.pool).await
    }
    async fn ping(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query::<D::DB>("SELECT 1").execute(&mut *conn).await?;
        Ok(())
    }
    async fn upsert_customers(&self, _rows: &[CustomerGeneral], _seen_at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn upsert_company_codes(&self, _rows: &[CompanyCodeData], _seen_at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn upsert_sales_areas(&self, _rows: &[SalesAreaData], _seen_at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn upsert_open_items(&self, _rows: &[OpenItem], _seen_at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn upsert_contracts(&self, _rows: &[Contract], _seen_at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn upsert_payment_terms(&self, _rows: &[PaymentTerms]) -> Result<()> {
        not_yet()
    }
    async fn retire_unseen_open_items(&self, _seen_since: DateTime<Utc>) -> Result<u64> {
        not_yet()
    }
    async fn retire_unseen_contracts(&self, _source: &str, _seen_since: DateTime<Utc>) -> Result<u64> {
        not_yet()
    }
    async fn customers_page(&self, _after: Option<&CustomerId>, _limit: u32) -> Result<Vec<Customer>> {
        not_yet()
    }
    async fn customer(&self, _id: &CustomerId) -> Result<Option<Customer>> {
        not_yet()
    }
    async fn contracts_for(&self, _customers: &[CustomerId]) -> Result<Vec<Contract>> {
        not_yet()
    }
    async fn contracts_without_customer(&self) -> Result<Vec<Contract>> {
        not_yet()
    }
    async fn open_items_for(&self, _customers: &[CustomerId]) -> Result<Vec<OpenItem>> {
        not_yet()
    }
    async fn list_open_items(&self, _filter: &OpenItemFilter) -> Result<Vec<OpenItem>> {
        not_yet()
    }
    async fn payment_terms(&self) -> Result<Vec<PaymentTerms>> {
        not_yet()
    }
    async fn counts(&self) -> Result<Counts> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query::<D::DB>("SELECT (SELECT COUNT(*) FROM customers) AS customers")
            .fetch_one(&mut *tx)
            .await?;
        let n: i64 = sqlx::Row::try_get(&row, "customers")?;
        tx.commit().await?;
        Ok(Counts {
            customers: n as u64,
            ..Counts::default()
        })
    }
    async fn record_findings(&self, _findings: &[Finding], _run_at: DateTime<Utc>) -> Result<FindingsReport> {
        not_yet()
    }
    async fn close_unseen_findings(&self, _rules: &[Rule], _run_at: DateTime<Utc>) -> Result<u64> {
        not_yet()
    }
    async fn list_discrepancies(&self, _filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>> {
        not_yet()
    }
    async fn discrepancy(&self, _id: i64) -> Result<Option<Discrepancy>> {
        not_yet()
    }
    async fn change_status(
        &self,
        _id: i64,
        _to: DiscrepancyStatus,
        _actor: &str,
        _note: Option<&str>,
        _waived_until: Option<NaiveDate>,
        _at: DateTime<Utc>,
    ) -> Result<Discrepancy> {
        not_yet()
    }
    async fn audit_log(&self, _id: i64) -> Result<Vec<StatusChange>> {
        not_yet()
    }
    async fn discrepancy_counts(&self) -> Result<Vec<(Rule, DiscrepancyStatus, u64)>> {
        not_yet()
    }
    async fn add_note(&self, _note: &Note) -> Result<OutboxEntry> {
        not_yet()
    }
    async fn add_dispute_status(&self, _change: &DisputeStatusChange) -> Result<OutboxEntry> {
        not_yet()
    }
    async fn outbox_due(&self, _limit: u32) -> Result<Vec<OutboxEntry>> {
        not_yet()
    }
    async fn outbox_mark_sent(&self, _id: i64, _at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
    async fn outbox_mark_failed(
        &self,
        _id: i64,
        _error: &str,
        _at: DateTime<Utc>,
        _final_status: Option<OutboxStatus>,
    ) -> Result<()> {
        not_yet()
    }
    async fn outbox_list(&self, _status: Option<OutboxStatus>) -> Result<Vec<OutboxEntry>> {
        not_yet()
    }
    async fn outbox_retry(&self, _id: i64, _at: DateTime<Utc>) -> Result<()> {
        not_yet()
    }
}
