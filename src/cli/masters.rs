//! `customers list|show` and `open-items list`: what erpsync holds.

use super::app::{CustomerCommand, OpenItemCommand};
use super::output::{self, Format, Table};
use super::{open, CliError};
use crate::model::{Customer, CustomerId, OpenItem};
use crate::store::OpenItemFilter;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;

/// Customers per store read while listing.
const PAGE: u32 = 1000;

/// The JSON shape of a customer (DESIGN §5).
#[derive(Serialize)]
pub struct CustomerView<'a> {
    customer: &'a str,
    name: &'a str,
    deletion_flag: bool,
    posting_block: bool,
    address: Option<&'a crate::model::Address>,
    company_codes: Vec<CompanyCodeView<'a>>,
    sales_areas: Vec<SalesAreaView<'a>>,
}

#[derive(Serialize)]
struct CompanyCodeView<'a> {
    company_code: &'a str,
    payment_terms: Option<&'a str>,
    reconciliation_account: Option<&'a str>,
    accounting_clerk: Option<&'a str>,
    deletion_flag: bool,
}

#[derive(Serialize)]
struct SalesAreaView<'a> {
    sales_org: &'a str,
    distribution_channel: &'a str,
    division: &'a str,
    payment_terms: Option<&'a str>,
    currency: Option<&'a str>,
    credit_control_area: Option<&'a str>,
}

impl<'a> CustomerView<'a> {
    pub fn of(c: &'a Customer) -> Self {
        CustomerView {
            customer: c.general.customer.as_str(),
            name: &c.general.name,
            deletion_flag: c.general.deletion_flag,
            posting_block: c.general.posting_block,
            address: c.general.address.as_ref(),
            company_codes: c
                .company_codes
                .iter()
                .map(|cc| CompanyCodeView {
                    company_code: &cc.company_code,
                    payment_terms: cc.payment_terms.as_deref(),
                    reconciliation_account: cc.reconciliation_account.as_deref(),
                    accounting_clerk: cc.accounting_clerk.as_deref(),
                    deletion_flag: cc.deletion_flag,
                })
                .collect(),
            sales_areas: c
                .sales_areas
                .iter()
                .map(|sa| SalesAreaView {
                    sales_org: &sa.area.sales_org,
                    distribution_channel: &sa.area.distribution_channel,
                    division: &sa.area.division,
                    payment_terms: sa.payment_terms.as_deref(),
                    currency: sa.currency.as_deref(),
                    credit_control_area: sa.credit_control_area.as_deref(),
                })
                .collect(),
        }
    }
}

/// The JSON shape of an open item (DESIGN §5): amounts as signed decimal strings.
#[derive(Serialize)]
pub struct OpenItemView<'a> {
    company_code: &'a str,
    fiscal_year: &'a str,
    document: &'a str,
    item: &'a str,
    customer: &'a str,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: &'a str,
    payment_terms: Option<&'a str>,
    document_date: NaiveDate,
    posting_date: NaiveDate,
    baseline_date: NaiveDate,
    net_due_date: Option<NaiveDate>,
    dunning_level: Option<u8>,
}

impl<'a> OpenItemView<'a> {
    pub fn of(i: &'a OpenItem) -> Self {
        OpenItemView {
            company_code: &i.key.company_code,
            fiscal_year: &i.key.fiscal_year,
            document: &i.key.document,
            item: &i.key.item,
            customer: i.customer.as_str(),
            amount: i.amount,
            currency: &i.currency,
            payment_terms: i.payment_terms.as_deref(),
            document_date: i.document_date,
            posting_date: i.posting_date,
            baseline_date: i.baseline_date,
            net_due_date: i.net_due_date,
            dunning_level: i.dunning_level,
        }
    }
}

fn parse_customer(raw: &str) -> Result<CustomerId, CliError> {
    CustomerId::parse(raw).map_err(|e| CliError::Usage(e.to_string()))
}

pub async fn customers(path: &Path, command: CustomerCommand) -> Result<(), CliError> {
    match command {
        CustomerCommand::List { format } => {
            let (_, store) = open(path).await?;
            let mut all = Vec::new();
            let mut after: Option<CustomerId> = None;
            loop {
                let page = store.customers_page(after.as_ref(), PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id().clone());
                all.extend(page);
            }
            if format == Format::Json {
                let views: Vec<CustomerView> = all.iter().map(CustomerView::of).collect();
                return Ok(output::json(&views)?);
            }
            Ok(customer_table(&all).print(format)?)
        }
        CustomerCommand::Show { customer, format } => {
            let id = parse_customer(&customer)?;
            let (_, store) = open(path).await?;
            let c = store
                .customer(&id)
                .await?
                .ok_or_else(|| CliError::Failed(format!("customer {id} is not in the store")))?;
            if format == Format::Json {
                return Ok(output::json(&CustomerView::of(&c))?);
            }
            Ok(customer_table(std::slice::from_ref(&c)).print(format)?)
        }
    }
}

/// A line per customer: its company codes and sales areas with their terms, and its flags.
fn customer_table(customers: &[Customer]) -> Table {
    let mut t = Table::new(vec![
        "customer",
        "name",
        "company codes (terms)",
        "sales areas (terms, currency)",
        "flags",
    ]);
    for c in customers {
        t.row(customer_row(c));
    }
    t
}

fn customer_row(c: &Customer) -> Vec<String> {
    let ccs: Vec<String> = c
        .company_codes
        .iter()
        .map(|cc| {
            format!(
                "{} ({})",
                cc.company_code,
                cc.payment_terms.as_deref().unwrap_or("-")
            )
        })
        .collect();
    let sas: Vec<String> = c
        .sales_areas
        .iter()
        .map(|sa| {
            format!(
                "{} ({}, {})",
                sa.area,
                sa.payment_terms.as_deref().unwrap_or("-"),
                sa.currency.as_deref().unwrap_or("-")
            )
        })
        .collect();
    let mut flags = Vec::new();
    if c.general.deletion_flag {
        flags.push("deletion");
    }
    if c.general.posting_block {
        flags.push("posting block");
    }
    vec![
        c.id().to_string(),
        c.general.name.clone(),
        ccs.join(" "),
        sas.join(" "),
        flags.join(", "),
    ]
}

pub async fn open_items(path: &Path, command: OpenItemCommand) -> Result<(), CliError> {
    let OpenItemCommand::List {
        customer,
        overdue,
        format,
    } = command;
    let filter = OpenItemFilter {
        customer: customer.as_deref().map(parse_customer).transpose()?,
        overdue_on: overdue.then(|| Utc::now().date_naive()),
    };
    let (_, store) = open(path).await?;
    let items = store.list_open_items(&filter).await?;
    if format == Format::Json {
        let views: Vec<OpenItemView> = items.iter().map(OpenItemView::of).collect();
        return Ok(output::json(&views)?);
    }
    let mut t = Table::new(vec![
        "item", "customer", "amount", "currency", "terms", "baseline", "net due",
    ]);
    for i in &items {
        t.row(vec![
            i.key.to_string(),
            i.customer.to_string(),
            i.amount.to_string(),
            i.currency.clone(),
            i.payment_terms.clone().unwrap_or_default(),
            i.baseline_date.to_string(),
            i.net_due_date.map(|d| d.to_string()).unwrap_or_default(),
        ]);
    }
    Ok(t.print(format)?)
}
