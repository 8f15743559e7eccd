//! Master data as pulled: customers with their company-code, sales-area and credit levels,
//! open items, contracts and payment terms. Writes are batched upserts (`seen_at` stamps
//! what a pull saw); what a complete pull did not see is retired, never deleted.

use super::decode::count;
use super::dialect::{sql_impl, Conn, DbRow, SqlStore};
use super::reconcile::{sort_levels, CustomerItems};
use super::upsert::{
    key_text, placeholders, Params, Sink, COMPANY_CODES, CONTRACTS, CREDIT_LIMITS, CUSTOMERS,
    IN_CHUNK, OPEN_ITEMS, PAYMENT_TERMS, SALES_AREAS,
};
use super::{packed, Result, StoreError};
use crate::model::{
    CompanyCodeData, Contract, CreditLimit, Customer, CustomerGeneral, CustomerId, OpenItem,
    PaymentTerms, SalesAreaData,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct OpenItemFilter {
    pub customer: Option<CustomerId>,
    /// Only items whose net due date is before this day.
    pub overdue_on: Option<NaiveDate>,
}

/// Row counts per stored entity, for summaries and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub customers: u64,
    pub company_codes: u64,
    pub sales_areas: u64,
    pub open_items: u64,
    pub contracts: u64,
    pub payment_terms: u64,
}

#[async_trait]
pub trait MasterStore: Send + Sync {
    // ---- pulled master data: batched upserts, `seen_at` stamps what a pull saw ----
    async fn upsert_customers(
        &self,
        rows: &[CustomerGeneral],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_company_codes(
        &self,
        rows: &[CompanyCodeData],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_sales_areas(
        &self,
        rows: &[SalesAreaData],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Credit limits from the ERP's credit management (per segment).
    async fn upsert_credit_limits(
        &self,
        rows: &[CreditLimit],
        seen_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn upsert_open_items(&self, rows: &[OpenItem], seen_at: DateTime<Utc>) -> Result<()>;
    async fn upsert_contracts(&self, rows: &[Contract], seen_at: DateTime<Utc>) -> Result<()>;
    async fn upsert_payment_terms(&self, rows: &[PaymentTerms]) -> Result<()>;
    /// Items not written by `upsert_open_items` since `seen_since` are marked cleared (kept,
    /// not deleted) and no longer listed. Only for a load that writes every open item
    /// again: a pull does not (it leaves unchanged items as they are and clears by the keys
    /// it read), so calling this after a pull would clear items that are still open.
    async fn retire_unseen_open_items(&self, seen_since: DateTime<Utc>) -> Result<u64>;
    /// After a complete load of contracts from `source`: those not seen are marked ended.
    /// The customers whose company-code data names one of these accounting clerks (BUSAB):
    /// a collector's customers.
    async fn customers_of_clerks(&self, clerks: &[String]) -> Result<Vec<CustomerId>>;
    /// Marks ended, at `at`, the current contracts of every source not named in `keep`:
    /// a source no longer configured holds no contracts.
    async fn retire_contracts_of_other_sources(
        &self,
        keep: &[String],
        at: DateTime<Utc>,
    ) -> Result<u64>;
    async fn retire_unseen_contracts(&self, source: &str, seen_since: DateTime<Utc>)
        -> Result<u64>;

    // ---- reading ----
    /// Customers with all their levels, ordered by number, after `after`.
    async fn customers_page(&self, after: Option<&CustomerId>, limit: u32)
        -> Result<Vec<Customer>>;
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>>;
    /// Current (not retired) contracts of these customers.
    async fn contracts_for(&self, customers: &[CustomerId]) -> Result<Vec<Contract>>;
    /// Current contracts whose customer is not in the master.
    async fn contracts_without_customer(&self) -> Result<Vec<Contract>>;
    /// Open (not cleared) items of these customers.
    async fn open_items_for(&self, customers: &[CustomerId]) -> Result<Vec<OpenItem>>;
    async fn list_open_items(&self, filter: &OpenItemFilter) -> Result<Vec<OpenItem>>;
    async fn payment_terms(&self) -> Result<Vec<PaymentTerms>>;
    async fn counts(&self) -> Result<Counts>;
}

const OPEN_ITEM_ORDER: &str = " ORDER BY customer, company_code, fiscal_year, document, item";

/// Groups rows by customer, keeping their order.
fn by_customer<T>(rows: Vec<T>, key: impl Fn(&T) -> &CustomerId) -> HashMap<CustomerId, Vec<T>> {
    let mut map: HashMap<CustomerId, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row).clone()).or_default().push(row);
    }
    map
}

// One encoder per upserted table, writing a row's data columns in its
// [`Upsert`](super::upsert::Upsert) column order: pulls (many rows a statement, or one
// array per column) and IDocs (one row) write the same rows.

pub(super) fn encode_customer<'r>(r: &'r CustomerGeneral, s: &mut dyn Sink<'r>) {
    let a = r.address.as_ref();
    s.text(Some(r.customer.as_str()));
    s.text(Some(&r.name));
    s.text(a.map(|a| a.name.as_str()));
    s.text(a.map(|a| a.street.as_str()));
    s.text(a.map(|a| a.city.as_str()));
    s.text(a.map(|a| a.postal_code.as_str()));
    s.text(a.map(|a| a.country.as_str()));
    s.flag(r.deletion_flag);
    s.flag(r.posting_block);
    s.stamp(r.last_changed);
}

