//! Numbers and times as the reader expects them: amounts with the thousands separators of
//! the browser's language (`Accept-Language`), and times in UTC with a machine-readable
//! stamp the page's script turns into the reader's local time.
//!
//! Money stays `Decimal` to the last character: grouping is done on its text, never through
//! a float.

use axum::http::{header, HeaderMap};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// How a language writes numbers: thousands separator and decimal mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberStyle {
    pub group: &'static str,
    pub decimal: char,
}

/// `1,234,567.89`: English, Chinese, Japanese, and the fallback.
pub const EN: NumberStyle = NumberStyle {
    group: ",",
    decimal: '.',
};

impl NumberStyle {
    /// The style of a language tag such as `de-DE` or `fr`.
    pub fn for_language(tag: &str) -> NumberStyle {
        let tag = tag.trim().to_ascii_lowercase();
        let lang = tag.split(['-', '_']).next().unwrap_or("");
        match (lang, tag.as_str()) {
            (_, "de-ch" | "de-li") => NumberStyle {
                group: "\u{2019}",
                decimal: '.',
            },
            (
                "de" | "es" | "it" | "nl" | "pt" | "id" | "tr" | "da" | "el" | "ro" | "hr" | "sl",
                _,
            ) => NumberStyle {
                group: ".",
                decimal: ',',
            },
            (
                "fr" | "sv" | "nb" | "no" | "fi" | "pl" | "cs" | "sk" | "ru" | "uk" | "hu" | "bg"
                | "lt" | "lv" | "et",
                _,
            ) => NumberStyle {
                group: "\u{202f}",
                decimal: ',',
            },
            _ => EN,
        }
    }

    /// The reader's style from the first language the browser asks for.
    pub fn from_headers(headers: &HeaderMap) -> NumberStyle {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|first| first.split(';').next().unwrap_or(""))
            .map(NumberStyle::for_language)
            .unwrap_or(EN)
    }

    /// An amount to two decimals with grouped thousands: `1,234,567.89`, `-1.000,00`.
    pub fn amount(self, value: Decimal) -> String {
        let text = value.round_dp(2).abs().to_string();
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push_str(self.group);
            }
            grouped.push(c);
        }
        let frac = format!("{frac:0<2}");
        let sign = if value.round_dp(2).is_sign_negative() && !value.round_dp(2).is_zero() {
            "-"
        } else {
            ""
        };
        format!("{sign}{grouped}{}{frac}", self.decimal)
    }

    /// An amount and its currency: `256,090.48 EUR`.
    pub fn money(self, value: Decimal, currency: &str) -> String {
        format!("{} {currency}", self.amount(value))
    }
}

/// A UTC time as the pages show it: `<time>` with the instant in `datetime`, which the
/// page's script completes with the reader's local time.
pub fn time(at: DateTime<Utc>) -> String {
    format!(
        "<time class=\"utc\" datetime=\"{}\">{} UTC</time>",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        at.format("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_group_thousands_in_the_readers_style() {
        assert_eq!(EN.amount(d("256090.48")), "256,090.48");
        assert_eq!(EN.amount(d("1234567")), "1,234,567.00");
        assert_eq!(EN.amount(d("999.5")), "999.50");
        assert_eq!(EN.amount(d("-1000")), "-1,000.00");
        assert_eq!(EN.amount(d("0")), "0.00");
        let de = NumberStyle::for_language("de-DE");
        assert_eq!(de.amount(d("256090.48")), "256.090,48");
        let fr = NumberStyle::for_language("fr");
        assert_eq!(fr.amount(d("1234.5")), "1\u{202f}234,50");
        assert_eq!(
            NumberStyle::for_language("de-CH").amount(d("1234")),
            "1\u{2019}234.00"
        );
        assert_eq!(NumberStyle::for_language("zh-CN"), EN);
    }

    #[test]
    fn the_first_accept_language_decides() {
        let mut h = HeaderMap::new();
        assert_eq!(NumberStyle::from_headers(&h), EN);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "de-DE,de;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(NumberStyle::from_headers(&h).decimal, ',');
    }

    #[test]
    fn times_carry_the_instant_for_the_local_clock() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T07:15:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            time(at),
            "<time class=\"utc\" datetime=\"2026-12-03T07:15:09Z\">2026-12-03 07:15 UTC</time>"
        );
    }
}
