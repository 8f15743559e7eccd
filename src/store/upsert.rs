//! The upsert builder: tables written by batched upserts, and the multi-row statements
//! that write them.
//!
//! Pulled batches are written with multi-row upserts (many rows per statement, all
//! statements of a batch in one transaction): one round trip per row would make a 100k-item
//! pull against PostgreSQL slow.

use super::dialect::{sql_impl, Conn, Dialect, SqlStore, Q};
use super::Result;
use std::collections::HashMap;
use std::sync::Arc;

/// IN lists are split so no statement exceeds the backends' bound-parameter limits.
pub(super) const IN_CHUNK: usize = 500;

/// Bound parameters per statement, well below SQLite's (32766) and PostgreSQL's (65535)
/// limits.
pub(super) const MAX_PARAMS: usize = 30_000;

// Statements whose text depends on how many rows or keys they carry are kept prepared
// (`persistent`) only at their full chunk size. Each connection caches its prepared
// statements; one per size seen made that cache, and the process, grow with the volume
// synced (a statement of 1,600 rows is megabytes once prepared).

/// A table written by batched upserts: its columns in bind order, the first `key` of them
/// forming the conflict key; every other column is overwritten. The last `stamps` columns
/// are the store's bookkeeping (`seen_at`, …), the others are what reads return: the one
/// column list that writes, reads and the packed reconcile read all derive from.
pub(super) struct Upsert {
    pub(super) table: &'static str,
    pub(super) cols: &'static [&'static str],
    key: usize,
    stamps: usize,
}

impl Upsert {
    /// The columns a read returns, in bind order (without the bookkeeping stamps).
    pub(super) fn data_cols(&self) -> &'static [&'static str] {
        &self.cols[..self.cols.len() - self.stamps]
    }

    /// [`Self::data_cols`] as a select list.
    pub(super) fn select_list(&self) -> String {
        self.data_cols().join(", ")
    }

    /// The columns of a customer's level (company code, sales area, credit): its data
    /// columns after the owning `customer`.
    pub(super) fn level_cols(&self) -> &'static [&'static str] {
        &self.data_cols()[1..]
    }

    /// The statement for `rows` rows, built once per table, dialect and size: a full chunk
    /// has some 30,000 placeholders, and pulls write thousands of such chunks. Only full
    /// chunks come here (`rows` fixed per table), so the cache stays a few statements.
    fn cached_sql(&self, param: fn(usize) -> String, rows: usize) -> Arc<str> {
        type Cache = HashMap<(&'static str, String, usize), Arc<str>>;
        static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
        let key = (self.table, param(1), rows);
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| self.sql(param, rows).into())
            .clone()
    }

    /// `INSERT … VALUES (…), … ON CONFLICT (key) DO UPDATE SET every other column`.
    pub(super) fn sql(&self, param: fn(usize) -> String, rows: usize) -> String {
        let width = self.cols.len();
        let values = (0..rows)
            .map(|r| format!("({})", placeholders(param, r * width + 1, width)))
            .collect::<Vec<_>>()
            .join(", ");
        let set = self.cols[self.key..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) VALUES {values} ON CONFLICT ({}) DO UPDATE SET {set}",
            self.table,
            self.cols.join(", "),
            self.cols[..self.key].join(", "),
        )
    }
}

