//! SAP's value encodings, read from a page's [`Field`]s: `/Date(ms)/` and ISO dates,
//! decimals as strings (exact, or refused), ABAP `X` flags, NUMC numbers, empty dates.

use super::page::Field;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::str::FromStr;

/// A string property. Numbers are accepted (some services send NUMC as numbers);
/// null and "" are absent.
pub fn as_string(v: Field<'_>) -> Result<Option<String>, String> {
    match v {
        Field::Null => Ok(None),
        Field::Text("") => Ok(None),
        Field::Text(s) => Ok(Some(s.to_string())),
        Field::Number(n) => Ok(Some(n.into_owned())),
        Field::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!("expected a string, got {other}")),
    }
}

/// A boolean: JSON booleans, or ABAP flags (`X` = true, blank = false).
pub fn as_bool(v: Field<'_>) -> Result<bool, String> {
    match v {
        Field::Null => Ok(false),
        Field::Bool(b) => Ok(b),
        Field::Text(s) => match s.trim() {
            "" => Ok(false),
            "X" | "x" | "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!(
                "expected a flag (true/false or X/blank), got {other:?}"
            )),
        },
        other => Err(format!("expected a boolean, got {other}")),
    }
}

/// An exact decimal from a string or a JSON number. A value with more digits than a
/// `Decimal` holds is an error: SAP amounts are never rounded on the way in.
pub fn as_decimal(v: Field<'_>) -> Result<Option<Decimal>, String> {
    let text = match v {
        Field::Null => return Ok(None),
        Field::Text(s) if s.trim().is_empty() => return Ok(None),
        Field::Text(s) => {
            let s = s.trim();
            return Decimal::from_str_exact(s)
                .map(Some)
                .map_err(|e| format!("{s:?} is not an exact decimal: {e}"));
        }
        Field::Number(n) if n.contains(['.', 'e', 'E']) => {
            // A V4 server that ignores `IEEE754Compatible=true` sends decimals as JSON
            // numbers, which arrive here through a double: up to 15 significant digits
            // survive that exactly, more may not, and a guessed amount is never taken.
            let text = n.into_owned();
            let significant = text
                .split(['e', 'E'])
                .next()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>();
            let significant = significant.trim_start_matches('0').trim_end_matches('0');
            if significant.len() > 15 {
                return Err(format!(
                    "{text} came as a JSON number with more digits than a double keeps exactly; \
                     the server must send decimals as strings (IEEE754Compatible=true)"
                ));
            }
            text
        }
        Field::Number(n) => n.into_owned(),
        other => return Err(format!("expected a decimal, got {other}")),
    };
    Decimal::from_str_exact(&text)
        .map(Some)
        .map_err(|e| format!("{text:?} is not an exact decimal: {e}"))
}

/// Checks an exact decimal against the `Precision`/`Scale` that `$metadata` declares for
/// its property: more fractional digits than the scale, or more integer digits than
/// precision − scale, mean the value does not fit, and it is refused rather than rounded.
/// Trailing zeros (`12.500` for scale 2) lose nothing and are accepted.
pub fn check_decimal(d: Decimal, precision: u32, scale: Option<u32>) -> Result<(), String> {
    let n = d.normalize();
    let frac = n.scale();
    if let Some(s) = scale {
        if frac > s {
            return Err(format!(
                "{d} has {frac} decimal places, more than the declared scale {s}"
            ));
        }
    }
    let digits = n
        .mantissa()
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d + 1);
    let int_digits = if n.mantissa() == 0 {
        0
    } else {
        digits.saturating_sub(frac)
    };
    let allowed = precision.saturating_sub(scale.unwrap_or(0));
    if int_digits > allowed {
        return Err(format!(
            "{d} has {int_digits} integer digits, more than precision {precision} and scale {} allow",
            scale.unwrap_or(0)
        ));
    }
    Ok(())
}

