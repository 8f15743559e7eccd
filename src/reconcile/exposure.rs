//! Money at stake: the open items a finding touches, and by how many days.

use crate::model::{CurrencyAmount, Exposure, OpenItem};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Which of a customer's open items a finding affects.
#[derive(Debug, Default)]
pub struct ItemFilter<'a> {
    /// Only items of this company code.
    pub company_code: Option<&'a str>,
    /// Only items billed with this payment-terms key.
    pub terms_key: Option<&'a str>,
}

impl ItemFilter<'_> {
    fn matches(&self, item: &OpenItem) -> bool {
        self.company_code
            .is_none_or(|cc| item.key.company_code == cc)
            && self
                .terms_key
                .is_none_or(|k| item.payment_terms.as_deref() == Some(k))
    }
}

/// The receivables (debit items) among `items` that `filter` selects.
pub fn exposure_of(items: &[OpenItem], filter: &ItemFilter<'_>, days: i64) -> Exposure {
    exposure_of_items(items.iter().filter(|i| filter.matches(i)), days)
}

/// The receivables (debit items) among `items`, summed per currency. The headline
/// `amount` is the currency that holds most of the money; the others are listed in
/// `by_currency`, never added in, since adding currencies without rates would state a
/// false figure.
pub fn exposure_of_items<'a>(items: impl Iterator<Item = &'a OpenItem>, days: i64) -> Exposure {
    let mut per_currency: BTreeMap<&str, (Decimal, u32)> = BTreeMap::new();
    let mut count = 0u32;
    for item in items.filter(|i| !i.is_credit()) {
        count = count.saturating_add(1);
        let e = per_currency.entry(item.currency.as_str()).or_default();
        // Amounts are accepted up to `Decimal::MAX`, so a sum can exceed what a decimal
        // holds: it stops at `Decimal::MAX`, a figure no real receivable reaches, so the
        // flag still stands (and sorts first) instead of the run panicking.
        e.0 = e.0.saturating_add(item.amount);
        e.1 = e.1.saturating_add(1);
    }
    let mut by_currency: Vec<CurrencyAmount> = per_currency
        .into_iter()
        .map(|(currency, (amount, items))| CurrencyAmount {
            currency: currency.to_string(),
            amount,
            items,
        })
        .collect();
    // Largest first; ties by currency code, so the order is stable.
    by_currency.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.currency.cmp(&b.currency)));
    let (currency, amount) = by_currency
        .first()
        .map(|c| (c.currency.clone(), c.amount))
        .unwrap_or_default();
    Exposure {
        amount,
        currency,
        items: count,
        days: if count > 0 { days } else { 0 },
        by_currency,
        ..Exposure::default()
    }
}
