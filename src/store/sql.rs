//! The one implementation of [`Store`], generic over the sqlx backend.
//!
//! Both backends run the same SQL text (`$n` parameters, `ON CONFLICT`, `RETURNING` work in
//! SQLite and PostgreSQL alike). What differs is confined to [`Dialect`]: how an amount and
//! an instant are bound and read back, how generated statements write their parameters,
//! and which migrations to run.
//!
//! Pulled batches are written with multi-row upserts (many rows per statement, all
//! statements of a batch in one transaction): one round trip per row would make a 100k-item
//! pull against PostgreSQL slow.

use super::{
    Counts, DiscrepancyFilter, FindingsReport, OpenItemFilter, OutboxEntry, OutboxKind,
    OutboxStatus, Result, Store, StoreError,
};
use crate::model::open_item::AppliedTerms;
use crate::model::{
    Address, CompanyCodeData, Contract, ContractScope, CreditLimit, Customer, CustomerGeneral,
    CustomerId, Discrepancy, DiscrepancyStatus, DisputeStatusChange, Exposure, Finding, Note,
    OpenItem, OpenItemKey, PaymentTerms, Rule, SalesArea, SalesAreaData, StatusChange,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::str::FromStr;

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
    /// A column as text, NULL as empty (for packed bulk reads, see `packed.rs`).
    fn as_text(column: &str) -> String;
    /// The separator character of packed reads, as an SQL expression.
    const SEP_SQL: &'static str;
    /// Aggregates packed rows into one text, separated by ASCII record separators.
    fn group_concat(expr: &str) -> String;
    /// sqlx has no backend-neutral accessor for this.
    fn rows_affected(done: &<Self::DB as Database>::QueryResult) -> u64;
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

pub(crate) type DbRow<D> = <<D as Dialect>::DB as Database>::Row;
pub(crate) type Conn<D> = <<D as Dialect>::DB as Database>::Connection;
pub(super) type Q<'q, D> =
    Query<'q, <D as Dialect>::DB, <<D as Dialect>::DB as Database>::Arguments<'q>>;

/// IN lists are split so no statement exceeds the backends' bound-parameter limits.
const IN_CHUNK: usize = 500;
/// The actor recorded for status changes reconciliation makes on its own.
const SYSTEM_ACTOR: &str = "erpsync";

pub(super) const CUSTOMER_COLS: &str = "customer, name, addr_name, addr_street, addr_city, \
     addr_postal_code, addr_country, deletion_flag, posting_block, last_changed";
const COMPANY_COLS: &str = "customer, company_code, payment_terms, reconciliation_account, \
     accounting_clerk, dunning_procedure, deletion_flag, posting_block";
const SALES_AREA_COLS: &str = "customer, sales_org, distribution_channel, division, \
     payment_terms, currency, credit_control_area, deletion_flag";
const OPEN_ITEM_COLS: &str = "company_code, fiscal_year, document, item, customer, \
     document_date, posting_date, baseline_date, payment_terms, discount1_days, \
     discount1_percent, discount2_days, discount2_percent, net_days, net_due_date, amount, \
     currency, dunning_level, dunning_block, dispute_case";
const OPEN_ITEM_ORDER: &str = " ORDER BY customer, company_code, fiscal_year, document, item";
const CONTRACT_COLS: &str = "source, id, customer, company_code, sales_org, \
     distribution_channel, division, payment_terms, credit_limit, currency, billing_name, \
     billing_street, billing_city, billing_postal_code, billing_country, valid_from, valid_to";
pub(super) const DISCREPANCY_COLS: &str = "id, rule, customer, scope, field, severity, contract_id, \
     contract_value, master_value, explanation, exposure_amount, exposure_currency, \
     exposure_items, exposure_days, exposure_cash_days, exposure_cost, exposure_by_currency, \
     status, assignee, waived_until, waiver_by, waiver_approved_by, first_seen, last_seen, updated_at";
pub(super) const OUTBOX_COLS: &str =
    "id, kind, idempotency_key, payload, status, attempts, last_error, \
     created_at, updated_at, sent_at, erp_ref, verified_at, dropped_by, dropped_at, drop_reason";

/// Bound parameters per statement, well below SQLite's (32766) and PostgreSQL's (65535)
/// limits.
const MAX_PARAMS: usize = 30_000;

// Statements whose text depends on how many rows or keys they carry are kept prepared
// (`persistent`) only at their full chunk size. Each connection caches its prepared
// statements; one per size seen made that cache, and the process, grow with the volume
// synced (a statement of 1,600 rows is megabytes once prepared).

/// A table written by batched upserts: its columns in bind order, the first `key` of them
/// forming the conflict key; every other column is overwritten.
pub(super) struct Upsert {
    table: &'static str,
    pub(super) cols: &'static [&'static str],
    key: usize,
}

impl Upsert {
    /// The statement for `rows` rows, built once per table, dialect and size: a full chunk
    /// has some 30,000 placeholders, and pulls write thousands of such chunks. Only full
    /// chunks come here (`rows` fixed per table), so the cache stays a few statements.
    fn cached_sql(&self, param: fn(usize) -> String, rows: usize) -> std::sync::Arc<str> {
        type Cache = HashMap<(&'static str, String, usize), std::sync::Arc<str>>;
        static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
        let key = (self.table, param(1), rows);
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| self.sql(param, rows).into())
            .clone()
    }

    fn sql(&self, param: fn(usize) -> String, rows: usize) -> String {
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

const CUSTOMERS: Upsert = Upsert {
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
};
const COMPANY_CODES: Upsert = Upsert {
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
};
const SALES_AREAS: Upsert = Upsert {
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
};
const CREDIT_LIMITS: Upsert = Upsert {
    table: "customer_credit",
    cols: &["customer", "segment", "amount", "currency", "seen_at"],
    key: 2,
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
};
const PAYMENT_TERMS: Upsert = Upsert {
    table: "payment_terms",
    cols: &["key", "description", "rules"],
    key: 1,
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

/// The order key of an exposure amount: units of 1/10000, saturated to the i64 range.
/// Amounts that differ by less than that tie and fall back to id order.
fn exposure_sort(amount: Decimal) -> i64 {
    let saturated = if amount.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    };
    amount
        .checked_mul(Decimal::from(10_000))
        .and_then(|scaled| i64::try_from(scaled.round()).ok())
        .unwrap_or(saturated)
}

fn corrupt(what: &str, value: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}: {err}"))
}

fn customer_id(raw: String) -> Result<CustomerId> {
    CustomerId::parse(&raw).map_err(|e| corrupt("customer", &raw, e))
}

fn parsed<T: FromStr>(what: &str, raw: String) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e| corrupt(what, &raw, e))
}

fn narrow<T: TryFrom<i64>>(what: &str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| corrupt(what, &value.to_string(), "out of range"))
}

fn outbox_kind(raw: String) -> Result<OutboxKind> {
    match raw.as_str() {
        "note" => Ok(OutboxKind::Note),
        "dispute_status" => Ok(OutboxKind::DisputeStatus),
        _ => Err(corrupt("outbox kind", &raw, "unknown kind")),
    }
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Parameters `first .. first + n`, comma-separated, as the dialect writes them.
fn placeholders(param: fn(usize) -> String, first: usize, n: usize) -> String {
    (first..first + n).map(param).collect::<Vec<_>>().join(", ")
}

/// Numbers the `$n` placeholders of a statement whose conditions depend on a filter; the
/// values are then bound in the same order.
#[derive(Default)]
struct Params(usize);

impl Params {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }
}

