//! IDoc bookkeeping: which IDocs were applied (DOCNUM idempotency) and the newest per customer.

use super::sql::{Col, Conn, DbRow, Dialect, SqlStore};
use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::{ColumnIndex, Database, Executor, IntoArguments};

#[async_trait]
pub trait IdocStore: Send + Sync {}

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
}
