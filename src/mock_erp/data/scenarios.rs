//! The scenarios customers are given: each writes the customer's masters, its contracts
//! and the planted findings or decoys that describe them, in one place, so the lists cannot
//! drift from the data (see the table in the module above).

use super::builder::{
    cc_scope, contract_scope, sa_scope, Builder, Reg, RULE_BILLED, RULE_BILLING, RULE_BLOCKED,
    RULE_CC, RULE_CREDIT, RULE_CURRENCY, RULE_EXPIRED, RULE_MISSING, RULE_SA, RULE_UNKNOWN,
    RULE_UNREADABLE,
};
use super::records::{ymd, CreditRec};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scenario {
    PlantCc,
    PlantCcText,
    PlantSa,
    PlantSaErp,
    PlantCurrency,
    PlantCurrencyErp,
    PlantUnknownCc,
    PlantUnknownSa,
    PlantUnreadable,
    DecoyKeySynonym,
    DecoyImmediate,
    DecoyDiscountText,
    DecoyNet30Text,
    DecoyYuejie,
    DecoyHuodao,
    DecoyDueOnReceipt,
    DecoyTiersText,
    DecoyEomText,
    DecoyLeadingZero,
    DecoyAlnumLower,
    DecoyExpired,
    DecoyOutOfScope,
    DecoyErpConsistent,
    DecoyKnownRareKey,
    PlantBlocked,
    PlantBillingAddress,
    DecoyAddressSpelling,
    PlantBilledTerms,
    DecoyBilledSynonym,
    PlantExpiredSpecial,
    PlantCreditLimit,
    DecoyCreditSegments,
}

use Scenario::*;

/// Scenarios given to the first customers, so each exists at least once.
pub(super) const FIXED: [Scenario; 31] = [
    PlantCc,
    PlantSa,
    PlantCurrency,
    PlantUnknownCc,
    PlantUnreadable,
    DecoyKeySynonym,
    DecoyImmediate,
    DecoyDiscountText,
    DecoyNet30Text,
    DecoyYuejie,
    DecoyHuodao,
    DecoyLeadingZero,
    DecoyExpired,
    DecoyOutOfScope,
    DecoyErpConsistent,
    PlantSaErp,
    PlantCurrencyErp,
    PlantUnknownSa,
    PlantCcText,
    DecoyDueOnReceipt,
    DecoyTiersText,
    DecoyEomText,
    DecoyKnownRareKey,
    PlantBlocked,
    PlantBillingAddress,
    DecoyAddressSpelling,
    PlantBilledTerms,
    DecoyBilledSynonym,
    PlantExpiredSpecial,
    PlantCreditLimit,
    DecoyCreditSegments,
];

pub(super) const RANDOM_PLANTS: [Scenario; 7] = [
    PlantCc,
    PlantSa,
    PlantCurrency,
    PlantUnknownCc,
    PlantUnreadable,
    PlantSaErp,
    PlantCurrencyErp,
];

pub(super) const RANDOM_DECOYS: [Scenario; 13] = [
    DecoyKeySynonym,
    DecoyImmediate,
    DecoyDiscountText,
    DecoyNet30Text,
    DecoyYuejie,
    DecoyHuodao,
    DecoyDueOnReceipt,
    DecoyTiersText,
    DecoyEomText,
    DecoyLeadingZero,
    DecoyExpired,
    DecoyOutOfScope,
    DecoyErpConsistent,
];

const UNREADABLE_TEXTS: [&str; 4] = [
    "pay when convenient",
    "as agreed with sales",
    "see side letter",
    "Zahlung nach Vereinbarung",
];

pub(super) fn needs_chinese(s: Scenario) -> bool {
    matches!(s, DecoyYuejie | DecoyHuodao | PlantCurrencyErp)
}

pub(super) fn home_org(s: Scenario) -> &'static str {
    match s {
        PlantSaErp | PlantUnknownSa | DecoyNet30Text | DecoyEomText => "1710",
        _ => "1010",
    }
}

