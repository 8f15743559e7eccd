//! The deterministic data set: customer master, open items, contracts (ERP and register),
//! dispute cases, and the contract-vs-master mismatches planted in them.
//!
//! Everything comes from one splitmix64 stream seeded by the config, generated in a fixed
//! order, so the same seed gives byte-identical responses and a different seed a different
//! (but equally well-formed) world.
//!
//! # Planted findings and decoys
//!
//! Customers are walked in order; the first ones get one scenario each from `FIXED` (so
//! every rule and every decoy kind exists even in a small data set), the rest get a random
//! scenario or none. Each scenario writes the customer's master data, its contracts and
//! the [`Planted`] entries that describe them, in one place, so the lists cannot drift
//! from the data. A customer with contracts has masters that agree with every contract at
//! every level except the one planted difference, so whichever way a scope is read
//! ("empty = all"), the reconciler finds exactly [`Dataset::planted`] and none of
//! [`Dataset::decoys`]. Intended findings per scenario (contract → master):
//!
//! | scenario | contract | master | finding |
//! |---|---|---|---|
//! | `PlantCc` | register, CC 1010, `NT30` | CC 1010 `NT45`, SA 1010/10/00 `NT30` | `payment_terms_company_code` `CC 1010` |
//! | `PlantCcText` | register, all, "60 days EOM" | CC 1010 `EM30` (no sales area) | `payment_terms_company_code` `CC 1010` |
//! | `PlantSa` | register, SA 1010/10/00, "Net 30" | CC `NT30`, SA `NT60` | `payment_terms_sales_area` `SA 1010/10/00` |
//! | `PlantSaErp` | ERP 1710/10/00 `0002` | CC 1710 `ZB10`, SA `NT30` | `payment_terms_sales_area` `SA 1710/10/00` |
//! | `PlantCurrency` | register, SA 1010/10/00, `NT30`, USD | SA EUR | `currency` `SA 1010/10/00` |
//! | `PlantCurrencyErp` | ERP 1010/10/00 `NT30` CNY | CC `Z030`, SA `NT30` EUR | `currency` `SA 1010/10/00` |
//! | `PlantUnknownCc` / `PlantUnknownSa` | none | CC 1010 `ZX99` / SA 1710/10/00 `ZX98` | `unknown_payment_terms` |
//! | `PlantUnreadable` | register "pay when convenient" | consistent | `contract_terms_unreadable` `contract <id>` |
//! | (extra register rows) | customer `99000001`… | no such customer | `customer_missing` `contract <id>` |
//! | `PlantBilledTerms` | register, CC 1010, `NT30` | CC/SA `NT30`; invoices billed on `NT60` | `open_item_billed_terms` `CC 1010` |
//! | `PlantCreditLimit` | register, CC 1010, `NT30`, limit L | credit segment 1000: 2 × L | `credit_limit` `credit` |
//! | `PlantExpiredSpecial` | register, CC 1010, `NT60`, expired 2026-06-30 | CC/SA `NT60` | `contract_expired_special_terms` `CC 1010` and `SA 1010/10/00` |
//!
//! Decoys (nothing may be flagged): `NT30` vs `Z030`; `0001` vs `NT00`; "2/10 net 30" vs
//! `0002` (CC) and `ZB10` (SA); "Net 30" vs `NT30`; "月结30天" vs `EM30`; "货到付款" vs
//! `0001`; "due on receipt" vs `NT00`; "3% 14 days, 2% 30 days, net 45" vs `0003`;
//! "end of month" vs `EOM`; register customer without leading zeros; alphanumeric customer
//! written in lower case; an expired contract with other terms and currency; a contract
//! scoped to CC 1010 + SA 1010/10/00 while CC 1710 / SA 1710/10/00 differ; an ERP contract
//! `NT30` vs SA `Z030`; a rarely used but defined key (`0003`); invoices billed on `Z030`
//! under a `NT30` contract and master.
//!
//! # The collections scenario
//!
//! With `ar_scenario` set, four more customers (`CUST-AR001`…`004`) are appended with
//! hand-workable open items: every aging bucket, a promise to keep, one to break, and a
//! disputed invoice (see `ar_plants`). They take no draws from the stream, so the rest of
//! the world is the same with or without them.
//!
//! # Layout
//!
//! `records` (the record types and [`Dataset`]), `rng` (the stream), `builder` (writes
//! masters, contracts and findings), `scenarios` (what each scenario writes), `customers`
//! (numbers, names, addresses, scenario choice), `names`, `terms` (due dates), `open_items`,
//! `cases_texts`. [`Dataset::generate`] runs the steps in a fixed order: every step draws
//! from the same stream, so moving one would change the world.

mod ar_plants;
mod builder;
mod cases_texts;
mod customers;
mod names;
mod open_items;
mod records;
mod rng;
mod scenarios;
mod terms;

