//! A fresh PostgreSQL schema per test on the server `ERPSYNC_TEST_POSTGRES_URL` names, so the
//! PostgreSQL tests of several test binaries (and several checkouts) run side by side.

use erpsync::store::{self, PgStore, SharedStore, Store};
use futures_util::FutureExt;
use sqlx::{Connection, PgConnection};
use std::future::Future;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// The variable naming the PostgreSQL server the tests may use.
pub const PG_URL_VAR: &str = "ERPSYNC_TEST_POSTGRES_URL";

/// The server URL, or `None` after printing why `test` is skipped. On CI (`CI` set) a missing
/// variable fails the test instead: there the PostgreSQL tests must run.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("{PG_URL_VAR} is not set: on CI the PostgreSQL test {test} must run")
        }
        Err(_) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {PG_URL_VAR} not set");
            None
        }
    }
}

/// A schema made for one test; [`PgSchema::drop`] removes it with everything in it.
pub struct PgSchema {
    admin: PgConnection,
    /// The server URL without a schema.
    pub server_url: String,
    /// The schema's name: `{prefix}_{uuid}`.
    pub name: String,
}

impl PgSchema {
    /// A new schema named after `prefix`, or `None` (with the skip reason printed) when no
    /// server is configured; see [`server_url`].
    pub async fn create(test: &str, prefix: &str) -> Option<PgSchema> {
        let server_url = server_url(test)?;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server_url)
            .await
            .expect("postgres test server reachable");
        // The name is generated above (letters, digits, '_'), so formatting it in is safe.
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        Some(PgSchema {
            admin,
            server_url,
            name,
        })
    }

    /// A store URL whose connections use this schema (`options[search_path]`), for configs
    /// and `ERPSYNC_STORE__URL`.
    pub fn url(&self) -> String {
        let sep = if self.server_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}options[search_path]={}", self.server_url, self.name)
    }

    /// A migrated store in this schema.
    pub async fn store(&self) -> PgStore {
        let store = store::open_postgres_in_schema(&self.server_url, &self.name)
            .await
            .expect("postgres store opens");
        store.migrate().await.expect("postgres migrations run");
        store
    }

    /// Drops the schema and everything in it.
    pub async fn drop(mut self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&mut self.admin)
            .await
            .unwrap();
    }
}

/// Runs `test` on a migrated store in a fresh schema named after `prefix`, then closes the
/// store and drops the schema, also when `test` panics (the panic goes on afterwards). Skips
/// as [`server_url`] says when no server is configured.
pub async fn with_store<F, Fut>(test_name: &str, prefix: &str, test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(schema) = PgSchema::create(test_name, prefix).await else {
        return;
    };
    let store = schema.store().await;
    let pool = store.pool().clone();
    let outcome = AssertUnwindSafe(test(Arc::new(store))).catch_unwind().await;
    pool.close().await;
    schema.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
