//! OData JSON pages (V2 `d.results`/`__next`, V4 `value`/`@odata.nextLink`) decoded into a
//! [`Page`], and SAP's JSON error bodies.
//!
//! The page is read straight into the values its [`Layout`] names, without a document tree
//! in between: each property's key is matched once against the key at the same position in
//! the entity before (SAP sends every entity of a set with its properties in one order),
//! values are copied into the page's one text buffer, and everything else (V2's
//! `__metadata` but its ETag, deferred navigation links, properties nobody reads) is
//! skipped unread.

use super::page::{Layout, Page, PageBuilder};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Reads a page in V2 (`{"d":{"results":[…]}}` or `{"d":[…]}`) or V4 (`{"value":[…]}`) form,
/// keeping the properties `layout` names.
pub fn parse_page(body: &[u8], layout: &Arc<Layout>) -> Result<Page, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not JSON: {e}"))?;
    let mut reader = Reader {
        page: PageBuilder::new(layout.clone()),
        keys: Vec::new(),
        position: 0,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let doc = DocumentSeed(&mut reader)
        .deserialize(&mut de)
        .and_then(|doc| de.end().map(|()| doc))
        .map_err(|e| format!("not JSON: {e}"))?;
    let (next, count, delta) = match doc {
        Document::V2 { results: false, .. } => return Err("`d` has no `results` array".into()),
        Document::V2 {
            next, count, delta, ..
        }
        | Document::V4 { next, count, delta } => (next, count, delta),
        Document::Neither => return Err("neither a V2 `d` nor a V4 `value` member".into()),
    };
    let mut page = reader.page.finish();
    page.next = next;
    page.count = count;
    page.delta = delta;
    Ok(page)
}

/// What a page document said besides its entities.
enum Document {
    V2 {
        /// Whether `d` held the entities (as `results`, or as the array itself).
        results: bool,
        next: Option<String>,
        count: Option<u64>,
        delta: Option<String>,
    },
    V4 {
        next: Option<String>,
        count: Option<u64>,
        delta: Option<String>,
    },
    Neither,
}

/// What an entity's key stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    /// A property the layout keeps, at its position.
    Slot(usize),
    /// V2 `__metadata`: only its `etag` is kept.
    Metadata,
    /// V4 `@odata.etag`.
    Etag,
    /// V4 marks an entry that left a delta query with `@removed`.
    Removed,
    Skip,
}

/// The page being built, and the keys of the entity read last, in their order.
struct Reader {
    page: PageBuilder,
    keys: Vec<(String, Key)>,
    position: usize,
}

impl Reader {
    fn key(&mut self, key: &str) -> Key {
        let at = self.position;
        self.position += 1;
        if let Some((known, k)) = self.keys.get(at) {
            if known == key {
                return *k;
            }
        }
        let k = match key {
            "__metadata" => Key::Metadata,
            "@odata.etag" => Key::Etag,
            "@removed" => Key::Removed,
            other => self
                .page
                .layout()
                .slot_of_property(other)
                .map_or(Key::Skip, Key::Slot),
        };
        self.keys.truncate(at);
        self.keys.push((key.to_string(), k));
        k
    }
}

struct DocumentSeed<'r>(&'r mut Reader);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Document;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Document;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OData page (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut v2 = None;
        let mut v4 = false;
        let (mut next, mut count, mut delta) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                // One set of entities per page: a second member holding some is ignored.
                "d" if v2.is_none() && !v4 => v2 = Some(map.next_value_seed(V2Seed(self.0))?),
                "value" if v2.is_none() && !v4 => {
                    map.next_value_seed(ListSeed {
                        reader: self.0,
                        removed: false,
                    })?;
                    v4 = true;
                }
                "@odata.nextLink" => next = map.next_value()?,
                "@odata.count" => count = count_value(&map.next_value()?),
                "@odata.deltaLink" => delta = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match (v2, v4) {
            (Some(doc), _) => doc,
            (None, true) => Document::V4 { next, count, delta },
            (None, false) => Document::Neither,
        })
    }
}

/// V2's `d`: an object with `results` (and paging members), or, from old services, the
/// array of entities itself.
struct V2Seed<'r>(&'r mut Reader);

