//! The upsert builder: tables written by batched upserts, and the multi-row statements
//! that write them.
//!
//! Pulled batches are written with multi-row upserts (many rows per statement, all
//! statements of a batch in one transaction): one round trip per row would make a 100k-item
//! pull against PostgreSQL slow.

use super::dialect::{sql_impl, Col, Conn, Dialect, SqlStore, Q};
use super::unchanged::row_digest;
use super::Result;
use chrono::{DateTime, NaiveDate, SecondsFormat, SubsecRound, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// The columns of a row's digest (two 64-bit halves, as integers: what both stores keep
/// in 16 bytes and bind without another type), in the tables that keep one.
pub(super) const DIGEST: [&str; 2] = ["digest_hi", "digest_lo"];

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
/// are the store's bookkeeping, the others are what reads return: the one column list that
/// writes, reads and the packed reconcile read all derive from. Of the stamps, the first is
/// the pull's `seen_at` and the second, where there is one, is reset to NULL (an item seen
/// again is open again).
///
/// A row that arrives unchanged is not written again, unless the table's `seen_at` decides
/// what a complete pull retires (`seen_retires`): then every row seen must carry the pull's
/// stamp.
///
/// With `digest`, every write also stores a digest of the row's data columns (columns
/// `digest_hi` and `digest_lo`, after the stamps; see `unchanged.rs`): since every write of
/// the table goes through here, the digest always describes the data beside it.
pub(super) struct Upsert {
    pub(super) table: &'static str,
    pub(super) cols: &'static [&'static str],
    pub(super) key: usize,
    stamps: usize,
    seen_retires: bool,
    digest: bool,
}

impl Upsert {
    /// The columns a read returns, in bind order (without the bookkeeping stamps).
    pub(super) fn data_cols(&self) -> &'static [&'static str] {
        &self.cols[..self.cols.len() - self.stamps]
    }

    /// Every column a write sets, in bind order: [`Self::cols`], then the digest.
    fn written_cols(&self) -> Vec<&'static str> {
        let mut cols = self.cols.to_vec();
        if self.digest {
            cols.extend(DIGEST);
        }
        cols
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
        type Cache = HashMap<(&'static str, bool, String, usize), Arc<str>>;
        static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
        let key = (self.table, self.seen_retires, param(1), rows);
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| self.sql(param, rows).into())
            .clone()
    }

    /// `ON CONFLICT (key) DO UPDATE SET every other column`, and, unless every row seen
    /// must be stamped, `WHERE` some data column differs: an unchanged row is left as it
    /// is (no new row version, no index or trigger work).
    fn on_conflict(&self) -> String {
        let set = self.written_cols()[self.key..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!(
            " ON CONFLICT ({}) DO UPDATE SET {set}",
            self.cols[..self.key].join(", ")
        );
        let compared = &self.data_cols()[self.key..];
        if !self.seen_retires && !compared.is_empty() {
            let mut differs = compared
                .iter()
                .map(|c| format!("{t}.{c} IS DISTINCT FROM excluded.{c}", t = self.table))
                .collect::<Vec<_>>();
            // A row retired earlier (cleared, ended) and seen again is open again: that is
            // a change even when its data is not.
            if self.stamps >= 2 {
                differs.push(format!(
                    "{t}.{c} IS NOT NULL",
                    t = self.table,
                    c = self.cols[self.cols.len() - 1]
                ));
            }
            // A row stored before digests were kept gets its own.
            if self.digest {
                differs.extend(
                    DIGEST
                        .map(|c| format!("{t}.{c} IS DISTINCT FROM excluded.{c}", t = self.table)),
                );
            }
            sql += &format!(" WHERE {}", differs.join(" OR "));
        }
        sql
    }

    /// `INSERT … VALUES (…), … ON CONFLICT …`: every value a parameter of its own.
    pub(super) fn sql(&self, param: fn(usize) -> String, rows: usize) -> String {
        let cols = self.written_cols();
        let width = cols.len();
        let values = (0..rows)
            .map(|r| format!("({})", placeholders(param, r * width + 1, width)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) VALUES {values}{}",
            self.table,
            cols.join(", "),
            self.on_conflict(),
        )
    }

    /// `INSERT … SELECT … FROM UNNEST($1::text[], …) … ON CONFLICT …`: a whole batch as
    /// one array per data column (cast from text to the column's type by the database),
    /// the `seen_at` stamp as one more parameter, whatever the number of rows. `kinds` are
    /// the data columns' kinds as the table's encoder writes them.
    pub(super) fn set_sql(&self, kinds: &[Kind]) -> String {
        // The digest, where the table keeps one, is two more arrays after the data's.
        let mut data = self.data_cols().to_vec();
        if self.digest {
            data.extend(DIGEST);
        }
        let stamps = &self.cols[self.cols.len() - self.stamps..];
        let arrays = (1..=data.len())
            .map(|n| format!("${n}::text[]"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut select: Vec<String> = data
            .iter()
            .zip(kinds)
            .map(|(c, k)| format!("u.{c}{}", k.cast()))
            .collect();
        if self.stamps >= 1 {
            select.push(format!("${}", data.len() + 1));
        }
        if self.stamps >= 2 {
            select.push("NULL".into());
        }
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM UNNEST({arrays}) AS u({}){}",
            self.table,
            [&data[..], stamps].concat().join(", "),
            select.join(", "),
            data.join(", "),
            self.on_conflict(),
        )
    }
}

/// What an encoder writes into a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Flag,
    Int,
    Date,
    Amount,
    Stamp,
}