/// Groups rows by customer, keeping their order.
fn by_customer<T>(rows: Vec<T>, key: impl Fn(&T) -> &CustomerId) -> HashMap<CustomerId, Vec<T>> {
    let mut map: HashMap<CustomerId, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row).clone()).or_default().push(row);
    }
    map
}

// Row decoding and the statements several methods share. The bounds say what any sqlx
// backend must support for the SQL below; SQLite and PostgreSQL both do.
impl<D> SqlStore<D>
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
    /// Inserts or updates `rows` in one transaction, many rows per statement: see
    /// [`Self::upsert_rows`].
    async fn upsert_batch<T>(
        &self,
        spec: &Upsert,
        rows: &[T],
        key: impl Fn(&T) -> String + Send + Sync,
        bind: &(dyn for<'q> Fn(Q<'q, D>, &T) -> Q<'q, D> + Send + Sync),
    ) -> Result<()>
    where
        T: Sync,
    {
        let mut tx = self.pool.begin().await?;
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
            let sql: std::sync::Arc<str> = if full {
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

    pub(super) fn get<T: Col<D::DB>>(row: &DbRow<D>, col: &str) -> Result<T> {
        Ok(row.try_get::<T, _>(col)?)
    }

    fn amount(row: &DbRow<D>, col: &str) -> Result<Decimal> {
        D::amount_back(Self::get(row, col)?)
    }

    fn opt_amount(row: &DbRow<D>, col: &str) -> Result<Option<Decimal>> {
        Self::get::<Option<D::Amount>>(row, col)?
            .map(D::amount_back)
            .transpose()
    }

    pub(super) fn stamp(row: &DbRow<D>, col: &str) -> Result<DateTime<Utc>> {
        D::stamp_back(Self::get(row, col)?)
    }

    pub(super) fn opt_stamp(row: &DbRow<D>, col: &str) -> Result<Option<DateTime<Utc>>> {
        Self::get::<Option<D::Stamp>>(row, col)?
            .map(D::stamp_back)
            .transpose()
    }

    fn opt_small<T: TryFrom<i64>>(row: &DbRow<D>, col: &str) -> Result<Option<T>> {
        Self::get::<Option<i64>>(row, col)?
            .map(|v| narrow(col, v))
            .transpose()
    }

    /// An address stored as `{prefix}name`, `{prefix}street`, …; absent when the name is NULL.
    fn address(row: &DbRow<D>, prefix: &str) -> Result<Option<Address>> {
        let text = |field: &str| -> Result<String> {
            Ok(Self::get::<Option<String>>(row, &format!("{prefix}{field}"))?.unwrap_or_default())
        };
        if Self::get::<Option<String>>(row, &format!("{prefix}name"))?.is_none() {
            return Ok(None);
        }
        Ok(Some(Address {
            name: text("name")?,
            street: text("street")?,
            city: text("city")?,
            postal_code: text("postal_code")?,
            country: text("country")?,
        }))
    }

    pub(super) fn customer_general(row: &DbRow<D>) -> Result<CustomerGeneral> {
        Ok(CustomerGeneral {
            customer: customer_id(Self::get(row, "customer")?)?,
            name: Self::get(row, "name")?,
            address: Self::address(row, "addr_")?,
            deletion_flag: Self::get(row, "deletion_flag")?,
            posting_block: Self::get(row, "posting_block")?,
            last_changed: Self::opt_stamp(row, "last_changed")?,
        })
    }

    fn company_code(row: &DbRow<D>) -> Result<CompanyCodeData> {
        Ok(CompanyCodeData {
            customer: customer_id(Self::get(row, "customer")?)?,
            company_code: Self::get(row, "company_code")?,
            payment_terms: Self::get(row, "payment_terms")?,
            reconciliation_account: Self::get(row, "reconciliation_account")?,
            accounting_clerk: Self::get(row, "accounting_clerk")?,
            dunning_procedure: Self::get(row, "dunning_procedure")?,
            deletion_flag: Self::get(row, "deletion_flag")?,
            posting_block: Self::get(row, "posting_block")?,
        })
    }

    fn credit_limit(row: &DbRow<D>) -> Result<CreditLimit> {
        Ok(CreditLimit {
            customer: customer_id(Self::get(row, "customer")?)?,
            segment: Self::get(row, "segment")?,
            amount: Self::amount(row, "amount")?,
            currency: Self::get(row, "currency")?,
        })
    }

    fn sales_area(row: &DbRow<D>) -> Result<SalesAreaData> {
        Ok(SalesAreaData {
            customer: customer_id(Self::get(row, "customer")?)?,
            area: SalesArea {
                sales_org: Self::get(row, "sales_org")?,
                distribution_channel: Self::get(row, "distribution_channel")?,
                division: Self::get(row, "division")?,
            },
            payment_terms: Self::get(row, "payment_terms")?,
            currency: Self::get(row, "currency")?,
            credit_control_area: Self::get(row, "credit_control_area")?,
            deletion_flag: Self::get(row, "deletion_flag")?,
        })
    }

    fn open_item(row: &DbRow<D>) -> Result<OpenItem> {
        Ok(OpenItem {
            key: OpenItemKey {
                company_code: Self::get(row, "company_code")?,
                fiscal_year: Self::get(row, "fiscal_year")?,
                document: Self::get(row, "document")?,
                item: Self::get(row, "item")?,
            },
            customer: customer_id(Self::get(row, "customer")?)?,
            document_date: Self::get(row, "document_date")?,
            posting_date: Self::get(row, "posting_date")?,
            baseline_date: Self::get(row, "baseline_date")?,
            payment_terms: Self::get(row, "payment_terms")?,
            applied: AppliedTerms {
                discount1_days: Self::opt_small(row, "discount1_days")?,
                discount1_percent: Self::opt_amount(row, "discount1_percent")?,
                discount2_days: Self::opt_small(row, "discount2_days")?,
                discount2_percent: Self::opt_amount(row, "discount2_percent")?,
                net_days: Self::opt_small(row, "net_days")?,
            },
            net_due_date: Self::get(row, "net_due_date")?,
            amount: Self::amount(row, "amount")?,
            currency: Self::get(row, "currency")?,
            dunning_level: Self::opt_small(row, "dunning_level")?,
            dunning_block: Self::get(row, "dunning_block")?,
            dispute_case: Self::get(row, "dispute_case")?,
        })
    }

    fn contract(row: &DbRow<D>) -> Result<Contract> {
        Ok(Contract {
            id: Self::get(row, "id")?,
            customer: customer_id(Self::get(row, "customer")?)?,
            scope: ContractScope {
                company_code: Self::get(row, "company_code")?,
                sales_org: Self::get(row, "sales_org")?,
                distribution_channel: Self::get(row, "distribution_channel")?,
                division: Self::get(row, "division")?,
            },
            payment_terms: Self::get(row, "payment_terms")?,
            credit_limit: Self::opt_amount(row, "credit_limit")?,
            currency: Self::get(row, "currency")?,
            billing_address: Self::address(row, "billing_")?,
            valid_from: Self::get(row, "valid_from")?,
            valid_to: Self::get(row, "valid_to")?,
            source: Self::get(row, "source")?,
        })
    }

    fn payment_terms_row(row: &DbRow<D>) -> Result<PaymentTerms> {
        let key: String = Self::get(row, "key")?;
        let rules: String = Self::get(row, "rules")?;
        Ok(PaymentTerms {
            rules: serde_json::from_str(&rules)
                .map_err(|e| corrupt("payment terms rules of", &key, e))?,
            description: Self::get(row, "description")?,
            key,
        })
    }

    pub(super) fn discrepancy_row(row: &DbRow<D>) -> Result<Discrepancy> {
        Ok(Discrepancy {
            id: Self::get(row, "id")?,
            finding: Finding {
                rule: parsed("rule", Self::get(row, "rule")?)?,
                severity: parsed("severity", Self::get(row, "severity")?)?,
                customer: customer_id(Self::get(row, "customer")?)?,
                scope: parsed("scope", Self::get(row, "scope")?)?,
                field: Self::get(row, "field")?,
                contract_id: Self::get(row, "contract_id")?,
                contract_value: Self::get(row, "contract_value")?,
                master_value: Self::get(row, "master_value")?,
                explanation: Self::get(row, "explanation")?,
                exposure: Exposure {
                    amount: Self::amount(row, "exposure_amount")?,
                    currency: Self::get(row, "exposure_currency")?,
                    items: narrow("exposure_items", Self::get(row, "exposure_items")?)?,
                    days: Self::get(row, "exposure_days")?,
                    cash_days: Self::amount(row, "exposure_cash_days")?,
                    cost: Self::amount(row, "exposure_cost")?,
                    by_currency: {
                        let text: String = Self::get(row, "exposure_by_currency")?;
                        serde_json::from_str(&text).map_err(|e| {
                            StoreError::Corrupt(format!("exposure_by_currency {text:?}: {e}"))
                        })?
                    },
                },
            },
            status: parsed("status", Self::get(row, "status")?)?,
            assignee: Self::get(row, "assignee")?,
            waived_until: Self::get(row, "waived_until")?,
            waiver_by: Self::get(row, "waiver_by")?,
            waiver_approved_by: Self::get(row, "waiver_approved_by")?,
            first_seen: Self::stamp(row, "first_seen")?,
            last_seen: Self::stamp(row, "last_seen")?,
            updated_at: Self::stamp(row, "updated_at")?,
        })
    }

    fn status_change(row: &DbRow<D>) -> Result<StatusChange> {
        Ok(StatusChange {
            discrepancy_id: Self::get(row, "discrepancy_id")?,
            at: Self::stamp(row, "at")?,
            actor: Self::get(row, "actor")?,
            from: Self::get::<Option<String>>(row, "from_status")?
                .map(|s| parsed("status", s))
                .transpose()?,
            to: parsed("status", Self::get(row, "to_status")?)?,
            note: Self::get(row, "note")?,
        })
    }

    pub(super) fn outbox_entry(row: &DbRow<D>) -> Result<OutboxEntry> {
        let payload: String = Self::get(row, "payload")?;
        Ok(OutboxEntry {
            id: Self::get(row, "id")?,
            kind: outbox_kind(Self::get(row, "kind")?)?,
            idempotency_key: Self::get(row, "idempotency_key")?,
            payload: serde_json::from_str(&payload)
                .map_err(|e| corrupt("outbox payload", &payload, e))?,
            status: Self::get::<String>(row, "status")?.parse()?,
            attempts: narrow("attempts", Self::get(row, "attempts")?)?,
            last_error: Self::get(row, "last_error")?,
            created_at: Self::stamp(row, "created_at")?,
            updated_at: Self::stamp(row, "updated_at")?,
            sent_at: Self::opt_stamp(row, "sent_at")?,
            erp_ref: Self::get(row, "erp_ref")?,
            verified_at: Self::opt_stamp(row, "verified_at")?,
            dropped_by: Self::get(row, "dropped_by")?,
            dropped_at: Self::opt_stamp(row, "dropped_at")?,
            drop_reason: Self::get(row, "drop_reason")?,
        })
    }

    /// Runs `{head} customer IN (…){tail}` chunk by chunk: `head` ends in `WHERE` or `AND`.
    async fn fetch_for_customers<T>(
        conn: &mut Conn<D>,
        head: &str,
        customers: &[CustomerId],
        tail: &str,
        decode: fn(&DbRow<D>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for chunk in customers.chunks(IN_CHUNK) {
            let sql = format!(
                "{head} customer IN ({}){tail}",
                placeholders(D::param, 1, chunk.len())
            );
            let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == IN_CHUNK);
            for c in chunk {
                query = query.bind(c.as_str().to_string());
            }
            for row in query.fetch_all(&mut *conn).await? {
                out.push(decode(&row)?);
            }
        }
        Ok(out)
    }

    /// Adds company-code and sales-area data to general rows.
    async fn with_levels(
        conn: &mut Conn<D>,
        generals: Vec<CustomerGeneral>,
    ) -> Result<Vec<Customer>> {
        let ids: Vec<CustomerId> = generals.iter().map(|g| g.customer.clone()).collect();
        let companies = Self::fetch_for_customers(
            conn,
            &format!("SELECT {COMPANY_COLS} FROM customer_company WHERE"),
            &ids,
            " ORDER BY customer, company_code",
            Self::company_code,
        )
        .await?;
        let areas = Self::fetch_for_customers(
            conn,
            &format!("SELECT {SALES_AREA_COLS} FROM customer_sales_area WHERE"),
            &ids,
            " ORDER BY customer, sales_org, distribution_channel, division",
            Self::sales_area,
        )
        .await?;
        let credit = Self::fetch_for_customers(
            conn,
            "SELECT customer, segment, amount, currency FROM customer_credit WHERE",
            &ids,
            " ORDER BY customer, segment",
            Self::credit_limit,
        )
        .await?;
        let mut companies = by_customer(companies, |c| &c.customer);
        let mut areas = by_customer(areas, |a| &a.customer);
        let mut credit = by_customer(credit, |c| &c.customer);
        Ok(generals
            .into_iter()
            .map(|general| Customer {
                company_codes: companies.remove(&general.customer).unwrap_or_default(),
                sales_areas: areas.remove(&general.customer).unwrap_or_default(),
                credit_limits: credit.remove(&general.customer).unwrap_or_default(),
                general,
            })
            .collect())
    }

    /// Closes (audited) the not-closed flags of `rules` that the run at `run_at` did not
    /// see again, of every customer or only of `customers` (an incremental run judges only
    /// some, and must leave the others' flags alone).
    pub(super) async fn close_unseen_in(
        &self,
        rules: &[Rule],
        customers: Option<&[CustomerId]>,
        run_at: DateTime<Utc>,
    ) -> Result<u64> {
        if rules.is_empty() || customers.is_some_and(|c| c.is_empty()) {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        let chunks: Vec<Option<&[CustomerId]>> = match customers {
            None => vec![None],
            Some(all) => all.chunks(IN_CHUNK).map(Some).collect(),
        };
        let mut unseen = Vec::new();
        for chunk in chunks {
            let mut sql = format!(
                "SELECT id, status FROM discrepancies WHERE status <> 'closed' AND last_seen < {} \
                 AND rule IN ({})",
                D::param(1),
                placeholders(D::param, 2, rules.len())
            );
            if let Some(c) = chunk {
                sql += &format!(
                    " AND customer IN ({})",
                    placeholders(D::param, 2 + rules.len(), c.len())
                );
            }
            let mut query = sqlx::query::<D::DB>(&sql)
                .persistent(chunk.is_none_or(|c| c.len() == IN_CHUNK))
                .bind(D::stamp(run_at));
            for rule in rules {
                query = query.bind(rule.as_str().to_string());
            }
            for c in chunk.unwrap_or_default() {
                query = query.bind(c.as_str().to_string());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let status: DiscrepancyStatus = parsed("status", Self::get(&row, "status")?)?;
                unseen.push((Self::get::<i64>(&row, "id")?, status));
            }
        }
        unseen.sort_unstable_by_key(|(id, _)| *id);
        for (id, from) in &unseen {
            sqlx::query::<D::DB>(
                "UPDATE discrepancies SET status = 'closed', updated_at = $2 WHERE id = $1",
            )
            .bind(*id)
            .bind(D::stamp(run_at))
            .execute(&mut *tx)
            .await?;
            let note = Some("not found again");
            Self::audit(
                &mut tx,
                *id,
                run_at,
                SYSTEM_ACTOR,
                Some(*from),
                DiscrepancyStatus::Closed,
                note,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(unseen.len() as u64)
    }

    async fn discrepancy_in(conn: &mut Conn<D>, id: i64) -> Result<Option<Discrepancy>> {
        let sql = format!("SELECT {DISCREPANCY_COLS} FROM discrepancies WHERE id = $1");
        sqlx::query::<D::DB>(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| Self::discrepancy_row(&row))
            .transpose()
    }

    /// Binds a finding's values (everything but its natural key) as ten parameters.
    /// Binds an open item in `OPEN_ITEMS.cols` order, seen at `seen_at` and open.
    /// Binds one contract row in [`CONTRACTS`] column order.
    pub(super) fn bind_contract<'q>(
        query: Q<'q, D>,
        r: &Contract,
        seen_at: DateTime<Utc>,
    ) -> Q<'q, D> {
        let b = r.billing_address.as_ref();
        query
            .bind(r.source.clone())
            .bind(r.id.clone())
            .bind(r.customer.as_str().to_string())
            .bind(r.scope.company_code.clone())
            .bind(r.scope.sales_org.clone())
            .bind(r.scope.distribution_channel.clone())
            .bind(r.scope.division.clone())
            .bind(r.payment_terms.clone())
            .bind(r.credit_limit.map(D::amount))
            .bind(r.currency.clone())
            .bind(b.map(|a| a.name.clone()))
            .bind(b.map(|a| a.street.clone()))
            .bind(b.map(|a| a.city.clone()))
            .bind(b.map(|a| a.postal_code.clone()))
            .bind(b.map(|a| a.country.clone()))
            .bind(r.valid_from)
            .bind(r.valid_to)
            .bind(D::stamp(seen_at))
            // A contract loaded again is current again.
            .bind(None::<D::Stamp>)
    }

    /// `seen` is the pull's stamp, formatted once by the caller: a pull binds it to every row.
    pub(super) fn bind_open_item<'q>(q: Q<'q, D>, r: &OpenItem, seen: D::Stamp) -> Q<'q, D> {
        q.bind(r.key.company_code.clone())
            .bind(r.key.fiscal_year.clone())
            .bind(r.key.document.clone())
            .bind(r.key.item.clone())
            .bind(r.customer.as_str().to_string())
            .bind(r.document_date)
            .bind(r.posting_date)
            .bind(r.baseline_date)
            .bind(r.payment_terms.clone())
            .bind(r.applied.discount1_days.map(i64::from))
            .bind(r.applied.discount1_percent.map(D::amount))
            .bind(r.applied.discount2_days.map(i64::from))
            .bind(r.applied.discount2_percent.map(D::amount))
            .bind(r.applied.net_days.map(i64::from))
            .bind(r.net_due_date)
            .bind(D::amount(r.amount))
            .bind(r.currency.clone())
            .bind(r.dunning_level.map(i64::from))
            .bind(r.dunning_block.clone())
            .bind(r.dispute_case.clone())
            .bind(seen)
            // An item seen again is open again (its clearing was reversed).
            .bind(None::<D::Stamp>)
    }

    fn bind_finding<'q>(query: Q<'q, D>, f: &Finding) -> Q<'q, D> {
        query
            .bind(f.severity.as_str().to_string())
            .bind(f.contract_id.clone())
            .bind(f.contract_value.clone())
            .bind(f.master_value.clone())
            .bind(f.explanation.clone())
            .bind(D::amount(f.exposure.amount))
            .bind(exposure_sort(f.exposure.amount))
            .bind(f.exposure.currency.clone())
            .bind(i64::from(f.exposure.items))
            .bind(f.exposure.days)
            .bind(D::amount(f.exposure.cash_days))
            .bind(D::amount(f.exposure.cost))
            .bind(serde_json::to_string(&f.exposure.by_currency).unwrap_or_else(|_| "[]".into()))
    }

    /// Inserts findings that have no flag yet, opened at `run_at`, with their audit
    /// entries: a few multi-row statements instead of two per flag (a first run opens
    /// thousands).
    async fn insert_new_findings(
        conn: &mut Conn<D>,
        fresh: &[&Finding],
        run_at: DateTime<Utc>,
    ) -> Result<u64> {
        const COLS: usize = 20 + super::queue::SCOPE_COLS_COUNT;
        for chunk in fresh.chunks(MAX_PARAMS / COLS) {
            let rows = (0..chunk.len())
                .map(|r| format!("({}, 'open')", placeholders(D::param, r * COLS + 1, COLS)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO discrepancies (rule, customer, scope, field, severity, \
                 contract_id, contract_value, master_value, explanation, exposure_amount, \
                 exposure_sort, exposure_currency, exposure_items, exposure_days, \
                 exposure_cash_days, exposure_cost, exposure_by_currency, first_seen, \
                 last_seen, updated_at, {}, status) VALUES {rows}",
                super::queue::SCOPE_COLS
            );
            let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == MAX_PARAMS / COLS);
            for f in chunk {
                query = query
                    .bind(f.rule.as_str().to_string())
                    .bind(f.customer.as_str().to_string())
                    .bind(f.scope.to_string())
                    .bind(f.field.clone());
                query = Self::bind_finding(query, f)
                    .bind(D::stamp(run_at))
                    .bind(D::stamp(run_at))
                    .bind(D::stamp(run_at));
                query = super::queue::bind_scope::<D>(query, &f.scope);
            }
            query.execute(&mut *conn).await?;
        }
        // Their ids, by natural key, for the audit entries.
        let scopes: Vec<String> = fresh.iter().map(|f| f.scope.to_string()).collect();
        let wanted: std::collections::HashSet<(&str, &str, &str, &str)> = fresh
            .iter()
            .zip(&scopes)
            .map(|(f, scope)| {
                (
                    f.rule.as_str(),
                    f.customer.as_str(),
                    scope.as_str(),
                    f.field.as_str(),
                )
            })
            .collect();
        let mut customers: Vec<&str> = fresh.iter().map(|f| f.customer.as_str()).collect();
        customers.sort_unstable();
        customers.dedup();
        let mut ids = Vec::with_capacity(fresh.len());
        for chunk in customers.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, rule, customer, scope, field FROM discrepancies \
                 WHERE first_seen = {} AND customer IN ({}) ORDER BY id",
                D::param(1),
                placeholders(D::param, 2, chunk.len())
            );
            let mut query = sqlx::query::<D::DB>(&sql)
                .persistent(chunk.len() == IN_CHUNK)
                .bind(D::stamp(run_at));
            for c in chunk {
                query = query.bind(c.to_string());
            }
            for row in query.fetch_all(&mut *conn).await? {
                let key: (String, String, String, String) = (
                    Self::get(&row, "rule")?,
                    Self::get(&row, "customer")?,
                    Self::get(&row, "scope")?,
                    Self::get(&row, "field")?,
                );
                if wanted.contains(&(
                    key.0.as_str(),
                    key.1.as_str(),
                    key.2.as_str(),
                    key.3.as_str(),
                )) {
                    ids.push(Self::get::<i64>(&row, "id")?);
                }
            }
        }
        const AUDIT_BINDS: usize = 3;
        for chunk in ids.chunks(MAX_PARAMS / AUDIT_BINDS) {
            let rows = (0..chunk.len())
                .map(|r| {
                    format!(
                        "({}, NULL, 'open', NULL)",
                        placeholders(D::param, r * AUDIT_BINDS + 1, AUDIT_BINDS)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO discrepancy_audit (discrepancy_id, at, actor, from_status, \
                 to_status, note) VALUES {rows}"
            );
            let mut query =
                sqlx::query::<D::DB>(&sql).persistent(chunk.len() == MAX_PARAMS / AUDIT_BINDS);
            for id in chunk {
                query = query
                    .bind(*id)
                    .bind(D::stamp(run_at))
                    .bind(SYSTEM_ACTOR.to_string());
            }
            query.execute(&mut *conn).await?;
        }
        Ok(ids.len() as u64)
    }

    async fn audit(
        conn: &mut Conn<D>,
        id: i64,
        at: DateTime<Utc>,
        actor: &str,
        from: Option<DiscrepancyStatus>,
        to: DiscrepancyStatus,
        note: Option<&str>,
    ) -> Result<()> {
        sqlx::query::<D::DB>(
            "INSERT INTO discrepancy_audit (discrepancy_id, at, actor, from_status, to_status, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(D::stamp(at))
        .bind(actor.to_string())
        .bind(from.map(|s| s.as_str().to_string()))
        .bind(to.as_str().to_string())
        .bind(note.map(str::to_string))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Queues a write-back whose record was just inserted (`inserted`), or returns the
    /// entry already queued under the same idempotency key: adding a record twice (a
    /// client retry) queues it once.
    pub(super) async fn enqueue(
        conn: &mut Conn<D>,
        inserted: bool,
        kind: OutboxKind,
        key: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<OutboxEntry> {
        // The outbox key is unique across kinds: a note and a dispute status change must
        // not share one, or the worker could take one for the other having arrived.
        let sql = format!("SELECT {OUTBOX_COLS} FROM outbox WHERE idempotency_key = $1");
        let queued = sqlx::query::<D::DB>(&sql)
            .bind(key.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| Self::outbox_entry(&row))
            .transpose()?;
        match queued {
            Some(entry) if !inserted && entry.kind == kind => return Ok(entry),
            None if inserted => {}
            _ => {
                return Err(StoreError::Refused(format!(
                    "idempotency key {key:?} is already used by another record"
                )))
            }
        }
        let sql = format!(
            "INSERT INTO outbox (kind, idempotency_key, payload, status, attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING {OUTBOX_COLS}"
        );
        let row = sqlx::query::<D::DB>(&sql)
            .bind(kind.as_str().to_string())
            .bind(key.to_string())
            .bind(payload.to_string())
            .bind(D::stamp(at))
            .fetch_one(&mut *conn)
            .await?;
        Self::outbox_entry(&row)
    }

    pub(super) async fn outbox_status_of(conn: &mut Conn<D>, id: i64) -> Result<OutboxStatus> {
        let row = sqlx::query::<D::DB>("SELECT status FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "outbox entry",
                id: id.to_string(),
            })?;
        Self::get::<String>(&row, "status")?.parse()
    }
}

fn payload<T: serde::Serialize>(record: &T) -> Result<serde_json::Value> {
    serde_json::to_value(record).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))
}