impl<'de> DeserializeSeed<'de> for V2Seed<'_> {
    type Value = Document;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Document, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for V2Seed<'_> {
    type Value = Document;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`d` as an object or an array of entities")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Document, A::Error> {
        ListSeed {
            reader: self.0,
            removed: false,
        }
        .visit_seq(seq)?;
        Ok(Document::V2 {
            results: true,
            next: None,
            count: None,
            delta: None,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut results = false;
        let (mut next, mut count, mut delta) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "results" if !results => {
                    map.next_value_seed(ListSeed {
                        reader: self.0,
                        removed: false,
                    })?;
                    results = true;
                }
                "__deleted" => map.next_value_seed(ListSeed {
                    reader: self.0,
                    removed: true,
                })?,
                "__next" => next = map.next_value()?,
                "__count" => count = count_value(&map.next_value()?),
                "__delta" => delta = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Document::V2 {
            results,
            next,
            count,
            delta,
        })
    }
}

/// An array of entities; `removed`: all of them reported as gone (V2 `__deleted`).
struct ListSeed<'r> {
    reader: &'r mut Reader,
    removed: bool,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of entities")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(EntitySeed {
                reader: &mut *self.reader,
                removed: self.removed,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct EntitySeed<'r> {
    reader: &'r mut Reader,
    removed: bool,
}

impl<'de> DeserializeSeed<'de> for EntitySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntitySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entity (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let reader = self.reader;
        reader.page.begin();
        reader.position = 0;
        let mut removed = self.removed;
        while let Some(key) = map.next_key_seed(KeySeed(&mut *reader))? {
            match key {
                Key::Slot(slot) => map.next_value_seed(FieldSeed {
                    page: &mut reader.page,
                    slot,
                })?,
                Key::Etag => {
                    let slot = reader.page.etag_slot();
                    map.next_value_seed(FieldSeed {
                        page: &mut reader.page,
                        slot,
                    })?
                }
                Key::Metadata => map.next_value_seed(MetadataSeed(&mut reader.page))?,
                Key::Removed => {
                    map.next_value::<IgnoredAny>()?;
                    removed = true;
                }
                Key::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        reader.page.end(removed);
        Ok(())
    }
}

struct KeySeed<'r>(&'r mut Reader);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(self.0.key(key))
    }
}

/// V2's `__metadata`: only its `etag` is kept.
struct MetadataSeed<'p>(&'p mut PageBuilder);