impl Kind {
    /// The cast from text to the column's type in a set write.
    fn cast(self) -> &'static str {
        match self {
            Kind::Text => "",
            Kind::Flag => "::boolean",
            Kind::Int => "::bigint",
            Kind::Date => "::date",
            Kind::Amount => "::numeric",
            Kind::Stamp => "::timestamptz",
        }
    }
}

/// Where a table's encoder writes one row's data columns, in [`Upsert::cols`] order: bound
/// as parameters of a statement ([`Binder`]) or gathered into columns ([`Columns`]). Text
/// is lent for as long as the row (`'r`), so a statement can bind it without a copy.
pub(super) trait Sink<'r> {
    fn text(&mut self, v: Option<&'r str>);
    fn flag(&mut self, v: bool);
    fn int(&mut self, v: Option<i64>);
    fn date(&mut self, v: Option<NaiveDate>);
    fn amount(&mut self, v: Option<Decimal>);
    fn stamp(&mut self, v: Option<DateTime<Utc>>);
}

/// A table's encoder: one row's data columns into a [`Sink`].
pub(super) type Encoder<T> = for<'r> fn(&'r T, &mut dyn Sink<'r>);

/// Binds a row's values to a statement.
pub(super) struct Binder<'q, D: Dialect> {
    query: Option<Q<'q, D>>,
}

impl<'q, D: Dialect> Binder<'q, D>
where
    Option<D::Stamp>: Col<D::DB>,
    Option<i64>: Col<D::DB>,
{
    /// Binds `row` (its data columns, then the stamps of `spec`, then its digest where
    /// `spec` keeps one) to `query`.
    pub(super) fn bind<T>(
        query: Q<'q, D>,
        spec: &Upsert,
        encode: Encoder<T>,
        row: &'q T,
        seen: &D::Stamp,
    ) -> Q<'q, D>
    where
        Self: Sink<'q>,
    {
        let mut b = Binder { query: Some(query) };
        encode(row, &mut b);
        let mut query = b.query.expect("a binder always holds its statement");
        if spec.stamps >= 1 {
            query = query.bind(Some(seen.clone()));
        }
        if spec.stamps >= 2 {
            query = query.bind(None::<D::Stamp>);
        }
        if spec.digest {
            let [hi, lo] = row_digest(encode, row);
            query = query.bind(Some(hi)).bind(Some(lo));
        }
        query
    }

    fn push<V: sqlx::Encode<'q, D::DB> + sqlx::Type<D::DB> + Send + 'q>(&mut self, v: V) {
        self.query = self.query.take().map(|q| q.bind(v));
    }
}

