//! The master levels that carry payment terms (company codes, then sales areas), as the
//! terms rules walk them.

use crate::model::{Contract, ContractScope, Customer, Scope};

/// A level's scope, its terms key (absent when the master holds none) and, for a company
/// code, the code its open items are booked in.
pub(super) struct TermsLevel<'a> {
    pub scope: Scope,
    pub key: Option<&'a str>,
    pub company_code: Option<&'a str>,
}

/// The levels of `customer` that `within` covers and no contract of `unless` does.
pub(super) fn terms_levels<'a>(
    customer: &'a Customer,
    within: &'a ContractScope,
    unless: &'a [&'a Contract],
) -> impl Iterator<Item = TermsLevel<'a>> + 'a {
    let companies = customer
        .company_codes
        .iter()
        .filter(move |cc| {
            let covers = |s: &ContractScope| s.covers_company_code(&cc.company_code);
            covers(within) && !unless.iter().any(|c| covers(&c.scope))
        })
        .map(|cc| TermsLevel {
            scope: Scope::CompanyCode(cc.company_code.clone()),
            key: cc.payment_terms.as_deref(),
            company_code: Some(cc.company_code.as_str()),
        });
    let sales_areas = customer
        .sales_areas
        .iter()
        .filter(move |sa| {
            let covers = |s: &ContractScope| s.covers_sales_area(&sa.area);
            covers(within) && !unless.iter().any(|c| covers(&c.scope))
        })
        .map(|sa| TermsLevel {
            scope: Scope::SalesArea(sa.area.clone()),
            key: sa.payment_terms.as_deref(),
            company_code: None,
        });
    companies.chain(sales_areas)
}