impl<'de> DeserializeSeed<'de> for MetadataSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetadataSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`__metadata` (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_etag) = map.next_key_seed(NameIs("etag"))? {
            if is_etag {
                let slot = self.0.etag_slot();
                map.next_value_seed(FieldSeed { page: self.0, slot })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Whether a key is the one named, read without keeping it.
struct NameIs(&'static str);

impl<'de> DeserializeSeed<'de> for NameIs {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameIs {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// One property's value, kept at `slot`.
struct FieldSeed<'p> {
    page: &'p mut PageBuilder,
    slot: usize,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.page.set_text(self.slot, v).map_err(E::custom)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.page.set_bool(self.slot, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.page.set_null(self.slot);
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    // Numbers are kept as serde_json writes them, so they read as they did as JSON values.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.number(serde_json::Number::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.number(serde_json::Number::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => Err(E::custom(format!("{v} is not a JSON number"))),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v: Value = serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.page
            .set_other(self.slot, &v.to_string())
            .map_err(de::Error::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v: Value = serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.page
            .set_other(self.slot, &v.to_string())
            .map_err(de::Error::custom)
    }
}

impl FieldSeed<'_> {
    fn number<E: de::Error>(self, n: serde_json::Number) -> Result<(), E> {
        self.page
            .set_number(self.slot, &n.to_string())
            .map_err(E::custom)
    }
}

fn count_value(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

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
    use crate::erp::odata::page::Field;

    fn layout(props: &[&str]) -> Arc<Layout> {
        Arc::new(Layout::of(props))
    }

    #[test]
    fn v2_and_v4_pages() {
        let l = layout(&["A"]);
        let p = parse_page(
            br#"{"d":{"results":[{"A":"1"}],"__next":"X?$skiptoken=1","__count":"7"}}"#,
            &l,
        )
        .unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p.next.as_deref(), Some("X?$skiptoken=1"));
        assert_eq!(p.count, Some(7));
        let p = parse_page(br#"{"value":[{"A":1},{"A":2}],"@odata.nextLink":"n"}"#, &l).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.next.as_deref(), Some("n"));
        let a: Vec<_> = p.entities().map(|e| e.property("A")).collect();
        assert_eq!(
            a,
            [
                Some(Field::Number("1".into())),
                Some(Field::Number("2".into()))
            ]
        );
        assert!(parse_page(b"{\"d\":{\"results\":[1]}}", &l).is_err());
        assert!(parse_page(b"<html>", &l).is_err());
        assert!(parse_page(br#"{"value":[]} x"#, &l).is_err());
    }

    #[test]
    fn v2_metadata_keeps_only_the_etag_and_every_page_form_reads() {
        let l = layout(&["A", "N", "O", "E"]);
        let p = parse_page(
            br#"{"d":{"__count":"2","results":[
                {"__metadata":{"id":"u","uri":"u","type":"T","etag":"W/\"'1'\""},"A":"1","N":null,"O":{"x":[1,2]},"B":"skipped"},
                {"__metadata":{"id":"u","uri":"u","type":"T"},"A":"2","E":"tab\tbed \u4e2d"}],
              "__delta":"D","__deleted":[{"A":"3"}],"other":{"skipped":[1]}}}"#,
            &l,
        )
        .unwrap();
        let e: Vec<_> = p.entities().collect();
        assert_eq!(e[0].etag(), Some("W/\"'1'\""));
        assert_eq!(e[0].property("A"), Some(Field::Text("1")));
        assert_eq!(e[0].property("N"), Some(Field::Null));
        assert_eq!(
            e[0].property("O"),
            Some(Field::Other(r#"{"x":[1,2]}"#.into()))
        );
        assert_eq!(e[0].property("E"), None, "absent, not empty");
        assert_eq!(e[0].property("B"), None, "not in the layout");
        assert_eq!(e[1].etag(), None);
        assert_eq!(e[1].property("A"), Some(Field::Text("2")));
        assert_eq!(e[1].property("E"), Some(Field::Text("tab\tbed 中")));
        assert_eq!(p.count, Some(2));
        assert_eq!(p.delta.as_deref(), Some("D"));
        let removed: Vec<_> = p.removed().map(|e| e.property("A")).collect();
        assert_eq!(removed, [Some(Field::Text("3"))]);
        // Old services send `d` as the array itself.
        let p = parse_page(br#"{"d":[{"A":"1"},{"A":"2"}]}"#, &l).unwrap();
        assert_eq!(p.len(), 2);
        // V4: removed entries among the others, count as a number, the ETag as annotated.
        let p = parse_page(
            br#"{"@odata.context":"c","@odata.count":3,"value":[{"@odata.etag":"W/\"x\"","A":1},{"@removed":{"reason":"deleted"},"A":2}],"@odata.deltaLink":"dl"}"#,
            &l,
        )
        .unwrap();
        assert_eq!((p.len(), p.removed().count()), (1, 1));
        assert_eq!(p.entities().next().unwrap().etag(), Some("W/\"x\""));
        assert_eq!((p.count, p.delta.as_deref()), (Some(3), Some("dl")));
        let err = |b: &[u8]| parse_page(b, &l).unwrap_err();
        assert!(err(br#"{"d":{"__count":"1"}}"#).contains("no `results` array"));
        assert!(err(br#"{"other":1}"#).contains("neither a V2"));
        assert!(err(br#"{"value":["x"]}"#).contains("entity"));
    }

    #[test]
    fn entities_whose_properties_come_in_another_order_read_alike() {
        let l = layout(&["A", "B"]);
        let p = parse_page(
            br#"{"d":{"results":[{"A":"1","B":"2"},{"B":"4","A":"3"},{"C":"x","A":"5"},{"A":"6","B":"7"}]}}"#,
            &l,
        )
        .unwrap();
        let read: Vec<_> = p
            .entities()
            .map(|e| (e.property("A"), e.property("B")))
            .collect();
        let t = |s| Some(Field::Text(s));
        assert_eq!(
            read,
            [
                (t("1"), t("2")),
                (t("3"), t("4")),
                (t("5"), None),
                (t("6"), t("7"))
            ]
        );
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
