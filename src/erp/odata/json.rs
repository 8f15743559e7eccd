//! OData JSON payloads: pages (V2 `d.results`/`__next`, V4 `value`/`@odata.nextLink`) and
//! SAP's value encodings (`/Date(ms)/`, decimals as strings, ABAP `X` flags, empty dates).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
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
    /// The delta link of a change-tracked read (V2 `__delta`, V4 `@odata.deltaLink`): where
    /// to ask later for what changed since.
    pub delta: Option<String>,
    /// Entities a delta answer reports as gone from the query (V2 `__deleted`, V4 entries
    /// with `@removed`): at least their key properties.
    pub removed: Vec<Map<String, Value>>,
}

/// Reads a page in V2 (`{"d":{"results":[…]}}` or `{"d":[…]}`) or V4 (`{"value":[…]}`) form.
///
/// The page is read straight into its entities, without a document tree in between: every
/// pulled record passes through here. V2's `__metadata` (id, URI, type and ETag, a good
/// part of each entity's bytes) keeps only its ETag, the one part anything reads.
pub fn parse_page(body: &[u8]) -> Result<Page, String> {
    let doc: Document = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let (results, deleted, next, count, delta) = match (doc.d, doc.value) {
        (Some(V2Body::Array(items)), _) => (items, Vec::new(), None, None, None),
        (Some(V2Body::Object(b)), _) => (
            b.results.ok_or("`d` has no `results` array")?,
            b.deleted,
            b.next,
            b.count.as_ref().and_then(count_value),
            b.delta,
        ),
        (None, Some(items)) => (
            items,
            Vec::new(),
            doc.next_link,
            doc.count.as_ref().and_then(count_value),
            doc.delta_link,
        ),
        (None, None) => return Err("neither a V2 `d` nor a V4 `value` member".into()),
    };
    // V4 puts removed entries among the others, marked `@removed`.
    let (removed, entities): (Vec<_>, Vec<_>) = results
        .into_iter()
        .map(|e| e.0)
        .partition(|m| m.contains_key("@removed"));
    let mut removed = removed;
    removed.extend(deleted.into_iter().map(|e| e.0));
    Ok(Page {
        entities,
        next,
        count,
        delta,
        removed,
    })
}

/// A page document, V2 or V4; members it does not know are skipped unread.
#[derive(serde::Deserialize)]
struct Document {
    d: Option<V2Body>,
    value: Option<Vec<Entity>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.count")]
    count: Option<Value>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

/// V2's `d`: an object with `results` (and paging members), or, from old services, the
/// array of entities itself.
enum V2Body {
    Array(Vec<Entity>),
    Object(V2Results),
}

#[derive(serde::Deserialize)]
struct V2Results {
    results: Option<Vec<Entity>>,
    #[serde(rename = "__deleted", default)]
    deleted: Vec<Entity>,
    #[serde(rename = "__next")]
    next: Option<String>,
    #[serde(rename = "__count")]
    count: Option<Value>,
    #[serde(rename = "__delta")]
    delta: Option<String>,
}

impl<'de> serde::Deserialize<'de> for V2Body {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Body;
        impl<'de> serde::de::Visitor<'de> for Body {
            type Value = V2Body;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`d` as an object or an array of entities")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<V2Body, A::Error> {
                let items = serde::Deserialize::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(seq),
                )?;
                Ok(V2Body::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<V2Body, A::Error> {
                let body = serde::Deserialize::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(V2Body::Object(body))
            }
        }
        d.deserialize_any(Body)
    }
}

/// One entity: its properties as JSON values.
struct Entity(Map<String, Value>);