pub(super) fn encode_company_code<'r>(r: &'r CompanyCodeData, s: &mut dyn Sink<'r>) {
    s.text(Some(r.customer.as_str()));
    s.text(Some(&r.company_code));
    s.text(r.payment_terms.as_deref());
    s.text(r.reconciliation_account.as_deref());
    s.text(r.accounting_clerk.as_deref());
    s.text(r.dunning_procedure.as_deref());
    s.flag(r.deletion_flag);
    s.flag(r.posting_block);
}

pub(super) fn encode_sales_area<'r>(r: &'r SalesAreaData, s: &mut dyn Sink<'r>) {
    s.text(Some(r.customer.as_str()));
    s.text(Some(&r.area.sales_org));
    s.text(Some(&r.area.distribution_channel));
    s.text(Some(&r.area.division));
    s.text(r.payment_terms.as_deref());
    s.text(r.currency.as_deref());
    s.text(r.credit_control_area.as_deref());
    s.flag(r.deletion_flag);
}

pub(super) fn encode_credit_limit<'r>(r: &'r CreditLimit, s: &mut dyn Sink<'r>) {
    s.text(Some(r.customer.as_str()));
    s.text(Some(&r.segment));
    s.amount(Some(r.amount));
    s.text(r.currency.as_deref());
}

/// A contract loaded again is current again (its `retired_at` stamp is reset).
pub(super) fn encode_contract<'r>(r: &'r Contract, s: &mut dyn Sink<'r>) {
    let b = r.billing_address.as_ref();
    s.text(Some(&r.source));
    s.text(Some(&r.id));
    s.text(Some(r.customer.as_str()));
    s.text(r.scope.company_code.as_deref());
    s.text(r.scope.sales_org.as_deref());
    s.text(r.scope.distribution_channel.as_deref());
    s.text(r.scope.division.as_deref());
    s.text(r.payment_terms.as_deref());
    s.amount(r.credit_limit);
    s.text(r.currency.as_deref());
    s.text(b.map(|a| a.name.as_str()));
    s.text(b.map(|a| a.street.as_str()));
    s.text(b.map(|a| a.city.as_str()));
    s.text(b.map(|a| a.postal_code.as_str()));
    s.text(b.map(|a| a.country.as_str()));
    s.date(r.valid_from);
    s.date(r.valid_to);
}

/// An item seen again is open again (its `cleared_at` stamp is reset: its clearing was
/// reversed).
pub(super) fn encode_open_item<'r>(r: &'r OpenItem, s: &mut dyn Sink<'r>) {
    s.text(Some(&r.key.company_code));
    s.text(Some(&r.key.fiscal_year));
    s.text(Some(&r.key.document));
    s.text(Some(&r.key.item));
    s.text(Some(r.customer.as_str()));
    s.date(Some(r.document_date));
    s.date(Some(r.posting_date));
    s.date(Some(r.baseline_date));
    s.text(r.payment_terms.as_deref());
    s.int(r.applied.discount1_days.map(i64::from));
    s.amount(r.applied.discount1_percent);
    s.int(r.applied.discount2_days.map(i64::from));
    s.amount(r.applied.discount2_percent);
    s.int(r.applied.net_days.map(i64::from));
    s.date(r.net_due_date);
    s.amount(Some(r.amount));
    s.text(Some(&r.currency));
    s.int(r.dunning_level.map(i64::from));
    s.text(r.dunning_block.as_deref());
    s.text(r.dispute_case.as_deref());
}

