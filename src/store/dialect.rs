//! What differs between the backends, and the one generic [`SqlStore`] over them.
//!
//! Both backends run the same SQL text (`$n` parameters, `ON CONFLICT`, `RETURNING` work in
//! SQLite and PostgreSQL alike). What differs is confined to [`Dialect`]: how an amount and
//! an instant are bound and read back, how generated statements write their parameters,
//! and which migrations to run. The SQL itself lives with its table group (`masters.rs`,
//! `findings.rs`, `outbox.rs`, …), each group's impl written inside [`sql_impl!`].

use super::{Result, Store};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::query::Query;
use sqlx::{Database, Decode, Encode, Pool, Type};
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
    type DB: Database + sqlx::database::HasStatementCache;
    /// How an exact amount is stored: canonical decimal text in SQLite, NUMERIC in PostgreSQL.
    type Amount: Col<Self::DB>;
    /// How an instant is stored: fixed-width UTC text in SQLite, TIMESTAMPTZ in PostgreSQL.
    type Stamp: Col<Self::DB> + Clone;
    /// How a date is bound: `YYYY-MM-DD` text in SQLite (what it stores), DATE in
    /// PostgreSQL.
    type Date: Col<Self::DB>;
    const NAME: &'static str;
    /// Parameter `n` of a generated statement with many parameters. SQLite looks every
    /// `$n`/`?n` up in a list (quadratic for a large multi-row insert), so it gets plain
    /// `?`, numbered by position: generated statements bind in textual order and never mix
    /// in the `$n` of the fixed statements. PostgreSQL only knows `$n`.
    fn param(n: usize) -> String;
    fn amount(value: Decimal) -> Self::Amount;
    fn amount_back(value: Self::Amount) -> Result<Decimal>;
    fn stamp(value: DateTime<Utc>) -> Self::Stamp;
    fn stamp_back(value: Self::Stamp) -> Result<DateTime<Utc>>;
    fn date(value: NaiveDate) -> Self::Date;
    /// A column as text, NULL as empty (for packed bulk reads, see `packed.rs`).
    fn as_text(column: &str) -> String;
    /// The separator character of packed reads, as an SQL expression.
    const SEP_SQL: &'static str;
    /// Aggregates packed rows into one text, separated by ASCII record separators and
    /// led by their count (so that a separator inside a value shows, see `packed.rs`).
    fn group_concat(expr: &str) -> String;
    /// sqlx has no backend-neutral accessor for this.
    fn rows_affected(done: &<Self::DB as Database>::QueryResult) -> u64;
    fn migrate(pool: &Pool<Self::DB>) -> BoxFuture<'_, Result<()>>;
    /// The statement that brings the planner's statistics of `tables` up to date, where
    /// the backend plans by them and a bulk load leaves them behind (PostgreSQL's
    /// `ANALYZE`); none where nothing needs it (SQLite).
    fn analyze(tables: &[&str]) -> Option<String>;
    /// Whether batched upserts go as one statement over one array per column
    /// ([`Self::write_set`]): PostgreSQL. SQLite has no arrays and binds every value.
    const SET_WRITES: bool;
    /// Runs a set write: `sql` with `columns` bound as text arrays, in order, then `seen`
    /// when given. Answers the rows it affected.
    fn write_set<'c>(
        conn: &'c mut <Self::DB as Database>::Connection,
        sql: &'c str,
        columns: Vec<Vec<Option<String>>>,
        seen: Option<Self::Stamp>,
    ) -> BoxFuture<'c, Result<u64>>;
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

pub(crate) type DbRow<D> = <<D as Dialect>::DB as Database>::Row;
pub(crate) type Conn<D> = <<D as Dialect>::DB as Database>::Connection;
pub(crate) type Q<'q, D> =
    Query<'q, <D as Dialect>::DB, <<D as Dialect>::DB as Database>::Arguments<'q>>;

/// Writes an `impl` over [`SqlStore<D>`] (inherent, or of a named trait) with the bounds the
/// store's SQL asks of a sqlx backend: running statements on a connection, naming columns
/// by text, binding and reading these column types. SQLite and PostgreSQL meet them all.
///
/// Rust carries a `where` list from nowhere to nowhere: bounds on a helper trait that are
/// not about `Self` are not implied where the trait is used, so each table group's impl
/// would restate all of them. This macro states them once.
macro_rules! sql_impl {
    ($(#[$attr:meta])* impl<D> SqlStore<D> { $($body:tt)* }) => {
        $crate::store::dialect::sql_impl!(
            @bounded $(#[$attr])* [impl<D> SqlStore<D>] { $($body)* }
        );
    };
    ($(#[$attr:meta])* impl<D> $trait:ident for SqlStore<D> { $($body:tt)* }) => {
        $crate::store::dialect::sql_impl!(
            @bounded $(#[$attr])* [impl<D> $trait for SqlStore<D>] { $($body)* }
        );
    };
    (@bounded $(#[$attr:meta])* [$($head:tt)*] { $($body:tt)* }) => {
        $(#[$attr])*
        $($head)*
        where
            D: $crate::store::dialect::Dialect,
            for<'c> &'c mut $crate::store::dialect::Conn<D>:
                ::sqlx::Executor<'c, Database = D::DB>,
            for<'q> <D::DB as ::sqlx::Database>::Arguments<'q>: ::sqlx::IntoArguments<'q, D::DB>,
            for<'n> &'n str: ::sqlx::ColumnIndex<$crate::store::dialect::DbRow<D>>,
            i64: $crate::store::dialect::Col<D::DB>,
            String: $crate::store::dialect::Col<D::DB>,
            bool: $crate::store::dialect::Col<D::DB>,
            ::chrono::NaiveDate: $crate::store::dialect::Col<D::DB>,
            Option<i64>: $crate::store::dialect::Col<D::DB>,
            Option<String>: $crate::store::dialect::Col<D::DB>,
            Option<::chrono::NaiveDate>: $crate::store::dialect::Col<D::DB>,
            Option<D::Amount>: $crate::store::dialect::Col<D::DB>,
            Option<D::Stamp>: $crate::store::dialect::Col<D::DB>,
            Option<D::Date>: $crate::store::dialect::Col<D::DB>,
            for<'q> Option<&'q str>: ::sqlx::Encode<'q, D::DB> + ::sqlx::Type<D::DB>,
        {
            $($body)*
        }
    };
}
pub(crate) use sql_impl;

sql_impl! {
    #[async_trait]
    impl<D> Store for SqlStore<D> {
        fn backend(&self) -> &'static str {
            D::NAME
        }

        async fn migrate(&self) -> Result<()> {
            D::migrate(&self.pool).await
        }

        async fn ping(&self) -> Result<()> {
            sqlx::query::<D::DB>("SELECT 1").execute(&self.pool).await?;
            Ok(())
        }
    }
}
