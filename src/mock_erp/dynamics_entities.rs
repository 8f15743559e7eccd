//! The Dynamics 365 F&O face's data entities: their properties, SAP's payment-terms keys
//! in F&O's terms, and the rows of each entity drawn from the data set.

use super::data::{Dataset, OpenItemRec};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// The legal entity answered without `cross-company=true` (the user's default company).
pub(crate) const DEFAULT_COMPANY: &str = "1010";
/// RecIds of F&O records start in this range.
pub(crate) const FIRST_REC_ID: i64 = 5_637_144_576;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Str,
    /// An enumeration (`Microsoft.Dynamics.DataEntities.NAME`), sent as a member name.
    Enum(&'static str),
    Int,
    Int64,
    Dec,
    Date,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Prop {
    pub name: &'static str,
    pub ty: Ty,
}

pub(crate) const fn p(name: &'static str, ty: Ty) -> Prop {
    Prop { name, ty }
}

/// A value of one property of one row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    S(String),
    I(i64),
    D(Decimal),
    Date(NaiveDate),
}

impl V {
    pub(crate) fn cmp(&self, other: &V) -> Option<Ordering> {
        match (self, other) {
            (V::S(a), V::S(b)) => Some(a.cmp(b)),
            (V::I(a), V::I(b)) => Some(a.cmp(b)),
            (V::D(a), V::D(b)) => Some(a.cmp(b)),
            (V::I(a), V::D(b)) => Some(Decimal::from(*a).cmp(b)),
            (V::D(a), V::I(b)) => Some(a.cmp(&Decimal::from(*b))),
            (V::Date(a), V::Date(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Set {
    Customers,
    PaymentTerms,
    CashDiscounts,
    OpenTransactions,
}

pub(crate) const SETS: [Set; 4] = [
    Set::Customers,
    Set::PaymentTerms,
    Set::CashDiscounts,
    Set::OpenTransactions,
];

pub(crate) const CUSTOMER: &[Prop] = &[
    p("dataAreaId", Ty::Str),
    p("CustomerAccount", Ty::Str),
    p("OrganizationName", Ty::Str),
    p("PartyType", Ty::Str),
    p("CustomerGroupId", Ty::Str),
    p("AddressStreet", Ty::Str),
    p("AddressCity", Ty::Str),
    p("AddressZipCode", Ty::Str),
    p("AddressCountryRegionId", Ty::Str),
    p("AddressCountryRegionISOCode", Ty::Str),
    p("SalesCurrencyCode", Ty::Str),
    p("PaymentTerms", Ty::Str),
    p("PaymentCashDiscount", Ty::Str),
    p("CreditLimit", Ty::Dec),
    p("OnHoldStatus", Ty::Enum("CustVendorBlocked")),
];

pub(crate) const PAYMENT_TERM: &[Prop] = &[
    p("dataAreaId", Ty::Str),
    p("Name", Ty::Str),
    p("Description", Ty::Str),
    p("PaymentMethodType", Ty::Enum("NetCurrent")),
    p("NumberOfDays", Ty::Int),
    p("NumberOfMonths", Ty::Int),
    p("PaymentDayName", Ty::Str),
    p("PaymentScheduleName", Ty::Str),
    p("CutoffDayOfMonth", Ty::Int),
];

pub(crate) const CASH_DISCOUNT: &[Prop] = &[
    p("dataAreaId", Ty::Str),
    p("CashDiscountCode", Ty::Str),
    p("Description", Ty::Str),
    p("DiscountMethod", Ty::Enum("NetCurrent")),
    p("NumberOfDays", Ty::Int),
    p("NumberOfMonths", Ty::Int),
    p("Percent", Ty::Dec),
    p("NextCashDiscountCode", Ty::Str),
];

pub(crate) const OPEN_TRANSACTION: &[Prop] = &[
    p("dataAreaId", Ty::Str),
    p("Voucher", Ty::Str),
    p("RecId", Ty::Int64),
    p("AccountNum", Ty::Str),
    p("Invoice", Ty::Str),
    p("TransDate", Ty::Date),
    p("DocumentDate", Ty::Date),
    p("DueDate", Ty::Date),
    p("CashDiscDate", Ty::Date),
    p("PaymTermId", Ty::Str),
    p("CashDiscCode", Ty::Str),
    p("AmountCur", Ty::Dec),
    p("CurrencyCode", Ty::Str),
];

impl Set {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Set::Customers => "CustomersV3",
            Set::PaymentTerms => "PaymentTerms",
            Set::CashDiscounts => "CashDiscounts",
            Set::OpenTransactions => "CustomerOpenTransactions",
        }
    }

    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Set::Customers => "CustomerV3",
            Set::PaymentTerms => "PaymentTerm",
            Set::CashDiscounts => "CashDiscount",
            Set::OpenTransactions => "CustomerOpenTransaction",
        }
    }

    pub(crate) fn props(self) -> &'static [Prop] {
        match self {
            Set::Customers => CUSTOMER,
            Set::PaymentTerms => PAYMENT_TERM,
            Set::CashDiscounts => CASH_DISCOUNT,
            Set::OpenTransactions => OPEN_TRANSACTION,
        }
    }

    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            Set::Customers => &["dataAreaId", "CustomerAccount"],
            Set::PaymentTerms => &["dataAreaId", "Name"],
            Set::CashDiscounts => &["dataAreaId", "CashDiscountCode"],
            Set::OpenTransactions => &["dataAreaId", "Voucher", "RecId"],
        }
    }

    pub(crate) fn prop(self, name: &str) -> Option<&'static Prop> {
        self.props().iter().find(|p| p.name == name)
    }
}

