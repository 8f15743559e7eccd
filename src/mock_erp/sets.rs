//! The entity sets the mock serves: their SAP property names and types (a subset of SAP's
//! own metadata, same names and types), how a record yields a property value, and the
//! `$metadata` documents built from that.

use super::data::{Dataset, TextRec};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edm {
    String,
    Boolean,
    /// `Edm.DateTime` with `sap:display-format="Date"`.
    Date,
    DateTimeOffset,
    Decimal,
}

impl Edm {
    fn name(self) -> &'static str {
        match self {
            Edm::String => "Edm.String",
            Edm::Boolean => "Edm.Boolean",
            Edm::Date => "Edm.DateTime",
            Edm::DateTimeOffset => "Edm.DateTimeOffset",
            Edm::Decimal => "Edm.Decimal",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Prop {
    pub name: &'static str,
    pub ty: Edm,
    pub max_len: u16,
    pub precision: u8,
    pub scale: u8,
    pub key: bool,
    pub upper: bool,
    pub filterable: bool,
    pub sortable: bool,
    pub creatable: bool,
    pub updatable: bool,
    pub unit: Option<&'static str>,
}

const fn p(name: &'static str, ty: Edm) -> Prop {
    Prop {
        name,
        ty,
        max_len: 0,
        precision: 0,
        scale: 0,
        key: false,
        upper: false,
        filterable: true,
        sortable: true,
        creatable: true,
        updatable: true,
        unit: None,
    }
}

/// `Edm.String` of SAP's CHAR type: upper case unless said otherwise.
const fn s(name: &'static str, len: u16) -> Prop {
    let mut x = p(name, Edm::String);
    x.max_len = len;
    x.upper = true;
    x
}

const fn b(name: &'static str) -> Prop {
    p(name, Edm::Boolean)
}

const fn d(name: &'static str) -> Prop {
    p(name, Edm::Date)
}

const fn dto(name: &'static str) -> Prop {
    p(name, Edm::DateTimeOffset)
}

const fn dec(name: &'static str, precision: u8, scale: u8) -> Prop {
    let mut x = p(name, Edm::Decimal);
    x.precision = precision;
    x.scale = scale;
    x
}

impl Prop {
    const fn key(mut self) -> Self {
        self.key = true;
        self
    }

    /// Mixed-case text (names, streets).
    const fn text(mut self) -> Self {
        self.upper = false;
        self
    }

    const fn ro(mut self) -> Self {
        self.creatable = false;
        self.updatable = false;
        self
    }

    const fn unit(mut self, u: &'static str) -> Self {
        self.unit = Some(u);
        self
    }

    const fn opaque(mut self) -> Self {
        self.filterable = false;
        self.sortable = false;
        self
    }
}

const CUSTOMER: &[Prop] = &[
    s("Customer", 10).key(),
    s("CustomerName", 80).text().ro(),
    s("CustomerFullName", 220).ro(),
    s("CustomerAccountGroup", 4),
    d("CreationDate").ro(),
    s("OrderIsBlockedForCustomer", 2),
    b("PostingIsBlocked"),
    b("DeletionIndicator"),
];

const CUSTOMER_COMPANY: &[Prop] = &[
    s("Customer", 10).key(),
    s("CompanyCode", 4).key(),
    s("AccountingClerk", 2),
    s("PaymentTerms", 4),
    s("ReconciliationAccount", 10),
    b("PhysicalInventoryBlockInd"),
    b("DeletionIndicator"),
    s("CustomerAccountGroup", 4),
];

const CUSTOMER_SALES_AREA: &[Prop] = &[
    s("Customer", 10).key(),
    s("SalesOrganization", 4).key(),
    s("DistributionChannel", 2).key(),
    s("Division", 2).key(),
    s("CreditControlArea", 4),
    s("Currency", 5),
    s("CustomerPaymentTerms", 4),
    b("DeletionIndicator"),
    s("CustomerAccountGroup", 4),
];

const BP_ADDRESS: &[Prop] = &[
    s("BusinessPartner", 10).key(),
    s("AddressID", 10).key(),
    dto("ValidityStartDate"),
    dto("ValidityEndDate"),
    s("CityName", 40).text(),
    s("Country", 3),
    s("FullName", 80).text().ro(),
    s("HouseNumber", 10).text(),
    s("Language", 2).text(),
    s("PostalCode", 10),
    s("Region", 3),
    s("StreetName", 60).text(),
];

// SAP marks LongText read-only in its metadata although the service accepts it on create
// and update; the mock says what it does.
const CUSTOMER_TEXT: &[Prop] = &[
    s("Customer", 10).key(),
    s("Language", 2).key().text(),
    s("LongTextID", 4).key(),
    s("LongText", 0).text().opaque(),
];

const CUSTOMER_COMPANY_TEXT: &[Prop] = &[
    s("Customer", 10).key(),
    s("CompanyCode", 4).key(),
    s("Language", 2).key().text(),
    s("LongTextID", 4).key(),
    s("LongText", 0).text().opaque(),
];

const OPEN_ITEM: &[Prop] = &[
    s("CompanyCode", 4).key(),
    s("FiscalYear", 4).key(),
    s("AccountingDocument", 10).key(),
    s("AccountingDocumentItem", 3).key(),
    d("ClearingDate"),
    s("ClearingAccountingDocument", 10),
    b("IsCleared"),
    s("FinancialAccountType", 1),
    s("DebitCreditCode", 1),
    s("Customer", 10),
    s("CustomerName", 80).text(),
    s("Supplier", 10),
    d("DueCalculationBaseDate"),
    s("PaymentTerms", 4),
    dec("CashDiscount1Days", 3, 0),
    dec("CashDiscount2Days", 3, 0),
    dec("NetPaymentDays", 3, 0),
    dec("CashDiscount1Percent", 5, 3),
    dec("CashDiscount2Percent", 5, 3),
    s("InvoiceReference", 10),
    s("DunningBlockingReason", 1),
    s("DunningLevel", 1),
    d("PostingDate"),
    d("DocumentDate"),
    s("AccountingDocumentType", 2),
    d("NetDueDate"),
    s("TransactionCurrency", 5),
    dec("AmountInTransactionCurrency", 24, 3).unit("TransactionCurrency"),
    d("LastChangeDate"),
];

const SALES_CONTRACT: &[Prop] = &[
    s("SalesContract", 10).key(),
    s("SalesContractType", 4),
    s("SalesOrganization", 4),
    s("DistributionChannel", 2),
    s("OrganizationDivision", 2),
    s("SoldToParty", 10),
    d("CreationDate").ro(),
    dto("LastChangeDateTime").ro(),
    s("PurchaseOrderByCustomer", 35).text(),
    d("SalesContractDate"),
    dec("TotalNetAmount", 16, 3)
        .unit("TransactionCurrency")
        .ro(),
    s("TransactionCurrency", 5).text(),
    s("CustomerPaymentTerms", 4),
    d("SalesContractValidityStartDate"),
    d("SalesContractValidityEndDate"),
];

/// S/4HANA credit management master data (`API_CRDTMBUSINESSPARTNER`): the credit limit of
/// a business partner per credit segment.
const CREDIT_ACCOUNT: &[Prop] = &[
    s("BusinessPartner", 10).key(),
    s("CreditSegment", 10).key(),
    dec("CreditLimitAmount", 15, 2).unit("CreditSegmentCurrency"),
    s("CreditSegmentCurrency", 5),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    BusinessPartner,
    OpenItems,
    SalesContract,
    CreditManagement,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::BusinessPartner => "API_BUSINESS_PARTNER",
            Service::OpenItems => "API_OPLACCTGDOCITEMCUBE_SRV",
            Service::SalesContract => "API_SALES_CONTRACT_SRV",
            Service::CreditManagement => "API_CRDTMBUSINESSPARTNER",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        [
            Service::BusinessPartner,
            Service::OpenItems,
            Service::SalesContract,
            Service::CreditManagement,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    pub fn sets(self) -> &'static [Set] {
        match self {
            Service::BusinessPartner => &[
                Set::BpAddress,
                Set::Customer,
                Set::CustomerCompany,
                Set::CustomerCompanyText,
                Set::CustomerSalesArea,
                Set::CustomerText,
            ],
            Service::OpenItems => &[Set::OpenItem],
            Service::SalesContract => &[Set::SalesContract],
            Service::CreditManagement => &[Set::CreditAccount],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Set {
    Customer,
    CustomerCompany,
    CustomerSalesArea,
    BpAddress,
    CustomerText,
    CustomerCompanyText,
    OpenItem,
    SalesContract,
    CreditAccount,
}

impl Set {
    pub fn name(self) -> &'static str {
        match self {
            Set::Customer => "A_Customer",
            Set::CustomerCompany => "A_CustomerCompany",
            Set::CustomerSalesArea => "A_CustomerSalesArea",
            Set::BpAddress => "A_BusinessPartnerAddress",
            Set::CustomerText => "A_CustomerText",
            Set::CustomerCompanyText => "A_CustomerCompanyText",
            Set::OpenItem => "A_OperationalAcctgDocItemCube",
            Set::SalesContract => "A_SalesContract",
            Set::CreditAccount => "CreditManagementAccount",
        }
    }

    pub fn service(self) -> Service {
        match self {
            Set::OpenItem => Service::OpenItems,
            Set::SalesContract => Service::SalesContract,
            Set::CreditAccount => Service::CreditManagement,
            _ => Service::BusinessPartner,
        }
    }

    pub fn type_name(self) -> String {
        format!("{}Type", self.name())
    }

    pub fn props(self) -> &'static [Prop] {
        match self {
            Set::Customer => CUSTOMER,
            Set::CustomerCompany => CUSTOMER_COMPANY,
            Set::CustomerSalesArea => CUSTOMER_SALES_AREA,
            Set::BpAddress => BP_ADDRESS,
            Set::CustomerText => CUSTOMER_TEXT,
            Set::CustomerCompanyText => CUSTOMER_COMPANY_TEXT,
            Set::OpenItem => OPEN_ITEM,
            Set::SalesContract => SALES_CONTRACT,
            Set::CreditAccount => CREDIT_ACCOUNT,
        }
    }

    pub fn prop(self, name: &str) -> Option<&'static Prop> {
        self.props().iter().find(|p| p.name == name)
    }

    pub fn keys(self) -> impl Iterator<Item = &'static Prop> {
        self.props().iter().filter(|p| p.key)
    }

    /// The text sets accept create, update and delete; the rest are read-only here.
    pub fn is_text(self) -> bool {
        matches!(self, Set::CustomerText | Set::CustomerCompanyText)
    }
}

/// A property value, borrowed from the data set where possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    Bool(bool),
    Date(NaiveDate),
    Dto(DateTime<Utc>),
    Dec(Decimal),
}