/// An Edm.Int64 (sent as a string in V2 and under `IEEE754Compatible=true`, else as a
/// number); read exactly, never through a float.
pub fn as_i64(v: Field<'_>) -> Result<Option<i64>, String> {
    match v {
        Field::Null => Ok(None),
        Field::Text(s) if s.trim().is_empty() => Ok(None),
        Field::Text(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{s:?} is not a whole number")),
        Field::Number(n) => n
            .parse()
            .map(Some)
            .map_err(|_| format!("{n} is not a whole number in range")),
        other => Err(format!("expected a whole number, got {other}")),
    }
}

/// A time of day: V2 Edm.Time (`PT12H30M15S`, fractions allowed) or V4 Edm.TimeOfDay
/// (`12:30:15.1234567`).
pub fn as_time(v: Field<'_>) -> Result<Option<NaiveTime>, String> {
    let s = match v {
        Field::Null => return Ok(None),
        Field::Text(s) if s.trim().is_empty() => return Ok(None),
        Field::Text(s) => s.trim(),
        other => return Err(format!("expected a time, got {other}")),
    };
    if let Some(rest) = s.strip_prefix("PT") {
        let mut h = 0u32;
        let mut m = 0u32;
        let mut secs = 0u32;
        let mut nanos = 0u32;
        let mut num = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' | '.' => num.push(c),
                'H' | 'M' | 'S' => {
                    let (whole, frac) = num.split_once('.').unwrap_or((&num, ""));
                    let whole: u32 = whole
                        .parse()
                        .map_err(|_| format!("{s:?} is not an Edm.Time duration"))?;
                    match c {
                        'H' => h = whole,
                        'M' => m = whole,
                        _ => {
                            secs = whole;
                            if !frac.is_empty() {
                                let f = format!("{frac:0<9}");
                                nanos = f[..9]
                                    .parse()
                                    .map_err(|_| format!("{s:?} is not an Edm.Time duration"))?;
                            }
                        }
                    }
                    num.clear();
                }
                _ => return Err(format!("{s:?} is not an Edm.Time duration")),
            }
        }
        if !num.is_empty() {
            return Err(format!("{s:?} is not an Edm.Time duration"));
        }
        return NaiveTime::from_hms_nano_opt(h, m, secs, nanos)
            .map(Some)
            .ok_or_else(|| format!("{s:?} is not a time of day"));
    }
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map(Some)
        .map_err(|_| format!("{s:?} is not a time of day"))
}

/// A small unsigned integer (days, levels), from a string or a number.
pub fn as_u32(v: Field<'_>) -> Result<Option<u32>, String> {
    match as_decimal(v)? {
        None => Ok(None),
        Some(d) if d.fract().is_zero() && d >= Decimal::ZERO => d
            .to_u32()
            .map(Some)
            .ok_or_else(|| format!("{d} is too large")),
        Some(d) => Err(format!("{d} is not a whole, non-negative number")),
    }
}

/// A point in time: `/Date(ms)/`, `/Date(ms+0000)/`, ISO date-time (with or without zone,
/// no zone = UTC as SAP Gateway sends Edm.DateTime), or ISO date.
pub fn as_datetime(v: Field<'_>) -> Result<Option<DateTime<Utc>>, String> {
    let at = parse_datetime(&v)?;
    // OData's date types end with the year 9999; a later one (`/Date(ms)/` reaches year
    // 262142) would leave no room for the day and month arithmetic of due dates.
    match at {
        Some(dt) if !(1..=9999).contains(&dt.year()) => {
            Err(format!("{v} is out of range (years 1 to 9999)"))
        }
        other => Ok(other),
    }
}

fn parse_datetime(v: &Field<'_>) -> Result<Option<DateTime<Utc>>, String> {
    let s = match v {
        Field::Text(s) => s,
        Field::Null => return Ok(None),
        other => return Err(format!("expected a date, got {other}")),
    };
    let s = s.trim();
    if is_empty_date(s) {
        return Ok(None);
    }
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // The offset SAP appends (`+0000`, `+0060` minutes) describes the zone the value was
        // shown in; the milliseconds are already UTC.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map(|(i, _)| i)
            .unwrap_or(inner.len());
        let ms: i64 = inner[..digits_end]
            .parse()
            .map_err(|_| format!("{s:?} is not a /Date(milliseconds)/ value"))?;
        return DateTime::from_timestamp_millis(ms)
            .map(Some)
            .ok_or_else(|| format!("{s:?} is out of range"));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(dt.with_timezone(&Utc)));
    }
    if let Ok(dt) = NaiveDateTime::from_str(s) {
        return Ok(Some(dt.and_utc()));
    }
    if let Some(d) = parse_plain_date(s) {
        return Ok(Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
    }
    Err(format!("{s:?} is not a date SAP sends"))
}

