//! PostgreSQL backend: amounts as NUMERIC, instants as TIMESTAMPTZ.

use super::dialect::{Dialect, SqlStore};
use super::Result;
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgConnection, Pool, Postgres};
use std::str::FromStr;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

pub struct PgDialect;

impl Dialect for PgDialect {
    type DB = Postgres;
    type Amount = Decimal;
    type Stamp = DateTime<Utc>;
    type Date = NaiveDate;
    const NAME: &'static str = "postgres";

    fn param(n: usize) -> String {
        format!("${n}")
    }

    fn amount(value: Decimal) -> Decimal {
        value
    }

    fn amount_back(value: Decimal) -> Result<Decimal> {
        Ok(value)
    }

    fn date(value: NaiveDate) -> NaiveDate {
        value
    }

    fn stamp(value: DateTime<Utc>) -> DateTime<Utc> {
        // PostgreSQL keeps microseconds and would round the rest; truncating like the
        // SQLite side makes both backends give back the same instant.
        value.trunc_subsecs(6)
    }

    fn stamp_back(value: DateTime<Utc>) -> Result<DateTime<Utc>> {
        Ok(value)
    }

    fn as_text(column: &str) -> String {
        format!("coalesce({column}::text, '')")
    }

    const SEP_SQL: &'static str = "chr(31)";

    fn group_concat(expr: &str) -> String {
        format!("count(*) || chr(30) || string_agg({expr}, chr(30))")
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn migrate(pool: &Pool<Postgres>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { Ok(MIGRATOR.run(pool).await?) })
    }

    fn analyze(tables: &[&str]) -> Option<String> {
        Some(format!("ANALYZE {}", tables.join(", ")))
    }

    const SET_WRITES: bool = true;

    fn write_set<'c>(
        conn: &'c mut PgConnection,
        sql: &'c str,
        columns: Vec<Vec<Option<String>>>,
        seen: Option<DateTime<Utc>>,
    ) -> BoxFuture<'c, Result<u64>> {
        Box::pin(async move {
            let mut query = sqlx::query::<Postgres>(sql);
            for column in columns {
                query = query.bind(column);
            }
            if let Some(seen) = seen {
                query = query.bind(seen);
            }
            Ok(query.execute(conn).await?.rows_affected())
        })
    }
}

pub type PgStore = SqlStore<PgDialect>;

/// Connects to a `postgres://` / `postgresql://` URL. Does not migrate.
pub async fn open_postgres(url: &str) -> Result<PgStore> {
    connect(PgConnectOptions::from_str(url)?).await
}

/// Connects with `search_path` set to `schema`, so every table (and the migration
/// bookkeeping) lives in that schema. Tests use one fresh schema each to run in parallel;
/// the schema must exist.
pub async fn open_postgres_in_schema(url: &str, schema: &str) -> Result<PgStore> {
    connect(PgConnectOptions::from_str(url)?.options([("search_path", schema)])).await
}

async fn connect(options: PgConnectOptions) -> Result<PgStore> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    Ok(SqlStore::new(pool))
}