pub use ar_plants::{AR_AGING, AR_BREAKS, AR_DISPUTED, AR_DISPUTE_CASE, AR_ITEMS, AR_KEEPS};
pub use records::{
    dispute_status_is_closed, reference_date, AddressRec, CompanyRec, CustomerRec, Dataset,
    DisputeCaseRec, OpenItemRec, Planted, RegisterRow, SalesAreaRec, SalesContractRec, TextRec,
    DISPUTE_STATUSES, REFERENCE_DATE,
};

use super::config::MockErpConfig;
use builder::Builder;
use chrono::NaiveDate;
use rng::SplitMix64;

impl Dataset {
    /// Generates the whole world for `config` (customers, open_items, seed).
    ///
    /// `config.open_items` is the number of *open customer items* (what
    /// `$filter=FinancialAccountType eq 'D' and IsCleared eq false` returns); the cube also
    /// holds about 10 % more cleared customer items and 5 % supplier lines on top.
    pub fn generate(config: &MockErpConfig) -> Dataset {
        let n = config.customers;
        let mut b = Builder {
            rng: SplitMix64::new(config.seed),
            ds: Dataset {
                seed: config.seed,
                customers: Vec::with_capacity(n),
                company_codes: Vec::new(),
                sales_areas: Vec::new(),
                addresses: Vec::with_capacity(n),
                open_items: Vec::new(),
                sales_contracts: Vec::new(),
                register: Vec::new(),
                credit_accounts: Vec::new(),
                dispute_cases: Vec::new(),
                customer_texts: Vec::new(),
                company_texts: Vec::new(),
                planted: Vec::new(),
                decoys: Vec::new(),
            },
            register_seq: 0,
            erp_seq: 0,
            contracted: Default::default(),
            billed_on: Default::default(),
        };
        customers::generate_customers(&mut b, n);
        customers::register_unknown_customers(&mut b, n);
        customers::plant_company_vs_sales_area(&mut b);
        open_items::generate_items(&mut b, config.open_items);
        if config.ar_scenario {
            b.plant_ar();
        }
        cases_texts::generate_cases(&mut b);
        if config.ar_scenario {
            b.plant_ar_dispute();
        }
        cases_texts::generate_texts(&mut b);
        // Served in key order, as every set is.
        b.ds.credit_accounts
            .sort_by(|a, b| (a.customer, a.segment).cmp(&(b.customer, b.segment)));
        b.ds
    }

    /// Mismatches the reconciler must find (exactly these).
    pub fn planted(&self) -> Vec<Planted> {
        self.planted.clone()
    }

    /// Look-alikes the reconciler must not flag.
    pub fn decoys(&self) -> Vec<Planted> {
        self.decoys.clone()
    }

    /// Open customer items (`FinancialAccountType` `D`, not cleared).
    pub fn open_customer_items(&self) -> impl Iterator<Item = &OpenItemRec> {
        self.open_items
            .iter()
            .filter(|i| i.account_type == b'D' && !i.is_cleared)
    }

