//! Contract payment terms written in words, read into [`PaymentTerms`].
//!
//! Only the forms whose meaning DESIGN §4 fixes are read; anything else is
//! [`UnreadableTerms`], which the caller flags for a person instead of guessing. The
//! baseline is the document (invoice) date unless the text says "end of month".
//!
//! | text                                              | meaning                                  |
//! |---------------------------------------------------|------------------------------------------|
//! | `Net 30`, `net30`, `N45`, `30 days`, `30 days net`, `发票后60天付款` | due N days after the baseline |
//! | `2/10 net 30`, `2% 10 days, net 30`, `2% 10 days, 1% 20 days, net 45` | discount tiers, then net |
//! | `30 days end of month`, `60 days EOM`, `月结30天`   | due N days after the end of the month    |
//! | `end of month`, `EOM`                             | due at the end of the month              |
//! | `due on receipt`, `immediately`, `货到付款`, `见票即付` | due at the baseline                    |
//!
//! Case, spacing and separating punctuation do not matter ("NET-30.", "2/10, n/30").
//! The words [`describe`](crate::model::payment_terms::describe) produces for these forms
//! ("2% within 10 days, net 30 from document date", "net 30 after end of month") read back
//! to the same terms.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::model::payment_terms::{BaselineSource, DayRule, DiscountTier, PaymentTerms, TermsRule};

/// SAP keeps days in a three-digit field (ZTAGn); more than that is no real term.
const MAX_DAYS: u32 = 999;

/// Contract terms text that has no agreed meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable payment terms {text:?}: {reason}")]
pub struct UnreadableTerms {
    pub text: String,
    pub reason: String,
}

impl UnreadableTerms {
    fn new(text: &str, reason: impl Into<String>) -> Self {
        UnreadableTerms {
            text: text.to_string(),
            reason: reason.into(),
        }
    }
}

/// A contract's `payment_terms` value: a known key (compared trimmed and case-insensitively)
/// names that definition; anything else is read as text, keyed by the text itself.
pub fn resolve(raw: &str, definitions: &[PaymentTerms]) -> Result<PaymentTerms, UnreadableTerms> {
    let wanted = raw.trim();
    if let Some(known) = definitions
        .iter()
        .find(|d| d.key.trim().eq_ignore_ascii_case(wanted))
    {
        return Ok(known.clone());
    }
    parse(raw)
}

/// Reads contract terms text. The result's key and description are the trimmed text.
pub fn parse(raw: &str) -> Result<PaymentTerms, UnreadableTerms> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(UnreadableTerms::new(text, "no terms given"));
    }
    let normal = normalize(text);
    let meaning = if normal.chars().any(is_cjk) {
        parse_chinese(&normal).ok_or_else(|| UnreadableTerms::new(text, "not an agreed form"))?
    } else {
        let tokens = tokenize(&normal).map_err(|r| UnreadableTerms::new(text, r))?;
        parse_english(&tokens).map_err(|r| UnreadableTerms::new(text, r))?
    };
    meaning.check().map_err(|r| UnreadableTerms::new(text, r))?;
    Ok(PaymentTerms {
        key: text.to_string(),
        description: text.to_string(),
        rules: vec![meaning.into_rule()],
    })
}

/// What a text says, before it becomes a rule.
#[derive(Debug, Default, PartialEq)]
struct Meaning {
    /// (percent, days) per discount tier.
    discounts: Vec<(Decimal, u32)>,
    net_days: Option<u32>,
    /// Periods count from the end of the baseline's month.
    end_of_month: bool,
}

impl Meaning {
    fn immediate() -> Self {
        Meaning::default()
    }