fn st(s: &str) -> Val<'_> {
    Val::Str(Cow::Borrowed(s))
}

fn owned<'a>(s: String) -> Val<'a> {
    Val::Str(Cow::Owned(s))
}

fn opt_date<'a>(d: Option<NaiveDate>) -> Val<'a> {
    d.map(Val::Date).unwrap_or(Val::Null)
}

/// Rows of one entity set, readable by property name.
pub(crate) trait Table {
    fn len(&self) -> usize;
    fn value(&self, row: usize, prop: &str) -> Val<'_>;
}

pub(crate) struct DsTable<'a> {
    pub ds: &'a Dataset,
    pub set: Set,
    /// Open items cleared since the data set was made (row → clearing date), as the delta
    /// tests clear them.
    pub cleared: Option<&'a std::collections::BTreeMap<usize, NaiveDate>>,
}

pub(crate) struct TextTable<'a> {
    pub rows: &'a [TextRec],
}

impl Table for TextTable<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn value(&self, row: usize, prop: &str) -> Val<'_> {
        text_value(&self.rows[row], prop)
    }
}

fn text_value<'a>(t: &'a TextRec, prop: &str) -> Val<'a> {
    match prop {
        "Customer" => st(&t.customer),
        "CompanyCode" => st(t.company_code.as_deref().unwrap_or("")),
        "Language" => st(&t.language),
        "LongTextID" => st(&t.long_text_id),
        "LongText" => st(&t.long_text),
        _ => Val::Null,
    }
}