    /// The contract register as a CLM system exports it (UTF-8 CSV with header).
    pub fn register_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        // The register format is the agent's contract (DESIGN §5): one column list for both.
        let _ = w.write_record(crate::contracts::register::COLUMNS);
        for r in &self.register {
            let _ = w.write_record([
                r.contract_id.as_str(),
                &r.customer,
                &r.company_code,
                &r.sales_org,
                &r.distribution_channel,
                &r.division,
                &r.payment_terms,
                &r.credit_limit.map(|c| c.to_string()).unwrap_or_default(),
                &r.currency,
                &r.billing_name,
                &r.billing_street,
                &r.billing_city,
                &r.billing_postal_code,
                &r.billing_country,
                &date(r.valid_from),
                &date(r.valid_to),
            ]);
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::builder::{
        RULE_CC, RULE_CURRENCY, RULE_MISSING, RULE_SA, RULE_UNKNOWN, RULE_UNREADABLE,
    };
    use super::*;
    use rust_decimal::Decimal;

    fn small() -> MockErpConfig {
        MockErpConfig::default()
    }

    #[test]
    fn same_seed_same_world_other_seed_other_world() {
        let a = Dataset::generate(&small());
        let b = Dataset::generate(&small());
        assert_eq!(a, b);
        let c = Dataset::generate(&MockErpConfig { seed: 7, ..small() });
        assert_ne!(a.customers, c.customers);
    }

    /// FNV-1a over the data set's `Debug` text: every record, the planted findings and the
    /// decoys, in order.
    fn digest(ds: &Dataset) -> u64 {
        format!("{ds:?}")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
    }

    /// The generated world is pinned: tests and benchmarks count on its exact planted set,
    /// so reorganising the generator must not move a single value or draw.
    #[test]
    fn a_fixed_seed_gives_the_pinned_world() {
        let larger = MockErpConfig {
            customers: 1500,
            open_items: 6000,
            seed: 7,
            ..small()
        };
        assert_eq!(
            (
                digest(&Dataset::generate(&small())),
                digest(&Dataset::generate(&larger))
            ),
            (789_608_374_172_855_725, 17_041_520_105_190_089_305)
        );
    }

    /// The collections scenario adds its four customers and fourteen items and leaves the
    /// generated world as it was.
    #[test]
    fn the_ar_scenario_is_appended_to_the_same_world() {
        let plain = Dataset::generate(&small());
        let ar = Dataset::generate(&MockErpConfig {
            ar_scenario: true,
            ..small()
        });
        assert_eq!(ar.customers.len(), plain.customers.len() + 4);
        assert_eq!(&ar.customers[..plain.customers.len()], &plain.customers[..]);
        assert_eq!(
            ar.open_customer_items().count(),
            plain.open_customer_items().count() + AR_ITEMS.len()
        );
        assert_eq!(ar.planted(), plain.planted());
        assert!(ar
            .customers
            .windows(2)
            .all(|w| w[0].customer < w[1].customer));
        // Every aging bucket on the reference date, over 360 days included.
        let day = reference_date();
        let aging = ar
            .customers
            .iter()
            .position(|c| c.customer == AR_AGING)
            .unwrap();
        let mut days: Vec<i64> = ar
            .open_customer_items()
            .filter(|i| i.party as usize == aging)
            .map(|i| (day - i.net_due_date).num_days())
            .collect();
        days.sort_unstable();
        assert_eq!(days, vec![-25, 15, 24, 45, 85, 147, 283, 421]);
        // Two collectors, two currencies, one open dispute case on the disputed invoice.
        let clerks: std::collections::BTreeSet<_> = ar
            .company_codes
            .iter()
            .filter(|c| c.customer as usize >= plain.customers.len())
            .map(|c| c.accounting_clerk)
            .collect();
        assert_eq!(clerks.into_iter().collect::<Vec<_>>(), vec!["01", "02"]);
        let case = ar
            .dispute_cases
            .iter()
            .find(|c| c.case_id == AR_DISPUTE_CASE)
            .unwrap();
        assert_eq!(case.status, "OPEN");
        assert_eq!(ar.open_items[case.item].amount, Decimal::new(750_000, 2));
        assert_eq!(ar.ar_rows(AR_KEEPS, day).len(), 2);
        assert_eq!(ar.open_items[ar.ar_rows(AR_KEEPS, day)[0]].currency, "CNY");
    }

    #[test]
    fn counts_match_the_config() {
        let ds = Dataset::generate(&small());
        assert_eq!(ds.customers.len(), 200);
        assert_eq!(ds.open_customer_items().count(), 2000);
        assert!(ds.open_items.iter().any(|i| i.account_type == b'K'));
        assert!(ds.open_items.iter().any(|i| i.is_cleared));
    }

    #[test]
    fn every_rule_is_planted_and_every_customer_number_is_valid() {
        let ds = Dataset::generate(&small());
        for rule in [
            RULE_CC,
            RULE_SA,
            RULE_CURRENCY,
            RULE_UNKNOWN,
            RULE_UNREADABLE,
            RULE_MISSING,
        ] {
            assert!(ds.planted().iter().any(|p| p.rule == rule), "{rule}");
        }
        assert!(!ds.decoys().is_empty());
        for c in &ds.customers {
            assert!(crate::model::CustomerId::parse(&c.customer).is_ok());
            assert!(c.customer.len() <= 10);
        }
        // Every set is stored in key order (the server pages by position).
        let cust = |i: u32| ds.customers[i as usize].customer.as_str();
        assert!(ds
            .customers
            .windows(2)
            .all(|w| w[0].customer < w[1].customer));
        assert!(ds
            .company_codes
            .windows(2)
            .all(|w| (cust(w[0].customer), w[0].company_code)
                < (cust(w[1].customer), w[1].company_code)));
        assert!(
            ds.sales_areas
                .windows(2)
                .all(|w| (cust(w[0].customer), w[0].sales_org)
                    < (cust(w[1].customer), w[1].sales_org))
        );
        assert!(ds
            .customers
            .iter()
            .any(|c| c.customer.starts_with("CUST-A")));
        // A planted finding is never also a decoy.
        for p in ds.planted() {
            assert!(!ds.decoys().contains(&p), "{p:?}");
        }
    }

    #[test]
    fn register_csv_has_the_agreed_header() {
        let csv = Dataset::generate(&small()).register_csv();
        assert!(csv.starts_with("contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,billing_country,valid_from,valid_to\n"));
        assert!(csv.contains("月结30天"));
    }
}