#[async_trait]
impl<D> Store for SqlStore<D>
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

    async fn upsert_customers(
        &self,
        rows: &[CustomerGeneral],
        seen_at: DateTime<Utc>,
    ) -> Result<()> {
        let bind = binder::<D, CustomerGeneral, _>(|q, r| {
            let a = r.address.as_ref();
            q.bind(r.customer.as_str().to_string())
                .bind(r.name.clone())
                .bind(a.map(|a| a.name.clone()))
                .bind(a.map(|a| a.street.clone()))
                .bind(a.map(|a| a.city.clone()))
                .bind(a.map(|a| a.postal_code.clone()))
                .bind(a.map(|a| a.country.clone()))
                .bind(r.deletion_flag)
                .bind(r.posting_block)
                .bind(r.last_changed.map(D::stamp))
                .bind(D::stamp(seen_at))
        });
        let key = |r: &CustomerGeneral| r.customer.to_string();
        self.upsert_batch(&CUSTOMERS, rows, key, &bind).await
    }

    async fn upsert_company_codes(
        &self,
        rows: &[CompanyCodeData],
        seen_at: DateTime<Utc>,
    ) -> Result<()> {
        let bind = binder::<D, CompanyCodeData, _>(|q, r| {
            q.bind(r.customer.as_str().to_string())
                .bind(r.company_code.clone())
                .bind(r.payment_terms.clone())
                .bind(r.reconciliation_account.clone())
                .bind(r.accounting_clerk.clone())
                .bind(r.dunning_procedure.clone())
                .bind(r.deletion_flag)
                .bind(r.posting_block)
                .bind(D::stamp(seen_at))
        });
        let key = |r: &CompanyCodeData| key_text(&[r.customer.as_str(), &r.company_code]);
        self.upsert_batch(&COMPANY_CODES, rows, key, &bind).await
    }

    async fn upsert_sales_areas(
        &self,
        rows: &[SalesAreaData],
        seen_at: DateTime<Utc>,
    ) -> Result<()> {
        let bind = binder::<D, SalesAreaData, _>(|q, r| {
            q.bind(r.customer.as_str().to_string())
                .bind(r.area.sales_org.clone())
                .bind(r.area.distribution_channel.clone())
                .bind(r.area.division.clone())
                .bind(r.payment_terms.clone())
                .bind(r.currency.clone())
                .bind(r.credit_control_area.clone())
                .bind(r.deletion_flag)
                .bind(D::stamp(seen_at))
        });
        let key = |r: &SalesAreaData| {
            let a = &r.area;
            key_text(&[
                r.customer.as_str(),
                &a.sales_org,
                &a.distribution_channel,
                &a.division,
            ])
        };
        self.upsert_batch(&SALES_AREAS, rows, key, &bind).await
    }

    async fn upsert_credit_limits(
        &self,
        rows: &[CreditLimit],
        seen_at: DateTime<Utc>,
    ) -> Result<()> {
        let bind = binder::<D, CreditLimit, _>(|q, r| {
            q.bind(r.customer.as_str().to_string())
                .bind(r.segment.clone())
                .bind(D::amount(r.amount))
                .bind(r.currency.clone())
                .bind(D::stamp(seen_at))
        });
        let key = |r: &CreditLimit| key_text(&[r.customer.as_str(), &r.segment]);
        self.upsert_batch(&CREDIT_LIMITS, rows, key, &bind).await
    }

    async fn upsert_open_items(&self, rows: &[OpenItem], seen_at: DateTime<Utc>) -> Result<()> {
        let seen = D::stamp(seen_at);
        let bind = binder::<D, OpenItem, _>(|q, r| Self::bind_open_item(q, r, seen.clone()));
        let key = |r: &OpenItem| r.key.to_string();
        self.upsert_batch(&OPEN_ITEMS, rows, key, &bind).await
    }

    async fn upsert_contracts(&self, rows: &[Contract], seen_at: DateTime<Utc>) -> Result<()> {
        let bind = binder::<D, Contract, _>(|q, r| Self::bind_contract(q, r, seen_at));
        let key = |r: &Contract| key_text(&[&r.source, &r.id]);
        self.upsert_batch(&CONTRACTS, rows, key, &bind).await
    }

    async fn upsert_payment_terms(&self, rows: &[PaymentTerms]) -> Result<()> {
        let rows = rows
            .iter()
            .map(|r| {
                let rules = serde_json::to_string(&r.rules)
                    .map_err(|e| StoreError::Corrupt(format!("payment terms {}: {e}", r.key)))?;
                Ok((r, rules))
            })
            .collect::<Result<Vec<_>>>()?;
        let bind = binder::<D, (&PaymentTerms, String), _>(|q, (r, rules)| {
            q.bind(r.key.clone())
                .bind(r.description.clone())
                .bind(rules.clone())
        });
        let key = |(r, _): &(&PaymentTerms, String)| r.key.clone();
        self.upsert_batch(&PAYMENT_TERMS, &rows, key, &bind).await
    }

    async fn retire_unseen_open_items(&self, seen_since: DateTime<Utc>) -> Result<u64> {
        // The pull that started at `seen_since` is when we learned they were cleared.
        let done = sqlx::query::<D::DB>(
            "UPDATE open_items SET cleared_at = $1 WHERE cleared_at IS NULL AND seen_at < $1",
        )
        .bind(D::stamp(seen_since))
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done))
    }

    async fn retire_unseen_contracts(
        &self,
        source: &str,
        seen_since: DateTime<Utc>,
    ) -> Result<u64> {
        let done = sqlx::query::<D::DB>(
            "UPDATE contracts SET retired_at = $2 \
             WHERE source = $1 AND retired_at IS NULL AND seen_at < $2",
        )
        .bind(source.to_string())
        .bind(D::stamp(seen_since))
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done))
    }

    async fn customers_page(
        &self,
        after: Option<&CustomerId>,
        limit: u32,
    ) -> Result<Vec<Customer>> {
        // Customer numbers are never empty, so '' starts before the first one.
        let after = after.map(|c| c.as_str().to_string()).unwrap_or_default();
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT {CUSTOMER_COLS} FROM customers WHERE customer > $1 ORDER BY customer LIMIT $2"
        );
        let generals = sqlx::query::<D::DB>(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(Self::customer_general)
            .collect::<Result<Vec<_>>>()?;
        Self::with_levels(&mut conn, generals).await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE customer = $1");
        let Some(row) = sqlx::query::<D::DB>(&sql)
            .bind(id.as_str().to_string())
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let general = Self::customer_general(&row)?;
        Ok(Self::with_levels(&mut conn, vec![general]).await?.pop())
    }

    async fn contracts_for(&self, customers: &[CustomerId]) -> Result<Vec<Contract>> {
        let mut conn = self.pool.acquire().await?;
        let mut contracts = Self::fetch_for_customers(
            &mut conn,
            &format!("SELECT {CONTRACT_COLS} FROM contracts WHERE retired_at IS NULL AND"),
            customers,
            "",
            Self::contract,
        )
        .await?;
        contracts
            .sort_by(|a, b| (&a.customer, &a.source, &a.id).cmp(&(&b.customer, &b.source, &b.id)));
        Ok(contracts)
    }

    async fn contracts_without_customer(&self) -> Result<Vec<Contract>> {
        let sql = format!(
            "SELECT {CONTRACT_COLS} FROM contracts WHERE retired_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer = contracts.customer) \
             ORDER BY customer, source, id"
        );
        sqlx::query::<D::DB>(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::contract)
            .collect()
    }

    async fn open_items_for(&self, customers: &[CustomerId]) -> Result<Vec<OpenItem>> {
        let mut conn = self.pool.acquire().await?;
        let packed =
            super::packed::pack_expr(&super::packed::OPEN_ITEM_FIELDS, D::as_text, D::SEP_SQL);
        let mut items = Self::fetch_for_customers(
            &mut conn,
            &format!("SELECT {packed} AS packed FROM open_items WHERE cleared_at IS NULL AND"),
            customers,
            "",
            |row| super::packed::open_item(&Self::get::<String>(row, "packed")?),
        )
        .await?;
        items.sort_by(|a, b| (&a.customer, &a.key).cmp(&(&b.customer, &b.key)));
        Ok(items)
    }

    async fn list_open_items(&self, filter: &OpenItemFilter) -> Result<Vec<OpenItem>> {
        let mut p = Params::default();
        let mut sql = format!("SELECT {OPEN_ITEM_COLS} FROM open_items WHERE cleared_at IS NULL");
        if filter.customer.is_some() {
            sql += &format!(" AND customer = {}", p.next());
        }
        if filter.overdue_on.is_some() {
            sql += &format!(" AND net_due_date < {}", p.next());
        }
        sql += OPEN_ITEM_ORDER;
        let mut query = sqlx::query::<D::DB>(&sql);
        if let Some(c) = &filter.customer {
            query = query.bind(c.as_str().to_string());
        }
        if let Some(day) = filter.overdue_on {
            query = query.bind(day);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::open_item)
            .collect()
    }

    async fn payment_terms(&self) -> Result<Vec<PaymentTerms>> {
        sqlx::query::<D::DB>("SELECT key, description, rules FROM payment_terms ORDER BY key")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::payment_terms_row)
            .collect()
    }

    async fn counts(&self) -> Result<Counts> {
        let row = sqlx::query::<D::DB>(
            "SELECT (SELECT COUNT(*) FROM customers) AS customers, \
             (SELECT COUNT(*) FROM customer_company) AS company_codes, \
             (SELECT COUNT(*) FROM customer_sales_area) AS sales_areas, \
             (SELECT COUNT(*) FROM open_items WHERE cleared_at IS NULL) AS open_items, \
             (SELECT COUNT(*) FROM contracts WHERE retired_at IS NULL) AS contracts, \
             (SELECT COUNT(*) FROM payment_terms) AS payment_terms",
        )
        .fetch_one(&self.pool)
        .await?;
        let n = |col: &str| Self::get::<i64>(&row, col).map(count);
        Ok(Counts {
            customers: n("customers")?,
            company_codes: n("company_codes")?,
            sales_areas: n("sales_areas")?,
            open_items: n("open_items")?,
            contracts: n("contracts")?,
            payment_terms: n("payment_terms")?,
        })
    }

    async fn record_findings(
        &self,
        findings: &[Finding],
        run_at: DateTime<Utc>,
    ) -> Result<FindingsReport> {
        use DiscrepancyStatus::{Closed, Open, Resolved};
        let mut report = FindingsReport::default();
        let mut tx = self.pool.begin().await?;
        // One read for the flags these customers already have, not one per finding: a run
        // re-confirms thousands of unchanged flags.
        let mut known: HashMap<(String, String, String, String), Discrepancy> = HashMap::new();
        let mut customers: Vec<String> = findings
            .iter()
            .map(|f| f.customer.as_str().to_string())
            .collect();
        customers.sort_unstable();
        customers.dedup();
        for chunk in customers.chunks(MAX_PARAMS / 2) {
            let sql = format!(
                "SELECT {DISCREPANCY_COLS} FROM discrepancies WHERE customer IN ({})",
                placeholders(D::param, 1, chunk.len())
            );
            let mut query = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == MAX_PARAMS / 2);
            for c in chunk {
                query = query.bind(c.clone());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let d = Self::discrepancy_row(&row)?;
                let f = &d.finding;
                let key = (
                    f.rule.as_str().to_string(),
                    f.customer.as_str().to_string(),
                    f.scope.to_string(),
                    f.field.clone(),
                );
                known.insert(key, d);
            }
        }
        // Flags found again exactly as they were only move their last_seen, in bulk; new
        // ones are inserted in bulk after the loop.
        let mut unchanged: Vec<i64> = Vec::new();
        let mut fresh: Vec<&Finding> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in findings {
            let key = (
                f.rule.as_str().to_string(),
                f.customer.as_str().to_string(),
                f.scope.to_string(),
                f.field.clone(),
            );
            // One flag per natural key: the first finding of a batch speaks for it.
            if !seen.insert(key.clone()) {
                continue;
            }
            let existing = known.remove(&key);
            if let Some(old) = &existing {
                if old.finding == *f && !matches!(old.status, Closed | Resolved) {
                    unchanged.push(old.id);
                    report.still_open += 1;
                    continue;
                }
            }
            let Some(old) = existing else {
                fresh.push(f);
                continue;
            };
            // A waiver accepted these facts; different facts need a new decision.
            let facts_changed = old.finding.contract_value != f.contract_value
                || old.finding.master_value != f.master_value;
            let reopen = matches!(old.status, Closed | Resolved)
                || (old.status == DiscrepancyStatus::Waived && facts_changed);
            let status = if reopen { Open } else { old.status };
            // A reopened flag starts its review afresh; an earlier waiver does not carry over.
            let waived_until = if reopen { None } else { old.waived_until };
            // updated_at tells a reviewer when the flag last changed, not when it was last seen.
            let updated_at = if reopen || old.finding != *f {
                run_at
            } else {
                old.updated_at
            };
            let update = sqlx::query::<D::DB>(
                "UPDATE discrepancies SET severity = $2, contract_id = $3, contract_value = $4, \
                 master_value = $5, explanation = $6, exposure_amount = $7, exposure_sort = $8, \
                 exposure_currency = $9, exposure_items = $10, exposure_days = $11, \
                 exposure_cash_days = $12, exposure_cost = $13, exposure_by_currency = $14, \
                 status = $15, waived_until = $16, last_seen = $17, updated_at = $18, \
                 waiver_by = CASE WHEN $15 = 'waived' THEN waiver_by END, \
                 waiver_approved_by = CASE WHEN $15 = 'waived' THEN waiver_approved_by END \
                 WHERE id = $1",
            )
            .bind(old.id);
            Self::bind_finding(update, f)
                .bind(status.as_str().to_string())
                .bind(waived_until)
                .bind(D::stamp(run_at))
                .bind(D::stamp(updated_at))
                .execute(&mut *tx)
                .await?;
            if reopen {
                let note = Some(if old.status == DiscrepancyStatus::Waived {
                    "the facts the waiver accepted have changed"
                } else {
                    "found again"
                });
                Self::audit(
                    &mut tx,
                    old.id,
                    run_at,
                    SYSTEM_ACTOR,
                    Some(old.status),
                    Open,
                    note,
                )
                .await?;
                report.reopened += 1;
            } else {
                report.still_open += 1;
            }
        }
        for chunk in unchanged.chunks(MAX_PARAMS - 1) {
            let sql = format!(
                "UPDATE discrepancies SET last_seen = {} WHERE id IN ({})",
                D::param(1),
                placeholders(D::param, 2, chunk.len())
            );
            let mut query = sqlx::query::<D::DB>(&sql)
                .persistent(chunk.len() == MAX_PARAMS - 1)
                .bind(D::stamp(run_at));
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        report.new += Self::insert_new_findings(&mut tx, &fresh, run_at).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn close_unseen_findings(&self, rules: &[Rule], run_at: DateTime<Utc>) -> Result<u64> {
        self.close_unseen_in(rules, None, run_at).await
    }

    async fn list_discrepancies(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>> {
        // One filter for lists and the desk's queue: the queue's query serves both.
        super::QueueStore::queue_all(self, filter).await
    }

    async fn discrepancy(&self, id: i64) -> Result<Option<Discrepancy>> {
        let mut conn = self.pool.acquire().await?;
        Self::discrepancy_in(&mut conn, id).await
    }

    async fn change_status(
        &self,
        id: i64,
        to: DiscrepancyStatus,
        actor: &str,
        note: Option<&str>,
        waived_until: Option<NaiveDate>,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy> {
        let mut tx = self.pool.begin().await?;
        let current =
            Self::discrepancy_in(&mut tx, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "discrepancy",
                    id: id.to_string(),
                })?;
        let from = current.status;
        if !from.reviewer_may_move_to(to) {
            return Err(StoreError::Refused(format!(
                "discrepancy {id} cannot be moved from {from} to {to}"
            )));
        }
        // Whoever acknowledges a flag takes it on.
        let assignee = if to == DiscrepancyStatus::Acknowledged {
            Some(actor.to_string())
        } else {
            current.assignee
        };
        // Waiving proposes: the waiver counts once a second person approves it.
        let (waiver_by, until) = if to == DiscrepancyStatus::Waived {
            (Some(actor.to_string()), waived_until)
        } else {
            (None, None)
        };
        sqlx::query::<D::DB>(
            "UPDATE discrepancies SET status = $2, assignee = $3, waived_until = $4, \
             updated_at = $5, waiver_by = $6, waiver_approved_by = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(to.as_str().to_string())
        .bind(assignee)
        .bind(until)
        .bind(D::stamp(at))
        .bind(waiver_by)
        .execute(&mut *tx)
        .await?;
        Self::audit(&mut tx, id, at, actor, Some(from), to, note).await?;
        let changed = Self::discrepancy_in(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("discrepancy {id} vanished")))?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn approve_waiver(
        &self,
        id: i64,
        actor: &str,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Discrepancy> {
        let mut tx = self.pool.begin().await?;
        let current =
            Self::discrepancy_in(&mut tx, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "discrepancy",
                    id: id.to_string(),
                })?;
        if current.status != DiscrepancyStatus::Waived {
            return Err(StoreError::Refused(format!(
                "discrepancy {id} is {}, not waived: there is no waiver to approve",
                current.status
            )));
        }
        if let Some(by) = &current.waiver_approved_by {
            return Err(StoreError::Refused(format!(
                "the waiver of discrepancy {id} was already approved by {by}"
            )));
        }
        if current.waiver_by.as_deref() == Some(actor) {
            return Err(StoreError::Refused(format!(
                "{actor} proposed the waiver of discrepancy {id} and cannot also approve it"
            )));
        }
        sqlx::query::<D::DB>(
            "UPDATE discrepancies SET waiver_approved_by = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(actor.to_string())
        .bind(D::stamp(at))
        .execute(&mut *tx)
        .await?;
        let note = note.map_or_else(
            || "waiver approved".to_string(),
            |n| format!("waiver approved: {n}"),
        );
        let waived = DiscrepancyStatus::Waived;
        Self::audit(&mut tx, id, at, actor, Some(waived), waived, Some(&note)).await?;
        let changed = Self::discrepancy_in(&mut tx, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("discrepancy {id} vanished")))?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn expire_waivers(&self, today: NaiveDate, at: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let expired: Vec<i64> = sqlx::query::<D::DB>(
            "SELECT id FROM discrepancies WHERE status = 'waived' AND waived_until < $1 ORDER BY id",
        )
        .bind(today)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Self::get::<i64>(row, "id"))
        .collect::<Result<_>>()?;
        for id in &expired {
            sqlx::query::<D::DB>(
                "UPDATE discrepancies SET status = 'open', waived_until = NULL, waiver_by = NULL, \
                 waiver_approved_by = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(*id)
            .bind(D::stamp(at))
            .execute(&mut *tx)
            .await?;
            let (from, to) = (DiscrepancyStatus::Waived, DiscrepancyStatus::Open);
            Self::audit(
                &mut tx,
                *id,
                at,
                SYSTEM_ACTOR,
                Some(from),
                to,
                Some("waiver expired"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(expired.len() as u64)
    }

    async fn audit_log(&self, id: i64) -> Result<Vec<StatusChange>> {
        sqlx::query::<D::DB>(
            "SELECT discrepancy_id, at, actor, from_status, to_status, note \
             FROM discrepancy_audit WHERE discrepancy_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(Self::status_change)
        .collect()
    }

    async fn discrepancy_counts(&self) -> Result<Vec<(Rule, DiscrepancyStatus, u64)>> {
        let mut counts = sqlx::query::<D::DB>(
            "SELECT rule, status, COUNT(*) AS n FROM discrepancies GROUP BY rule, status",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                parsed::<Rule>("rule", Self::get(row, "rule")?)?,
                parsed::<DiscrepancyStatus>("status", Self::get(row, "status")?)?,
                count(Self::get(row, "n")?),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
        counts.sort_by_key(|(rule, status, _)| (*rule, status.as_str()));
        Ok(counts)
    }

    async fn add_note(&self, note: &Note) -> Result<OutboxEntry> {
        let payload = payload(note)?;
        let item = note.item.as_ref();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query::<D::DB>(
            "INSERT INTO notes (customer, company_code, fiscal_year, document, item, author, \
             text, channel, created_at, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(note.customer.as_str().to_string())
        .bind(item.map(|i| i.company_code.clone()))
        .bind(item.map(|i| i.fiscal_year.clone()))
        .bind(item.map(|i| i.document.clone()))
        .bind(item.map(|i| i.item.clone()))
        .bind(note.author.clone())
        .bind(note.text.clone())
        .bind(note.channel.as_str().to_string())
        .bind(D::stamp(note.created_at))
        .bind(note.idempotency_key.clone())
        .execute(&mut *tx)
        .await?;
        let inserted = D::rows_affected(&done) == 1;
        let entry = Self::enqueue(
            &mut tx,
            inserted,
            OutboxKind::Note,
            &note.idempotency_key,
            payload,
            note.created_at,
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn add_dispute_status(&self, change: &DisputeStatusChange) -> Result<OutboxEntry> {
        let payload = payload(change)?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query::<D::DB>(
            "INSERT INTO dispute_status_changes (case_id, status, requested_by, note, \
             requested_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(change.case_id.clone())
        .bind(change.status.clone())
        .bind(change.requested_by.clone())
        .bind(change.note.clone())
        .bind(D::stamp(change.requested_at))
        .bind(change.idempotency_key.clone())
        .execute(&mut *tx)
        .await?;
        let inserted = D::rows_affected(&done) == 1;
        let entry = Self::enqueue(
            &mut tx,
            inserted,
            OutboxKind::DisputeStatus,
            &change.idempotency_key,
            payload,
            change.requested_at,
        )
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn last_dispute_status(&self, case_id: &str) -> Result<Option<String>> {
        let row = sqlx::query::<D::DB>(
            "SELECT status FROM dispute_status_changes WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(case_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Self::get::<String>(&r, "status")).transpose()
    }

    async fn outbox_due(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        let sql = format!(
            "SELECT {OUTBOX_COLS} FROM outbox WHERE status = 'pending' ORDER BY id LIMIT $1"
        );
        sqlx::query::<D::DB>(&sql)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::outbox_entry)
            .collect()
    }

    async fn outbox_mark_sent(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query::<D::DB>(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(D::stamp(at))
        .execute(&self.pool)
        .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound {
                what: "outbox entry",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn outbox_mark_failed(
        &self,
        id: i64,
        error: &str,
        at: DateTime<Utc>,
        final_status: Option<OutboxStatus>,
    ) -> Result<()> {
        let status = final_status.unwrap_or(OutboxStatus::Pending);
        if status == OutboxStatus::Sent {
            return Err(StoreError::Refused(format!(
                "outbox entry {id}: a failed attempt cannot mark it sent"
            )));
        }
        let done = sqlx::query::<D::DB>(
            "UPDATE outbox SET status = $2, attempts = attempts + 1, last_error = $3, \
             updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str().to_string())
        .bind(error.to_string())
        .bind(D::stamp(at))
        .execute(&self.pool)
        .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound {
                what: "outbox entry",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    async fn outbox_list(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxEntry>> {
        let mut sql = format!("SELECT {OUTBOX_COLS} FROM outbox");
        if status.is_some() {
            sql += " WHERE status = $1";
        }
        sql += " ORDER BY id";
        let mut query = sqlx::query::<D::DB>(&sql);
        if let Some(status) = status {
            query = query.bind(status.as_str().to_string());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(Self::outbox_entry)
            .collect()
    }

    async fn outbox_retry(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // A fresh attempt budget: the worker gives up by attempt count, and an entry retried
        // by hand must not die on its first new failure. last_error is kept as history.
        let done = sqlx::query::<D::DB>(
            "UPDATE outbox SET status = 'pending', attempts = 0, updated_at = $2 \
             WHERE id = $1 AND status IN ('failed', 'dead')",
        )
        .bind(id)
        .bind(D::stamp(at))
        .execute(&mut *tx)
        .await?;
        if D::rows_affected(&done) == 0 {
            let status = Self::outbox_status_of(&mut tx, id).await?;
            return Err(StoreError::Refused(format!(
                "outbox entry {id} is {}: only failed or dead entries can be retried",
                status.as_str()
            )));
        }
        tx.commit().await?;
        Ok(())
    }
}