fn pct(milli: u16) -> Val<'static> {
    Val::Dec(Decimal::new(i64::from(milli), 3))
}

impl Table for DsTable<'_> {
    fn len(&self) -> usize {
        match self.set {
            Set::Customer => self.ds.customers.len(),
            Set::CustomerCompany => self.ds.company_codes.len(),
            Set::CustomerSalesArea => self.ds.sales_areas.len(),
            Set::BpAddress => self.ds.addresses.len(),
            Set::CustomerText => self.ds.customer_texts.len(),
            Set::CustomerCompanyText => self.ds.company_texts.len(),
            Set::OpenItem => self.ds.open_items.len(),
            Set::SalesContract => self.ds.sales_contracts.len(),
            Set::CreditAccount => self.ds.credit_accounts.len(),
        }
    }

    fn value(&self, row: usize, prop: &str) -> Val<'_> {
        let ds = self.ds;
        let cust = |i: u32| ds.customers[i as usize].customer.as_str();
        match self.set {
            Set::Customer => {
                let c = &ds.customers[row];
                match prop {
                    "Customer" => st(&c.customer),
                    "CustomerName" => st(&c.name),
                    "CustomerFullName" => owned(c.name.to_uppercase()),
                    "CustomerAccountGroup" => st(c.account_group),
                    "CreationDate" => Val::Date(c.creation_date),
                    "OrderIsBlockedForCustomer" => st(c.order_block),
                    "PostingIsBlocked" => Val::Bool(c.posting_blocked),
                    "DeletionIndicator" => Val::Bool(c.deleted),
                    _ => Val::Null,
                }
            }
            Set::CustomerCompany => {
                let c = &ds.company_codes[row];
                match prop {
                    "Customer" => st(cust(c.customer)),
                    "CompanyCode" => st(c.company_code),
                    "AccountingClerk" => st(c.accounting_clerk),
                    "PaymentTerms" => st(c.payment_terms),
                    "ReconciliationAccount" => st(c.reconciliation_account),
                    "PhysicalInventoryBlockInd" => Val::Bool(c.posting_blocked),
                    "DeletionIndicator" => Val::Bool(c.deleted),
                    "CustomerAccountGroup" => st("CUST"),
                    _ => Val::Null,
                }
            }
            Set::CreditAccount => {
                let c = &ds.credit_accounts[row];
                match prop {
                    "BusinessPartner" => st(cust(c.customer)),
                    "CreditSegment" => st(c.segment),
                    "CreditLimitAmount" => Val::Dec(c.amount),
                    "CreditSegmentCurrency" => st(c.currency),
                    _ => Val::Null,
                }
            }
            Set::CustomerSalesArea => {
                let a = &ds.sales_areas[row];
                match prop {
                    "Customer" => st(cust(a.customer)),
                    "SalesOrganization" => st(a.sales_org),
                    "DistributionChannel" => st(a.distribution_channel),
                    "Division" => st(a.division),
                    "CreditControlArea" => st(a.credit_control_area),
                    "Currency" => st(a.currency),
                    "CustomerPaymentTerms" => st(a.payment_terms),
                    "DeletionIndicator" => Val::Bool(a.deleted),
                    "CustomerAccountGroup" => st("CUST"),
                    _ => Val::Null,
                }
            }
            Set::BpAddress => {
                let a = &ds.addresses[row];
                match prop {
                    "BusinessPartner" => st(cust(a.customer)),
                    "AddressID" => st(&a.address_id),
                    "ValidityStartDate" => Val::Dto(
                        ds.customers[a.customer as usize]
                            .creation_date
                            .and_hms_opt(0, 0, 0)
                            .unwrap_or_default()
                            .and_utc(),
                    ),
                    "ValidityEndDate" => Val::Dto(
                        NaiveDate::from_ymd_opt(9999, 12, 31)
                            .and_then(|d| d.and_hms_opt(23, 59, 59))
                            .unwrap_or_default()
                            .and_utc(),
                    ),
                    "CityName" => st(a.city),
                    "Country" => st(a.country),
                    "FullName" => st(&ds.customers[a.customer as usize].name),
                    "HouseNumber" => st(&a.house_number),
                    "Language" => st(a.language),
                    "PostalCode" => st(a.postal_code),
                    "Region" => st(a.region),
                    "StreetName" => st(a.street),
                    _ => Val::Null,
                }
            }
            Set::CustomerText => text_value(&ds.customer_texts[row], prop),
            Set::CustomerCompanyText => text_value(&ds.company_texts[row], prop),
            Set::OpenItem => {
                let i = &ds.open_items[row];
                let is_customer = i.account_type == b'D';
                match prop {
                    "CompanyCode" => st(i.company_code),
                    "FiscalYear" => owned(i.fiscal_year.to_string()),
                    "AccountingDocument" => owned(format!("{:010}", i.document)),
                    "AccountingDocumentItem" => owned(format!("{:03}", i.item)),
                    "ClearingDate" => opt_date(
                        self.cleared
                            .and_then(|c| c.get(&row).copied())
                            .or(i.clearing_date),
                    ),
                    "ClearingAccountingDocument" => owned(if i.clearing_document == 0 {
                        String::new()
                    } else {
                        format!("{:010}", i.clearing_document)
                    }),
                    "IsCleared" => Val::Bool(
                        i.is_cleared || self.cleared.is_some_and(|c| c.contains_key(&row)),
                    ),
                    "FinancialAccountType" => st(if is_customer { "D" } else { "K" }),
                    "DebitCreditCode" => st(if i.debit { "S" } else { "H" }),
                    "Customer" => st(if is_customer { cust(i.party) } else { "" }),
                    "CustomerName" => st(if is_customer {
                        ds.customers[i.party as usize].name.as_str()
                    } else {
                        ""
                    }),
                    "Supplier" => owned(if is_customer {
                        String::new()
                    } else {
                        format!("{:010}", i.party)
                    }),
                    "DueCalculationBaseDate" => Val::Date(i.baseline_date),
                    "PaymentTerms" => st(i.payment_terms),
                    "CashDiscount1Days" => Val::Dec(Decimal::from(i.cd1_days)),
                    "CashDiscount2Days" => Val::Dec(Decimal::from(i.cd2_days)),
                    "NetPaymentDays" => Val::Dec(Decimal::from(i.net_days)),
                    "CashDiscount1Percent" => pct(i.cd1_pct_milli),
                    "CashDiscount2Percent" => pct(i.cd2_pct_milli),
                    "InvoiceReference" => owned(if i.invoice_reference == 0 {
                        String::new()
                    } else {
                        format!("{:010}", i.invoice_reference)
                    }),
                    "DunningBlockingReason" => st(i.dunning_block),
                    "DunningLevel" => owned(i.dunning_level.to_string()),
                    "PostingDate" => Val::Date(i.posting_date),
                    "DocumentDate" => Val::Date(i.document_date),
                    "AccountingDocumentType" => st(i.document_type),
                    "NetDueDate" => Val::Date(i.net_due_date),
                    "TransactionCurrency" => st(i.currency),
                    "AmountInTransactionCurrency" => Val::Dec(i.amount),
                    "LastChangeDate" => Val::Date(i.last_change),
                    _ => Val::Null,
                }
            }
            Set::SalesContract => {
                let c = &ds.sales_contracts[row];
                match prop {
                    "SalesContract" => st(&c.sales_contract),
                    "SalesContractType" => st("CQ"),
                    "SalesOrganization" => st(c.sales_org),
                    "DistributionChannel" => st(c.distribution_channel),
                    "OrganizationDivision" => st(c.division),
                    "SoldToParty" => st(cust(c.customer)),
                    "CreationDate" => Val::Date(c.contract_date),
                    "LastChangeDateTime" => Val::Dto(
                        c.contract_date
                            .and_hms_opt(9, 30, 0)
                            .unwrap_or_default()
                            .and_utc(),
                    ),
                    "PurchaseOrderByCustomer" => st(&c.purchase_order),
                    "SalesContractDate" => Val::Date(c.contract_date),
                    "TotalNetAmount" => Val::Dec(c.net_amount),
                    "TransactionCurrency" => st(c.currency),
                    "CustomerPaymentTerms" => st(c.payment_terms),
                    "SalesContractValidityStartDate" => Val::Date(c.valid_from),
                    "SalesContractValidityEndDate" => Val::Date(c.valid_to),
                    _ => Val::Null,
                }
            }
        }
    }
}