    fn check(&self) -> Result<(), String> {
        let mut last_days: Option<u32> = None;
        let mut last_pct: Option<Decimal> = None;
        for &(pct, days) in &self.discounts {
            if pct <= Decimal::ZERO || pct >= Decimal::ONE_HUNDRED {
                return Err(format!("discount {pct}% is not between 0 and 100"));
            }
            if last_days.is_some_and(|d| days <= d) {
                return Err("discount periods must get longer".to_string());
            }
            if last_pct.is_some_and(|p| pct >= p) {
                return Err("discount percentages must get smaller".to_string());
            }
            last_days = Some(days);
            last_pct = Some(pct);
        }
        for days in self.discounts.iter().map(|d| d.1).chain(self.net_days) {
            if days > MAX_DAYS {
                return Err(format!("{days} days is more than {MAX_DAYS}"));
            }
        }
        if let (Some(d), Some(n)) = (last_days, self.net_days) {
            if d >= n {
                return Err("the discount period must be shorter than the net period".to_string());
            }
        }
        Ok(())
    }

    fn into_rule(self) -> TermsRule {
        TermsRule {
            day_limit: None,
            baseline: BaselineSource::DocumentDate,
            fixed_baseline_day: self.end_of_month.then_some(31),
            extra_months: 0,
            discounts: self
                .discounts
                .into_iter()
                .map(|(percent, days)| DiscountTier {
                    percent,
                    due: DayRule::Days(days),
                })
                .collect(),
            net: self.net_days.map(DayRule::Days),
        }
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Lower case, full-width forms (common in Chinese text) folded to ASCII.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            '。' | '、' => ',',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn parse_chinese(text: &str) -> Option<Meaning> {
    // Spacing and trailing punctuation carry no meaning in these short phrases.
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_matches(|c: char| matches!(c, ',' | '.' | ';' | ':' | '!'))
        .to_string();
    match compact.as_str() {
        "货到付款" | "见票即付" => return Some(Meaning::immediate()),
        _ => {}
    }
    let days_then = |rest: &str| -> Option<u32> {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let tail = &rest[digits.len()..];
        let days = digits.parse().ok()?;
        matches!(tail, "天" | "天付款").then_some(days)
    };
    if let Some(rest) = compact.strip_prefix("月结") {
        let days = days_then(rest)?;
        return Some(Meaning {
            net_days: Some(days),
            end_of_month: true,
            ..Meaning::default()
        });
    }
    if let Some(rest) = compact.strip_prefix("发票后") {
        let days = days_then(rest)?;
        return Some(Meaning {
            net_days: Some(days),
            ..Meaning::default()
        });
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Pct,
    Slash,
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    // A point between digits is a decimal point; elsewhere it ends a sentence.
                    || (chars[i] == '.'
                        && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
                        && i > start))
            {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            match c {
                '%' => out.push(Tok::Pct),
                '/' => out.push(Tok::Slash),
                c if c.is_whitespace() => {}
                ',' | ';' | ':' | '.' | '-' | '(' | ')' => {}
                other => return Err(format!("unexpected character {other:?}")),
            }
            i += 1;
        }
    }
    Ok(out)
}

/// A cursor over tokens for the small grammar in the module docs.
struct Cursor<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.at)
    }

    fn word(&mut self, words: &[&str]) -> bool {
        match self.peek() {
            Some(Tok::Word(w)) if words.contains(&w.as_str()) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    /// A run of words, all or nothing.
    fn phrase(&mut self, words: &[&str]) -> bool {
        let save = self.at;
        for w in words {
            if !self.word(&[w]) {
                self.at = save;
                return false;
            }
        }
        true
    }

    fn tok(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn int(&mut self) -> Option<u32> {
        match self.peek() {
            Some(Tok::Num(n)) if n.chars().all(|c| c.is_ascii_digit()) => {
                let v = n.parse().ok()?;
                self.at += 1;
                Some(v)
            }
            _ => None,
        }
    }

    fn decimal(&mut self) -> Option<Decimal> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let v = Decimal::from_str(n).ok()?;
                self.at += 1;
                Some(v)
            }
            _ => None,
        }
    }

    fn days_word(&mut self) -> bool {
        self.word(&["day", "days"])
    }

    fn done(&self) -> bool {
        self.at == self.toks.len()
    }
}