pub(super) const CUSTOMERS: Upsert = Upsert {
    table: "customers",
    cols: &[
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
    ],
    key: 1,
    stamps: 1,
};
pub(super) const COMPANY_CODES: Upsert = Upsert {
    table: "customer_company",
    cols: &[
        "customer",
        "company_code",
        "payment_terms",
        "reconciliation_account",
        "accounting_clerk",
        "dunning_procedure",
        "deletion_flag",
        "posting_block",
        "seen_at",
    ],
    key: 2,
    stamps: 1,
};
pub(super) const SALES_AREAS: Upsert = Upsert {
    table: "customer_sales_area",
    cols: &[
        "customer",
        "sales_org",
        "distribution_channel",
        "division",
        "payment_terms",
        "currency",
        "credit_control_area",
        "deletion_flag",
        "seen_at",
    ],
    key: 4,
    stamps: 1,
};
pub(super) const CREDIT_LIMITS: Upsert = Upsert {
    table: "customer_credit",
    cols: &["customer", "segment", "amount", "currency", "seen_at"],
    key: 2,
    stamps: 1,
};
pub(super) const CONTACTS: Upsert = Upsert {
    table: "customer_contacts",
    cols: &[
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
    ],
    key: 2,
    stamps: 1,
};
pub(super) const OPEN_ITEMS: Upsert = Upsert {
    table: "open_items",
    cols: &[
        "company_code",
        "fiscal_year",
        "document",
        "item",
        "customer",
        "document_date",
        "posting_date",
        "baseline_date",
        "payment_terms",
        "discount1_days",
        "discount1_percent",
        "discount2_days",
        "discount2_percent",
        "net_days",
        "net_due_date",
        "amount",
        "currency",
        "dunning_level",
        "dunning_block",
        "dispute_case",
        "seen_at",
        "cleared_at",
    ],
    key: 4,
    stamps: 2,
};
pub(super) const CONTRACTS: Upsert = Upsert {
    table: "contracts",
    cols: &[
        "source",
        "id",
        "customer",
        "company_code",
        "sales_org",
        "distribution_channel",
        "division",
        "payment_terms",
        "credit_limit",
        "currency",
        "billing_name",
        "billing_street",
        "billing_city",
        "billing_postal_code",
        "billing_country",
        "valid_from",
        "valid_to",
        "seen_at",
        "retired_at",
    ],
    key: 2,
    stamps: 2,
};
pub(super) const PAYMENT_TERMS: Upsert = Upsert {
    table: "payment_terms",
    cols: &["key", "description", "rules"],
    key: 1,
    stamps: 0,
};

/// Gives a bind closure its higher-ranked signature, which closures do not infer.
pub(super) fn binder<D: Dialect, T, F>(f: F) -> F
where
    F: for<'q> Fn(Q<'q, D>, &T) -> Q<'q, D>,
{
    f
}

/// A composite key as one map key (the unit separator does not occur in SAP keys).
pub(super) fn key_text(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// Parameters `first .. first + n`, comma-separated, as the dialect writes them.
pub(super) fn placeholders(param: fn(usize) -> String, first: usize, n: usize) -> String {
    (first..first + n).map(param).collect::<Vec<_>>().join(", ")
}

/// Numbers the `$n` placeholders of a statement whose conditions depend on a filter; the
/// values are then bound in the same order.
#[derive(Default)]
pub(super) struct Params(usize);

impl Params {
    pub(super) fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Inserts or updates `rows` in one transaction, many rows per statement: see
        /// [`Self::upsert_rows`].
        pub(super) async fn upsert_batch<T>(
            &self,
            spec: &Upsert,
            rows: &[T],
            key: impl Fn(&T) -> String + Send + Sync,
            bind: &(dyn for<'q> Fn(Q<'q, D>, &T) -> Q<'q, D> + Send + Sync),
        ) -> Result<()>
        where
            T: Sync,
        {
            let mut tx = self.pool().begin().await?;
            Self::upsert_rows(&mut tx, spec, rows, key, bind).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Inserts or updates `rows` in the caller's transaction, many rows per statement.
        /// Rows are bound by `bind` in `spec.cols` order. Of rows with the same key the last
        /// one wins (a multi-row `ON CONFLICT DO UPDATE` must not touch one row twice).
        pub(super) async fn upsert_rows<T>(
            conn: &mut Conn<D>,
            spec: &Upsert,
            rows: &[T],
            key: impl Fn(&T) -> String + Send + Sync,
            bind: &(dyn for<'q> Fn(Q<'q, D>, &T) -> Q<'q, D> + Send + Sync),
        ) -> Result<()>
        where
            T: Sync,
        {
            let mut last = HashMap::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                last.insert(key(row), i);
            }
            let rows: Vec<&T> = rows
                .iter()
                .enumerate()
                .filter(|(i, row)| last.get(&key(row)) == Some(i))
                .map(|(_, row)| row)
                .collect();
            let per_statement = (MAX_PARAMS / spec.cols.len()).max(1);
            for chunk in rows.chunks(per_statement) {
                let full = chunk.len() == per_statement;
                let sql: Arc<str> = if full {
                    spec.cached_sql(D::param, chunk.len())
                } else {
                    spec.sql(D::param, chunk.len()).into()
                };
                let mut query = sqlx::query::<D::DB>(&sql).persistent(full);
                for row in chunk {
                    query = bind(query, row);
                }
                query.execute(&mut *conn).await?;
            }
            Ok(())
        }
    }
}