impl<'q, D: Dialect> Sink<'q> for Binder<'q, D>
where
    Option<&'q str>: sqlx::Encode<'q, D::DB> + sqlx::Type<D::DB>,
    bool: Col<D::DB>,
    Option<i64>: Col<D::DB>,
    Option<D::Date>: Col<D::DB>,
    Option<D::Amount>: Col<D::DB>,
    Option<D::Stamp>: Col<D::DB>,
{
    fn text(&mut self, v: Option<&'q str>) {
        self.push(v);
    }
    fn flag(&mut self, v: bool) {
        self.push(v);
    }
    fn int(&mut self, v: Option<i64>) {
        self.push(v);
    }
    fn date(&mut self, v: Option<NaiveDate>) {
        self.push(v.map(D::date));
    }
    fn amount(&mut self, v: Option<Decimal>) {
        self.push(v.map(D::amount));
    }
    fn stamp(&mut self, v: Option<DateTime<Utc>>) {
        self.push(v.map(D::stamp));
    }
}

/// A batch gathered column by column, as text, for a set write ([`Upsert::set_sql`]).
pub(super) struct Columns {
    pub(super) values: Vec<Vec<Option<String>>>,
    pub(super) kinds: Vec<Kind>,
    at: usize,
    /// Rows in the batch, for each column's capacity.
    rows: usize,
}

impl Columns {
    /// The data columns of `rows` as `spec`'s encoder writes them, and their digests where
    /// the table keeps them.
    pub(super) fn gather<T>(spec: &Upsert, encode: Encoder<T>, rows: &[&T]) -> Columns {
        let mut c = Columns {
            values: Vec::new(),
            kinds: Vec::new(),
            at: 0,
            rows: rows.len(),
        };
        for row in rows {
            c.at = 0;
            encode(row, &mut c);
            if spec.digest {
                for half in row_digest(encode, row) {
                    c.push(Kind::Int, Some(half.to_string()));
                }
            }
        }
        c
    }

    /// The value of the current row's next column; the first row makes the columns (every
    /// row writes the same ones, so the widths cannot disagree).
    fn push(&mut self, kind: Kind, v: Option<String>) {
        if self.values.len() == self.at {
            self.kinds.push(kind);
            self.values.push(Vec::with_capacity(self.rows));
        }
        self.values[self.at].push(v);
        self.at += 1;
    }
}

