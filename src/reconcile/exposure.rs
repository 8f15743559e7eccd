//! Money at stake: the open items a finding touches, and by how many days.

use crate::model::{Exposure, OpenItem};
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

/// The receivables (debit items) affected, summed in the currency that holds most of them;
/// items in other currencies are counted in `items` but not added into `amount`, since
/// adding currencies without rates would state a false figure.
pub fn exposure_of(items: &[OpenItem], filter: &ItemFilter<'_>, days: i64) -> Exposure {
    let mut per_currency: BTreeMap<&str, (Decimal, u32)> = BTreeMap::new();
    let mut count = 0u32;
    for item in items.iter().filter(|i| filter.matches(i) && !i.is_credit()) {
        count += 1;
        let e = per_currency.entry(item.currency.as_str()).or_default();
        e.0 += item.amount;
        e.1 += 1;
    }
    let (currency, amount) = per_currency
        .iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0))
        .map(|(c, (a, _))| (c.to_string(), *a))
        .unwrap_or_default();
    Exposure {
        amount,
        currency,
        items: count,
        days: if count > 0 { days } else { 0 },
        ..Exposure::default()
    }
}
