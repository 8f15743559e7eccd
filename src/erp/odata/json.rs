//! OData JSON payloads: pages (V2 `d.results`/`__next`, V4 `value`/`@odata.nextLink`) and
//! SAP's value encodings (`/Date(ms)/`, decimals as strings, ABAP `X` flags, empty dates).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// One page of entities and where the next one is.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub entities: Vec<Map<String, Value>>,
    /// The server's next link (absolute or relative to the request URL).
    pub next: Option<String>,
    /// `__count` / `@odata.count` when the server was asked for it.
    pub count: Option<u64>,
}

/// Reads a page in V2 (`{"d":{"results":[…]}}` or `{"d":[…]}`) or V4 (`{"value":[…]}`) form.
pub fn parse_page(body: &[u8]) -> Result<Page, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let (results, next, count) = if let Some(d) = doc.get("d") {
        match d {
            Value::Array(items) => (items.clone(), None, None),
            Value::Object(obj) => (
                obj.get("results")
                    .and_then(Value::as_array)
                    .cloned()
                    .ok_or("`d` has no `results` array")?,
                obj.get("__next")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                obj.get("__count").and_then(count_value),
            ),
            _ => return Err("`d` is neither an object nor an array".into()),
        }
    } else if let Some(value) = doc.get("value") {
        (
            value.as_array().cloned().ok_or("`value` is not an array")?,
            doc.get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string),
            doc.get("@odata.count").and_then(count_value),
        )
    } else {
        return Err("neither a V2 `d` nor a V4 `value` member".into());
    };
    let entities = results
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(m) => Ok(m),
            other => Err(format!("entity #{i} is not an object but {other}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        entities,
        next,
        count,
    })
}

fn count_value(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A string property. Numbers are accepted (some services send NUMC as numbers);
/// null and "" are absent.
pub fn as_string(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!("expected a string, got {other}")),
    }
}

/// A boolean: JSON booleans, or ABAP flags (`X` = true, blank = false).
pub fn as_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim() {
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
pub fn as_decimal(v: &Value) -> Result<Option<Decimal>, String> {
    let text = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => return Err(format!("expected a decimal, got {other}")),
    };
    Decimal::from_str_exact(&text)
        .map(Some)
        .map_err(|e| format!("{text:?} is not an exact decimal: {e}"))
}

/// A small unsigned integer (days, levels), from a string or a number.
pub fn as_u32(v: &Value) -> Result<Option<u32>, String> {
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
pub fn as_datetime(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    let Some(s) = v.as_str() else {
        return match v {
            Value::Null => Ok(None),
            other => Err(format!("expected a date, got {other}")),
        };
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
pub fn as_date(v: &Value) -> Result<Option<NaiveDate>, String> {
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

/// The message of an SAP error body, V2 (`error.message.value`) or V4 (`error.message`),
/// with its code and the first detail messages.
pub fn sap_error_message(body: &[u8]) -> Option<(String, String)> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    let err = doc.get("error")?;
    let code = err
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = match err.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(m) => m
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        None => String::new(),
    };
    let details: Vec<String> = err
        .pointer("/innererror/errordetails")
        .or_else(|| err.get("details"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("message").and_then(Value::as_str))
                .filter(|m| *m != message)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let full = if details.is_empty() {
        message
    } else {
        format!("{message} ({})", details.join("; "))
    };
    Some((code, full))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_and_v4_pages() {
        let p =
            parse_page(br#"{"d":{"results":[{"A":"1"}],"__next":"X?$skiptoken=1","__count":"7"}}"#)
                .unwrap();
        assert_eq!(p.entities.len(), 1);
        assert_eq!(p.next.as_deref(), Some("X?$skiptoken=1"));
        assert_eq!(p.count, Some(7));
        let p = parse_page(br#"{"value":[{"A":1},{"A":2}],"@odata.nextLink":"n"}"#).unwrap();
        assert_eq!(p.entities.len(), 2);
        assert_eq!(p.next.as_deref(), Some("n"));
        assert!(parse_page(b"{\"d\":{\"results\":[1]}}").is_err());
        assert!(parse_page(b"<html>").is_err());
    }

    #[test]
    fn sap_dates() {
        let d = as_date(&json!("/Date(1767225600000)/")).unwrap().unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let d = as_date(&json!("/Date(1767225600000+0000)/"))
            .unwrap()
            .unwrap();
        assert_eq!(d, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(
            as_date(&json!("2026-03-31")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31)
        );
        assert_eq!(
            as_date(&json!("2026-03-31T00:00:00")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31)
        );
        assert_eq!(as_date(&json!("0000-00-00")).unwrap(), None);
        assert_eq!(as_date(&json!("00000000")).unwrap(), None);
        assert_eq!(as_date(&Value::Null).unwrap(), None);
        assert!(as_date(&json!("31.03.2026")).is_err());
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            as_decimal(&json!("-1234.50")).unwrap().unwrap().to_string(),
            "-1234.50"
        );
        assert_eq!(
            as_decimal(&json!(12.5)).unwrap().unwrap().to_string(),
            "12.5"
        );
        assert!(as_decimal(&json!("12,50")).is_err());
        assert!(as_decimal(&json!("1234567890123456789012345678901.5")).is_err());
        assert_eq!(as_u32(&json!("030")).unwrap(), Some(30));
        assert!(as_u32(&json!("1.5")).is_err());
    }

    #[test]
    fn flags() {
        assert!(as_bool(&json!("X")).unwrap());
        assert!(!as_bool(&json!("")).unwrap());
        assert!(as_bool(&json!(true)).unwrap());
        assert!(as_bool(&json!("Y")).is_err());
    }

    #[test]
    fn sap_error_bodies() {
        let v2 = br#"{"error":{"code":"CX/001","message":{"lang":"en","value":"Customer locked"},"innererror":{"errordetails":[{"message":"Locked by USER1"}]}}}"#;
        assert_eq!(
            sap_error_message(v2).unwrap(),
            ("CX/001".into(), "Customer locked (Locked by USER1)".into())
        );
        let v4 = br#"{"error":{"code":"X","message":"Bad","details":[]}}"#;
        assert_eq!(sap_error_message(v4).unwrap().1, "Bad");
    }
}
