//! SQLite backend: a file database in WAL mode, amounts as canonical decimal text.

use super::dialect::{Dialect, SqlStore};
use super::{Result, StoreError};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Pool, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Fixed width (always six fractional digits, always `Z`) so that text order is time order
/// and `<` in SQL compares instants.
const STAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    type DB = Sqlite;
    type Amount = String;
    type Stamp = String;
    type Date = String;
    const NAME: &'static str = "sqlite";

    fn param(_n: usize) -> String {
        "?".to_string()
    }

    fn amount(value: Decimal) -> String {
        // Display keeps the scale ("-1234.50"), which is what makes the text canonical.
        value.to_string()
    }

    fn amount_back(value: String) -> Result<Decimal> {
        Decimal::from_str_exact(&value)
            .map_err(|e| StoreError::Corrupt(format!("amount {value:?}: {e}")))
    }

    fn stamp(value: DateTime<Utc>) -> String {
        value.trunc_subsecs(6).format(STAMP_FORMAT).to_string()
    }

    /// The text sqlx writes for a date (`%F`), but by `Display`, which writes the digits
    /// directly: a pull binds hundreds of thousands of dates, and a format string is parsed
    /// again for each one.
    fn date(value: NaiveDate) -> String {
        value.to_string()
    }

    fn stamp_back(value: String) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt(format!("timestamp {value:?}: {e}")))
    }

    fn as_text(column: &str) -> String {
        format!("ifnull({column}, '')")
    }

    const SEP_SQL: &'static str = "char(31)";

    fn group_concat(expr: &str) -> String {
        format!("count(*) || char(30) || group_concat({expr}, char(30))")
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn migrate(pool: &Pool<Sqlite>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { Ok(MIGRATOR.run(pool).await?) })
    }

    fn analyze(_tables: &[&str]) -> Option<String> {
        // SQLite plans these reads by their indexes whatever the statistics say.
        None
    }

    const SET_WRITES: bool = false;

    fn write_set<'c>(
        _conn: &'c mut SqliteConnection,
        _sql: &'c str,
        _columns: Vec<Vec<Option<String>>>,
        _seen: Option<String>,
    ) -> BoxFuture<'c, Result<u64>> {
        Box::pin(async {
            Err(StoreError::Refused(
                "SQLite has no arrays: batches are written as multi-row VALUES".into(),
            ))
        })
    }
}

pub type SqliteStore = SqlStore<SqliteDialect>;

/// Opens (creating the file if missing) a SQLite database from a `sqlite://path` URL.
/// Does not migrate: call [`super::Store::migrate`].
pub async fn open_sqlite(url: &str) -> Result<SqliteStore> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL lets readers (API, CLI) run while a sync writes.
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Writers queue behind each other instead of failing with SQLITE_BUSY at once.
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    Ok(SqlStore::new(pool))
}
