//! Statements of account (对账单) and payment reminders (付款提醒): what they list and how
//! they read, in English and Chinese. The Chinese text is written for Chinese customers
//! (the usual 对账单 conventions: confirm within ten days, silence is agreement; a reminder
//! that thanks first and asks for the remittance slip), not translated from the English.

use super::aging::{days_past_due, Bucket};
use super::item::ArItem;
use super::settings::PaymentDetails;
use crate::model::{Address, OpenItemKey};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    En,
    Zh,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en" => Ok(Lang::En),
            "zh" => Ok(Lang::Zh),
            _ => Err(format!("unknown language {s:?}: expected en or zh")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Every open item.
    Statement,
    /// Overdue items only.
    Reminder,
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "statement" => Ok(Kind::Statement),
            "reminder" => Ok(Kind::Reminder),
            _ => Err(format!(
                "unknown kind {s:?}: expected statement or reminder"
            )),
        }
    }
}

/// Days after the as-of date a reminder asks payment by.
pub const REMINDER_DAYS: u64 = 7;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub key: OpenItemKey,
    pub posting_date: NaiveDate,
    pub due: NaiveDate,
    pub days_past_due: i64,
    pub amount: Decimal,
    pub currency: String,
    pub dispute_case: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub total: Decimal,
    pub overdue: Decimal,
    pub buckets: [Decimal; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub kind: Kind,
    pub lang: Lang,
    pub as_of: NaiveDate,
    /// For reminders: the date payment is asked by.
    pub pay_by: Option<NaiveDate>,
    pub customer: String,
    pub name: String,
    pub address: Option<Address>,
    pub company_code: Option<String>,
    pub lines: Vec<Line>,
    pub totals: Vec<CurrencyTotal>,
    #[serde(skip)]
    pub payment: PaymentDetails,
}

/// Who the document is for.
#[derive(Debug, Clone)]
pub struct Addressee {
    pub customer: String,
    pub name: String,
    pub address: Option<Address>,
}

/// The document for `items` (the customer's items, open and cleared) at `as_of`.
pub fn build(
    to: Addressee,
    company_code: Option<String>,
    items: &[ArItem],
    as_of: NaiveDate,
    kind: Kind,
    lang: Lang,
    payment: PaymentDetails,
) -> Document {
    let mut lines: Vec<Line> = items
        .iter()
        .filter(|i| i.open_on(as_of))
        .filter(|i| {
            company_code
                .as_ref()
                .is_none_or(|cc| &i.key.company_code == cc)
        })
        .map(|i| Line {
            key: i.key.clone(),
            posting_date: i.posting_date,
            due: i.due,
            days_past_due: days_past_due(as_of, i.due),
            amount: i.amount,
            currency: i.currency.clone(),
            dispute_case: i.dispute_case.clone(),
        })
        .filter(|l| kind == Kind::Statement || l.days_past_due > 0)
        .collect();
    lines.sort_by(|a, b| (&a.currency, a.due, &a.key).cmp(&(&b.currency, b.due, &b.key)));
    let mut totals: BTreeMap<String, CurrencyTotal> = BTreeMap::new();
    for l in &lines {
        let t = totals
            .entry(l.currency.clone())
            .or_insert_with(|| CurrencyTotal {
                currency: l.currency.clone(),
                total: Decimal::ZERO,
                overdue: Decimal::ZERO,
                buckets: [Decimal::ZERO; 7],
            });
        t.total = t.total.saturating_add(l.amount);
        if l.days_past_due > 0 {
            t.overdue = t.overdue.saturating_add(l.amount);
        }
        let b = &mut t.buckets[Bucket::of(l.days_past_due).index()];
        *b = b.saturating_add(l.amount);
    }
    Document {
        kind,
        lang,
        as_of,
        pay_by: (kind == Kind::Reminder)
            .then(|| as_of.checked_add_days(Days::new(REMINDER_DAYS)))
            .flatten(),
        customer: to.customer,
        name: to.name,
        address: to.address,
        company_code,
        lines,
        totals: totals.into_values().collect(),
        payment,
    }
}

