//! The collections scenario, planted on request (`MockErpConfig::ar_scenario`): four
//! customers whose figures can be worked out by hand, appended after the generated world
//! so that the default world (pinned by digest and counts) does not move.
//!
//! | customer | collector (clerk) | currency | what it is for |
//! |---|---|---|---|
//! | [`AR_AGING`] | `01` | EUR | one invoice in every aging bucket, over 360 days included, and a credit memo |
//! | [`AR_KEEPS`] | `02` | CNY | two overdue invoices a test promises on and then clears ([`Dataset::ar_rows`]): a promise kept |
//! | [`AR_BREAKS`] | `01` | EUR | two overdue invoices nobody pays: a promise broken |
//! | [`AR_DISPUTED`] | `02` | EUR | an overdue invoice under an open dispute case, and one not yet due |
//!
//! Customer numbers are alphanumeric (`CUST-AR…`) so they sort after every generated one and
//! every set stays in key order. Amounts and due dates are fixed (no draws from the stream);
//! due dates are relative to [`reference_date`] as the table in [`AR_ITEMS`] says.

use super::builder::Builder;
use super::records::{
    reference_date, ymd, AddressRec, CompanyRec, CustomerRec, DisputeCaseRec, OpenItemRec,
    SalesAreaRec,
};
use super::Dataset;
use chrono::Duration;
use rust_decimal::Decimal;

/// Every aging bucket, over 360 days included, and a credit memo.
pub const AR_AGING: &str = "CUST-AR001";
/// Promises to pay and clears (the test clears [`Dataset::ar_rows`] of it).
pub const AR_KEEPS: &str = "CUST-AR002";
/// Promises to pay and does not.
pub const AR_BREAKS: &str = "CUST-AR003";
/// One overdue invoice under an open dispute case.
pub const AR_DISPUTED: &str = "CUST-AR004";
/// The dispute case planted on [`AR_DISPUTED`]'s overdue invoice.
pub const AR_DISPUTE_CASE: &str = "100000000901";

struct Plant {
    customer: &'static str,
    name: &'static str,
    clerk: &'static str,
    currency: &'static str,
    country: &'static str,
    city: (&'static str, &'static str),
    street: &'static str,
}

const PLANTS: [Plant; 4] = [
    Plant {
        customer: AR_AGING,
        name: "Altmann Maschinenbau GmbH",
        clerk: "01",
        currency: "EUR",
        country: "DE",
        city: ("Stuttgart", "70173"),
        street: "Königstraße",
    },
    Plant {
        customer: AR_KEEPS,
        name: "上海恒信贸易有限公司",
        clerk: "02",
        currency: "CNY",
        country: "CN",
        city: ("上海", "200120"),
        street: "世纪大道",
    },
    Plant {
        customer: AR_BREAKS,
        name: "Brightwater Supplies Ltd",
        clerk: "01",
        currency: "EUR",
        country: "IE",
        city: ("Dublin", "D02"),
        street: "Pearse Street",
    },
    Plant {
        customer: AR_DISPUTED,
        name: "Kessler Bau AG",
        clerk: "02",
        currency: "EUR",
        country: "DE",
        city: ("München", "80331"),
        street: "Sendlinger Straße",
    },
];

/// (plant, days past due on the reference date, amount in cents). Negative amounts are
/// credit memos; every item is on `NT30`, posted 30 days before it falls due.
pub const AR_ITEMS: [(usize, i64, i64); 14] = [
    // AR_AGING: not_due, 1_30, 31_60, 61_90, 91_180, 181_360, over_360, a credit memo (1_30).
    (0, -25, 100_000),
    (0, 15, 200_000),
    (0, 45, 300_000),
    (0, 85, 400_000),
    (0, 147, 500_000),
    (0, 283, 600_000),
    (0, 421, 700_000),
    (0, 24, -15_000),
    // AR_KEEPS (CNY).
    (1, 36, 3_500_000),
    (1, 10, 1_200_000),
    // AR_BREAKS.
    (2, 71, 480_000),
    (2, 20, 220_000),
    // AR_DISPUTED: the disputed invoice, then one not yet due.
    (3, 97, 750_000),
    (3, -10, 90_000),
];

