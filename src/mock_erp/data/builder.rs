//! The generator's hands: it writes masters, register and ERP contracts, and the planted
//! findings and decoys that describe them, drawing every random choice from one stream.

use super::records::{
    reference_date, ymd, CompanyRec, CreditRec, Dataset, Planted, RegisterRow, SalesAreaRec,
    SalesContractRec,
};
use super::rng::SplitMix64;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub(super) const RULE_CC: &str = "payment_terms_company_code";
pub(super) const RULE_SA: &str = "payment_terms_sales_area";
pub(super) const RULE_CURRENCY: &str = "currency";
pub(super) const RULE_UNKNOWN: &str = "unknown_payment_terms";
pub(super) const RULE_UNREADABLE: &str = "contract_terms_unreadable";
pub(super) const RULE_MISSING: &str = "customer_missing";
pub(super) const RULE_CC_SA: &str = "payment_terms_company_vs_sales_area";
pub(super) const RULE_BLOCKED: &str = "customer_blocked";
pub(super) const RULE_BILLING: &str = "billing_address";
pub(super) const RULE_BILLED: &str = "open_item_billed_terms";
pub(super) const RULE_EXPIRED: &str = "contract_expired_special_terms";
pub(super) const RULE_CREDIT: &str = "credit_limit";

pub(super) fn cc_scope(cc: &str) -> String {
    format!("CC {cc}")
}

pub(super) fn sa_scope(org: &str) -> String {
    format!("SA {org}/10/00")
}

pub(super) fn contract_scope(id: &str) -> String {
    format!("contract {id}")
}

pub(super) fn default_currency(cc: &str) -> &'static str {
    if cc == "1710" {
        "USD"
    } else {
        "EUR"
    }
}

/// A register contract to write; empty strings mean "all" / "none".
#[derive(Default)]
pub(super) struct Reg {
    pub cc: &'static str,
    /// Sales organisation; when set, the contract names the full sales area `ORG/10/00`.
    pub sa: &'static str,
    pub terms: &'static str,
    pub currency: &'static str,
    /// Customer as written, when it differs from the master's form.
    pub written_as: Option<String>,
    /// Validity; `None` = 2024-01-01..2099-12-31.
    pub validity: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Billing street as the contract writes it, when it differs from the master's form.
    pub billing_street: Option<String>,
}

pub(super) struct Builder {
    pub rng: SplitMix64,
    pub ds: Dataset,
    pub register_seq: u32,
    pub erp_seq: u32,
    /// Customers with a scenario: their invoices are billed on the master's terms, so
    /// only a planted override shows up as billed on other terms.
    pub contracted: std::collections::HashSet<u32>,
    /// Customers whose invoices are billed on this key whatever the master says.
    pub billed_on: std::collections::HashMap<u32, &'static str>,
}

impl Builder {
    pub(super) fn customer(&self, i: u32) -> String {
        self.ds.customers[i as usize].customer.clone()
    }

    pub(super) fn cc(&mut self, i: u32, cc: &'static str, terms: &'static str) {
        let clerk = *self.rng.pick(&["01", "02", "03", "AR"]);
        self.ds.company_codes.push(CompanyRec {
            customer: i,
            company_code: cc,
            payment_terms: terms,
            reconciliation_account: "12100000",
            accounting_clerk: clerk,
            deleted: false,
            posting_blocked: false,
        });
    }

    pub(super) fn sa(
        &mut self,
        i: u32,
        org: &'static str,
        terms: &'static str,
        currency: &'static str,
    ) {
        self.ds.sales_areas.push(SalesAreaRec {
            customer: i,
            sales_org: org,
            distribution_channel: "10",
            division: "00",
            payment_terms: terms,
            currency,
            credit_control_area: "A000",
            deleted: false,
        });
    }

