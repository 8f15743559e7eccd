//! One ERP record seen through a mapping, and its translation into model values.
//!
//! Every getter names the model field, the ERP property and the record's key when a value
//! cannot be read, so a bad record is reported precisely and skipped, never half-stored.

use super::page::{Entity, Field};
use super::values;
use super::ErpError;
use crate::erp::dynamics_terms::{self, FoCashDiscount, FoPaymentTerms};
use crate::erp::mapping::EntityMapping;
use crate::model::open_item::AppliedTerms;
use crate::model::{
    Address, CompanyCodeData, Contract, ContractScope, CreditLimit, CustomerGeneral, CustomerId,
    OpenItem, OpenItemKey, SalesArea, SalesAreaData,
};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::borrow::Cow;

pub struct Record<'a> {
    mapping: &'a EntityMapping,
    entity: Entity<'a>,
}

impl<'a> Record<'a> {
    /// `entity` of a page read with `mapping`'s layout ([`super::page::Layout::of_mapping`]).
    pub fn new(mapping: &'a EntityMapping, entity: Entity<'a>) -> Self {
        Record { mapping, entity }
    }

    /// The record's key as the mapping orders the set (`1010/2026/0100000001/001`), for
    /// messages about it: built only when one is needed.
    pub fn key(&self) -> String {
        self.mapping
            .order_by
            .iter()
            .map(|p| {
                self.entity
                    .property(p)
                    .and_then(|v| values::as_string(v).ok().flatten())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    fn error(&self, field: &str, reason: impl std::fmt::Display) -> ErpError {
        ErpError::Record {
            what: self.mapping.entity_set.clone(),
            key: self.key(),
            reason: format!(
                "field {field} ({}): {reason}",
                self.mapping.property(field).unwrap_or("unmapped")
            ),
        }
    }

    fn read<T>(
        &self,
        field: &str,
        parse: impl Fn(Field<'a>) -> Result<T, String>,
        absent: T,
    ) -> Result<T, ErpError> {
        match self.entity.field(field) {
            None => Ok(absent),
            Some(v) => parse(v).map_err(|e| self.error(field, e)),
        }
    }

    pub fn string(&self, field: &str) -> Result<Option<String>, ErpError> {
        Ok(self.text(field)?.map(Cow::into_owned))
    }

    /// A string property as sent (trimmed, never empty), borrowed from the page where it is
    /// text; numbers and booleans are written out.
    fn text(&self, field: &str) -> Result<Option<Cow<'a, str>>, ErpError> {
        let Some(v) = self.entity.field(field) else {
            return Ok(None);
        };
        let text = match v {
            Field::Null => return Ok(None),
            Field::Text(s) => Cow::Borrowed(s.trim()),
            Field::Number(n) => n,
            Field::Bool(b) => Cow::Owned(b.to_string()),
            other => return Err(self.error(field, format!("expected a string, got {other}"))),
        };
        Ok(Some(text).filter(|t| !t.is_empty()))
    }

    pub fn required(&self, field: &str) -> Result<String, ErpError> {
        self.string(field)?
            .ok_or_else(|| self.error(field, "missing or empty"))
    }

    pub fn flag(&self, field: &str) -> Result<bool, ErpError> {
        match self.mapping.flags.get(field) {
            Some(set_values) => Ok(self
                .text(field)?
                .is_some_and(|v| set_values.iter().any(|s| s.trim() == v))),
            None => self.read(field, values::as_bool, false),
        }
    }

    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, ErpError> {
        self.read(field, values::as_date, None)
    }

    pub fn required_date(&self, field: &str) -> Result<NaiveDate, ErpError> {
        self.date(field)?
            .ok_or_else(|| self.error(field, "missing date"))
    }

    /// An exact decimal, checked against the precision and scale `$metadata` declares for
    /// its property when the metadata was read.
    pub fn decimal(&self, field: &str) -> Result<Option<Decimal>, ErpError> {
        let value = self.read(field, values::as_decimal, None)?;
        if let (Some(d), Some((precision, scale))) = (
            value,
            self.mapping
                .property(field)
                .and_then(|p| self.mapping.decimal_facets.get(p)),
        ) {
            values::check_decimal(d, *precision, *scale).map_err(|e| self.error(field, e))?;
        }
        Ok(value)
    }

    pub fn number(&self, field: &str) -> Result<Option<u32>, ErpError> {
        self.read(field, values::as_u32, None)
    }

    /// The item's fiscal year; where the mapping has none (an ERP whose item keys carry no
    /// fiscal year, such as Dynamics 365), the year of its posting date.
    fn fiscal_year(&self) -> Result<String, ErpError> {
        if self.mapping.property("fiscal_year").is_some() {
            return self.required("fiscal_year");
        }
        Ok(self.required_date("posting_date")?.year().to_string())
    }

    /// The key of an open item, e.g. of one a delta answer reports as removed.
    pub fn open_item_key(&self) -> Result<OpenItemKey, ErpError> {
        Ok(OpenItemKey {
            company_code: self.required("company_code")?,
            fiscal_year: self.fiscal_year()?,
            document: self.required("document")?,
            item: self.required("item")?,
        })
    }

    pub fn customer(&self, field: &str) -> Result<CustomerId, ErpError> {
        let text = self
            .text(field)?
            .ok_or_else(|| self.error(field, "missing or empty"))?;
        CustomerId::parse(&text).map_err(|e| self.error(field, e))
    }

    /// The payment-terms key. Where the ERP names the cash discount apart from the terms
    /// (Dynamics 365's `PaymentCashDiscount`, mapped as `cash_discount`), invoices are
    /// billed on the pair, which is the key.
    fn terms_key(&self) -> Result<Option<String>, ErpError> {
        Ok(
            match (self.string("payment_terms")?, self.string("cash_discount")?) {
                (Some(t), d) => Some(dynamics_terms::combined_key(&t, d.as_deref())),
                (None, _) => None,
            },
        )
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
            payment_terms: self.terms_key()?,
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
        let debit_credit = self.text("debit_credit")?;
        // Cubes send the amount signed; where a service sends it unsigned with S/H, sign it.
        let amount = match debit_credit.as_deref() {
            Some("H") if amount.is_sign_positive() => -amount,
            _ => amount,
        };
        Ok(OpenItem {
            key: OpenItemKey {
                company_code: self.required("company_code")?,
                fiscal_year: self.fiscal_year()?,
                document: self.required("document")?,
                item: self.required("item")?,
            },
            customer: self.customer("customer")?,
            document_date,
            posting_date,
            baseline_date: self.date("baseline_date")?.unwrap_or(document_date),
            payment_terms: self.terms_key()?,
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

    /// A Dynamics 365 terms-of-payment record (`[entities.payment_terms]`).
    pub fn fo_payment_terms(&self) -> Result<FoPaymentTerms, ErpError> {
        Ok(FoPaymentTerms {
            company: self.string("company")?,
            name: self.required("key")?,
            description: self.string("description")?.unwrap_or_default(),
            method: self.required("method")?,
            days: self.number("days")?.unwrap_or(0),
            months: self.number("months")?.unwrap_or(0),
            payment_day: self.string("payment_day")?,
            payment_schedule: self.string("payment_schedule")?,
            cutoff_day: self.number("cutoff_day")?,
        })
    }

    /// A Dynamics 365 cash-discount record (`[entities.cash_discounts]`).
    pub fn fo_cash_discount(&self) -> Result<FoCashDiscount, ErpError> {
        Ok(FoCashDiscount {
            code: self.required("code")?,
            description: self.string("description")?.unwrap_or_default(),
            method: self.required("method")?,
            days: self.number("days")?.unwrap_or(0),
            months: self.number("months")?.unwrap_or(0),
            percent: self
                .decimal("percent")?
                .ok_or_else(|| self.error("percent", "missing percentage"))?,
            next: self.string("next")?,
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
    use crate::erp::odata::page::{Layout, Page};
    use std::path::Path;
    use std::sync::Arc;

    /// A page of the one entity `json`, read with `mapping`'s layout.
    fn page(mapping: &EntityMapping, json: &str) -> Page {
        let body = format!(r#"{{"d":{{"results":[{json}]}}}}"#);
        super::super::json::parse_page(body.as_bytes(), &Arc::new(Layout::of_mapping(mapping)))
            .unwrap()
    }

    fn record<'a>(mapping: &'a EntityMapping, page: &'a Page) -> Record<'a> {
        Record::new(mapping, page.entities().next().unwrap())
    }

    #[test]
    fn dynamics_records_key_terms_with_their_cash_discount_and_read_statuses_as_flags() {
        let m = Mapping::parse(
            include_str!("../../../mappings/dynamics365-fo-odata-v4.toml"),
            Path::new("fo.toml"),
        )
        .unwrap();
        let raw = r#"{"dataAreaId":"usmf","CustomerAccount":"US-001","OrganizationName":"Contoso",
            "OnHoldStatus":"All","PaymentTerms":"Net30","PaymentCashDiscount":"2D10"}"#;
        let cc = record(
            m.entity("company_codes"),
            &page(m.entity("company_codes"), raw),
        )
        .company_code()
        .unwrap();
        assert_eq!(cc.payment_terms.as_deref(), Some("Net30+2D10"));
        let general = record(m.entity("customers"), &page(m.entity("customers"), raw))
            .customer_general()
            .unwrap();
        assert!(general.posting_block);
        let raw = r#"{"CustomerAccount":"US-002","OnHoldStatus":"Invoice","PaymentTerms":"Net30","PaymentCashDiscount":""}"#;
        assert!(
            !record(m.entity("customers"), &page(m.entity("customers"), raw))
                .customer_general()
                .unwrap()
                .posting_block
        );
        let raw = r#"{"dataAreaId":"usmf","CustomerAccount":"US-002","PaymentTerms":"Net30","PaymentCashDiscount":""}"#;
        let cc = record(
            m.entity("company_codes"),
            &page(m.entity("company_codes"), raw),
        )
        .company_code()
        .unwrap();
        assert_eq!(cc.payment_terms.as_deref(), Some("Net30"));
    }

    #[test]
    fn without_a_mapped_fiscal_year_the_posting_year_keys_the_item() {
        let m = Mapping::parse(
            include_str!("../../../mappings/dynamics365-fo-odata-v4.toml"),
            Path::new("fo.toml"),
        )
        .unwrap();
        let raw = r#"{"dataAreaId":"usmf","Voucher":"ARV-0001","RecId":"5637144577","AccountNum":"US-001",
            "DocumentDate":"2025-12-30T12:00:00Z","TransDate":"2026-01-02T12:00:00Z",
            "DueDate":"2026-01-29T12:00:00Z","AmountCur":"100.00","CurrencyCode":"USD",
            "PaymTermId":"Net30","CashDiscCode":""}"#;
        let item = record(m.entity("open_items"), &page(m.entity("open_items"), raw))
            .open_item()
            .unwrap();
        assert_eq!(item.key.fiscal_year, "2026");
        assert_eq!(item.key.document, "ARV-0001");
        assert_eq!(item.key.item, "5637144577");
        assert_eq!(item.payment_terms.as_deref(), Some("Net30"));
        assert_eq!(
            item.net_due_date,
            NaiveDate::from_ymd_opt(2026, 1, 29),
            "F&O's noon-UTC date-times are dates"
        );
    }

    #[test]
    fn a_decimal_with_more_digits_than_declared_is_an_error_naming_entity_key_and_field() {
        let mut m = Mapping::parse(
            include_str!("../../../mappings/s4hana-odata-v2.toml"),
            Path::new("m.toml"),
        )
        .unwrap();
        let items = m.entities.get_mut("open_items").unwrap();
        let raw = r#"{"CompanyCode":"1010","FiscalYear":"2026","AccountingDocument":"0100000001",
            "AccountingDocumentItem":"001","AmountInTransactionCurrency":"1250.1234"}"#;
        // Without metadata the value is exact as sent.
        assert_eq!(
            record(items, &page(items, raw)).decimal("amount").unwrap(),
            Some(Decimal::from_str_exact("1250.1234").unwrap())
        );
        items
            .decimal_facets
            .insert("AmountInTransactionCurrency".into(), (24, Some(3)));
        let err = record(items, &page(items, raw))
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