impl Builder {
    /// Writes customer `i`'s masters, contracts and findings for scenario `s`.
    pub(super) fn realize(&mut self, i: u32, s: Scenario) {
        self.contracted.insert(i);
        match s {
            PlantBilledTerms | DecoyBilledSynonym => self.billed_terms(i, s == PlantBilledTerms),
            PlantCreditLimit | DecoyCreditSegments => self.credit_limit(i, s == PlantCreditLimit),
            PlantExpiredSpecial => self.expired_special_terms(i),
            PlantBlocked => self.blocked(i),
            PlantBillingAddress | DecoyAddressSpelling => {
                self.billing_address(i, s == PlantBillingAddress)
            }
            PlantCc | PlantCcText | PlantSa | PlantSaErp => self.terms_level(i, s),
            PlantCurrency | PlantCurrencyErp => self.currency(i, s),
            PlantUnknownCc | PlantUnknownSa | DecoyKnownRareKey => self.unknown_key(i, s),
            PlantUnreadable => self.unreadable(i),
            DecoyKeySynonym => self.key_synonym(i),
            DecoyImmediate => self.synonym(i, "1010", ("NT00", "NT00"), "0001", "EUR", false),
            DecoyDiscountText => {
                self.synonym(i, "1010", ("0002", "ZB10"), "2/10 net 30", "EUR", true)
            }
            DecoyNet30Text => self.synonym(i, "1710", ("NT30", "NT30"), "Net 30", "USD", true),
            DecoyYuejie => self.synonym(i, "1010", ("EM30", "EM30"), "月结30天", "CNY", true),
            DecoyHuodao => self.synonym(i, "1010", ("0001", "0001"), "货到付款", "CNY", true),
            DecoyDueOnReceipt => {
                self.synonym(i, "1010", ("NT00", "0001"), "due on receipt", "EUR", true)
            }
            DecoyTiersText => self.synonym(
                i,
                "1010",
                ("0003", "0003"),
                "3% 14 days, 2% 30 days, net 45",
                "EUR",
                true,
            ),
            DecoyEomText => self.synonym(i, "1710", ("EOM", "EOM"), "end of month", "USD", true),
            DecoyLeadingZero | DecoyAlnumLower => self.customer_spelling(i, s == DecoyLeadingZero),
            DecoyExpired => self.expired_contract(i),
            DecoyOutOfScope => self.out_of_scope(i),
            DecoyErpConsistent => self.erp_consistent(i),
        }
    }

    /// Invoices billed on other terms than master and contract: net 60 (planted) or `Z030`,
    /// which means net 30 as well (decoy).
    fn billed_terms(&mut self, i: u32, planted: bool) {
        let id = self.net30_contract(i, Reg::default());
        self.decoy_terms(i, "1010", &id);
        if planted {
            self.billed_on.insert(i, "NT60");
            self.plant(RULE_BILLED, i, cc_scope("1010"), "payment_terms", &id);
        } else {
            self.billed_on.insert(i, "Z030");
            self.decoy(RULE_BILLED, i, cc_scope("1010"), "payment_terms", &id);
        }
    }

    /// Credit management raised to twice the agreed limit (planted), or a second segment
    /// with another limit, where one segment agreeing is enough (decoy).
    fn credit_limit(&mut self, i: u32, planted: bool) {
        let id = self.net30_contract(i, Reg::default());
        self.decoy_terms(i, "1010", &id);
        if planted {
            if let Some(c) = self.ds.credit_accounts.last_mut() {
                c.amount *= Decimal::from(2);
            }
            self.plant(RULE_CREDIT, i, "credit".into(), "credit_limit", &id);
        } else {
            self.ds.credit_accounts.push(CreditRec {
                customer: i,
                segment: "0000",
                amount: Decimal::new(5_000_000, 2),
                currency: "EUR",
            });
            self.decoy(RULE_CREDIT, i, "credit".into(), "credit_limit", &id);
        }
    }

    /// Net 60 was granted until mid-2026; the master still has it.
    fn expired_special_terms(&mut self, i: u32) {
        self.masters(i, "1010", ("NT60", "NT60"), "EUR");
        let old = self.reg(
            Some(i),
            Reg {
                cc: "1010",
                terms: "NT60",
                currency: "EUR",
                validity: Some((Some(ymd(2023, 1, 1)), Some(ymd(2026, 6, 30)))),
                ..Reg::default()
            },
        );
        self.plant(RULE_EXPIRED, i, cc_scope("1010"), "payment_terms", &old);
        self.plant(RULE_EXPIRED, i, sa_scope("1010"), "payment_terms", &old);
    }

    fn blocked(&mut self, i: u32) {
        let id = self.net30_contract(i, Reg::default());
        self.ds.customers[i as usize].posting_blocked = true;
        self.plant(RULE_BLOCKED, i, "customer".into(), "posting_block", &id);
        self.decoy_terms(i, "1010", &id);
    }