fn parse_english(toks: &[Tok]) -> Result<Meaning, String> {
    let words: Option<Vec<&str>> = toks
        .iter()
        .map(|t| match t {
            Tok::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    if let Some(words) = words {
        match words.join(" ").as_str() {
            "due on receipt" | "due upon receipt" | "immediately" | "due immediately" => {
                return Ok(Meaning::immediate())
            }
            "end of month" | "eom" | "due at end of month" | "due end of month" => {
                return Ok(Meaning {
                    end_of_month: true,
                    ..Meaning::default()
                })
            }
            _ => {}
        }
    }

    let mut c = Cursor { toks, at: 0 };
    let mut meaning = Meaning::default();
    while let Some(tier) = discount_tier(&mut c) {
        meaning.discounts.push(tier);
    }
    if meaning.discounts.len() > 2 {
        return Err("more than two discount tiers".to_string());
    }
    meaning.net_days = Some(net_part(&mut c).ok_or("no net period in an agreed form")?);
    if c.phrase(&["after", "end", "of", "month"])
        || c.phrase(&["end", "of", "month"])
        || c.word(&["eom"])
    {
        if !meaning.discounts.is_empty() {
            // Whether discount days also count from the month's end is not agreed.
            return Err("discounts with end of month are not an agreed form".to_string());
        }
        meaning.end_of_month = true;
    } else {
        // The default baseline, said out loud.
        let _ = c.phrase(&["from", "document", "date"])
            || c.phrase(&["from", "invoice", "date"])
            || c.phrase(&["after", "invoice", "date"]);
    }
    if !c.done() {
        return Err("unexpected words after the terms".to_string());
    }
    Ok(meaning)
}

/// `A/B` or `A% [within] B days`, as (percent, days).
fn discount_tier(c: &mut Cursor<'_>) -> Option<(Decimal, u32)> {
    let save = c.at;
    let tier = (|| {
        let pct = c.decimal()?;
        if c.tok(&Tok::Slash) {
            let days = c.int()?;
            return Some((pct, days));
        }
        if !c.tok(&Tok::Pct) {
            return None;
        }
        c.word(&["within"]);
        let days = c.int()?;
        c.days_word().then_some((pct, days))
    })();
    if tier.is_none() {
        c.at = save;
    }
    tier
}

/// `net N [days]`, `n/N`, `N days [net]`.
fn net_part(c: &mut Cursor<'_>) -> Option<u32> {
    if c.word(&["net", "n"]) {
        c.tok(&Tok::Slash);
        let days = c.int()?;
        c.days_word();
        return Some(days);
    }
    let days = c.int()?;
    if !c.days_word() {
        return None;
    }
    c.word(&["net"]);
    Some(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::payment_terms::describe;
    use rust_decimal::prelude::FromPrimitive;

    fn rule(text: &str) -> TermsRule {
        let terms = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(terms.key, text.trim());
        assert_eq!(terms.rules.len(), 1);
        terms.rules.into_iter().next().unwrap()
    }

    fn net(days: u32) -> TermsRule {
        TermsRule::net_days(days)
    }

    fn net_eom(days: u32) -> TermsRule {
        TermsRule {
            fixed_baseline_day: Some(31),
            ..TermsRule::net_days(days)
        }
    }

    fn immediate() -> TermsRule {
        TermsRule {
            net: None,
            ..TermsRule::net_days(0)
        }
    }

    fn pct(p: f64) -> Decimal {
        Decimal::from_f64(p).unwrap()
    }

    fn with_discounts(days: u32, tiers: &[(f64, u32)]) -> TermsRule {
        TermsRule {
            discounts: tiers
                .iter()
                .map(|&(p, d)| DiscountTier {
                    percent: pct(p),
                    due: DayRule::Days(d),
                })
                .collect(),
            ..TermsRule::net_days(days)
        }
    }

    #[test]
    fn net_forms() {
        for text in [
            "Net 30",
            "net30",
            "NET 30",
            " net-30. ",
            "Net 30 days",
            "30 days",
            "30 days net",
            "30 Days Net",
            "n30",
            "N 30",
            "n/30",
            "net 30 from document date",
            "Net 30 from invoice date",
        ] {
            assert_eq!(rule(text), net(30), "{text}");
        }
        assert_eq!(rule("N45"), net(45));
        assert_eq!(rule("发票后60天付款"), net(60));
        assert_eq!(rule("发票后 60 天付款"), net(60));
        assert_eq!(rule("发票后６０天付款。"), net(60));
    }

    #[test]
    fn discount_forms() {
        let two_ten = with_discounts(30, &[(2.0, 10)]);
        for text in [
            "2/10 net 30",
            "2/10, net 30",
            "2/10 n/30",
            "2% 10 days, net 30",
            "2 % 10 days net 30 days",
            "2% within 10 days, net 30 from document date",
        ] {
            assert_eq!(rule(text), two_ten, "{text}");
        }
        assert_eq!(
            rule("2% 10 days, 1% 20 days, net 45"),
            with_discounts(45, &[(2.0, 10), (1.0, 20)])
        );
        assert_eq!(
            rule("2/10, 1/20, net 45"),
            with_discounts(45, &[(2.0, 10), (1.0, 20)])
        );
        assert_eq!(
            rule("1.5% 14 days, net 30"),
            with_discounts(30, &[(1.5, 14)])
        );
    }

    #[test]
    fn end_of_month_forms() {
        for text in [
            "30 days end of month",
            "30 days EOM",
            "net 30 EOM",
            "月结30天",
            "月结 30 天",
        ] {
            assert_eq!(rule(text), net_eom(30), "{text}");
        }
        assert_eq!(rule("60 days EOM"), net_eom(60));
        assert_eq!(rule("Net 45 EOM"), net_eom(45));
        assert_eq!(rule("net 30 after end of month"), net_eom(30));
        let eom = TermsRule {
            fixed_baseline_day: Some(31),
            ..immediate()
        };
        for text in [
            "end of month",
            "EOM",
            "End Of Month.",
            "due at end of month",
        ] {
            assert_eq!(rule(text), eom, "{text}");
        }
    }

    #[test]
    fn immediate_forms() {
        for text in [
            "due on receipt",
            "Due On Receipt.",
            "immediately",
            "Immediately",
            "due immediately",
            "货到付款",
            "见票即付",
        ] {
            assert_eq!(rule(text), immediate(), "{text}");
        }
    }

    #[test]
    fn refusals() {
        for text in [
            "",
            "   ",
            "Net",
            "net 30 or 45",
            "pay when convenient",
            "2% net 30",
            "2% 10 days",
            "2/10",
            "net 30 net 45",
            "30",
            "days 30",
            "2% 10 days, net 30 EOM",
            "2% 30 days, net 10",
            "1% 10 days, 2% 20 days, net 45",
            "3% 10 days, 2% 20 days, 1% 25 days, net 45",
            "100% 10 days, net 30",
            "0% 10 days, net 30",
            "2,5% 10 days, net 30",
            "net 1000",
            "net 30 + 10",
            "net thirty",
            "月结",
            "月结三十天",
            "发票后60天内付款吧",
            "货到付款或月结30天",
            "net 30 & eom",
        ] {
            let err = parse(text).expect_err(text);
            assert_eq!(err.text, text.trim());
        }
    }

    #[test]
    fn resolve_prefers_known_keys() {
        let nt30 = PaymentTerms {
            key: "NT30".to_string(),
            description: "Net 30 days".to_string(),
            rules: vec![net(30)],
        };
        let defs = vec![nt30.clone()];
        assert_eq!(resolve(" nt30 ", &defs).unwrap(), nt30);
        let text = resolve("Net 45", &defs).unwrap();
        assert_eq!(text.key, "Net 45");
        assert_eq!(text.rules, vec![net(45)]);
        assert!(resolve("NT99", &defs).is_err());
    }

    #[test]
    fn describe_reads_back() {
        for text in [
            "net 30",
            "2% 10 days, net 30",
            "2% 10 days, 1% 20 days, net 45",
            "30 days EOM",
            "EOM",
            "immediately",
        ] {
            let terms = parse(text).unwrap();
            let words = describe(&terms);
            let again = parse(&words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
            assert_eq!(again.rules, terms.rules, "{text} -> {words}");
        }
    }
}