// ---------------------------------------------------------------------------------------
// SAP's keys in F&O's terms

/// (code, method, days, months) of the terms of payment every legal entity holds.
pub(crate) const TERMS: [(&str, &str, i64, i64); 12] = [
    ("0001", "COD", 0, 0),
    ("NT00", "Net", 0, 0),
    ("NT30", "Net", 30, 0),
    ("Z030", "Net", 30, 0),
    ("NT45", "Net", 45, 0),
    ("NT60", "Net", 60, 0),
    ("0002", "Net", 30, 0),
    ("ZB10", "Net", 30, 0),
    ("0003", "Net", 45, 0),
    ("EM30", "CurrentMonth", 30, 0),
    ("EOM", "CurrentMonth", 0, 0),
    ("CQ30", "CurrentQuarter", 30, 0),
];

/// (code, days, percent, next code) of the cash discounts (all `Net`).
pub(crate) const DISCOUNTS: [(&str, i64, i64, &str); 3] = [
    ("2D10", 10, 2, ""),
    ("2D30", 30, 2, ""),
    ("3D14", 14, 3, "2D30"),
];

/// An SAP key as F&O holds it: terms code and cash-discount code.
pub(crate) fn fo_terms(sap_key: &str) -> (&str, &'static str) {
    match sap_key {
        "0002" | "ZB10" => (sap_key, "2D10"),
        "0003" => (sap_key, "3D14"),
        other => (other, ""),
    }
}

// ---------------------------------------------------------------------------------------
// Rows

/// The rows of one set in key order, for the legal entities asked about.
pub(crate) struct Rows<'a> {
    pub ds: &'a Dataset,
    pub set: Set,
    /// Index into the set's source (company codes, terms × companies, …).
    pub rows: Vec<usize>,
    pub companies: Vec<&'static str>,
}

pub(crate) fn companies(ds: &Dataset) -> Vec<&'static str> {
    let mut c: Vec<&'static str> = ds.company_codes.iter().map(|c| c.company_code).collect();
    c.sort_unstable();
    c.dedup();
    c
}

pub(crate) fn open_items(ds: &Dataset) -> Vec<usize> {
    ds.open_items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.account_type == b'D' && !i.is_cleared)
        .map(|(n, _)| n)
        .collect()
}