impl Builder {
    /// Appends the four customers, their masters and items (open items are sorted again).
    pub(super) fn plant_ar(&mut self) {
        let first = self.ds.customers.len() as u32;
        for (k, p) in PLANTS.iter().enumerate() {
            let i = first + k as u32;
            self.ds.customers.push(CustomerRec {
                customer: p.customer.into(),
                name: p.name.into(),
                account_group: "CUST",
                creation_date: ymd(2019, 3, 1),
                posting_blocked: false,
                deleted: false,
                order_block: "",
                country: p.country,
            });
            self.ds.addresses.push(AddressRec {
                customer: i,
                address_id: (39_000 + k).to_string(),
                street: p.street,
                house_number: (10 + k).to_string(),
                city: p.city.0,
                postal_code: p.city.1,
                region: "",
                country: p.country,
                language: if p.country == "CN" { "ZH" } else { "EN" },
            });
            self.ds.company_codes.push(CompanyRec {
                customer: i,
                company_code: "1010",
                payment_terms: "NT30",
                reconciliation_account: "12100000",
                accounting_clerk: p.clerk,
                deleted: false,
                posting_blocked: false,
            });
            self.ds.sales_areas.push(SalesAreaRec {
                customer: i,
                sales_org: "1010",
                distribution_channel: "10",
                division: "00",
                payment_terms: "NT30",
                currency: p.currency,
                credit_control_area: "A000",
                deleted: false,
            });
        }
        let today = reference_date();
        for (n, (plant, days_past_due, cents)) in AR_ITEMS.iter().enumerate() {
            let p = &PLANTS[*plant];
            let due = today - Duration::days(*days_past_due);
            let document_date = due - Duration::days(30);
            let credit = *cents < 0;
            let mut item = OpenItemRec::posted(
                "1010",
                1_890_000_001 + n as u64,
                first + *plant as u32,
                document_date,
                "NT30",
                p.currency,
                Decimal::new(*cents, 2),
            );
            if credit {
                // An unlinked credit memo is due at its baseline: post it 30 days later.
                item.document_date = due;
                item.posting_date = due;
                item.baseline_date = due;
                item.net_due_date = due;
                item.net_days = 0;
                item.last_change = due;
            }
            self.ds.open_items.push(item);
        }
        self.ds.open_items.sort_by(|a, c| {
            (a.company_code, a.fiscal_year, a.document, a.item).cmp(&(
                c.company_code,
                c.fiscal_year,
                c.document,
                c.item,
            ))
        });
    }

    /// The open dispute case on [`AR_DISPUTED`]'s overdue invoice (after the generated
    /// cases, whose numbers it follows).
    pub(super) fn plant_ar_dispute(&mut self) {
        let Some(customer) = self
            .ds
            .customers
            .iter()
            .position(|c| c.customer == AR_DISPUTED)
        else {
            return;
        };
        let Some(row) = self.ds.open_items.iter().position(|i| {
            i.account_type == b'D'
                && i.party as usize == customer
                && i.net_due_date < reference_date()
        }) else {
            return;
        };
        let item = &self.ds.open_items[row];
        self.ds.dispute_cases.push(DisputeCaseRec {
            case_id: AR_DISPUTE_CASE.into(),
            case_guid: "0A4F1C2E3B5D6F7081920A1B2C3D4E5F".into(),
            customer: customer as u32,
            status: "OPEN",
            change_state_id: format!("{}093000.0000000", item.posting_date.format("%Y%m%d")),
            amount: item.amount,
            currency: item.currency,
            reason_code: "001",
            title: format!("Price difference on {}", item.document),
            item: row,
        });
    }
}

impl Dataset {
    /// Rows (indices into [`Dataset::open_items`]) of `customer`'s open customer items that
    /// are past due on `day`: what a payment would clear.
    pub fn ar_rows(&self, customer: &str, day: chrono::NaiveDate) -> Vec<usize> {
        let Some(index) = self.customers.iter().position(|c| c.customer == customer) else {
            return Vec::new();
        };
        self.open_items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.account_type == b'D'
                    && !i.is_cleared
                    && i.party as usize == index
                    && i.net_due_date < day
            })
            .map(|(n, _)| n)
            .collect()
    }
}
