//! Findings as flags: what a reconciliation run found, upserted by natural key into
//! discrepancies (opened, refreshed, reopened, or closed when not found again), every
//! status change written with its audit entry in the same transaction. What reviewers do
//! with a flag afterwards is in `review.rs`.

use super::decode::{count, parsed};
use super::dialect::{sql_impl, Col, Conn, Dialect, SqlStore, Q};
use super::upsert::{placeholders, IN_CHUNK, MAX_PARAMS};
use super::Result;
use crate::model::{CustomerId, Discrepancy, DiscrepancyStatus, Finding, Rule, Scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The actor recorded for status changes erpsync makes on its own.
pub(super) const SYSTEM_ACTOR: &str = "erpsync";

pub(super) const DISCREPANCY_COLS: &str = "id, rule, customer, scope, field, severity, contract_id, \
     contract_value, master_value, explanation, exposure_amount, exposure_currency, \
     exposure_items, exposure_days, exposure_cash_days, exposure_cost, exposure_by_currency, \
     status, assignee, waived_until, waiver_by, waiver_approved_by, first_seen, last_seen, updated_at";

/// The columns a flag's scope is kept in beside its text, which the queue filters by
/// (a scope's text is its canonical form, the columns what a query compares).
pub(super) const SCOPE_COLS: &str =
    "scope_kind, company_code, sales_org, distribution_channel, division";
pub(super) const SCOPE_COLS_COUNT: usize = 5;

/// Binds the values of [`SCOPE_COLS`] for `scope`.
pub(super) fn bind_scope<'q, D: Dialect>(query: Q<'q, D>, scope: &Scope) -> Q<'q, D>
where
    String: Col<D::DB>,
    Option<String>: Col<D::DB>,
{
    let area = scope.sales_area();
    query
        .bind(scope.kind().as_str().to_string())
        .bind(scope.company_code().map(str::to_string))
        .bind(area.map(|a| a.sales_org.clone()))
        .bind(area.map(|a| a.distribution_channel.clone()))
        .bind(area.map(|a| a.division.clone()))
}

/// Which flags a list, an export or the desk's queue shows. Every field narrows; `None`
/// does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscrepancyFilter {
    pub status: Option<DiscrepancyStatus>,
    pub rule: Option<Rule>,
    pub severity: Option<crate::model::Severity>,
    /// Flags scoped to this company code (`CC 1010`), and to sales areas of the sales
    /// organisation with the same number (`SA 1010/…`): SAP's usual one-to-one setup.
    pub company_code: Option<String>,
    pub assignee: Option<String>,
    pub customer: Option<CustomerId>,
    /// A customer number (or its start, leading zeros optional) or part of the name,
    /// case-insensitive.
    pub search: Option<String>,
    /// At most this many flags (lists; the queue pages by its own limit).
    pub limit: Option<u32>,
}

/// What recording a run's findings changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FindingsReport {
    pub new: u64,
    pub reopened: u64,
    pub still_open: u64,
}

