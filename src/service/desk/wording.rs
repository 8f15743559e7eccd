//! What a flag says in plain words: one sentence naming both sides and the scope, the two
//! values being compared (each under the name of the place that holds it), and the change
//! that would resolve it with the SAP transaction or app to make it in.
//!
//! Rule names, field names and scope codes stay as they are in the API and the exports
//! (other tools read them); the labels here are for people only. Pure: everything it needs
//! is handed in, so each rule's wording is tested without a store.

use crate::model::payment_terms::describe;
use crate::model::{Contract, Customer, Discrepancy, Rule, Scope};
use crate::reconcile::rules::normalized_address;
use crate::reconcile::TermsBook;
use serde::Serialize;

/// A rule's name for people.
pub fn rule_label(rule: Rule) -> &'static str {
    match rule {
        Rule::PaymentTermsCompanyCode => "Payment terms: contract vs company code",
        Rule::PaymentTermsSalesArea => "Payment terms: contract vs sales area",
        Rule::Currency => "Currency: contract vs sales area",
        Rule::UnknownPaymentTerms => "Payment terms key without definition",
        Rule::ContractTermsUnreadable => "Contract terms cannot be read",
        Rule::CustomerMissing => "Contract for a customer not in the master",
        Rule::PaymentTermsCompanyVsSalesArea => "Payment terms: company code vs sales area",
        Rule::CustomerBlocked => "Customer blocked while under contract",
        Rule::BillingAddress => "Billing address: contract vs master",
        Rule::OpenItemBilledTerms => "Invoices billed on other terms",
        Rule::ContractExpiredSpecialTerms => "Special terms after the contract expired",
        Rule::CreditLimit => "Credit limit: contract vs credit management",
    }
}

/// A field's name for people (unknown names are shown as they are).
pub fn field_label(field: &str) -> &str {
    match field {
        "payment_terms" => "Payment terms",
        "currency" => "Currency",
        "customer" => "Customer",
        "posting_block" => "Posting block",
        "deletion_flag" => "Deletion flag",
        "billing_address" => "Billing address",
        "credit_limit" => "Credit limit",
        other => other,
    }
}

/// A scope in words: "company code 1010", "sales area 1010/10/00", ….
pub fn scope_words(scope: &Scope) -> String {
    match scope {
        Scope::Customer => "the customer as a whole".into(),
        Scope::CompanyCode(cc) => format!("company code {cc}"),
        Scope::SalesArea(sa) => format!("sales area {sa}"),
        Scope::Contract(id) => format!("contract {id}"),
        Scope::Credit => "credit management".into(),
        Scope::Unstated => "no narrower place".into(),
    }
}

/// One side of the comparison: where the value lives, and the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// E.g. "Contract CLM-00001", "Master · company code 1010".
    pub title: String,
    /// The value compared, in words, e.g. "NT30 (net 30 days from document date)".
    pub value: String,
}

/// Where in SAP a proposed change is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SapPlace {
    /// The customer's company-code data (FI): BP role FLCU00.
    CompanyCode,
    /// The customer's sales-area data (SD): BP role FLCU01.
    SalesArea,
    /// The customer's general data (address, blocks).
    General,
    /// Credit management (UKM_BP).
    Credit,
    /// The contract itself (the register, or the SAP sales contract).
    Contract,
    /// Payment-terms customising (OBB8).
    TermsCustomising,
    /// The invoices (accounting documents).
    Invoices,
}

impl SapPlace {
    /// The transaction and Fiori app, as an SAP user looks for them.
    pub fn transaction(self) -> &'static str {
        match self {
            SapPlace::CompanyCode => {
                "BP, role FLCU00 (or XD02) · Fiori: Manage Customer Master Data"
            }
            SapPlace::SalesArea => "BP, role FLCU01 (or VD02) · Fiori: Manage Customer Master Data",
            SapPlace::General => "BP (or XD02) · Fiori: Manage Customer Master Data",
            SapPlace::Credit => "UKM_BP · Fiori: Manage Credit Accounts",
            SapPlace::Contract => "the contract register (VA42 for SAP sales contracts)",
            SapPlace::TermsCustomising => "OBB8 (payment terms customising)",
            SapPlace::Invoices => "FB02 · Fiori: Manage Journal Entries",
        }
    }

    /// The transaction code a link template receives as `{transaction}`.
    pub fn code(self) -> &'static str {
        match self {
            SapPlace::CompanyCode | SapPlace::SalesArea | SapPlace::General => "BP",
            SapPlace::Credit => "UKM_BP",
            SapPlace::Contract => "VA42",
            SapPlace::TermsCustomising => "OBB8",
            SapPlace::Invoices => "FB02",
        }
    }

    /// Whether the change is made on the customer master (where the configured link leads).
    pub fn is_master(self) -> bool {
        matches!(
            self,
            SapPlace::CompanyCode | SapPlace::SalesArea | SapPlace::General
        )
    }
}

