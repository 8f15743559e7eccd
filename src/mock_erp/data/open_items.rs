//! The accounting document items (`A_OperationalAcctgDocItemCube`): open and cleared
//! customer items billed on the master's terms (or a planted override), credit memos that
//! follow their invoice, dunning, and supplier lines a careless filter would pull in.

use super::builder::{default_currency, Builder};
use super::records::{reference_date, ymd, OpenItemRec};
use super::terms::COMMON_KEYS;
use chrono::Duration;
use rust_decimal::Decimal;

/// Open customer items per the config, about 10 % cleared ones on top, and 5 % supplier
/// lines; stored in key order.
pub(super) fn generate_items(b: &mut Builder, open_items: usize) {
    let n = b.ds.customers.len();
    if n == 0 {
        return;
    }
    let today = reference_date();
    let first_day = ymd(2026, 1, 2);
    let span = (ymd(2026, 11, 20) - first_day).num_days() as u64;
    let mut doc_no: [u64; 2] = [1_800_000_000, 1_800_000_000];
    let mut clearing_no = 1_400_000_000u64;

    // Company codes and sales areas per customer, looked up once.
    let mut ccs: Vec<Vec<(&'static str, &'static str)>> = vec![Vec::new(); n];
    for c in &b.ds.company_codes {
        ccs[c.customer as usize].push((c.company_code, c.payment_terms));
    }
    let mut sa_cur: Vec<Vec<(&'static str, &'static str)>> = vec![Vec::new(); n];
    for s in &b.ds.sales_areas {
        sa_cur[s.customer as usize].push((s.sales_org, s.currency));
    }

    let cleared = open_items / 10;
    let total_customer = open_items + cleared;
    let base = total_customer / n;
    let rem = total_customer % n;
    // Which of the generated customer items are cleared: every k-th, spread evenly.
    let clear_every = total_customer.checked_div(cleared).unwrap_or(usize::MAX);
    let mut cleared_left = cleared;
    let mut seq = 0usize;
    for ci in 0..n {
        let count = base + usize::from(ci < rem);
        let mut last_invoice: Option<OpenItemRec> = None;
        for _ in 0..count {
            seq += 1;
            let is_cleared = cleared_left > 0 && seq % clear_every == 0;
            if is_cleared {
                cleared_left -= 1;
            }
            let (cc, master_terms) = *b.rng.pick(&ccs[ci]);
            let slot = usize::from(cc == "1710");
            doc_no[slot] += 1;
            let currency = sa_cur[ci]
                .iter()
                .find(|(org, _)| *org == cc)
                .map(|(_, c)| *c)
                .unwrap_or_else(|| default_currency(cc));
            let document_date = first_day + Duration::days(b.rng.below(span + 1) as i64);
            let posting_date = (document_date + Duration::days(b.rng.below(4) as i64)).min(today);
            let override_key = b.billed_on.get(&(ci as u32)).copied();
            // An overridden customer's invoices are all debits, so its flag has items.
            let credit = b.rng.percent(15) && override_key.is_none();
            let random_key = if b.rng.percent(95) {
                master_terms
            } else {
                *b.rng.pick(&COMMON_KEYS)
            };
            let terms = match override_key {
                Some(k) => k,
                None if b.contracted.contains(&(ci as u32)) => master_terms,
                None => random_key,
            };
            let cents = 10_000 + b.rng.below(5_000_000) as i64;
            let cents = if currency == "CNY" { cents * 7 } else { cents };
            let amount = Decimal::new(if credit { -cents / 5 } else { cents }, 2);
            let mut item = OpenItemRec {
                is_cleared,
                posting_date,
                last_change: posting_date,
                ..OpenItemRec::posted(
                    cc,
                    doc_no[slot],
                    ci as u32,
                    document_date,
                    terms,
                    currency,
                    amount,
                )
            };
            if credit {
                match &last_invoice {
                    // A credit memo for an invoice takes over the invoice's terms and dates.
                    Some(inv) if inv.company_code == cc && b.rng.percent(30) => {
                        item.invoice_reference = inv.document;
                        item.payment_terms = inv.payment_terms;
                        item.baseline_date = inv.baseline_date;
                        item.net_due_date = inv.net_due_date;
                        item.cd1_days = inv.cd1_days;
                        item.cd1_pct_milli = inv.cd1_pct_milli;
                        item.cd2_days = inv.cd2_days;
                        item.cd2_pct_milli = inv.cd2_pct_milli;
                        item.net_days = inv.net_days;
                    }
                    // Unlinked credit memos are due at their baseline date.
                    _ => item.net_due_date = item.baseline_date,
                }
            }
            if is_cleared {
                let d = (posting_date + Duration::days(15 + b.rng.below(45) as i64)).min(today);
                clearing_no += 1;
                item.clearing_date = Some(d);
                item.clearing_document = clearing_no;
                item.last_change = d;
            } else if !credit {
                let overdue = (today - item.net_due_date).num_days();
                if overdue > 14 {
                    item.dunning_level = (1 + overdue / 30).min(3) as u8;
                }
                if b.rng.percent(2) {
                    item.dunning_block = "A";
                }
            }
            if !credit {
                last_invoice = Some(item.clone());
            }
            b.ds.open_items.push(item);
        }
    }

    // Supplier lines: the same cube serves AP, so a careless filter would pull these in.
    let suppliers = (open_items / 20).max(usize::from(open_items > 0));
    for k in 0..suppliers {
        let ap_doc = 5_100_000_001 + k as u64;
        let cc = if k % 3 == 0 { "1710" } else { "1010" };
        let document_date = first_day + Duration::days(b.rng.below(span + 1) as i64);
        let amount = Decimal::new(-(10_000 + b.rng.below(2_000_000) as i64), 2);
        let party = 17_300_001 + (k as u32 % 50);
        let item = OpenItemRec {
            account_type: b'K',
            document_type: "KR",
            ..OpenItemRec::posted(
                cc,
                ap_doc,
                party,
                document_date,
                "NT30",
                default_currency(cc),
                amount,
            )
        };
        b.ds.open_items.push(item);
    }

    b.ds.open_items.sort_by(|a, c| {
        (a.company_code, a.fiscal_year, a.document, a.item).cmp(&(
            c.company_code,
            c.fiscal_year,
            c.document,
            c.item,
        ))
    });
}