    /// The contract bills to a P.O. box (planted), or to the master's address written the
    /// way people type it (decoy).
    fn billing_address(&mut self, i: u32, planted: bool) {
        let street = if planted {
            "Postfach 4711".to_string()
        } else {
            let a = &self.ds.addresses[i as usize];
            format!("{}  {}.", a.street.to_lowercase(), a.house_number)
        };
        let reg = Reg {
            billing_street: Some(street),
            ..Reg::default()
        };
        let id = self.net30_contract(i, reg);
        if planted {
            self.plant(RULE_BILLING, i, contract_scope(&id), "billing_address", &id);
        } else {
            self.decoy(RULE_BILLING, i, contract_scope(&id), "billing_address", &id);
        }
    }

    /// Payment terms that differ at one level (company code or sales area) only.
    fn terms_level(&mut self, i: u32, s: Scenario) {
        match s {
            PlantCc => {
                self.masters(i, "1010", ("NT45", "NT30"), "EUR");
                let id = self.reg(
                    Some(i),
                    Reg {
                        cc: "1010",
                        terms: "NT30",
                        currency: "EUR",
                        ..Reg::default()
                    },
                );
                self.plant(RULE_CC, i, cc_scope("1010"), "payment_terms", &id);
                self.decoy(RULE_SA, i, sa_scope("1010"), "payment_terms", &id);
            }
            PlantCcText => {
                // FI-only customer: no sales area, so only the company code can differ.
                self.cc(i, "1010", "EM30");
                let id = self.reg(
                    Some(i),
                    Reg {
                        terms: "60 days EOM",
                        ..Reg::default()
                    },
                );
                self.plant(RULE_CC, i, cc_scope("1010"), "payment_terms", &id);
                self.decoy(
                    RULE_UNREADABLE,
                    i,
                    contract_scope(&id),
                    "payment_terms",
                    &id,
                );
            }
            PlantSa => {
                self.masters(i, "1010", ("NT30", "NT60"), "EUR");
                let id = self.reg(
                    Some(i),
                    Reg {
                        sa: "1010",
                        terms: "Net 30",
                        currency: "EUR",
                        ..Reg::default()
                    },
                );
                self.plant(RULE_SA, i, sa_scope("1010"), "payment_terms", &id);
                self.decoy(RULE_CC, i, cc_scope("1010"), "payment_terms", &id);
            }
            _ => {
                // An ERP contract on 0002 against a sales area on net 30.
                self.masters(i, "1710", ("ZB10", "NT30"), "USD");
                let id = self.erp(i, "1710", "0002", "USD");
                self.plant(RULE_SA, i, sa_scope("1710"), "payment_terms", &id);
                self.decoy(RULE_CC, i, cc_scope("1710"), "payment_terms", &id);
                self.decoy(RULE_CURRENCY, i, sa_scope("1710"), "currency", &id);
            }
        }
    }

    /// A contract in another currency than the sales area: register in USD, or ERP in CNY.
    fn currency(&mut self, i: u32, s: Scenario) {
        let id = if s == PlantCurrency {
            self.masters(i, "1010", ("NT30", "NT30"), "EUR");
            self.reg(
                Some(i),
                Reg {
                    sa: "1010",
                    terms: "NT30",
                    currency: "USD",
                    ..Reg::default()
                },
            )
        } else {
            self.masters(i, "1010", ("Z030", "NT30"), "EUR");
            self.erp(i, "1010", "NT30", "CNY")
        };
        self.plant(RULE_CURRENCY, i, sa_scope("1010"), "currency", &id);
        self.decoy_terms(i, "1010", &id);
    }

    /// A master key with no definition (planted), or a rarely used but defined one (decoy).
    fn unknown_key(&mut self, i: u32, s: Scenario) {
        match s {
            PlantUnknownCc => {
                self.masters(i, "1010", ("ZX99", "NT30"), "EUR");
                self.plant(RULE_UNKNOWN, i, cc_scope("1010"), "payment_terms", "");
            }
            PlantUnknownSa => {
                self.masters(i, "1710", ("NT30", "ZX98"), "USD");
                self.plant(RULE_UNKNOWN, i, sa_scope("1710"), "payment_terms", "");
            }
            _ => {
                self.masters(i, "1010", ("0003", "NT45"), "EUR");
                self.decoy(RULE_UNKNOWN, i, cc_scope("1010"), "payment_terms", "");
            }
        }
    }