/// The change that would resolve a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub text: String,
    pub place: SapPlace,
    pub transaction: &'static str,
}

/// A flag in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wording {
    pub rule_label: &'static str,
    pub field_label: String,
    pub scope_label: String,
    /// One sentence: both sides and the scope.
    pub sentence: String,
    /// The side the flag measures against (the contract, or the reference level).
    pub left: Side,
    /// The side found to differ.
    pub right: Side,
    pub proposal: Option<Proposal>,
}

/// What the wording needs besides the flag.
pub struct Context<'a> {
    pub customer: Option<&'a Customer>,
    /// The contract the flag names (or the customer's current ones).
    pub contracts: &'a [Contract],
    pub book: &'a TermsBook,
}

impl Context<'_> {
    fn terms(&self, key: &str) -> String {
        match self.book.get(key) {
            Some(t) => format!("{key} ({})", describe(t)),
            None => format!("{key} (no definition)"),
        }
    }

    /// A contract's terms as written, with their meaning where it can be read.
    fn contract_terms(&self, raw: &str) -> String {
        if raw.trim().is_empty() {
            return "no payment terms".into();
        }
        if self.book.get(raw).is_some() {
            return self.terms(raw);
        }
        match self.book.resolve_contract_terms(raw) {
            Ok(t) => format!("\u{201c}{raw}\u{201d} ({})", describe(&t)),
            Err(_) => format!("\u{201c}{raw}\u{201d}"),
        }
    }

    fn contract(&self, id: Option<&str>) -> Option<&Contract> {
        let id = id?;
        self.contracts.iter().find(|c| c.id == id)
    }

    fn company_code_terms(&self, cc: &str) -> Option<Option<&str>> {
        self.customer?
            .company_codes
            .iter()
            .find(|c| c.company_code == cc)
            .map(|c| c.payment_terms.as_deref())
    }

    /// The master's terms at every level a contract covers, e.g. "CC 1010: NT30 (…)".
    fn terms_under(&self, contract: Option<&Contract>) -> String {
        let Some(c) = self.customer else {
            return "customer not in the master".into();
        };
        let mut parts = Vec::new();
        for cc in &c.company_codes {
            if contract.is_none_or(|k| k.scope.covers_company_code(&cc.company_code)) {
                let t = cc
                    .payment_terms
                    .as_deref()
                    .map(|k| self.terms(k))
                    .unwrap_or_else(|| "none".into());
                parts.push(format!("company code {}: {t}", cc.company_code));
            }
        }
        for sa in &c.sales_areas {
            if contract.is_none_or(|k| k.scope.covers_sales_area(&sa.area)) {
                let t = sa
                    .payment_terms
                    .as_deref()
                    .map(|k| self.terms(k))
                    .unwrap_or_else(|| "none".into());
                parts.push(format!("sales area {}: {t}", sa.area));
            }
        }
        if parts.is_empty() {
            "no payment terms at the levels the contract covers".into()
        } else {
            parts.join("; ")
        }
    }
}

/// "later"/"earlier" wording of a due-date shift, if there is one.
fn shift_clause(days: i64) -> String {
    match days {
        0 => String::new(),
        d if d > 0 => format!(": invoices fall due up to {d} day(s) later than agreed"),
        d => format!(
            ": invoices fall due up to {} day(s) earlier than agreed",
            -d
        ),
    }
}

/// A value as the store keeps "nothing": `-` or empty.
fn nothing(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "-"
}

