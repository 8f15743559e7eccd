//! What the write services start from: dispute cases on open invoices (every status tests
//! need among the first four) and a few long texts.

use super::builder::Builder;
use super::records::{DisputeCaseRec, TextRec};
use rust_decimal::Decimal;

/// Dispute cases on about one open invoice in 40 (at least six).
pub(super) fn generate_cases(b: &mut Builder) {
    let candidates: Vec<usize> =
        b.ds.open_items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.account_type == b'D' && !i.is_cleared && i.debit)
            .map(|(k, _)| k)
            .collect();
    if candidates.is_empty() {
        return;
    }
    let count = (candidates.len() / 40).max(6).min(candidates.len());
    let stride = candidates.len() / count;
    for k in 0..count {
        let idx = candidates[k * stride];
        // The first four cover every kind of state tests need; the rest are random.
        let status = match k {
            0 => "OPEN",
            1 => "INPR",
            2 => "CLSD",
            3 => "VOID",
            _ => *b
                .rng
                .pick(&["OPEN", "OPEN", "OPEN", "INPR", "INPR", "RSLV", "CLSD"]),
        };
        let item = &b.ds.open_items[idx];
        let disputed = (item.amount * Decimal::new(1 + b.rng.below(100) as i64, 2)).round_dp(2);
        let guid = format!("{:016X}{:016X}", b.rng.next_u64(), b.rng.next_u64());
        let change_state_id = format!(
            "{}{:06}.0000000",
            item.posting_date.format("%Y%m%d"),
            b.rng.below(240_000)
        );
        let (reason, title) = *b.rng.pick(&[
            ("001", "Price difference"),
            ("002", "Quantity short delivered"),
            ("003", "Damaged goods"),
            ("004", "Missing proof of delivery"),
        ]);
        b.ds.dispute_cases.push(DisputeCaseRec {
            case_id: format!("{:012}", 100_000_000_001u64 + k as u64),
            case_guid: guid,
            customer: item.party,
            status,
            change_state_id,
            amount: disputed,
            currency: item.currency,
            reason_code: reason,
            title: format!("{title} on {}", item.document),
            item: idx,
        });
    }
}

pub(super) fn generate_texts(b: &mut Builder) {
    let texts = [
        "Key account since 2019; call before dunning.",
        "Prefers invoices by e-mail.",
        "请用中文联系财务部。",
    ];
    for (k, t) in texts.iter().enumerate().take(b.ds.customers.len()) {
        b.ds.customer_texts.push(TextRec {
            customer: b.ds.customers[k].customer.clone(),
            company_code: None,
            language: "EN".into(),
            long_text_id: "TX01".into(),
            long_text: (*t).to_string(),
        });
    }
    if let Some(cc) = b.ds.company_codes.first() {
        b.ds.company_texts.push(TextRec {
            customer: b.ds.customers[cc.customer as usize].customer.clone(),
            company_code: Some(cc.company_code.to_string()),
            language: "EN".into(),
            long_text_id: "0001".into(),
            long_text: "Payment reminder agreed by phone.".into(),
        });
    }
}