    fn unreadable(&mut self, i: u32) {
        self.masters(i, "1010", ("NT30", "NT30"), "EUR");
        let text = *self.rng.pick(&UNREADABLE_TEXTS);
        let id = self.contract_for_all(i, text, "EUR");
        self.plant(
            RULE_UNREADABLE,
            i,
            contract_scope(&id),
            "payment_terms",
            &id,
        );
    }

    /// `NT30` on an open-ended contract (no valid_to, still active) against `Z030`.
    fn key_synonym(&mut self, i: u32) {
        self.masters(i, "1010", ("Z030", "Z030"), "EUR");
        let id = self.reg(
            Some(i),
            Reg {
                terms: "NT30",
                currency: "EUR",
                validity: Some((Some(ymd(2024, 1, 1)), None)),
                ..Reg::default()
            },
        );
        self.decoy_terms(i, "1010", &id);
    }

    /// The register writes the customer without leading zeros or in lower case.
    fn customer_spelling(&mut self, i: u32, without_zeros: bool) {
        let c = self.customer(i);
        let written = if without_zeros {
            c.trim_start_matches('0').to_string()
        } else {
            c.to_lowercase()
        };
        self.masters(i, "1010", ("NT45", "NT45"), "EUR");
        let id = self.reg(
            Some(i),
            Reg {
                terms: "Net 45",
                currency: "EUR",
                written_as: Some(written),
                ..Reg::default()
            },
        );
        self.decoy(RULE_MISSING, i, contract_scope(&id), "customer", &id);
        self.decoy_terms(i, "1010", &id);
    }

    /// A current contract that agrees, and an expired one with other terms and currency.
    fn expired_contract(&mut self, i: u32) {
        self.masters(i, "1010", ("NT30", "NT30"), "EUR");
        self.contract_for_all(i, "NT30", "EUR");
        let old = self.reg(
            Some(i),
            Reg {
                terms: "NT60",
                currency: "USD",
                validity: Some((Some(ymd(2022, 1, 1)), Some(ymd(2025, 12, 31)))),
                ..Reg::default()
            },
        );
        self.decoy_terms(i, "1010", &old);
        self.decoy(RULE_CURRENCY, i, sa_scope("1010"), "currency", &old);
    }

    /// A contract scoped to CC 1010 + SA 1010/10/00 while CC 1710 / SA 1710/10/00 differ.
    fn out_of_scope(&mut self, i: u32) {
        self.cc(i, "1010", "NT30");
        self.cc(i, "1710", "NT60");
        self.sa(i, "1010", "NT30", "EUR");
        self.sa(i, "1710", "NT60", "USD");
        let id = self.reg(
            Some(i),
            Reg {
                cc: "1010",
                sa: "1010",
                terms: "NT30",
                currency: "EUR",
                ..Reg::default()
            },
        );
        self.decoy_terms(i, "1710", &id);
        self.decoy(RULE_CURRENCY, i, sa_scope("1710"), "currency", &id);
    }

    /// An ERP contract on `NT30` and a register one on "Net 30" against a sales area on
    /// `Z030`.
    fn erp_consistent(&mut self, i: u32) {
        self.masters(i, "1010", ("NT30", "Z030"), "EUR");
        let erp = self.erp(i, "1010", "NT30", "EUR");
        let reg = self.contract_for_all(i, "Net 30", "EUR");
        self.decoy_terms(i, "1010", &erp);
        self.decoy_terms(i, "1010", &reg);
    }

    /// Same meaning, different words: master `cc_key`/`sa_key`, contract `contract_terms`.
    fn synonym(
        &mut self,
        i: u32,
        org: &'static str,
        (cc_key, sa_key): (&'static str, &'static str),
        contract_terms: &'static str,
        currency: &'static str,
        text: bool,
    ) {
        self.masters(i, org, (cc_key, sa_key), currency);
        let id = self.reg(
            Some(i),
            Reg {
                terms: contract_terms,
                currency,
                ..Reg::default()
            },
        );
        self.decoy_terms(i, org, &id);
        if text {
            self.decoy(
                RULE_UNREADABLE,
                i,
                contract_scope(&id),
                "payment_terms",
                &id,
            );
        }
    }
}