/// The flag in words.
pub fn word(d: &Discrepancy, ctx: &Context<'_>) -> Wording {
    let f = &d.finding;
    let customer = f.customer.as_str();
    let scope = scope_words(&f.scope);
    let contract_id = f.contract_id.as_deref().unwrap_or("?");
    let contract = ctx.contract(f.contract_id.as_deref());
    let side = |title: String, value: String| Side { title, value };
    let propose = |text: String, place: SapPlace| {
        Some(Proposal {
            text,
            place,
            transaction: place.transaction(),
        })
    };
    let (sentence, left, right, proposal) = match f.rule {
        Rule::PaymentTermsCompanyCode | Rule::PaymentTermsSalesArea => {
            let agreed = ctx.contract_terms(&f.contract_value);
            let master = if nothing(&f.master_value) {
                "no payment terms".to_string()
            } else {
                ctx.terms(&f.master_value)
            };
            let place = if f.rule == Rule::PaymentTermsCompanyCode {
                SapPlace::CompanyCode
            } else {
                SapPlace::SalesArea
            };
            // A key the contract names is what to set; text names the meaning to set.
            let target = if ctx.book.get(f.contract_value.trim()).is_some() {
                f.contract_value.trim().to_string()
            } else {
                format!("a key meaning {agreed}")
            };
            (
                format!(
                    "Contract {contract_id} agrees {agreed}, but customer {customer}'s master data in {scope} has {master}{}.",
                    shift_clause(f.exposure.days)
                ),
                side(format!("Contract {contract_id}"), agreed),
                side(format!("Master · {scope}"), master),
                propose(
                    format!("Set the payment terms of customer {customer} in {scope} to {target}."),
                    place,
                ),
            )
        }
        Rule::PaymentTermsCompanyVsSalesArea => {
            // Both sides are master levels: the company code's key is in `contract_value`
            // as "CC 1010: NT30" (kept for the API); the master itself is asked first.
            let cc = match &f.scope {
                Scope::SalesArea(sa) => sa.sales_org.clone(),
                _ => String::new(),
            };
            let cc_key = ctx
                .company_code_terms(&cc)
                .flatten()
                .map(str::to_string)
                .or_else(|| {
                    f.contract_value
                        .split_once(": ")
                        .map(|(_, k)| k.trim().to_string())
                })
                .unwrap_or_default();
            let cc_terms = ctx.terms(&cc_key);
            let sa_terms = ctx.terms(&f.master_value);
            (
                format!(
                    "Customer {customer}'s master data has {cc_terms} in company code {cc} but {sa_terms} in {scope}{}.",
                    match f.exposure.days {
                        0 => String::new(),
                        d => format!(
                            ": invoices billed in the sales area fall due up to {} day(s) {} than the company code expects",
                            d.abs(),
                            if d > 0 { "later" } else { "earlier" }
                        ),
                    }
                ),
                side(format!("Master · company code {cc}"), cc_terms),
                side(format!("Master · {scope}"), sa_terms),
                propose(
                    format!(
                        "Set the payment terms of customer {customer} in {scope} to {cc_key} (the company code's), or change company code {cc} if the sales area is right."
                    ),
                    SapPlace::SalesArea,
                ),
            )
        }
        Rule::Currency => (
            format!(
                "Contract {contract_id} is in {}, but customer {customer}'s master data bills {scope} in {}.",
                f.contract_value, f.master_value
            ),
            side(format!("Contract {contract_id}"), f.contract_value.clone()),
            side(format!("Master · {scope}"), f.master_value.clone()),
            propose(
                format!(
                    "Set the currency of customer {customer} in {scope} to {}, or correct the currency on contract {contract_id}.",
                    f.contract_value
                ),
                SapPlace::SalesArea,
            ),
        ),
        Rule::UnknownPaymentTerms => (
            format!(
                "Customer {customer}'s master data in {scope} names payment terms key {}, which has no definition: its due dates cannot be checked.",
                f.master_value
            ),
            side(
                "Payment terms definitions (T052)".into(),
                format!("no key {}", f.master_value),
            ),
            side(format!("Master · {scope}"), f.master_value.clone()),
            propose(
                format!(
                    "Define payment terms key {} (or load the T052 export that has it), or set the payment terms of customer {customer} in {scope} to a defined key.",
                    f.master_value
                ),
                SapPlace::TermsCustomising,
            ),
        ),
        Rule::ContractTermsUnreadable => {
            let master = ctx.terms_under(contract);
            (
                format!(
                    "Contract {contract_id}'s payment terms \u{201c}{}\u{201d} cannot be read with certainty, so they cannot be checked against customer {customer}'s master data ({master}).",
                    f.contract_value
                ),
                side(
                    format!("Contract {contract_id}"),
                    format!("\u{201c}{}\u{201d} (unreadable)", f.contract_value),
                ),
                side("Master · payment terms".into(), master),
                propose(
                    format!(
                        "Rewrite the payment terms on contract {contract_id} as a key (e.g. NT30) or in a form the register reads (\u{201c}Net 30\u{201d}, \u{201c}2% 10 days, net 30\u{201d}, \u{201c}60 days end of month\u{201d})."
                    ),
                    SapPlace::Contract,
                ),
            )
        }
        Rule::CustomerMissing => (
            format!(
                "Contract {contract_id} is for customer {customer}, but the master has no such customer."
            ),
            side(format!("Contract {contract_id}"), format!("customer {customer}")),
            side("Master".into(), "no such customer".into()),
            propose(
                format!(
                    "Create customer {customer} in the master, or correct the customer number on contract {contract_id}."
                ),
                SapPlace::General,
            ),
        ),
        Rule::CustomerBlocked => {
            let valid = contract
                .map(|c| {
                    format!(
                        "active, valid {} to {}",
                        c.valid_from
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "open".into()),
                        c.valid_to
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "open".into())
                    )
                })
                .unwrap_or_else(|| "active".into());
            let block = if f.field == "deletion_flag" {
                "deletion flag"
            } else {
                "posting block"
            };
            (
                format!(
                    "Contract {contract_id} is {valid}, but customer {customer} is {} in the master.",
                    f.master_value
                ),
                side(format!("Contract {contract_id}"), valid),
                side("Master · customer".into(), f.master_value.clone()),
                propose(
                    format!(
                        "Remove the {block} of customer {customer}, or end contract {contract_id} if the customer is no longer served."
                    ),
                    SapPlace::General,
                ),
            )
        }
        Rule::BillingAddress => {
            let parts = contract
                .and_then(|c| c.billing_address.as_ref())
                .zip(ctx.customer.and_then(|c| c.general.address.as_ref()))
                .map(|(a, m)| differing_parts(a, m))
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "billing address".into());
            (
                format!(
                    "Contract {contract_id} bills to \u{201c}{}\u{201d}, but customer {customer}'s address in the master is \u{201c}{}\u{201d}.",
                    f.contract_value, f.master_value
                ),
                side(format!("Contract {contract_id}"), f.contract_value.clone()),
                side("Master · address".into(), f.master_value.clone()),
                propose(
                    format!(
                        "Update the billing {parts} on contract {contract_id}, or the address of customer {customer} in the master, whichever is out of date."
                    ),
                    SapPlace::General,
                ),
            )
        }
        Rule::OpenItemBilledTerms => {
            let agreed = ctx.contract_terms(&f.contract_value);
            (
                format!(
                    "Contract {contract_id} agrees {agreed}, but {} open item(s) of customer {customer} in {scope} were billed on {}{}.",
                    f.exposure.items,
                    f.master_value,
                    shift_clause(f.exposure.days)
                ),
                side(format!("Contract {contract_id}"), agreed),
                side(format!("Invoices · {scope}"), format!("billed on {}", f.master_value)),
                propose(
                    format!(
                        "Correct the payment terms on the listed invoices to the contract's, and check where billing took {} from.",
                        f.master_value
                    ),
                    SapPlace::Invoices,
                ),
            )
        }
        Rule::ContractExpiredSpecialTerms => {
            let master = ctx.terms(&f.master_value);
            (
                format!(
                    "Contract {contract_id} granted {} and has expired, yet customer {customer}'s master data in {scope} still has {master}.",
                    f.contract_value
                ),
                side(format!("Contract {contract_id} (expired)"), f.contract_value.clone()),
                side(format!("Master · {scope}"), master),
                propose(
                    format!(
                        "Renew contract {contract_id}, or set the payment terms of customer {customer} in {scope} back to your standard terms."
                    ),
                    match f.scope {
                        Scope::SalesArea(_) => SapPlace::SalesArea,
                        _ => SapPlace::CompanyCode,
                    },
                ),
            )
        }
        Rule::CreditLimit => (
            format!(
                "Contract {contract_id} agrees a credit limit of {}, but customer {customer}'s credit management holds {}.",
                f.contract_value, f.master_value
            ),
            side(format!("Contract {contract_id}"), f.contract_value.clone()),
            side("Credit management".into(), f.master_value.clone()),
            propose(
                format!(
                    "Set the credit limit of customer {customer} to {} in credit management, or correct contract {contract_id}.",
                    f.contract_value
                ),
                SapPlace::Credit,
            ),
        ),
    };
    Wording {
        rule_label: rule_label(f.rule),
        field_label: field_label(&f.field).to_string(),
        scope_label: scope,
        sentence,
        left,
        right,
        proposal,
    }
}

/// Which parts of two addresses differ after normalising: "street and city".
fn differing_parts(a: &crate::model::Address, m: &crate::model::Address) -> String {
    const PARTS: [&str; 4] = ["street", "postal code", "city", "country"];
    let na = normalized_address(a);
    let nm = normalized_address(m);
    let differ: Vec<&str> = na
        .split('|')
        .zip(nm.split('|'))
        .zip(PARTS)
        .filter(|((x, y), _)| x != y)
        .map(|(_, p)| p)
        .collect();
    match differ.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests;
