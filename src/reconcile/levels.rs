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
    let companies = customer.company_codes.iter().map(|cc| TermsLevel {
        scope: Scope::CompanyCode(cc.company_code.clone()),
        key: cc.payment_terms.as_deref(),
        company_code: Some(cc.company_code.as_str()),
    });
    let sales_areas = customer.sales_areas.iter().map(|sa| TermsLevel {
        scope: Scope::SalesArea(sa.area.clone()),
        key: sa.payment_terms.as_deref(),
        company_code: None,
    });
    companies.chain(sales_areas).filter(move |level| {
        covers(within, &level.scope) && !unless.iter().any(|c| covers(&c.scope, &level.scope))
    })
}

/// Whether a contract's scope takes in a company-code or sales-area level.
fn covers(contract: &ContractScope, level: &Scope) -> bool {
    match level {
        Scope::CompanyCode(code) => contract.covers_company_code(code),
        Scope::SalesArea(area) => contract.covers_sales_area(area),
        _ => false,
    }
}