/// A calendar date; the time part of an Edm.DateTime holding a date is midnight UTC.
pub fn as_date(v: Field<'_>) -> Result<Option<NaiveDate>, String> {
    Ok(as_datetime(v)?.map(|dt| dt.date_naive()))
}

fn is_empty_date(s: &str) -> bool {
    s.is_empty() || s == "0000-00-00" || s == "00000000" || s.starts_with("0000-00-00T")
}

fn parse_plain_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::borrow::Cow;

    /// A JSON value as a page holds it.
    fn f(v: &Value) -> Field<'_> {
        match v {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(*b),
            Value::Number(n) => Field::Number(Cow::Owned(n.to_string())),
            Value::String(s) => Field::Text(s),
            other => Field::Other(Cow::Owned(other.to_string())),
        }
    }

    #[test]
    fn sap_dates() {
        let d = as_date(f(&json!("/Date(1767225600000)/")))
            .unwrap()
            .unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let d = as_date(f(&json!("/Date(1767225600000+0000)/")))
            .unwrap()
            .unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(
            as_date(f(&json!("2026-03-31"))).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31)
        );
        assert_eq!(
            as_date(f(&json!("2026-03-31T00:00:00"))).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31)
        );
        assert_eq!(as_date(f(&json!("0000-00-00"))).unwrap(), None);
        assert_eq!(as_date(f(&json!("00000000"))).unwrap(), None);
        assert_eq!(as_date(f(&Value::Null)).unwrap(), None);
        assert!(as_date(f(&json!("31.03.2026"))).is_err());
    }

    #[test]
    fn every_sap_date_and_time_form() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // V2 JSON: milliseconds since 1970 UTC, with or without the display offset.
        assert_eq!(
            as_datetime(f(&json!("/Date(1767270615123)/"))).unwrap(),
            Some(utc("2026-01-01T12:30:15.123Z"))
        );
        assert_eq!(
            as_datetime(f(&json!("/Date(1767270615123+0060)/"))).unwrap(),
            Some(utc("2026-01-01T12:30:15.123Z"))
        );
        assert_eq!(
            as_datetime(f(&json!("/Date(-86400000)/"))).unwrap(),
            Some(utc("1969-12-31T00:00:00Z"))
        );
        // Edm.DateTime (no zone = UTC) and DateTimeOffset with SAP's 7 fractional digits.
        assert_eq!(
            as_datetime(f(&json!("2026-11-25T08:15:30.1234567"))).unwrap(),
            Some(utc("2026-11-25T08:15:30.1234567Z"))
        );
        assert_eq!(
            as_datetime(f(&json!("2026-11-25T09:15:30.1234567+01:00"))).unwrap(),
            Some(utc("2026-11-25T08:15:30.1234567Z"))
        );
        assert_eq!(
            as_datetime(f(&json!("2026-11-25T08:15:30Z"))).unwrap(),
            Some(utc("2026-11-25T08:15:30Z"))
        );
        // V4 Edm.Date, and SAP's empty dates in every spelling.
        assert_eq!(
            as_date(f(&json!("2026-11-25"))).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25)
        );
        assert_eq!(
            as_date(f(&json!("20261125"))).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25)
        );
        for empty in ["0000-00-00", "00000000", "0000-00-00T00:00:00", ""] {
            assert_eq!(as_datetime(f(&json!(empty))).unwrap(), None, "{empty}");
        }
        assert!(as_datetime(f(&json!("/Date(abc)/"))).is_err());
        // Year 262142 is a valid timestamp but no date a due date can be counted from.
        assert!(as_datetime(f(&json!("/Date(8210266876799999)/"))).is_err());
        assert!(as_date(f(&json!("/Date(253402300799000)/")))
            .unwrap()
            .is_some());
        assert!(as_datetime(f(&json!(17))).is_err());
        // Edm.Time and V4 TimeOfDay.
        let t = |h, m, s, n| NaiveTime::from_hms_nano_opt(h, m, s, n);
        assert_eq!(as_time(f(&json!("PT12H30M15S"))).unwrap(), t(12, 30, 15, 0));
        assert_eq!(as_time(f(&json!("PT0H0M0S"))).unwrap(), t(0, 0, 0, 0));
        assert_eq!(as_time(f(&json!("PT8H5M"))).unwrap(), t(8, 5, 0, 0));
        assert_eq!(
            as_time(f(&json!("PT23H59M59.5S"))).unwrap(),
            t(23, 59, 59, 500_000_000)
        );
        assert_eq!(
            as_time(f(&json!("12:30:15.1234567"))).unwrap(),
            t(12, 30, 15, 123_456_700)
        );
        assert_eq!(as_time(f(&json!("12:30"))).unwrap(), t(12, 30, 0, 0));
        assert!(as_time(f(&json!("PT25H"))).is_err());
        assert!(as_time(f(&json!("PT12X"))).is_err());
        assert_eq!(as_time(f(&Value::Null)).unwrap(), None);
    }

    #[test]
    fn int64_is_exact_from_strings_and_numbers() {
        assert_eq!(
            as_i64(f(&json!("9007199254740993"))).unwrap(),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(as_i64(f(&json!(-42))).unwrap(), Some(-42));
        assert!(as_i64(f(&json!("1.5"))).is_err());
        assert!(as_i64(f(&json!(1.5))).is_err());
    }

    #[test]
    fn decimals_are_checked_against_precision_and_scale() {
        let d = |s: &str| Decimal::from_str_exact(s).unwrap();
        assert!(check_decimal(d("-12345678901234567890.123"), 24, Some(3)).is_ok());
        assert!(check_decimal(d("12.500"), 13, Some(2)).is_ok());
        assert!(check_decimal(d("0.001"), 5, Some(3)).is_ok());
        let e = check_decimal(d("12.345"), 13, Some(2)).unwrap_err();
        assert!(
            e.contains("3 decimal places") && e.contains("scale 2"),
            "{e}"
        );
        let e = check_decimal(d("123456789012"), 13, Some(2)).unwrap_err();
        assert!(e.contains("12 integer digits"), "{e}");
        // Variable scale (V4): only the total digits are bounded.
        assert!(check_decimal(d("1.23456"), 15, None).is_ok());
        assert!(check_decimal(d("1234567890123456"), 15, None).is_err());
        // Numbers given as JSON numbers stay exact too.
        assert_eq!(
            as_decimal(f(&json!(1234567.891)))
                .unwrap()
                .unwrap()
                .to_string(),
            "1234567.891"
        );
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            as_decimal(f(&json!("-1234.50")))
                .unwrap()
                .unwrap()
                .to_string(),
            "-1234.50"
        );
        assert_eq!(
            as_decimal(f(&json!(12.5))).unwrap().unwrap().to_string(),
            "12.5"
        );
        assert!(as_decimal(f(&json!("12,50"))).is_err());
        assert!(as_decimal(f(&json!("1234567890123456789012345678901.5"))).is_err());
        assert_eq!(as_u32(f(&json!("030"))).unwrap(), Some(30));
        assert!(as_u32(f(&json!("1.5"))).is_err());
    }

    #[test]
    fn decimals_as_json_numbers_are_exact_or_refused() {
        let v: Value = serde_json::from_str("[1234.56, -0.005, 12, 12345678901234.5678]").unwrap();
        assert_eq!(as_decimal(f(&v[0])).unwrap(), Some(Decimal::new(123456, 2)));
        assert_eq!(as_decimal(f(&v[1])).unwrap(), Some(Decimal::new(-5, 3)));
        assert_eq!(as_decimal(f(&v[2])).unwrap(), Some(Decimal::from(12)));
        let err = as_decimal(f(&v[3])).unwrap_err();
        assert!(err.contains("IEEE754Compatible"), "{err}");
    }

    #[test]
    fn flags() {
        assert!(as_bool(f(&json!("X"))).unwrap());
        assert!(!as_bool(f(&json!(""))).unwrap());
        assert!(as_bool(f(&json!(true))).unwrap());
        assert!(as_bool(f(&json!("Y"))).is_err());
    }
}