/// Quotes a string for a key predicate or filter literal (single quotes doubled).
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `('0001000001')` for one key, `(Customer='…',CompanyCode='1010')` for several.
pub(crate) fn key_predicate(set: Set, table: &dyn Table, row: usize) -> String {
    let keys: Vec<&Prop> = set.keys().collect();
    let val = |p: &Prop| match table.value(row, p.name) {
        Val::Str(s) => quote(&s),
        _ => "''".to_string(),
    };
    if keys.len() == 1 {
        format!("({})", val(keys[0]))
    } else {
        let parts: Vec<String> = keys
            .iter()
            .map(|k| format!("{}={}", k.name, val(k)))
            .collect();
        format!("({})", parts.join(","))
    }
}

/// The `$metadata` document of a service: SAP's names, types and `sap:` annotations for the
/// properties served here (no navigation properties).
pub(crate) fn edmx(service: Service) -> String {
    let ns = service.name();
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    out.push_str("<edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" xmlns:sap=\"http://www.sap.com/Protocols/SAPData\">");
    out.push_str("<edmx:DataServices m:DataServiceVersion=\"2.0\">");
    let _ = write!(
        out,
        "<Schema Namespace=\"{ns}\" xml:lang=\"en\" sap:schema-version=\"1\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">"
    );
    for set in service.sets() {
        let _ = write!(
            out,
            "<EntityType Name=\"{}\" sap:content-version=\"1\">",
            set.type_name()
        );
        entity_type_body(&mut out, *set, Edm::name, |out, p| {
            if p.ty == Edm::Date {
                out.push_str(" Precision=\"0\" sap:display-format=\"Date\"");
            }
            if p.upper && p.ty == Edm::String {
                out.push_str(" sap:display-format=\"UpperCase\"");
            }
            if let Some(u) = p.unit {
                let _ = write!(out, " sap:unit=\"{u}\"");
            }
            if !p.creatable {
                out.push_str(" sap:creatable=\"false\"");
            }
            if !p.updatable {
                out.push_str(" sap:updatable=\"false\"");
            }
            if !p.sortable {
                out.push_str(" sap:sortable=\"false\"");
            }
            if !p.filterable {
                out.push_str(" sap:filterable=\"false\"");
            }
        });
    }
    let _ = write!(
        out,
        "<EntityContainer Name=\"{ns}_Entities\" m:IsDefaultEntityContainer=\"true\" sap:supported-formats=\"atom json xlsx\">"
    );
    for set in service.sets() {
        let flags = if set.is_text() {
            ""
        } else {
            " sap:creatable=\"false\" sap:updatable=\"false\" sap:deletable=\"false\""
        };
        let _ = write!(
            out,
            "<EntitySet Name=\"{}\" EntityType=\"{ns}.{}\"{flags} sap:content-version=\"1\"/>",
            set.name(),
            set.type_name()
        );
    }
    out.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    out
}

