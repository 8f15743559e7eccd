//! One ERP record seen through a mapping, and its translation into model values.
//!
//! Every getter names the model field, the ERP property and the record's key when a value
//! cannot be read, so a bad record is reported precisely and skipped, never half-stored.

use super::json;
use super::ErpError;
use crate::erp::mapping::EntityMapping;
use crate::model::open_item::AppliedTerms;
use crate::model::{
    Address, CompanyCodeData, Contract, ContractScope, CreditLimit, CustomerGeneral, CustomerId,
    OpenItem, OpenItemKey, SalesArea, SalesAreaData,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub struct Record<'a> {
    mapping: &'a EntityMapping,
    raw: &'a Map<String, Value>,
    key: String,
}

impl<'a> Record<'a> {
    pub fn new(mapping: &'a EntityMapping, raw: &'a Map<String, Value>) -> Self {
        let key = mapping
            .order_by
            .iter()
            .map(|p| {
                raw.get(p)
                    .and_then(|v| json::as_string(v).ok().flatten())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("/");
        Record { mapping, raw, key }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    fn error(&self, field: &str, reason: impl std::fmt::Display) -> ErpError {
        ErpError::Record {
            what: self.mapping.entity_set.clone(),
            key: self.key.clone(),
            reason: format!(
                "field {field} ({}): {reason}",
                self.mapping.property(field).unwrap_or("unmapped")
            ),
        }
    }

    fn read<T>(
        &self,
        field: &str,
        parse: impl Fn(&Value) -> Result<T, String>,
        absent: T,
    ) -> Result<T, ErpError> {
        match self.mapping.property(field).and_then(|p| self.raw.get(p)) {
            None => Ok(absent),
            Some(v) => parse(v).map_err(|e| self.error(field, e)),
        }
    }

    pub fn string(&self, field: &str) -> Result<Option<String>, ErpError> {
        self.read(field, json::as_string, None)
            .map(|s| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
    }

    pub fn required(&self, field: &str) -> Result<String, ErpError> {
        self.string(field)?
            .ok_or_else(|| self.error(field, "missing or empty"))
    }

    pub fn flag(&self, field: &str) -> Result<bool, ErpError> {
        self.read(field, json::as_bool, false)
    }

    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, ErpError> {
        self.read(field, json::as_date, None)
    }

    pub fn required_date(&self, field: &str) -> Result<NaiveDate, ErpError> {
        self.date(field)?
            .ok_or_else(|| self.error(field, "missing date"))
    }

    /// An exact decimal, checked against the precision and scale `$metadata` declares for
    /// its property when the metadata was read.
    pub fn decimal(&self, field: &str) -> Result<Option<Decimal>, ErpError> {
        let value = self.read(field, json::as_decimal, None)?;
        if let (Some(d), Some((precision, scale))) = (
            value,
            self.mapping
                .property(field)
                .and_then(|p| self.mapping.decimal_facets.get(p)),
        ) {
            json::check_decimal(d, *precision, *scale).map_err(|e| self.error(field, e))?;
        }
        Ok(value)
    }

    pub fn number(&self, field: &str) -> Result<Option<u32>, ErpError> {
        self.read(field, json::as_u32, None)
    }

    /// The key of an open item, e.g. of one a delta answer reports as removed.
    pub fn open_item_key(&self) -> Result<OpenItemKey, ErpError> {
        Ok(OpenItemKey {
            company_code: self.required("company_code")?,
            fiscal_year: self.required("fiscal_year")?,
            document: self.required("document")?,
            item: self.required("item")?,
        })
    }

    pub fn customer(&self, field: &str) -> Result<CustomerId, ErpError> {
        CustomerId::parse(&self.required(field)?).map_err(|e| self.error(field, e))
    }

    // ---- translations into the model ----

    pub fn customer_general(&self) -> Result<CustomerGeneral, ErpError> {
        Ok(CustomerGeneral {
            customer: self.customer("customer")?,
            name: self.string("name")?.unwrap_or_default(),
            address: None,
            deletion_flag: self.flag("deletion_flag")?,
            posting_block: self.flag("posting_block")?,
            last_changed: None,
        })
    }

    /// An address row, keyed by its business partner (= customer number under CVI).
    pub fn address(&self) -> Result<(CustomerId, Address), ErpError> {
        let street = [self.string("street")?, self.string("house_number")?]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Ok((
            self.customer("customer")?,
            Address {
                name: String::new(),
                street,
                city: self.string("city")?.unwrap_or_default(),
                postal_code: self.string("postal_code")?.unwrap_or_default(),
                country: self.string("country")?.unwrap_or_default(),
            },
        ))
    }

    pub fn company_code(&self) -> Result<CompanyCodeData, ErpError> {
        Ok(CompanyCodeData {
            customer: self.customer("customer")?,
            company_code: self.required("company_code")?,
            payment_terms: self.string("payment_terms")?,
            reconciliation_account: self.string("reconciliation_account")?,
            accounting_clerk: self.string("accounting_clerk")?,
            dunning_procedure: self.string("dunning_procedure")?,
            deletion_flag: self.flag("deletion_flag")?,
            posting_block: self.flag("posting_block")?,
        })
    }

    pub fn credit_limit(&self) -> Result<CreditLimit, ErpError> {
        Ok(CreditLimit {
            customer: self.customer("customer")?,
            segment: self.required("segment")?,
            amount: self
                .decimal("amount")?
                .ok_or_else(|| self.error("amount", "missing credit limit"))?,
            currency: self.string("currency")?,
        })
    }

    pub fn sales_area(&self) -> Result<SalesAreaData, ErpError> {
        Ok(SalesAreaData {
            customer: self.customer("customer")?,
            area: SalesArea {
                sales_org: self.required("sales_org")?,
                distribution_channel: self.required("distribution_channel")?,
                division: self.required("division")?,
            },
            payment_terms: self.string("payment_terms")?,
            currency: self.string("currency")?,
            credit_control_area: self.string("credit_control_area")?,
            deletion_flag: self.flag("deletion_flag")?,
        })
    }

    pub fn open_item(&self) -> Result<OpenItem, ErpError> {
        let document_date = self.required_date("document_date")?;
        let posting_date = self.required_date("posting_date")?;
        let amount = self
            .decimal("amount")?
            .ok_or_else(|| self.error("amount", "missing amount"))?;
        let debit_credit = self.string("debit_credit")?;
        // Cubes send the amount signed; where a service sends it unsigned with S/H, sign it.
        let amount = match debit_credit.as_deref() {
            Some("H") if amount.is_sign_positive() => -amount,
            _ => amount,
        };
        Ok(OpenItem {
            key: OpenItemKey {
                company_code: self.required("company_code")?,
                fiscal_year: self.required("fiscal_year")?,
                document: self.required("document")?,
                item: self.required("item")?,
            },
            customer: self.customer("customer")?,
            document_date,
            posting_date,
            baseline_date: self.date("baseline_date")?.unwrap_or(document_date),
            payment_terms: self.string("payment_terms")?,
            applied: AppliedTerms {
                discount1_days: self.number("discount1_days")?,
                discount1_percent: self.decimal("discount1_percent")?,
                discount2_days: self.number("discount2_days")?,
                discount2_percent: self.decimal("discount2_percent")?,
                net_days: self.number("net_days")?,
            },
            net_due_date: self.date("net_due_date")?,
            amount,
            currency: self.required("currency")?,
            dunning_level: self
                .number("dunning_level")?
                .map(|l| u8::try_from(l).map_err(|_| self.error("dunning_level", "too large")))
                .transpose()?,
            dunning_block: self.string("dunning_block")?,
            dispute_case: self.string("dispute_case")?,
        })
    }

    pub fn contract(&self) -> Result<Contract, ErpError> {
        Ok(Contract {
            id: self.required("id")?,
            customer: self.customer("customer")?,
            scope: ContractScope {
                company_code: self.string("company_code")?,
                sales_org: self.string("sales_org")?,
                distribution_channel: self.string("distribution_channel")?,
                division: self.string("division")?,
            },
            payment_terms: self.string("payment_terms")?,
            credit_limit: self.decimal("credit_limit")?,
            currency: self.string("currency")?,
            billing_address: None,
            valid_from: self.date("valid_from")?,
            valid_to: self.date("valid_to")?,
            source: "erp".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::mapping::Mapping;
    use std::path::Path;

    #[test]
    fn a_decimal_with_more_digits_than_declared_is_an_error_naming_entity_key_and_field() {
        let mut m = Mapping::parse(
            include_str!("../../../mappings/s4hana-odata-v2.toml"),
            Path::new("m.toml"),
        )
        .unwrap();
        let items = m.entities.get_mut("open_items").unwrap();
        let raw: Map<String, Value> = serde_json::from_str(
            r#"{"CompanyCode":"1010","FiscalYear":"2026","AccountingDocument":"0100000001",
            "AccountingDocumentItem":"001","AmountInTransactionCurrency":"1250.1234"}"#,
        )
        .unwrap();
        // Without metadata the value is exact as sent.
        assert_eq!(
            Record::new(items, &raw).decimal("amount").unwrap(),
            Some(Decimal::from_str_exact("1250.1234").unwrap())
        );
        items
            .decimal_facets
            .insert("AmountInTransactionCurrency".into(), (24, Some(3)));
        let err = Record::new(items, &raw)
            .decimal("amount")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("A_OperationalAcctgDocItemCube")
                && err.contains("1010/2026/0100000001/001")
                && err.contains("amount (AmountInTransactionCurrency)")
                && err.contains("scale 3"),
            "{err}"
        );
    }
}
