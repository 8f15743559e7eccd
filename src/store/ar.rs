//! Collections reads and the snapshot table: what `ar::figures`, `ar::worklist` and the
//! statements need, read in as few rows as the figures allow.
//!
//! KPIs over a million open items: SQLite holds amounts as text, which SQL cannot add
//! exactly, so the database groups the items by (company code, currency, clerk, customer
//! when asked, due date) and packs each group's amounts into one text; the exact sums are
//! made here with `Decimal`. That moves one row per group across the driver instead of one
//! per item (see `packed.rs` for why the per-row cost is what matters).

use super::decode::{corrupt, customer_id};
use super::dialect::{sql_impl, SqlStore, Q};
use super::packed::RS;
use super::upsert::Params;
use super::{Result, StoreError};
use crate::ar::figures::Totals;
use crate::ar::item::ArItem;
use crate::ar::promise::Promise;
use crate::ar::snapshot::Snapshot;
use crate::ar::worklist::NoteSummary;
use crate::model::{CustomerId, OpenItemKey};
use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;

/// Which open items the figures cover.
#[derive(Debug, Clone, Default)]
pub struct ArFilter {
    pub company_code: Option<String>,
    /// Accounting clerk codes; empty = all.
    pub clerks: Vec<String>,
    pub customer: Option<CustomerId>,
    /// Keep customers apart in [`ArGroup`]s (for `--by customer`).
    pub by_customer: bool,
    /// Keep accounting clerks apart. Without it (and without `clerks`) the items are read
    /// without the join to the company-code data, which a million items notice.
    pub by_clerk: bool,
}

/// Items of one company code, currency, clerk (`""` = none), customer (`""` unless asked)
/// and day, with their amounts: the open items by due date ([`ArStore::ar_open_groups`])
/// or the sales history by posting date ([`ArStore::ar_sales_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArGroup {
    pub company_code: String,
    pub currency: String,
    pub clerk: String,
    pub customer: String,
    /// The due date of open items, the posting date of sales.
    pub day: NaiveDate,
    pub amounts: Vec<Decimal>,
}

/// A customer on the call list: who, and the clerk of the company code of their items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArCustomer {
    pub customer: CustomerId,
    pub name: String,
    pub clerk: Option<String>,
}

/// One item of the sales history: a customer item by posting date, cleared or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesRow {
    pub key: OpenItemKey,
    pub customer: CustomerId,
    pub posting_date: NaiveDate,
    pub amount: Decimal,
    pub currency: String,
}

/// Rows per generated insert (9 parameters each, far below both backends' limits).
const SALES_CHUNK: usize = 500;

/// Cleared items older than this are not read for promises and statements.
const HISTORY_DAYS: u64 = 800;

#[async_trait]
pub trait ArStore: Send + Sync {
    /// Items open at the end of `as_of` (posted by then, not cleared by then), grouped.
    async fn ar_open_groups(&self, filter: &ArFilter, as_of: NaiveDate) -> Result<Vec<ArGroup>>;
    /// Items of the sales history posted in `from..=to`, grouped by day.
    async fn ar_sales_groups(
        &self,
        filter: &ArFilter,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ArGroup>>;
    /// Stores sales-history rows (insert or update by item key) and, when given, the pull's
    /// cursor, in one transaction.
    async fn ar_upsert_sales(
        &self,
        rows: &[SalesRow],
        seen_at: DateTime<Utc>,
        cursor: Option<(&str, &str)>,
    ) -> Result<()>;
    /// Whether a sales history was ever pulled (without one, DSO is null).
    async fn ar_has_sales(&self) -> Result<bool>;
    /// Customers with an item open and past due at `as_of`, ordered by number.
    async fn ar_overdue_customers(
        &self,
        filter: &ArFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<ArCustomer>>;
    /// The customers' items, open and recently cleared, in `company_code` when given.
    async fn ar_items_of(
        &self,
        customers: &[CustomerId],
        company_code: Option<&str>,
        as_of: NaiveDate,
    ) -> Result<Vec<ArItem>>;
    /// The customers' notes, newest first.
    async fn ar_notes_of(&self, customers: &[CustomerId])
        -> Result<Vec<(CustomerId, NoteSummary)>>;
    /// Replaces the snapshot rows of the days they are for.
    async fn ar_save_snapshots(&self, rows: &[Snapshot], taken_at: DateTime<Utc>) -> Result<()>;
    /// Snapshots of `from..=to`, by day.
    async fn ar_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        company_code: Option<&str>,
    ) -> Result<Vec<Snapshot>>;
}

/// Splits `count<RS>a<RS>b…` (see `Dialect::group_concat`) into decimals.
fn amounts(packed: &str) -> Result<Vec<Decimal>> {
    let mut parts = packed.split(RS);
    let n: usize = parts
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| corrupt("packed amounts", packed, "no count"))?;
    let out = parts
        .map(|a| Decimal::from_str_exact(a).map_err(|e| corrupt("amount", a, e)))
        .collect::<Result<Vec<_>>>()?;
    if out.len() != n {
        return Err(corrupt("packed amounts", packed, "count differs"));
    }
    Ok(out)
}

