//! The customers: numbers (alphanumeric ones last), names and addresses, each with a
//! scenario or plain masters; register rows for customers the master does not know; and the
//! company-code-vs-sales-area findings whatever made the keys differ.

use super::builder::{
    contract_scope, default_currency, sa_scope, Builder, Reg, RULE_CC_SA, RULE_MISSING,
};
use super::names::{company_name, CN, DE, US};
use super::records::{ymd, AddressRec, CustomerRec, Planted};
use super::scenarios::{home_org, needs_chinese, Scenario, FIXED, RANDOM_DECOYS, RANDOM_PLANTS};
use super::terms::COMMON_KEYS;

/// The first customers get one scenario each from [`FIXED`] (so every rule and every decoy
/// kind exists even in a small data set), the rest a random scenario or none.
pub(super) fn generate_customers(b: &mut Builder, n: usize) {
    let mut fixed = FIXED.iter().copied();
    let mut alnum_seq = 0u32;
    let mut alnum_decoy_done = false;
    for i in 0..n {
        let iu = i as u32;
        // Alphanumeric numbers come last and zero-padded, so every set stays stored in
        // key order ('0' sorts before 'C') and paging by key needs no sorting.
        let alnum = i >= n - n / 40;
        let customer = if alnum {
            alnum_seq += 1;
            format!("CUST-A{alnum_seq:04}")
        } else {
            format!("{:010}", 1_000_001 + i)
        };
        let scenario = if alnum {
            (!alnum_decoy_done).then(|| {
                alnum_decoy_done = true;
                Scenario::DecoyAlnumLower
            })
        } else if let Some(s) = fixed.next() {
            Some(s)
        } else {
            let r = b.rng.below(1000);
            if r < 200 {
                Some(*b.rng.pick(&RANDOM_DECOYS))
            } else if r < 230 {
                Some(*b.rng.pick(&RANDOM_PLANTS))
            } else {
                None
            }
        };
        let chinese = match scenario {
            Some(s) => needs_chinese(s),
            None => i != 1 && b.rng.percent(12),
        };
        let org = scenario.map(home_org);
        let (place, country) = if chinese {
            (&CN, "CN")
        } else if i == 1 {
            (&DE, "IE")
        } else if org == Some("1710") || (org.is_none() && b.rng.percent(35)) {
            (&US, "US")
        } else {
            (&DE, "DE")
        };
        let name = company_name(&mut b.rng, i, chinese, country);
        let (city, postal, region) = *b.rng.pick(place.cities);
        let street: &'static str = place.street[b.rng.below(place.street.len() as u64) as usize];
        b.ds.addresses.push(AddressRec {
            customer: iu,
            address_id: (30_000 + i).to_string(),
            street,
            house_number: (1 + b.rng.below(120)).to_string(),
            city,
            postal_code: postal,
            region,
            country: if i == 1 { "IE" } else { country },
            language: place.language,
        });
        let plain = scenario.is_none();
        b.ds.customers.push(CustomerRec {
            customer,
            name,
            account_group: "CUST",
            creation_date: ymd(
                2015 + b.rng.below(10) as i32,
                1 + b.rng.below(12) as u32,
                1 + b.rng.below(28) as u32,
            ),
            posting_blocked: plain && b.rng.percent(2),
            deleted: plain && b.rng.percent(2),
            order_block: "",
            country: if i == 1 { "IE" } else { country },
        });
        match scenario {
            Some(s) => b.realize(iu, s),
            None => b.plain_masters(iu, chinese),
        }
    }
}

/// Register rows for customers the master does not know, written without leading zeros as
/// CLM exports do.
pub(super) fn register_unknown_customers(b: &mut Builder, n: usize) {
    let missing = 1 + n / 100;
    for k in 0..missing {
        let written = format!("{}", 99_000_001 + k);
        let id = b.reg(
            None,
            Reg {
                terms: "NT30",
                currency: "EUR",
                written_as: Some(written.clone()),
                ..Reg::default()
            },
        );
        b.ds.planted.push(Planted {
            rule: RULE_MISSING,
            customer: format!("{written:0>10}"),
            scope: contract_scope(&id),
            field: "customer",
            contract_id: id,
        });
    }
}

/// Every sales area whose terms mean something else than its company code's (sales
/// organisation = company code, as in SAP's reference set-up) is a finding, whatever made
/// the keys differ; keys with no definition are left to `unknown_payment_terms`.
pub(super) fn plant_company_vs_sales_area(b: &mut Builder) {
    let book = crate::erp::t052::standard_terms();
    let terms = |key: &str| book.iter().find(|t| t.key == key);
    let mut found = Vec::new();
    for sa in &b.ds.sales_areas {
        let Some(cc) =
            b.ds.company_codes
                .iter()
                .find(|cc| cc.customer == sa.customer && cc.company_code == sa.sales_org)
        else {
            continue;
        };
        if let (Some(c), Some(s)) = (terms(cc.payment_terms), terms(sa.payment_terms)) {
            if crate::model::payment_terms::compare(c, s).is_some() {
                found.push((sa.customer, sa_scope(sa.sales_org)));
            }
        }
    }
    for (i, scope) in found {
        b.plant(RULE_CC_SA, i, scope, "payment_terms", "");
    }
}

impl Builder {
    /// Masters of a customer without a scenario: any defined keys, any mix of levels.
    fn plain_masters(&mut self, i: u32, chinese: bool) {
        let home: &'static str = if chinese || self.rng.percent(60) {
            "1010"
        } else {
            "1710"
        };
        let other: &'static str = if home == "1010" { "1710" } else { "1010" };
        let mut ccs = vec![home];
        if self.rng.percent(20) {
            ccs.push(other);
        }
        ccs.sort_unstable();
        for cc in ccs {
            let key = *self.rng.pick(&COMMON_KEYS);
            self.cc(i, cc, key);
            if self.rng.percent(2) {
                if let Some(last) = self.ds.company_codes.last_mut() {
                    last.posting_blocked = true;
                }
            }
            if self.rng.percent(90) {
                let sa_key = if self.rng.percent(80) {
                    key
                } else {
                    *self.rng.pick(&COMMON_KEYS)
                };
                let cur = if chinese { "CNY" } else { default_currency(cc) };
                self.sa(i, cc, sa_key, cur);
            }
        }
    }
}