/// What is kept of V2's `__metadata`.
#[derive(serde::Deserialize)]
struct EntityMetadata {
    etag: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Properties;
        impl<'de> serde::de::Visitor<'de> for Properties {
            type Value = Entity;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an entity (a JSON object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Entity, A::Error> {
                let mut map = Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    if key == "__metadata" {
                        let meta: EntityMetadata = access.next_value()?;
                        if let Some(etag) = meta.etag {
                            map.insert(key, serde_json::json!({ "etag": etag }));
                        }
                    } else {
                        let value: Value = access.next_value()?;
                        map.insert(key, value);
                    }
                }
                Ok(Entity(map))
            }
        }
        d.deserialize_map(Properties)
    }
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
        Value::String(s) => {
            let s = s.trim();
            return Decimal::from_str_exact(s)
                .map(Some)
                .map_err(|e| format!("{s:?} is not an exact decimal: {e}"));
        }
        Value::Number(n) if n.is_f64() => {
            // A V4 server that ignores `IEEE754Compatible=true` sends decimals as JSON
            // numbers, which arrive here through a double: up to 15 significant digits
            // survive that exactly, more may not, and a guessed amount is never taken.
            let text = n.to_string();
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
        Value::Number(n) => n.to_string(),
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
pub fn as_i64(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{s:?} is not a whole number")),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not a whole number in range")),
        other => Err(format!("expected a whole number, got {other}")),
    }
}

/// A time of day: V2 Edm.Time (`PT12H30M15S`, fractions allowed) or V4 Edm.TimeOfDay
/// (`12:30:15.1234567`).
pub fn as_time(v: &Value) -> Result<Option<NaiveTime>, String> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim(),
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
    let at = parse_datetime(v)?;
    // OData's date types end with the year 9999; a later one (`/Date(ms)/` reaches year
    // 262142) would leave no room for the day and month arithmetic of due dates.
    match at {
        Some(dt) if !(1..=9999).contains(&dt.year()) => {
            Err(format!("{v} is out of range (years 1 to 9999)"))
        }
        other => Ok(other),
    }
}