/// The first instant after the end of `day` (what "cleared by the end of the day" compares).
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.checked_add_days(Days::new(1))
        .unwrap_or(day)
        .and_time(NaiveTime::MIN)
        .and_utc()
}

const BUCKET_COLS: [&str; 7] = [
    "not_due", "d1_30", "d31_60", "d61_90", "d91_180", "d181_360", "over_360",
];

sql_impl! {
    impl<D> SqlStore<D> {
        /// `AND …` conditions of a filter on `o` (items) and `c` (company-code data), with
        /// their values in binding order.
        fn ar_conditions(filter: &ArFilter, p: &mut Params) -> (String, Vec<String>) {
            let mut sql = String::new();
            let mut values = Vec::new();
            if let Some(cc) = &filter.company_code {
                sql.push_str(&format!(" AND o.company_code = {}", p.next()));
                values.push(cc.clone());
            }
            if let Some(c) = &filter.customer {
                sql.push_str(&format!(" AND o.customer = {}", p.next()));
                values.push(c.as_str().to_string());
            }
            if !filter.clerks.is_empty() {
                let list: Vec<String> = filter.clerks.iter().map(|_| p.next()).collect();
                sql.push_str(&format!(" AND c.accounting_clerk IN ({})", list.join(", ")));
                values.extend(filter.clerks.iter().cloned());
            }
            (sql, values)
        }

        /// The grouped read both the open items and the sales history are made of: the
        /// rows of `table` (as `o`) inside `window`, grouped by company code, currency,
        /// (clerk,) (customer,) and `day`, each group's amounts packed into one text (the
        /// exact sums are made in Rust: SQLite cannot add decimal text exactly). Without
        /// clerks asked for, the rows are read without the join to the company-code data.
        /// `window`'s placeholders must come first in `p`.
        fn ar_grouped_sql(
            filter: &ArFilter,
            p: &mut Params,
            table: &str,
            day: &str,
            window: &str,
        ) -> (String, Vec<String>) {
            let (cond, values) = Self::ar_conditions(filter, p);
            let join = filter.by_clerk || !filter.clerks.is_empty();
            let sql = format!(
                "SELECT o.company_code AS cc, o.currency AS cur, {clerk} AS clerk, \
                 {customer} AS cust, {day} AS day, {amounts} AS amounts \
                 FROM {table} o{join_sql} \
                 WHERE {window}{cond} \
                 GROUP BY o.company_code, o.currency{group_clerk}{group_customer}, {day}",
                customer = if filter.by_customer { "o.customer" } else { "''" },
                join_sql = if join {
                    " LEFT JOIN customer_company c \
                     ON c.customer = o.customer AND c.company_code = o.company_code"
                } else {
                    ""
                },
                group_clerk = if join { ", c.accounting_clerk" } else { "" },
                group_customer = if filter.by_customer { ", o.customer" } else { "" },
                clerk = if join { D::as_text("c.accounting_clerk") } else { "''".to_string() },
                amounts = D::group_concat(&D::as_text("o.amount")),
            );
            (sql, values)
        }

        /// Runs [`Self::ar_grouped_sql`]'s read, its window already bound, with the
        /// filter's `values` after it.
        async fn ar_grouped(&self, q: Q<'_, D>, values: Vec<String>) -> Result<Vec<ArGroup>> {
            let q = values.into_iter().fold(q, |q, v| q.bind(v));
            q.fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| {
                    Ok(ArGroup {
                        company_code: Self::get(row, "cc")?,
                        currency: Self::get(row, "cur")?,
                        clerk: Self::get(row, "clerk")?,
                        customer: Self::get(row, "cust")?,
                        day: Self::get(row, "day")?,
                        amounts: amounts(&Self::get::<String>(row, "amounts")?)?,
                    })
                })
                .collect()
        }
    }
}