impl<'r> Sink<'r> for Columns {
    fn text(&mut self, v: Option<&'r str>) {
        self.push(Kind::Text, v.map(str::to_string));
    }
    fn flag(&mut self, v: bool) {
        self.push(Kind::Flag, Some(if v { "t" } else { "f" }.to_string()));
    }
    fn int(&mut self, v: Option<i64>) {
        self.push(Kind::Int, v.map(|v| v.to_string()));
    }
    fn date(&mut self, v: Option<NaiveDate>) {
        self.push(Kind::Date, v.map(|v| v.to_string()));
    }
    fn amount(&mut self, v: Option<Decimal>) {
        self.push(Kind::Amount, v.map(|v| v.to_string()));
    }
    fn stamp(&mut self, v: Option<DateTime<Utc>>) {
        // Microseconds, as the stores keep them.
        let text = v.map(|v| {
            v.trunc_subsecs(6)
                .to_rfc3339_opts(SecondsFormat::Micros, true)
        });
        self.push(Kind::Stamp, text);
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
    seen_retires: false,
    digest: false,
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
    seen_retires: false,
    digest: false,
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
    seen_retires: false,
    digest: false,
};
pub(super) const CREDIT_LIMITS: Upsert = Upsert {
    table: "customer_credit",
    cols: &["customer", "segment", "amount", "currency", "seen_at"],
    key: 2,
    stamps: 1,
    seen_retires: false,
    digest: false,
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
    seen_retires: false,
    digest: false,
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
    seen_retires: true,
    digest: true,
};
/// Open items as a pull writes them: an item that arrives as it is stored (and open) is
/// left alone, its `seen_at` included. What a complete pull saw is told by the keys it read
/// (`cursors::SeenKeys`), compared once at its end, not by stamping every row: a
/// re-read of unchanged data then writes nothing. `seen_at` is then when the item last
/// arrived changed (or new, or open again).
pub(super) const OPEN_ITEMS_PULLED: Upsert = Upsert {
    seen_retires: false,
    ..OPEN_ITEMS
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
    seen_retires: true,
    digest: false,
};
pub(super) const PAYMENT_TERMS: Upsert = Upsert {
    table: "payment_terms",
    cols: &["key", "description", "rules"],
    key: 1,
    stamps: 0,
    seen_retires: false,
    digest: false,
};

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

/// Rows per set write (PostgreSQL): one statement, whatever its size, binds one array per
/// column; this bounds the text gathered for it.
const SET_CHUNK: usize = 10_000;

sql_impl! {
    impl<D> SqlStore<D> {
        /// Inserts or updates `rows` in one transaction: see [`Self::upsert_rows`].
        pub(super) async fn upsert_batch<T>(
            &self,
            spec: &Upsert,
            rows: &[T],
            key: impl Fn(&T) -> String + Send + Sync,
            encode: Encoder<T>,
            seen_at: DateTime<Utc>,
        ) -> Result<()>
        where
            T: Sync,
        {
            let mut tx = self.pool().begin().await?;
            Self::upsert_rows(&mut tx, spec, rows, key, encode, seen_at).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Inserts or updates `rows` in the caller's transaction, stamped `seen_at`. Of rows
        /// with the same key the last one wins (one `ON CONFLICT DO UPDATE` statement must
        /// not touch a row twice). Where the backend has arrays (PostgreSQL), a batch is
        /// one statement over one array per column ([`Upsert::set_sql`]); otherwise
        /// (SQLite) multi-row `VALUES` statements of up to [`MAX_PARAMS`] parameters.
        pub(super) async fn upsert_rows<T>(
            conn: &mut Conn<D>,
            spec: &Upsert,
            rows: &[T],
            key: impl Fn(&T) -> String + Send + Sync,
            encode: Encoder<T>,
            seen_at: DateTime<Utc>,
        ) -> Result<()>
        where
            T: Sync,
        {
            let keys: Vec<String> = rows.iter().map(&key).collect();
            let mut last = HashMap::with_capacity(rows.len());
            for (i, k) in keys.iter().enumerate() {
                last.insert(k.as_str(), i);
            }
            let rows: Vec<&T> = rows
                .iter()
                .zip(&keys)
                .enumerate()
                .filter(|(i, (_, k))| last.get(k.as_str()) == Some(i))
                .map(|(_, (row, _))| row)
                .collect();
            drop(last);
            drop(keys);
            let seen = D::stamp(seen_at);
            if D::SET_WRITES {
                for chunk in rows.chunks(SET_CHUNK) {
                    let columns = Columns::gather(spec, encode, chunk);
                    let sql = spec.set_sql(&columns.kinds);
                    let seen = (spec.stamps >= 1).then(|| seen.clone());
                    D::write_set(&mut *conn, &sql, columns.values, seen).await?;
                }
                return Ok(());
            }
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
                    query = Binder::<D>::bind(query, spec, encode, *row, &seen);
                }
                query.execute(&mut *conn).await?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
pub(super) mod tests;