fn parse_datetime(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
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
    fn v2_metadata_keeps_only_the_etag_and_every_page_form_reads() {
        let p = parse_page(
            br#"{"d":{"__count":"2","results":[
                {"__metadata":{"id":"u","uri":"u","type":"T","etag":"W/\"'1'\""},"A":"1","N":null,"O":{"x":[1,2]}},
                {"__metadata":{"id":"u","uri":"u","type":"T"},"A":"2"}],
              "__delta":"D","__deleted":[{"A":"3"}],"other":{"skipped":[1]}}}"#,
        )
        .unwrap();
        assert_eq!(p.entities[0]["__metadata"], json!({"etag": "W/\"'1'\""}));
        assert_eq!(p.entities[0]["N"], Value::Null);
        assert_eq!(p.entities[0]["O"], json!({"x": [1, 2]}));
        assert!(p.entities[1].get("__metadata").is_none());
        assert_eq!(p.entities[1]["A"], json!("2"));
        assert_eq!(p.count, Some(2));
        assert_eq!(p.delta.as_deref(), Some("D"));
        assert_eq!(p.removed.len(), 1);
        // Old services send `d` as the array itself.
        let p = parse_page(br#"{"d":[{"A":"1"},{"A":"2"}]}"#).unwrap();
        assert_eq!(p.entities.len(), 2);
        // V4: removed entries among the others, count as a number.
        let p = parse_page(
            br#"{"@odata.context":"c","@odata.count":3,"value":[{"A":1},{"@removed":{"reason":"deleted"},"A":2}],"@odata.deltaLink":"dl"}"#,
        )
        .unwrap();
        assert_eq!((p.entities.len(), p.removed.len()), (1, 1));
        assert_eq!((p.count, p.delta.as_deref()), (Some(3), Some("dl")));
        let err = |b: &[u8]| parse_page(b).unwrap_err();
        assert!(err(br#"{"d":{"__count":"1"}}"#).contains("no `results` array"));
        assert!(err(br#"{"other":1}"#).contains("neither a V2"));
        assert!(err(br#"{"value":["x"]}"#).contains("entity"));
        assert!(err(br#"{"d":{"results":[{"A":"1"}"#).starts_with("not JSON"));
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
    fn every_sap_date_and_time_form() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // V2 JSON: milliseconds since 1970 UTC, with or without the display offset.
        assert_eq!(
            as_datetime(&json!("/Date(1767270615123)/")).unwrap(),
            Some(utc("2026-01-01T12:30:15.123Z"))
        );
        assert_eq!(
            as_datetime(&json!("/Date(1767270615123+0060)/")).unwrap(),
            Some(utc("2026-01-01T12:30:15.123Z"))
        );
        assert_eq!(
            as_datetime(&json!("/Date(-86400000)/")).unwrap(),
            Some(utc("1969-12-31T00:00:00Z"))
        );
        // Edm.DateTime (no zone = UTC) and DateTimeOffset with SAP's 7 fractional digits.
        assert_eq!(
            as_datetime(&json!("2026-11-25T08:15:30.1234567")).unwrap(),
            Some(utc("2026-11-25T08:15:30.1234567Z"))
        );
        assert_eq!(
            as_datetime(&json!("2026-11-25T09:15:30.1234567+01:00")).unwrap(),
            Some(utc("2026-11-25T08:15:30.1234567Z"))
        );
        assert_eq!(
            as_datetime(&json!("2026-11-25T08:15:30Z")).unwrap(),
            Some(utc("2026-11-25T08:15:30Z"))
        );
        // V4 Edm.Date, and SAP's empty dates in every spelling.
        assert_eq!(
            as_date(&json!("2026-11-25")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25)
        );
        assert_eq!(
            as_date(&json!("20261125")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 25)
        );
        for empty in ["0000-00-00", "00000000", "0000-00-00T00:00:00", ""] {
            assert_eq!(as_datetime(&json!(empty)).unwrap(), None, "{empty}");
        }
        assert!(as_datetime(&json!("/Date(abc)/")).is_err());
        // Year 262142 is a valid timestamp but no date a due date can be counted from.
        assert!(as_datetime(&json!("/Date(8210266876799999)/")).is_err());
        assert!(as_date(&json!("/Date(253402300799000)/"))
            .unwrap()
            .is_some());
        assert!(as_datetime(&json!(17)).is_err());
        // Edm.Time and V4 TimeOfDay.
        let t = |h, m, s, n| NaiveTime::from_hms_nano_opt(h, m, s, n);
        assert_eq!(as_time(&json!("PT12H30M15S")).unwrap(), t(12, 30, 15, 0));
        assert_eq!(as_time(&json!("PT0H0M0S")).unwrap(), t(0, 0, 0, 0));
        assert_eq!(as_time(&json!("PT8H5M")).unwrap(), t(8, 5, 0, 0));
        assert_eq!(
            as_time(&json!("PT23H59M59.5S")).unwrap(),
            t(23, 59, 59, 500_000_000)
        );
        assert_eq!(
            as_time(&json!("12:30:15.1234567")).unwrap(),
            t(12, 30, 15, 123_456_700)
        );
        assert_eq!(as_time(&json!("12:30")).unwrap(), t(12, 30, 0, 0));
        assert!(as_time(&json!("PT25H")).is_err());
        assert!(as_time(&json!("PT12X")).is_err());
        assert_eq!(as_time(&Value::Null).unwrap(), None);
    }

    #[test]
    fn int64_is_exact_from_strings_and_numbers() {
        assert_eq!(
            as_i64(&json!("9007199254740993")).unwrap(),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(as_i64(&json!(-42)).unwrap(), Some(-42));
        assert!(as_i64(&json!("1.5")).is_err());
        assert!(as_i64(&json!(1.5)).is_err());
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
            as_decimal(&json!(1234567.891))
                .unwrap()
                .unwrap()
                .to_string(),
            "1234567.891"
        );
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
    fn decimals_as_json_numbers_are_exact_or_refused() {
        let v: Value = serde_json::from_str("[1234.56, -0.005, 12, 12345678901234.5678]").unwrap();
        assert_eq!(as_decimal(&v[0]).unwrap(), Some(Decimal::new(123456, 2)));
        assert_eq!(as_decimal(&v[1]).unwrap(), Some(Decimal::new(-5, 3)));
        assert_eq!(as_decimal(&v[2]).unwrap(), Some(Decimal::from(12)));
        let err = as_decimal(&v[3]).unwrap_err();
        assert!(err.contains("IEEE754Compatible"), "{err}");
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