impl<'a> Rows<'a> {
    pub(crate) fn new(ds: &'a Dataset, set: Set, cross_company: bool) -> Rows<'a> {
        let all = companies(ds);
        let companies: Vec<&'static str> = all
            .iter()
            .copied()
            .filter(|c| cross_company || *c == DEFAULT_COMPANY)
            .collect();
        let mut rows: Vec<usize> = match set {
            Set::Customers => (0..ds.company_codes.len())
                .filter(|&i| companies.contains(&ds.company_codes[i].company_code))
                .collect(),
            Set::PaymentTerms | Set::CashDiscounts => {
                let per = if set == Set::PaymentTerms {
                    TERMS.len()
                } else {
                    DISCOUNTS.len()
                };
                (0..companies.len() * per).collect()
            }
            Set::OpenTransactions => open_items(ds)
                .into_iter()
                .filter(|&i| companies.contains(&ds.open_items[i].company_code))
                .collect(),
        };
        let mut r = Rows {
            ds,
            set,
            rows: Vec::new(),
            companies,
        };
        rows.sort_by(|&a, &b| {
            set.keys()
                .iter()
                .map(|k| r.value(a, k).cmp(&r.value(b, k)).unwrap_or(Ordering::Equal))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        });
        r.rows = rows;
        r
    }

    pub(crate) fn item(&self, i: usize) -> &OpenItemRec {
        &self.ds.open_items[i]
    }

    pub(crate) fn value(&self, i: usize, prop: &str) -> V {
        let s = |v: &str| V::S(v.to_string());
        match self.set {
            Set::Customers => {
                let cc = &self.ds.company_codes[i];
                let cust = &self.ds.customers[cc.customer as usize];
                // Looked up only for the properties that need them: sorting reads keys often.
                let address = || self.ds.addresses.iter().find(|a| a.customer == cc.customer);
                let (terms, discount) = fo_terms(cc.payment_terms);
                match prop {
                    "dataAreaId" => s(cc.company_code),
                    "CustomerAccount" => s(&cust.customer),
                    "OrganizationName" => s(&cust.name),
                    "PartyType" => s("Organization"),
                    "CustomerGroupId" => s(cust.account_group),
                    "AddressStreet" => s(&address()
                        .map(|a| format!("{} {}", a.street, a.house_number))
                        .unwrap_or_default()),
                    "AddressCity" => s(address().map(|a| a.city).unwrap_or_default()),
                    "AddressZipCode" => s(address().map(|a| a.postal_code).unwrap_or_default()),
                    // F&O's own country/region IDs are three letters; the ISO code is
                    // beside them.
                    "AddressCountryRegionId" => {
                        s(match address().map(|a| a.country).unwrap_or(cust.country) {
                            "DE" => "DEU",
                            "US" => "USA",
                            "CN" => "CHN",
                            "IE" => "IRL",
                            other => other,
                        })
                    }
                    "AddressCountryRegionISOCode" => {
                        s(address().map(|a| a.country).unwrap_or(cust.country))
                    }
                    "SalesCurrencyCode" => s(self
                        .ds
                        .sales_areas
                        .iter()
                        .find(|sa| sa.customer == cc.customer && sa.sales_org == cc.company_code)
                        .map(|sa| sa.currency)
                        .unwrap_or("EUR")),
                    "PaymentTerms" => s(terms),
                    "PaymentCashDiscount" => s(discount),
                    // F&O holds one limit per customer and legal entity. The SAP data's
                    // credit segments 1000, 2000, … become the customer's first, second, …
                    // legal entity; a segment beyond them (or `0000`) has no place in F&O.
                    // 0 means no limit.
                    "CreditLimit" => {
                        let mut entities: Vec<&str> = self
                            .ds
                            .company_codes
                            .iter()
                            .filter(|c| c.customer == cc.customer)
                            .map(|c| c.company_code)
                            .collect();
                        entities.sort_unstable();
                        let nth = entities.iter().position(|c| *c == cc.company_code);
                        let limit = self
                            .ds
                            .credit_accounts
                            .iter()
                            .filter(|c| c.customer == cc.customer)
                            .find(|c| {
                                c.segment
                                    .parse::<usize>()
                                    .ok()
                                    .and_then(|s| (s / 1000).checked_sub(1))
                                    == nth
                            })
                            .map(|c| c.amount)
                            .unwrap_or(Decimal::ZERO);
                        V::D(limit)
                    }
                    // SAP's customer-wide posting block holds every transaction in every
                    // legal entity; its company-code block only stops that company's
                    // invoicing here.
                    "OnHoldStatus" => s(if cust.posting_blocked {
                        "All"
                    } else if cc.posting_blocked {
                        "Invoice"
                    } else {
                        "No"
                    }),
                    _ => s(""),
                }
            }
            Set::PaymentTerms => {
                let company = self.companies[i / TERMS.len()];
                let (code, method, days, months) = TERMS[i % TERMS.len()];
                match prop {
                    "dataAreaId" => s(company),
                    "Name" => s(code),
                    "Description" => s(&format!("{method} {days}")),
                    "PaymentMethodType" => s(method),
                    "NumberOfDays" => V::I(days),
                    "NumberOfMonths" => V::I(months),
                    "CutoffDayOfMonth" => V::I(0),
                    _ => s(""),
                }
            }
            Set::CashDiscounts => {
                let company = self.companies[i / DISCOUNTS.len()];
                let (code, days, percent, next) = DISCOUNTS[i % DISCOUNTS.len()];
                match prop {
                    "dataAreaId" => s(company),
                    "CashDiscountCode" => s(code),
                    "Description" => s(&format!("{percent}% {days} days")),
                    "DiscountMethod" => s("Net"),
                    "NumberOfDays" => V::I(days),
                    "NumberOfMonths" => V::I(0),
                    "Percent" => V::D(Decimal::from(percent)),
                    "NextCashDiscountCode" => s(next),
                    _ => s(""),
                }
            }
            Set::OpenTransactions => {
                let it = self.item(i);
                let (terms, discount) = fo_terms(it.payment_terms);
                match prop {
                    "dataAreaId" => s(it.company_code),
                    "Voucher" => s(&format!("ARV{:010}", it.document)),
                    "RecId" => V::I(FIRST_REC_ID + i as i64),
                    "AccountNum" => s(&self.ds.customers[it.party as usize].customer),
                    "Invoice" if it.debit => s(&format!("CIV{:08}", it.document)),
                    "Invoice" => s(""),
                    "TransDate" => V::Date(it.posting_date),
                    "DocumentDate" => V::Date(it.document_date),
                    "DueDate" => V::Date(it.net_due_date),
                    "CashDiscDate" if it.cd1_days > 0 => {
                        V::Date(it.baseline_date + chrono::Duration::days(i64::from(it.cd1_days)))
                    }
                    "CashDiscDate" => V::Date(it.net_due_date),
                    "PaymTermId" => s(terms),
                    "CashDiscCode" => s(discount),
                    "AmountCur" => V::D(it.amount),
                    "CurrencyCode" => s(it.currency),
                    _ => s(""),
                }
            }
        }
    }
}