    pub(super) fn reg(&mut self, i: Option<u32>, r: Reg) -> String {
        self.register_seq += 1;
        let id = format!("CLM-{:05}", self.register_seq);
        let (customer, name, street, city, postal, country) = match i {
            Some(i) => {
                let c = &self.ds.customers[i as usize];
                let a = &self.ds.addresses[i as usize];
                (
                    r.written_as.clone().unwrap_or_else(|| c.customer.clone()),
                    c.name.clone(),
                    r.billing_street
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", a.street, a.house_number)),
                    a.city.to_string(),
                    a.postal_code.to_string(),
                    a.country.to_string(),
                )
            }
            None => (
                r.written_as.clone().unwrap_or_default(),
                "Vanished Trading Ltd".to_string(),
                "Old Road 1".to_string(),
                "Dublin".to_string(),
                "D02".to_string(),
                "IE".to_string(),
            ),
        };
        let (from, to) = r
            .validity
            .unwrap_or((Some(ymd(2024, 1, 1)), Some(ymd(2099, 12, 31))));
        let credit = Decimal::new(10_000 * (1 + self.rng.below(50) as i64) * 100, 2);
        // Credit management holds each current contract's limit in a segment of its own.
        let current =
            from.is_none_or(|f| f <= reference_date()) && to.is_none_or(|t| reference_date() <= t);
        if let (Some(i), true) = (i, current) {
            let segments = ["1000", "2000", "3000", "4000"];
            let taken = self
                .ds
                .credit_accounts
                .iter()
                .filter(|c| c.customer == i)
                .count();
            self.ds.credit_accounts.push(CreditRec {
                customer: i,
                segment: segments[taken.min(segments.len() - 1)],
                amount: credit,
                currency: r.currency,
            });
        }
        self.ds.register.push(RegisterRow {
            contract_id: id.clone(),
            customer,
            company_code: r.cc.to_string(),
            sales_org: r.sa.to_string(),
            distribution_channel: if r.sa.is_empty() { "" } else { "10" }.to_string(),
            division: if r.sa.is_empty() { "" } else { "00" }.to_string(),
            payment_terms: r.terms.to_string(),
            credit_limit: Some(credit),
            currency: r.currency.to_string(),
            billing_name: name,
            billing_street: street,
            billing_city: city,
            billing_postal_code: postal,
            billing_country: country,
            valid_from: from,
            valid_to: to,
        });
        id
    }

    pub(super) fn erp(
        &mut self,
        i: u32,
        org: &'static str,
        terms: &'static str,
        currency: &'static str,
    ) -> String {
        self.erp_seq += 1;
        let id = format!("{:010}", 40_000_000 + self.erp_seq);
        let net = Decimal::new(1_000_000 + self.rng.below(50_000_000) as i64, 2);
        self.ds.sales_contracts.push(SalesContractRec {
            sales_contract: id.clone(),
            customer: i,
            sales_org: org,
            distribution_channel: "10",
            division: "00",
            payment_terms: terms,
            currency,
            valid_from: ymd(2024, 1, 1),
            valid_to: ymd(2099, 12, 31),
            contract_date: ymd(2023, 12, 1 + self.rng.below(28) as u32),
            purchase_order: format!("PO-{}", 7000 + self.erp_seq),
            net_amount: net,
        });
        id
    }

    /// A finding the reconciler must raise.
    pub(super) fn plant(
        &mut self,
        rule: &'static str,
        i: u32,
        scope: String,
        field: &'static str,
        cid: &str,
    ) {
        let p = self.finding(rule, i, scope, field, cid);
        self.ds.planted.push(p);
    }

    /// A look-alike the reconciler must not raise.
    pub(super) fn decoy(
        &mut self,
        rule: &'static str,
        i: u32,
        scope: String,
        field: &'static str,
        cid: &str,
    ) {
        let p = self.finding(rule, i, scope, field, cid);
        self.ds.decoys.push(p);
    }

    fn finding(
        &self,
        rule: &'static str,
        i: u32,
        scope: String,
        field: &'static str,
        cid: &str,
    ) -> Planted {
        Planted {
            rule,
            customer: self.customer(i),
            scope,
            field,
            contract_id: cid.to_string(),
        }
    }

    /// Decoys for both payment-terms levels of one company code / sales organisation.
    pub(super) fn decoy_terms(&mut self, i: u32, org: &str, cid: &str) {
        self.decoy(RULE_CC, i, cc_scope(org), "payment_terms", cid);
        self.decoy(RULE_SA, i, sa_scope(org), "payment_terms", cid);
    }

    /// Masters on net 30 in company code and sales area 1010 and a register contract saying
    /// the same for company code 1010 (in EUR); `reg` sets what else the contract writes.
    pub(super) fn net30_contract(&mut self, i: u32, reg: Reg) -> String {
        self.masters(i, "1010", ("NT30", "NT30"), "EUR");
        self.reg(
            Some(i),
            Reg {
                cc: "1010",
                terms: "NT30",
                currency: "EUR",
                ..reg
            },
        )
    }

    /// Masters in company code and sales area `org` (`ORG/10/00`) on `cc_key` and `sa_key`.
    pub(super) fn masters(
        &mut self,
        i: u32,
        org: &'static str,
        (cc_key, sa_key): (&'static str, &'static str),
        currency: &'static str,
    ) {
        self.cc(i, org, cc_key);
        self.sa(i, org, sa_key, currency);
    }

    /// A register contract for every company code and sales area of the customer.
    pub(super) fn contract_for_all(
        &mut self,
        i: u32,
        terms: &'static str,
        currency: &'static str,
    ) -> String {
        self.reg(
            Some(i),
            Reg {
                terms,
                currency,
                ..Reg::default()
            },
        )
    }
}