#[async_trait]
pub trait FindingStore: Send + Sync {
    /// Upserts findings by natural key (rule, customer, scope, field): a new one opens a
    /// discrepancy; one that was closed or resolved and is found again is reopened;
    /// otherwise values and `last_seen` are refreshed. Status changes are audited.
    async fn record_findings(
        &self,
        findings: &[Finding],
        run_at: DateTime<Utc>,
    ) -> Result<FindingsReport>;
    /// Closes (audited, actor `erpsync`) every not-closed discrepancy of these rules that
    /// the run at `run_at` did not find again: its cause was fixed at the source.
    async fn close_unseen_findings(&self, rules: &[Rule], run_at: DateTime<Utc>) -> Result<u64>;
    /// Sorted by exposure amount, largest first, then id.
    async fn list_discrepancies(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>>;
    async fn discrepancy(&self, id: i64) -> Result<Option<Discrepancy>>;
    /// (rule, status, count) for every combination present.
    async fn discrepancy_counts(&self) -> Result<Vec<(Rule, DiscrepancyStatus, u64)>>;
}

/// A flag's natural key: rule, customer, scope, field.
type NaturalKey = (String, String, String, String);

fn natural_key(f: &Finding) -> NaturalKey {
    (
        f.rule.as_str().to_string(),
        f.customer.as_str().to_string(),
        f.scope.to_string(),
        f.field.clone(),
    )
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

/// A flag found again whose values or status change (the row-by-row part of a run).
struct Changed<'a> {
    id: i64,
    finding: &'a Finding,
    status: DiscrepancyStatus,
    waived_until: Option<chrono::NaiveDate>,
    updated_at: DateTime<Utc>,
    /// The status it is reopened from, and why.
    reopened: Option<(DiscrepancyStatus, &'static str)>,
}

/// A status change erpsync writes to the audit log: (flag, from, to, note).
type AuditEntry = (
    i64,
    Option<DiscrepancyStatus>,
    DiscrepancyStatus,
    Option<&'static str>,
);

/// Text columns for a set write (PostgreSQL), filled row by row.
struct TextColumns(Vec<Vec<Option<String>>>);

impl TextColumns {
    fn new(width: usize, rows: usize) -> Self {
        TextColumns((0..width).map(|_| Vec::with_capacity(rows)).collect())
    }

    fn push(&mut self, row: Vec<Option<String>>) {
        for (column, value) in self.0.iter_mut().zip(row) {
            column.push(value);
        }
    }

    /// The columns, then one more holding just `scalar` (read as `($n::text[])[1]`).
    fn with_scalar(mut self, scalar: &str) -> Vec<Vec<Option<String>>> {
        self.0.push(vec![Some(scalar.to_string())]);
        self.0
    }
}

/// An instant as text that PostgreSQL reads as `timestamptz`, to the microsecond as the
/// stores keep it.
fn stamp_text(at: DateTime<Utc>) -> String {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A finding's columns in [`FINDING_SET_COLS`] order, as text.
fn finding_texts(f: &Finding) -> Vec<Option<String>> {
    let area = f.scope.sales_area();
    vec![
        Some(f.rule.as_str().to_string()),
        Some(f.customer.as_str().to_string()),
        Some(f.scope.to_string()),
        Some(f.field.clone()),
        Some(f.severity.as_str().to_string()),
        f.contract_id.clone(),
        Some(f.contract_value.clone()),
        Some(f.master_value.clone()),
        Some(f.explanation.clone()),
        Some(f.exposure.amount.to_string()),
        Some(exposure_sort(f.exposure.amount).to_string()),
        Some(f.exposure.currency.clone()),
        Some(f.exposure.items.to_string()),
        Some(f.exposure.days.to_string()),
        Some(f.exposure.cash_days.to_string()),
        Some(f.exposure.cost.to_string()),
        Some(serde_json::to_string(&f.exposure.by_currency).unwrap_or_else(|_| "[]".into())),
        Some(f.scope.kind().as_str().to_string()),
        f.scope.company_code().map(str::to_string),
        area.map(|a| a.sales_org.clone()),
        area.map(|a| a.distribution_channel.clone()),
        area.map(|a| a.division.clone()),
    ]
}

/// A finding's columns in a set write, with the cast each takes from text.
const FINDING_SET_COLS: [(&str, &str); 22] = [
    ("rule", ""),
    ("customer", ""),
    ("scope", ""),
    ("field", ""),
    ("severity", ""),
    ("contract_id", ""),
    ("contract_value", ""),
    ("master_value", ""),
    ("explanation", ""),
    ("exposure_amount", "::numeric"),
    ("exposure_sort", "::bigint"),
    ("exposure_currency", ""),
    ("exposure_items", "::bigint"),
    ("exposure_days", "::bigint"),
    ("exposure_cash_days", "::numeric"),
    ("exposure_cost", "::numeric"),
    ("exposure_by_currency", ""),
    ("scope_kind", ""),
    ("company_code", ""),
    ("sales_org", ""),
    ("distribution_channel", ""),
    ("division", ""),
];

/// The finding's values in [`FINDING_SET_COLS`]: what a flag found changed is updated with.
const FINDING_VALUE_COLS: std::ops::Range<usize> = 4..17;

/// `$first::text[], …` for `n` arrays.
fn arrays(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}::text[]"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per set statement: bounds the text gathered for one.
const SET_CHUNK: usize = 5_000;

sql_impl! {
    impl<D> SqlStore<D> {
        pub(super) async fn discrepancy_in(
            conn: &mut Conn<D>,
            id: i64,
        ) -> Result<Option<Discrepancy>> {
            let sql = format!("SELECT {DISCREPANCY_COLS} FROM discrepancies WHERE id = $1");
            sqlx::query::<D::DB>(&sql)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| Self::discrepancy_row(&row))
                .transpose()
        }

        /// Writes one status change of a flag to its audit log.
        pub(super) async fn audit(
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
            let mut tx = self.pool().begin().await?;
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
            if D::SET_WRITES {
                let ids: Vec<i64> = unseen.iter().map(|(id, _)| *id).collect();
                Self::set_ids(&mut tx, "status = 'closed', updated_at", &ids, run_at).await?;
                let entries: Vec<AuditEntry> = unseen
                    .iter()
                    .map(|(id, from)| {
                        (*id, Some(*from), DiscrepancyStatus::Closed, Some("not found again"))
                    })
                    .collect();
                Self::audit_set(&mut tx, &entries, run_at).await?;
                tx.commit().await?;
                return Ok(unseen.len() as u64);
            }
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

        /// Sets `column` (or a list ending in one, `a = 'x', column`) to `at` on the flags
        /// `ids`: one statement per chunk over an array (PostgreSQL only).
        async fn set_ids(
            conn: &mut Conn<D>,
            column: &str,
            ids: &[i64],
            at: DateTime<Utc>,
        ) -> Result<()> {
            let sql = format!(
                "UPDATE discrepancies SET {column} = $2 WHERE id = ANY($1::text[]::bigint[])"
            );
            for chunk in ids.chunks(SET_CHUNK * 4) {
                let ids = chunk.iter().map(|id| Some(id.to_string())).collect();
                D::write_set(&mut *conn, &sql, vec![ids], Some(D::stamp(at))).await?;
            }
            Ok(())
        }

        /// Writes status changes to the audit log in their order, actor `erpsync`, at `at`:
        /// one statement per chunk over arrays (PostgreSQL only).
        async fn audit_set(
            conn: &mut Conn<D>,
            entries: &[AuditEntry],
            at: DateTime<Utc>,
        ) -> Result<()> {
            let sql = "INSERT INTO discrepancy_audit (discrepancy_id, at, actor, from_status, \
                       to_status, note) \
                       SELECT u.id::bigint, $6, ($5::text[])[1], u.from_status, u.to_status, u.note \
                       FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY \
                       AS u(id, from_status, to_status, note, n) ORDER BY u.n";
            for chunk in entries.chunks(SET_CHUNK) {
                let mut columns = TextColumns::new(4, chunk.len());
                for (id, from, to, note) in chunk {
                    columns.push(vec![
                        Some(id.to_string()),
                        from.map(|s| s.as_str().to_string()),
                        Some(to.as_str().to_string()),
                        note.map(str::to_string),
                    ]);
                }
                let columns = columns.with_scalar(SYSTEM_ACTOR);
                D::write_set(&mut *conn, sql, columns, Some(D::stamp(at))).await?;
            }
            Ok(())
        }

        /// Refreshes flags found again with other values or another status, and audits the
        /// reopened ones, in their order: one statement per chunk for each (PostgreSQL).
        async fn update_changed_set(
            conn: &mut Conn<D>,
            changed: &[Changed<'_>],
            run_at: DateTime<Utc>,
        ) -> Result<()> {
            // The finding's values (not its natural key), then status, waived_until,
            // updated_at and id.
            let values = &FINDING_SET_COLS[FINDING_VALUE_COLS];
            let names: Vec<&str> = values
                .iter()
                .map(|(c, _)| *c)
                .chain(["status", "waived_until", "updated_at", "id"])
                .collect();
            let n = names.len();
            let set = values
                .iter()
                .map(|(c, cast)| format!("{c} = u.{c}{cast}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE discrepancies d SET {set}, status = u.status, \
                 waived_until = u.waived_until::date, last_seen = ${last_seen}, \
                 updated_at = u.updated_at::timestamptz, \
                 waiver_by = CASE WHEN u.status = 'waived' THEN d.waiver_by END, \
                 waiver_approved_by = CASE WHEN u.status = 'waived' THEN d.waiver_approved_by END \
                 FROM UNNEST({arrays}) AS u({names}) WHERE d.id = u.id::bigint",
                last_seen = n + 1,
                arrays = arrays(1, n),
                names = names.join(", "),
            );
            for chunk in changed.chunks(SET_CHUNK) {
                let mut columns = TextColumns::new(n, chunk.len());
                for c in chunk {
                    let mut row: Vec<_> = finding_texts(c.finding)
                        .drain(FINDING_VALUE_COLS)
                        .collect();
                    row.extend([
                        Some(c.status.as_str().to_string()),
                        c.waived_until.map(|d| d.to_string()),
                        Some(stamp_text(c.updated_at)),
                        Some(c.id.to_string()),
                    ]);
                    columns.push(row);
                }
                D::write_set(&mut *conn, &sql, columns.0, Some(D::stamp(run_at))).await?;
            }
            let reopened: Vec<AuditEntry> = changed
                .iter()
                .filter_map(|c| {
                    c.reopened
                        .map(|(from, note)| (c.id, Some(from), DiscrepancyStatus::Open, Some(note)))
                })
                .collect();
            Self::audit_set(conn, &reopened, run_at).await
        }

        /// Inserts findings that have no flag yet, opened at `run_at`, each with its audit
        /// entry: one statement per chunk (PostgreSQL), the audit entries written from the
        /// ids the insert returns, in the findings' order.
        async fn insert_new_set(
            conn: &mut Conn<D>,
            fresh: &[&Finding],
            run_at: DateTime<Utc>,
        ) -> Result<u64> {
            let n = FINDING_SET_COLS.len();
            let names: Vec<&str> = FINDING_SET_COLS.iter().map(|(c, _)| *c).collect();
            let select = FINDING_SET_COLS
                .iter()
                .map(|(c, cast)| format!("u.{c}{cast}"))
                .collect::<Vec<_>>()
                .join(", ");
            let (actor, at) = (n + 1, n + 2);
            let sql = format!(
                "WITH new AS (INSERT INTO discrepancies ({names}, first_seen, last_seen, \
                 updated_at, status) SELECT {select}, ${at}, ${at}, ${at}, 'open' \
                 FROM UNNEST({arrays}) WITH ORDINALITY AS u({names}, n) ORDER BY u.n \
                 RETURNING id) \
                 INSERT INTO discrepancy_audit (discrepancy_id, at, actor, from_status, \
                 to_status, note) SELECT id, ${at}, (${actor}::text[])[1], NULL, 'open', NULL \
                 FROM new ORDER BY id",
                names = names.join(", "),
                arrays = arrays(1, n),
            );
            let mut inserted = 0;
            for chunk in fresh.chunks(SET_CHUNK) {
                let mut columns = TextColumns::new(n, chunk.len());
                for f in chunk {
                    columns.push(finding_texts(f));
                }
                let columns = columns.with_scalar(SYSTEM_ACTOR);
                inserted += D::write_set(&mut *conn, &sql, columns, Some(D::stamp(run_at))).await?;
            }
            Ok(inserted)
        }

        /// Binds a finding's values (everything but its natural key) as thirteen parameters.
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
            const COLS: usize = 20 + SCOPE_COLS_COUNT;
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
                    SCOPE_COLS
                );
                let mut query =
                    sqlx::query::<D::DB>(&sql).persistent(chunk.len() == MAX_PARAMS / COLS);
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
                    query = bind_scope::<D>(query, &f.scope);
                }
                query.execute(&mut *conn).await?;
            }
            // Their ids, by natural key, for the audit entries.
            let wanted: HashSet<NaturalKey> = fresh.iter().map(|f| natural_key(f)).collect();
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
                    let key: NaturalKey = (
                        Self::get(&row, "rule")?,
                        Self::get(&row, "customer")?,
                        Self::get(&row, "scope")?,
                        Self::get(&row, "field")?,
                    );
                    if wanted.contains(&key) {
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
    }
}

sql_impl! {
    #[async_trait]
    impl<D> FindingStore for SqlStore<D> {
        async fn record_findings(
            &self,
            findings: &[Finding],
            run_at: DateTime<Utc>,
        ) -> Result<FindingsReport> {
            use DiscrepancyStatus::{Closed, Open, Resolved};
            let mut report = FindingsReport::default();
            let mut tx = self.pool().begin().await?;
            // One read for the flags these customers already have, not one per finding: a run
            // re-confirms thousands of unchanged flags.
            let mut known: HashMap<NaturalKey, Discrepancy> = HashMap::new();
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
                let mut query =
                    sqlx::query::<D::DB>(&sql).persistent(chunk.len() == MAX_PARAMS / 2);
                for c in chunk {
                    query = query.bind(c.clone());
                }
                for row in query.fetch_all(&mut *tx).await? {
                    let d = Self::discrepancy_row(&row)?;
                    known.insert(natural_key(&d.finding), d);
                }
            }
            // Flags found again exactly as they were only move their last_seen, in bulk; new
            // ones are inserted in bulk after the loop.
            let mut unchanged: Vec<i64> = Vec::new();
            let mut fresh: Vec<&Finding> = Vec::new();
            let mut changed: Vec<Changed> = Vec::new();
            let mut seen = HashSet::new();
            for f in findings {
                let key = natural_key(f);
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
                // updated_at tells a reviewer when the flag last changed, not when it was last
                // seen.
                let updated_at = if reopen || old.finding != *f {
                    run_at
                } else {
                    old.updated_at
                };
                let note = if old.status == DiscrepancyStatus::Waived {
                    "the facts the waiver accepted have changed"
                } else {
                    "found again"
                };
                if reopen {
                    report.reopened += 1;
                } else {
                    report.still_open += 1;
                }
                changed.push(Changed {
                    id: old.id,
                    finding: f,
                    status,
                    waived_until,
                    updated_at,
                    reopened: reopen.then_some((old.status, note)),
                });
            }
            if D::SET_WRITES {
                Self::update_changed_set(&mut tx, &changed, run_at).await?;
                Self::set_ids(&mut tx, "last_seen", &unchanged, run_at).await?;
                report.new += Self::insert_new_set(&mut tx, &fresh, run_at).await?;
                tx.commit().await?;
                return Ok(report);
            }
            for c in &changed {
                let f = c.finding;
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
                .bind(c.id);
                Self::bind_finding(update, f)
                    .bind(c.status.as_str().to_string())
                    .bind(c.waived_until)
                    .bind(D::stamp(run_at))
                    .bind(D::stamp(c.updated_at))
                    .execute(&mut *tx)
                    .await?;
                if let Some((from, note)) = c.reopened {
                    Self::audit(&mut tx, c.id, run_at, SYSTEM_ACTOR, Some(from), Open, Some(note))
                        .await?;
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

        async fn close_unseen_findings(
            &self,
            rules: &[Rule],
            run_at: DateTime<Utc>,
        ) -> Result<u64> {
            self.close_unseen_in(rules, None, run_at).await
        }

        async fn list_discrepancies(&self, filter: &DiscrepancyFilter) -> Result<Vec<Discrepancy>> {
            // One filter for lists and the desk's queue: the queue's query serves both.
            super::QueueStore::queue_all(self, filter).await
        }

        async fn discrepancy(&self, id: i64) -> Result<Option<Discrepancy>> {
            let mut conn = self.pool().acquire().await?;
            Self::discrepancy_in(&mut conn, id).await
        }

        async fn discrepancy_counts(&self) -> Result<Vec<(Rule, DiscrepancyStatus, u64)>> {
            let mut counts = sqlx::query::<D::DB>(
                "SELECT rule, status, COUNT(*) AS n FROM discrepancies GROUP BY rule, status",
            )
            .fetch_all(self.pool())
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
    }
}
