//! Row decoders: a stored row back into its model type, with a [`StoreError::Corrupt`]
//! naming the column and value when the stored text cannot be read.

use super::dialect::{sql_impl, DbRow, SqlStore};
use super::{OutboxEntry, OutboxKind, Result, StoreError};
use crate::model::open_item::AppliedTerms;
use crate::model::{
    Address, CompanyCodeData, Contact, Contract, ContractScope, CreditLimit, CustomerGeneral,
    CustomerId, Discrepancy, Exposure, Finding, OpenItem, OpenItemKey, PaymentTerms, SalesArea,
    SalesAreaData, StatusChange,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use std::str::FromStr;

pub(super) fn corrupt(what: &str, value: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}: {err}"))
}

pub(super) fn customer_id(raw: String) -> Result<CustomerId> {
    CustomerId::parse(&raw).map_err(|e| corrupt("customer", &raw, e))
}

pub(super) fn parsed<T: FromStr>(what: &str, raw: String) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e| corrupt(what, &raw, e))
}

pub(super) fn narrow<T: TryFrom<i64>>(what: &str, value: i64) -> Result<T> {
    T::try_from(value).map_err(|_| corrupt(what, &value.to_string(), "out of range"))
}

/// A JSON column (payment-terms rules, exposure by currency, outbox payloads).
fn json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, text, e))
}

/// A `COUNT(*)`, never negative.
pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn outbox_kind(raw: String) -> Result<OutboxKind> {
    match raw.as_str() {
        "note" => Ok(OutboxKind::Note),
        "dispute_status" => Ok(OutboxKind::DisputeStatus),
        _ => Err(corrupt("outbox kind", &raw, "unknown kind")),
    }
}

sql_impl! {
    impl<D> SqlStore<D> {
        /// Every row of a statement without parameters, decoded.
        pub(super) async fn all_rows<T: Send>(
            &self,
            sql: &str,
            decode: fn(&DbRow<D>) -> Result<T>,
        ) -> Result<Vec<T>> {
            sqlx::query::<D::DB>(sql)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(decode)
                .collect()
        }

        pub(super) fn get<T: super::dialect::Col<D::DB>>(row: &DbRow<D>, col: &str) -> Result<T> {
            Ok(row.try_get::<T, _>(col)?)
        }

        pub(super) fn amount(row: &DbRow<D>, col: &str) -> Result<Decimal> {
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

        pub(super) fn company_code(row: &DbRow<D>) -> Result<CompanyCodeData> {
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

        pub(super) fn credit_limit(row: &DbRow<D>) -> Result<CreditLimit> {
            Ok(CreditLimit {
                customer: customer_id(Self::get(row, "customer")?)?,
                segment: Self::get(row, "segment")?,
                amount: Self::amount(row, "amount")?,
                currency: Self::get(row, "currency")?,
            })
        }

        pub(super) fn sales_area(row: &DbRow<D>) -> Result<SalesAreaData> {
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

        pub(super) fn contact(row: &DbRow<D>) -> Result<Contact> {
            Ok(Contact {
                customer: customer_id(Self::get(row, "customer")?)?,
                contact: Self::get(row, "contact")?,
                first_name: Self::get(row, "first_name")?,
                last_name: Self::get(row, "last_name")?,
                department: Self::get(row, "department")?,
                function: Self::get(row, "function")?,
                phone: Self::get(row, "phone")?,
                email: Self::get(row, "email")?,
                deleted: Self::get(row, "deleted")?,
            })
        }

        pub(super) fn open_item(row: &DbRow<D>) -> Result<OpenItem> {
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

        pub(super) fn contract(row: &DbRow<D>) -> Result<Contract> {
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

        pub(super) fn payment_terms_row(row: &DbRow<D>) -> Result<PaymentTerms> {
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
                        by_currency: json(
                            "exposure_by_currency",
                            &Self::get::<String>(row, "exposure_by_currency")?,
                        )?,
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

        pub(super) fn status_change(row: &DbRow<D>) -> Result<StatusChange> {
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
            Ok(OutboxEntry {
                id: Self::get(row, "id")?,
                kind: outbox_kind(Self::get(row, "kind")?)?,
                idempotency_key: Self::get(row, "idempotency_key")?,
                payload: json("outbox payload", &Self::get::<String>(row, "payload")?)?,
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
    }
}