sql_impl! {
    #[async_trait]
    impl<D> ArStore for SqlStore<D> {
        async fn ar_open_groups(&self, filter: &ArFilter, as_of: NaiveDate) -> Result<Vec<ArGroup>> {
            let mut p = Params::default();
            let (posted, cleared) = (p.next(), p.next());
            let window = format!(
                "o.posting_date <= {posted} AND (o.cleared_at IS NULL OR o.cleared_at >= {cleared})"
            );
            let (sql, values) = Self::ar_grouped_sql(
                filter,
                &mut p,
                "open_items",
                "coalesce(o.net_due_date, o.baseline_date)",
                &window,
            );
            let q = sqlx::query::<D::DB>(&sql)
                .bind(as_of)
                .bind(D::stamp(end_of(as_of)));
            self.ar_grouped(q, values).await
        }

        async fn ar_sales_groups(
            &self,
            filter: &ArFilter,
            from: NaiveDate,
            to: NaiveDate,
        ) -> Result<Vec<ArGroup>> {
            let mut p = Params::default();
            let (pf, pt) = (p.next(), p.next());
            let window = format!("o.posting_date >= {pf} AND o.posting_date <= {pt}");
            let (sql, values) =
                Self::ar_grouped_sql(filter, &mut p, "ar_sales", "o.posting_date", &window);
            let q = sqlx::query::<D::DB>(&sql).bind(from).bind(to);
            self.ar_grouped(q, values).await
        }

        async fn ar_upsert_sales(
            &self,
            rows: &[SalesRow],
            seen_at: DateTime<Utc>,
            cursor: Option<(&str, &str)>,
        ) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            for chunk in rows.chunks(SALES_CHUNK) {
                let mut n = 0;
                let values: Vec<String> = chunk
                    .iter()
                    .map(|_| {
                        let ps: Vec<String> = (0..9)
                            .map(|_| {
                                n += 1;
                                D::param(n)
                            })
                            .collect();
                        format!("({})", ps.join(", "))
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO ar_sales (company_code, fiscal_year, document, item, customer, \
                       posting_date, amount, currency, seen_at) VALUES {} \
                     ON CONFLICT (company_code, fiscal_year, document, item) DO UPDATE SET \
                       customer = excluded.customer, posting_date = excluded.posting_date, \
                       amount = excluded.amount, currency = excluded.currency, \
                       seen_at = excluded.seen_at",
                    values.join(", ")
                );
                let mut q = sqlx::query::<D::DB>(&sql).persistent(chunk.len() == SALES_CHUNK);
                for r in chunk {
                    q = q
                        .bind(r.key.company_code.clone())
                        .bind(r.key.fiscal_year.clone())
                        .bind(r.key.document.clone())
                        .bind(r.key.item.clone())
                        .bind(r.customer.as_str().to_string())
                        .bind(r.posting_date)
                        .bind(Some(D::amount(r.amount)))
                        .bind(r.currency.clone())
                        .bind(D::stamp(seen_at));
                }
                q.execute(&mut *tx).await?;
            }
            if let Some((name, value)) = cursor {
                Self::write_cursor(&mut tx, name, value, seen_at).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn ar_has_sales(&self) -> Result<bool> {
            let row = sqlx::query::<D::DB>("SELECT count(*) AS n FROM (SELECT 1 FROM ar_sales LIMIT 1) s")
                .fetch_one(self.pool())
                .await?;
            Ok(Self::get::<i64>(&row, "n")? > 0)
        }

        async fn ar_overdue_customers(
            &self,
            filter: &ArFilter,
            as_of: NaiveDate,
        ) -> Result<Vec<ArCustomer>> {
            let mut p = Params::default();
            let (posted, cleared, due) = (p.next(), p.next(), p.next());
            let (cond, values) = Self::ar_conditions(filter, &mut p);
            let sql = format!(
                "SELECT o.customer AS customer, min(k.name) AS name, \
                   min(c.accounting_clerk) AS clerk \
                 FROM open_items o LEFT JOIN customer_company c \
                   ON c.customer = o.customer AND c.company_code = o.company_code \
                 LEFT JOIN customers k ON k.customer = o.customer \
                 WHERE o.posting_date <= {posted} \
                   AND (o.cleared_at IS NULL OR o.cleared_at >= {cleared}) \
                   AND coalesce(o.net_due_date, o.baseline_date) < {due}{cond} \
                 GROUP BY o.customer ORDER BY o.customer"
            );
            let mut q = sqlx::query::<D::DB>(&sql)
                .bind(as_of)
                .bind(D::stamp(end_of(as_of)))
                .bind(as_of);
            for v in values {
                q = q.bind(v);
            }
            q.fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| {
                    Ok(ArCustomer {
                        customer: customer_id(Self::get(row, "customer")?)?,
                        name: Self::get::<Option<String>>(row, "name")?.unwrap_or_default(),
                        clerk: Self::get(row, "clerk")?,
                    })
                })
                .collect()
        }

        async fn ar_items_of(
            &self,
            customers: &[CustomerId],
            company_code: Option<&str>,
            as_of: NaiveDate,
        ) -> Result<Vec<ArItem>> {
            let since = as_of
                .checked_sub_days(Days::new(HISTORY_DAYS))
                .unwrap_or(as_of);
            let mut out = Vec::new();
            for chunk in customers.chunks(super::upsert::IN_CHUNK) {
                let mut p = Params::default();
                let cleared = p.next();
                let cc = company_code.map(|_| p.next());
                let list: Vec<String> = chunk.iter().map(|_| p.next()).collect();
                let sql = format!(
                    "SELECT company_code, fiscal_year, document, item, customer, currency, \
                       amount, posting_date, coalesce(net_due_date, baseline_date) AS due, \
                       cleared_at, dispute_case \
                     FROM open_items \
                     WHERE (cleared_at IS NULL OR cleared_at >= {cleared}){cc} \
                       AND customer IN ({list}) \
                     ORDER BY customer, company_code, fiscal_year, document, item",
                    cc = cc.map(|c| format!(" AND company_code = {c}")).unwrap_or_default(),
                    list = list.join(", "),
                );
                let mut q = sqlx::query::<D::DB>(&sql).bind(D::stamp(end_of(since)));
                if let Some(cc) = company_code {
                    q = q.bind(cc.to_string());
                }
                for c in chunk {
                    q = q.bind(c.as_str().to_string());
                }
                for row in q.fetch_all(self.pool()).await? {
                    out.push(ArItem {
                        key: OpenItemKey {
                            company_code: Self::get(&row, "company_code")?,
                            fiscal_year: Self::get(&row, "fiscal_year")?,
                            document: Self::get(&row, "document")?,
                            item: Self::get(&row, "item")?,
                        },
                        customer: customer_id(Self::get(&row, "customer")?)?,
                        currency: Self::get(&row, "currency")?,
                        amount: Self::amount(&row, "amount")?,
                        posting_date: Self::get(&row, "posting_date")?,
                        due: Self::get(&row, "due")?,
                        cleared_on: Self::opt_stamp(&row, "cleared_at")?.map(|t| t.date_naive()),
                        dispute_case: Self::get(&row, "dispute_case")?,
                    });
                }
            }
            Ok(out)
        }

        async fn ar_notes_of(
            &self,
            customers: &[CustomerId],
        ) -> Result<Vec<(CustomerId, NoteSummary)>> {
            let mut out = Vec::new();
            for chunk in customers.chunks(super::upsert::IN_CHUNK) {
                let mut p = Params::default();
                let list: Vec<String> = chunk.iter().map(|_| p.next()).collect();
                let sql = format!(
                    "SELECT customer, company_code, fiscal_year, document, item, author, text, \
                       channel, created_at, via, follow_up, promise_amount, promise_currency, \
                       promise_date \
                     FROM notes WHERE customer IN ({}) ORDER BY customer, created_at DESC, id DESC",
                    list.join(", ")
                );
                let mut q = sqlx::query::<D::DB>(&sql);
                for c in chunk {
                    q = q.bind(c.as_str().to_string());
                }
                for row in q.fetch_all(self.pool()).await? {
                    let at = Self::stamp(&row, "created_at")?;
                    let item = match Self::get::<Option<String>>(&row, "company_code")? {
                        Some(company_code) => Some(OpenItemKey {
                            company_code,
                            fiscal_year: Self::get(&row, "fiscal_year")?,
                            document: Self::get(&row, "document")?,
                            item: Self::get(&row, "item")?,
                        }),
                        None => None,
                    };
                    let amount = Self::get::<Option<D::Amount>>(&row, "promise_amount")?
                        .map(D::amount_back)
                        .transpose()?;
                    let currency: Option<String> = Self::get(&row, "promise_currency")?;
                    let date: Option<NaiveDate> = Self::get(&row, "promise_date")?;
                    let promise = match (amount, currency, date) {
                        (Some(amount), Some(currency), Some(date)) => Some(Promise {
                            amount,
                            currency,
                            date,
                            made_on: at.date_naive(),
                            item,
                        }),
                        _ => None,
                    };
                    out.push((
                        customer_id(Self::get(&row, "customer")?)?,
                        NoteSummary {
                            at,
                            author: Self::get(&row, "author")?,
                            channel: Self::get(&row, "channel")?,
                            via: Self::get(&row, "via")?,
                            text: Self::get(&row, "text")?,
                            follow_up: Self::get(&row, "follow_up")?,
                            promise,
                        },
                    ));
                }
            }
            Ok(out)
        }

        async fn ar_save_snapshots(&self, rows: &[Snapshot], taken_at: DateTime<Utc>) -> Result<()> {
            let mut tx = self.pool().begin().await?;
            let mut days: Vec<NaiveDate> = rows.iter().map(|r| r.as_of).collect();
            days.sort();
            days.dedup();
            for day in days {
                sqlx::query::<D::DB>("DELETE FROM ar_snapshots WHERE as_of = $1")
                    .bind(day)
                    .execute(&mut *tx)
                    .await?;
            }
            let cols = BUCKET_COLS.join(", ");
            let sql = format!(
                "INSERT INTO ar_snapshots (as_of, company_code, currency, collector, items, \
                   open_amount, overdue_amount, {cols}, over_60_amount, over_360_amount, sales, \
                   taken_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                   $17, $18)"
            );
            for r in rows {
                let t = &r.totals;
                let mut q = sqlx::query::<D::DB>(&sql)
                    .bind(r.as_of)
                    .bind(r.company_code.clone())
                    .bind(r.currency.clone())
                    .bind(r.collector.clone())
                    .bind(i64::try_from(t.items).unwrap_or(i64::MAX))
                    .bind(Some(D::amount(t.open)))
                    .bind(Some(D::amount(t.overdue)));
                for b in t.buckets {
                    q = q.bind(Some(D::amount(b)));
                }
                q.bind(Some(D::amount(t.over_60)))
                    .bind(Some(D::amount(t.over_360)))
                    .bind(r.sales.map(D::amount))
                    .bind(D::stamp(taken_at))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn ar_snapshots(
            &self,
            from: NaiveDate,
            to: NaiveDate,
            company_code: Option<&str>,
        ) -> Result<Vec<Snapshot>> {
            let cols = BUCKET_COLS.join(", ");
            let sql = format!(
                "SELECT as_of, company_code, currency, collector, items, open_amount, \
                   overdue_amount, {cols}, over_60_amount, over_360_amount, sales \
                 FROM ar_snapshots WHERE as_of >= $1 AND as_of <= $2{} \
                 ORDER BY as_of, company_code, currency, collector",
                if company_code.is_some() { " AND company_code = $3" } else { "" }
            );
            let mut q = sqlx::query::<D::DB>(&sql).bind(from).bind(to);
            if let Some(cc) = company_code {
                q = q.bind(cc.to_string());
            }
            q.fetch_all(self.pool())
                .await?
                .iter()
                .map(|row| {
                    let mut buckets = [Decimal::ZERO; 7];
                    for (b, col) in buckets.iter_mut().zip(BUCKET_COLS) {
                        *b = Self::amount(row, col)?;
                    }
                    let items: i64 = Self::get(row, "items")?;
                    Ok(Snapshot {
                        as_of: Self::get(row, "as_of")?,
                        company_code: Self::get(row, "company_code")?,
                        currency: Self::get(row, "currency")?,
                        collector: Self::get(row, "collector")?,
                        totals: Totals {
                            items: u64::try_from(items)
                                .map_err(|_| StoreError::Corrupt(format!("items {items}")))?,
                            open: Self::amount(row, "open_amount")?,
                            overdue: Self::amount(row, "overdue_amount")?,
                            buckets,
                            over_60: Self::amount(row, "over_60_amount")?,
                            over_360: Self::amount(row, "over_360_amount")?,
                        },
                        sales: Self::get::<Option<D::Amount>>(row, "sales")?
                            .map(D::amount_back)
                            .transpose()?,
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_amounts_need_their_count() {
        let ok = format!("2{RS}1.50{RS}-3");
        assert_eq!(
            amounts(&ok).unwrap(),
            vec!["1.50".parse::<Decimal>().unwrap(), "-3".parse().unwrap()]
        );
        assert!(amounts(&format!("3{RS}1{RS}2")).is_err());
        assert!(amounts("x").is_err());
        assert!(amounts(&format!("1{RS}1e5")).is_err());
    }
}