fn encode_payment_terms<'r>((r, rules): &'r (&PaymentTerms, String), s: &mut dyn Sink<'r>) {
    s.text(Some(&r.key));
    s.text(Some(&r.description));
    s.text(Some(rules));
}

sql_impl! {
    impl<D> SqlStore<D> {
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

        /// Customers with their levels and open items, read column by column: the way for
        /// customers whose packed read cannot be trusted (see `packed::records`).
        pub(super) async fn customers_by_columns(
            conn: &mut Conn<D>,
            generals: Vec<CustomerGeneral>,
        ) -> Result<Vec<CustomerItems>> {
            let ids: Vec<CustomerId> = generals.iter().map(|g| g.customer.clone()).collect();
            let customers = Self::with_levels(conn, generals).await?;
            let items = Self::open_items_by_columns(conn, &ids).await?;
            let mut items = by_customer(items, |i| &i.customer);
            Ok(customers
                .into_iter()
                .map(|mut c| {
                    sort_levels(&mut c.company_codes, &mut c.sales_areas, &mut c.credit_limits);
                    let mut own = items.remove(&c.general.customer).unwrap_or_default();
                    own.sort_by(|a, b| a.key.cmp(&b.key));
                    (c, own)
                })
                .collect())
        }

        async fn open_items_by_columns(
            conn: &mut Conn<D>,
            customers: &[CustomerId],
        ) -> Result<Vec<OpenItem>> {
            Self::fetch_for_customers(
                conn,
                &format!(
                    "SELECT {} FROM open_items WHERE cleared_at IS NULL AND",
                    OPEN_ITEMS.select_list()
                ),
                customers,
                "",
                Self::open_item,
            )
            .await
        }

        /// Adds company-code and sales-area data to general rows.
        async fn with_levels(
            conn: &mut Conn<D>,
            generals: Vec<CustomerGeneral>,
        ) -> Result<Vec<Customer>> {
            let ids: Vec<CustomerId> = generals.iter().map(|g| g.customer.clone()).collect();
            let companies = Self::fetch_for_customers(
                conn,
                &format!("SELECT {} FROM customer_company WHERE", COMPANY_CODES.select_list()),
                &ids,
                " ORDER BY customer, company_code",
                Self::company_code,
            )
            .await?;
            let areas = Self::fetch_for_customers(
                conn,
                &format!("SELECT {} FROM customer_sales_area WHERE", SALES_AREAS.select_list()),
                &ids,
                " ORDER BY customer, sales_org, distribution_channel, division",
                Self::sales_area,
            )
            .await?;
            let credit = Self::fetch_for_customers(
                conn,
                &format!("SELECT {} FROM customer_credit WHERE", CREDIT_LIMITS.select_list()),
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
    }
}

sql_impl! {
    #[async_trait]
    impl<D> MasterStore for SqlStore<D> {
        async fn upsert_customers(
            &self,
            rows: &[CustomerGeneral],
            seen_at: DateTime<Utc>,
        ) -> Result<()> {
            let key = |r: &CustomerGeneral| r.customer.to_string();
            self.upsert_batch(&CUSTOMERS, rows, key, encode_customer, seen_at)
                .await
        }

        async fn upsert_company_codes(
            &self,
            rows: &[CompanyCodeData],
            seen_at: DateTime<Utc>,
        ) -> Result<()> {
            let key = |r: &CompanyCodeData| key_text(&[r.customer.as_str(), &r.company_code]);
            self.upsert_batch(&COMPANY_CODES, rows, key, encode_company_code, seen_at)
                .await
        }

        async fn upsert_sales_areas(
            &self,
            rows: &[SalesAreaData],
            seen_at: DateTime<Utc>,
        ) -> Result<()> {
            let key = |r: &SalesAreaData| {
                let a = &r.area;
                key_text(&[
                    r.customer.as_str(),
                    &a.sales_org,
                    &a.distribution_channel,
                    &a.division,
                ])
            };
            self.upsert_batch(&SALES_AREAS, rows, key, encode_sales_area, seen_at)
                .await
        }

        async fn upsert_credit_limits(
            &self,
            rows: &[CreditLimit],
            seen_at: DateTime<Utc>,
        ) -> Result<()> {
            let key = |r: &CreditLimit| key_text(&[r.customer.as_str(), &r.segment]);
            self.upsert_batch(&CREDIT_LIMITS, rows, key, encode_credit_limit, seen_at)
                .await
        }

        async fn upsert_open_items(&self, rows: &[OpenItem], seen_at: DateTime<Utc>) -> Result<()> {
            let key = |r: &OpenItem| r.key.to_string();
            self.upsert_batch(&OPEN_ITEMS, rows, key, encode_open_item, seen_at)
                .await
        }

        async fn upsert_contracts(&self, rows: &[Contract], seen_at: DateTime<Utc>) -> Result<()> {
            let key = |r: &Contract| key_text(&[&r.source, &r.id]);
            self.upsert_batch(&CONTRACTS, rows, key, encode_contract, seen_at)
                .await
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
            let key = |(r, _): &(&PaymentTerms, String)| r.key.clone();
            // The terms have no stamps: the time given is not written.
            self.upsert_batch(&PAYMENT_TERMS, &rows, key, encode_payment_terms, Utc::now())
                .await
        }

        async fn retire_unseen_open_items(&self, seen_since: DateTime<Utc>) -> Result<u64> {
            // The pull that started at `seen_since` is when we learned they were cleared.
            let mut conn = self.pool().acquire().await?;
            Self::retire_open_items(&mut conn, seen_since).await
        }

        async fn customers_of_clerks(&self, clerks: &[String]) -> Result<Vec<CustomerId>> {
            let mut out = Vec::new();
            for chunk in clerks.chunks(IN_CHUNK) {
                let mut p = Params::default();
                let list: Vec<String> = chunk.iter().map(|_| p.next()).collect();
                let sql = format!(
                    "SELECT DISTINCT customer FROM customer_company \
                     WHERE accounting_clerk IN ({}) ORDER BY customer",
                    list.join(", ")
                );
                let mut q = sqlx::query::<D::DB>(&sql);
                for c in chunk {
                    q = q.bind(c.clone());
                }
                for row in q.fetch_all(self.pool()).await? {
                    let id: String = Self::get(&row, "customer")?;
                    out.push(
                        CustomerId::parse(&id)
                            .map_err(|e| StoreError::Corrupt(format!("customer {id:?}: {e}")))?,
                    );
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        }

        async fn retire_contracts_of_other_sources(
            &self,
            keep: &[String],
            at: DateTime<Utc>,
        ) -> Result<u64> {
            let mut p = Params::default();
            let stamp = p.next();
            let list: Vec<String> = keep.iter().map(|_| p.next()).collect();
            let sql = if list.is_empty() {
                format!("UPDATE contracts SET retired_at = {stamp} WHERE retired_at IS NULL")
            } else {
                format!(
                    "UPDATE contracts SET retired_at = {stamp} \
                     WHERE retired_at IS NULL AND source NOT IN ({})",
                    list.join(", ")
                )
            };
            let mut q = sqlx::query::<D::DB>(&sql).bind(D::stamp(at));
            for k in keep {
                q = q.bind(k.clone());
            }
            let done = q.execute(self.pool()).await?;
            Ok(D::rows_affected(&done))
        }

        async fn retire_unseen_contracts(
            &self,
            source: &str,
            seen_since: DateTime<Utc>,
        ) -> Result<u64> {
            let mut conn = self.pool().acquire().await?;
            Self::retire_contracts(&mut conn, source, seen_since).await
        }

        async fn customers_page(
            &self,
            after: Option<&CustomerId>,
            limit: u32,
        ) -> Result<Vec<Customer>> {
            // Customer numbers are never empty, so '' starts before the first one.
            let after = after.map(|c| c.as_str().to_string()).unwrap_or_default();
            let mut conn = self.pool().acquire().await?;
            let sql = format!(
                "SELECT {} FROM customers WHERE customer > $1 ORDER BY customer LIMIT $2",
                CUSTOMERS.select_list()
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
            let mut conn = self.pool().acquire().await?;
            let sql = format!(
                "SELECT {} FROM customers WHERE customer = $1",
                CUSTOMERS.select_list()
            );
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
            let mut conn = self.pool().acquire().await?;
            let mut contracts = Self::fetch_for_customers(
                &mut conn,
                &format!(
                    "SELECT {} FROM contracts WHERE retired_at IS NULL AND",
                    CONTRACTS.select_list()
                ),
                customers,
                "",
                Self::contract,
            )
            .await?;
            contracts.sort_by(|a, b| {
                (&a.customer, &a.source, &a.id).cmp(&(&b.customer, &b.source, &b.id))
            });
            Ok(contracts)
        }

        async fn contracts_without_customer(&self) -> Result<Vec<Contract>> {
            let sql = format!(
                "SELECT {} FROM contracts WHERE retired_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer = contracts.customer) \
                 ORDER BY customer, source, id",
                CONTRACTS.select_list()
            );
            self.all_rows(&sql, Self::contract).await
        }

        async fn open_items_for(&self, customers: &[CustomerId]) -> Result<Vec<OpenItem>> {
            let mut conn = self.pool().acquire().await?;
            let packed = packed::pack_expr(OPEN_ITEMS.data_cols(), D::as_text, D::SEP_SQL);
            let read = Self::fetch_for_customers(
                &mut conn,
                &format!("SELECT {packed} AS packed FROM open_items WHERE cleared_at IS NULL AND"),
                customers,
                "",
                |row| packed::open_item(&Self::get::<String>(row, "packed")?),
            )
            .await;
            let mut items = match read {
                // A separator inside a value (see `packed::records`): read by columns.
                Err(StoreError::Corrupt(_)) => {
                    Self::open_items_by_columns(&mut conn, customers).await?
                }
                other => other?,
            };
            items.sort_by(|a, b| (&a.customer, &a.key).cmp(&(&b.customer, &b.key)));
            Ok(items)
        }

        async fn list_open_items(&self, filter: &OpenItemFilter) -> Result<Vec<OpenItem>> {
            let mut p = Params::default();
            let mut sql = format!(
                "SELECT {} FROM open_items WHERE cleared_at IS NULL",
                OPEN_ITEMS.select_list()
            );
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
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(Self::open_item)
                .collect()
        }

        async fn payment_terms(&self) -> Result<Vec<PaymentTerms>> {
            let sql = "SELECT key, description, rules FROM payment_terms ORDER BY key";
            self.all_rows(sql, Self::payment_terms_row).await
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
            .fetch_one(self.pool())
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
    }
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Marks cleared the open items a pull that started at `seen_since` did not see, in
        /// the caller's transaction (a pull's last page and its cursor go in the same one).
        pub(super) async fn retire_open_items(
            conn: &mut Conn<D>,
            seen_since: DateTime<Utc>,
        ) -> Result<u64> {
            let done = sqlx::query::<D::DB>(
                "UPDATE open_items SET cleared_at = $1 WHERE cleared_at IS NULL AND seen_at < $1",
            )
            .bind(D::stamp(seen_since))
            .execute(&mut *conn)
            .await?;
            Ok(D::rows_affected(&done))
        }

        /// Marks ended the contracts of `source` a load that started at `seen_since` did not
        /// see, in the caller's transaction.
        pub(super) async fn retire_contracts(
            conn: &mut Conn<D>,
            source: &str,
            seen_since: DateTime<Utc>,
        ) -> Result<u64> {
            let done = sqlx::query::<D::DB>(
                "UPDATE contracts SET retired_at = $2 \
                 WHERE source = $1 AND retired_at IS NULL AND seen_at < $2",
            )
            .bind(source.to_string())
            .bind(D::stamp(seen_since))
            .execute(&mut *conn)
            .await?;
            Ok(D::rows_affected(&done))
        }
    }
}