/// The payment details a document prints, labelled in its language; empty ones are left out.
pub fn payment_rows<'a>(
    w: &Words,
    p: &'a PaymentDetails,
) -> impl Iterator<Item = (&'static str, &'a str)> {
    [
        (w.beneficiary, p.beneficiary.as_str()),
        (w.bank, p.bank.as_str()),
        (w.account, p.iban.as_str()),
        (w.bic, p.bic.as_str()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
}

/// The words of a document, per language.
pub struct Words {
    pub title: &'static str,
    pub headers: [&'static str; 7],
    pub buckets: [&'static str; 7],
    pub total: &'static str,
    pub overdue: &'static str,
    pub aging: &'static str,
    pub payment: &'static str,
    pub beneficiary: &'static str,
    pub bank: &'static str,
    pub account: &'static str,
    pub bic: &'static str,
    pub customer: &'static str,
    pub disputed: &'static str,
    pub nothing: &'static str,
}

pub fn words(kind: Kind, lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            title: match kind {
                Kind::Statement => "Statement of account",
                Kind::Reminder => "Payment reminder",
            },
            headers: [
                "Document",
                "Posting date",
                "Due date",
                "Days past due",
                "Amount",
                "Currency",
                "Remark",
            ],
            buckets: [
                "Not yet due",
                "1–30 days",
                "31–60 days",
                "61–90 days",
                "91–180 days",
                "181–360 days",
                "Over 360 days",
            ],
            total: "Total",
            overdue: "of which overdue",
            aging: "Aging",
            payment: "Payment details",
            beneficiary: "Beneficiary",
            bank: "Bank",
            account: "Account / IBAN",
            bic: "BIC / SWIFT",
            customer: "Customer",
            disputed: "in dispute",
            nothing: "No items.",
        },
        Lang::Zh => Words {
            title: match kind {
                Kind::Statement => "对账单",
                Kind::Reminder => "付款提醒",
            },
            headers: [
                "凭证号",
                "过账日期",
                "到期日",
                "逾期天数",
                "金额",
                "币种",
                "备注",
            ],
            buckets: [
                "未到期",
                "逾期1–30天",
                "逾期31–60天",
                "逾期61–90天",
                "逾期91–180天",
                "逾期181–360天",
                "逾期360天以上",
            ],
            total: "合计",
            overdue: "其中逾期",
            aging: "账龄分析",
            payment: "付款信息",
            beneficiary: "收款单位",
            bank: "开户银行",
            account: "银行账号",
            bic: "SWIFT代码",
            customer: "客户编号",
            disputed: "争议处理中",
            nothing: "无未清项目。",
        },
    }
}

/// The letter's paragraphs: greeting, body, closing.
pub fn paragraphs(doc: &Document) -> Vec<String> {
    let as_of = doc.as_of;
    let pay_by = doc.pay_by.unwrap_or(as_of);
    match (doc.lang, doc.kind) {
        (Lang::En, Kind::Statement) => vec![
            format!("Dear {},", doc.name),
            format!(
                "Please find below all items open on your account with us as of {as_of}. \
                 Kindly check them against your records and let us know within ten days \
                 if anything differs."
            ),
            "Items already due are marked with their days past due; we would be grateful \
             for prompt settlement of those."
                .to_string(),
            "Thank you for your business.".to_string(),
        ],
        (Lang::En, Kind::Reminder) => vec![
            format!("Dear {},", doc.name),
            format!(
                "According to our records, the items below were still unpaid on {as_of}, \
                 past their due dates. Perhaps this has escaped your attention."
            ),
            format!(
                "Please arrange payment of the overdue total by {pay_by}. If you have paid \
                 in the meantime, please send us the remittance details so we can match \
                 the payment, and disregard this reminder."
            ),
            "If there is a reason you cannot pay — a question about an invoice, a \
             delivery, or anything else — please contact us right away so we can settle \
             it together."
                .to_string(),
            "Kind regards,".to_string(),
        ],
        (Lang::Zh, Kind::Statement) => vec![
            format!("{}：", doc.name),
            "您好！感谢贵司一直以来的支持与合作。".to_string(),
            format!(
                "截至{}，贵司在我司尚有下列未结清款项，明细及账龄如下，烦请贵司财务核对。",
                zh_date(as_of)
            ),
            "如核对无误，请签字盖章后回传；如有不符，请于收到本对账单后十日内与我们联系，\
             逾期未回复的，视为贵司确认上述余额。"
                .to_string(),
            "此致\n敬礼！".to_string(),
        ],
        (Lang::Zh, Kind::Reminder) => vec![
            format!("{}：", doc.name),
            "您好！感谢贵司一直以来的支持与合作。".to_string(),
            format!(
                "经我司核对，截至{}，下列款项已超过约定的付款期限，尚未收到贵司付款。",
                zh_date(as_of)
            ),
            format!(
                "烦请贵司于{}前安排支付上述逾期款项。如已付款，请将银行回单发送给我们，\
                 以便及时核销，并请忽略本提醒。",
                zh_date(pay_by)
            ),
            "如对账目有任何疑问，请尽快与我们联系，我们将全力配合处理。为不影响双方后续合作，\
             还请务必按期付款。"
                .to_string(),
            "此致\n敬礼！".to_string(),
        ],
    }
}

/// `2026年12月3日`.
pub fn zh_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// `1234567.5` → `1,234,567.5`; the scale is kept as stored.
pub fn fmt_amount(a: Decimal) -> String {
    let s = a.to_string();
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ar::test_values::{d, dec};

    fn item(doc: &str, cur: &str, amt: &str, due: &str, cleared: Option<&str>) -> ArItem {
        crate::ar::test_values::item("4711", doc, cur, amt, due, cleared)
    }
    fn to() -> Addressee {
        Addressee {
            customer: "0000004711".into(),
            name: "上海示例贸易有限公司".into(),
            address: None,
        }
    }

    #[test]
    fn a_statement_lists_every_open_item_and_a_reminder_only_overdue_ones() {
        let items = vec![
            item("A", "EUR", "100.00", "2026-11-01", None),
            item("B", "EUR", "-30.00", "2026-11-15", None),
            item("C", "EUR", "50.00", "2026-12-31", None),
            item("D", "CNY", "8000.00", "2026-10-01", None),
            item("E", "EUR", "999.00", "2026-10-01", Some("2026-11-20")),
        ];
        let as_of = d("2026-12-01");
        let pay = PaymentDetails::default();
        let s = build(
            to(),
            None,
            &items,
            as_of,
            Kind::Statement,
            Lang::En,
            pay.clone(),
        );
        let docs: Vec<&str> = s.lines.iter().map(|l| l.key.document.as_str()).collect();
        assert_eq!(docs, ["D", "A", "B", "C"]);
        let eur = s.totals.iter().find(|t| t.currency == "EUR").unwrap();
        assert_eq!((eur.total, eur.overdue), (dec("120.00"), dec("70.00")));
        // A (30 days) and the credit memo B (16 days) are both 1–30 days past due.
        assert_eq!(eur.buckets[1], dec("70.00"));
        assert_eq!(eur.buckets[0], dec("50.00"));
        let r = build(to(), None, &items, as_of, Kind::Reminder, Lang::Zh, pay);
        let docs: Vec<&str> = r.lines.iter().map(|l| l.key.document.as_str()).collect();
        assert_eq!(docs, ["D", "A", "B"]);
        assert_eq!(r.pay_by, Some(d("2026-12-08")));
        let text = paragraphs(&r).join("\n");
        assert!(text.contains("2026年12月8日前安排支付"), "{text}");
        assert!(text.contains("银行回单"), "{text}");
        assert_eq!(words(Kind::Reminder, Lang::Zh).title, "付款提醒");
        assert_eq!(words(Kind::Statement, Lang::Zh).title, "对账单");
    }

    #[test]
    fn amounts_are_grouped_without_losing_the_scale() {
        assert_eq!(fmt_amount(dec("1234567.50")), "1,234,567.50");
        assert_eq!(fmt_amount(dec("-1000")), "-1,000");
        assert_eq!(fmt_amount(dec("999.9")), "999.9");
        assert_eq!(fmt_amount(dec("0.00")), "0.00");
    }
}