/// An entity type's key and properties in `$metadata`, up to `</EntityType>`, the facets
/// both OData versions share (nullability, length, precision) written here and each
/// version's own annotations by `annotate`, before a property's element closes.
pub(crate) fn entity_type_body(
    out: &mut String,
    set: Set,
    type_name: fn(Edm) -> &'static str,
    annotate: impl Fn(&mut String, &Prop),
) {
    out.push_str("<Key>");
    for k in set.keys() {
        let _ = write!(out, "<PropertyRef Name=\"{}\"/>", k.name);
    }
    out.push_str("</Key>");
    for p in set.props() {
        let _ = write!(
            out,
            "<Property Name=\"{}\" Type=\"{}\"",
            p.name,
            type_name(p.ty)
        );
        if p.key {
            out.push_str(" Nullable=\"false\"");
        }
        if p.max_len > 0 {
            let _ = write!(out, " MaxLength=\"{}\"", p.max_len);
        }
        match p.ty {
            Edm::Decimal => {
                let _ = write!(out, " Precision=\"{}\" Scale=\"{}\"", p.precision, p.scale);
            }
            Edm::DateTimeOffset => out.push_str(" Precision=\"7\""),
            _ => {}
        }
        annotate(out, p);
        out.push_str("/>");
    }
    out.push_str("</EntityType>");
}
