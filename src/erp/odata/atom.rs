//! OData V2 Atom XML pages: what SAP Gateway answers when a request names no `$format`
//! (or a proxy strips it). `feed/entry/content/m:properties` with `d:` values, `m:type`
//! and `m:null`, `link rel="next"` and `m:count`, read into the same [`Page`] as JSON.
//!
//! Values are kept in the shapes the V2 JSON dialect uses (text for dates, decimals and
//! integers, booleans as booleans, `m:null` as null), so one set of value readers serves
//! both. Streaming quick-xml; a DOCTYPE is refused, entities never expanded.

use super::page::{Layout, Page, PageBuilder};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::sync::Arc;

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key.as_ref();
        let local = key.rsplit(':').next().unwrap_or(key);
        if key == name || local == name {
            return a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| Some(v.into_owned()))
                .map_err(|e| e.to_string());
        }
    }
    Ok(None)
}

/// Keeps a property's value at `slot`, in its JSON form: `m:null` as null, Edm.Boolean as a
/// boolean, anything else as text.
fn keep(
    page: &mut PageBuilder,
    slot: usize,
    edm_type: Option<&str>,
    null: bool,
    text: &str,
) -> Result<(), String> {
    match edm_type {
        _ if null => page.set_null(slot),
        Some("Edm.Boolean") => page.set_bool(slot, text.trim() == "true" || text.trim() == "1"),
        _ => page.set_text(slot, text)?,
    }
    Ok(())
}

/// Reads a V2 Atom feed, keeping the properties `layout` names.
pub fn parse_feed(body: &[u8], layout: &Arc<Layout>) -> Result<Page, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = Reader::from_str(text);
    let mut page = PageBuilder::new(layout.clone());
    let mut next = None;
    let mut count = None;
    let mut stack: Vec<String> = Vec::new();
    let mut in_entry = false;
    // The property being read: name, m:type, m:null, text so far.
    let mut prop: Option<(String, Option<String>, bool, String)> = None;
    let mut count_text: Option<String> = None;
    let mut saw_feed = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_string();
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("feed", None) => saw_feed = true,
                    ("link", Some("feed")) if attr(e, "rel")?.as_deref() == Some("next") => {
                        next = attr(e, "href")?;
                    }
                    ("count", Some("feed")) if !empty => count_text = Some(String::new()),
                    ("entry", Some("feed")) => {
                        in_entry = true;
                        page.begin();
                        if let Some(etag) = attr(e, "etag")? {
                            let slot = page.etag_slot();
                            page.set_text(slot, &etag)?;
                        }
                    }
                    (_, Some("properties")) if in_entry => {
                        let null = attr(e, "null")?.as_deref() == Some("true");
                        let ty = attr(e, "type")?;
                        if empty {
                            if let Some(slot) = page.layout().slot_of_property(&name) {
                                keep(&mut page, slot, ty.as_deref(), null, "")?;
                            }
                        } else {
                            prop = Some((name.clone(), ty, null, String::new()));
                        }
                    }
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if let Some(p) = prop.as_mut() {
                    p.3.push_str(&s);
                } else if let Some(c) = count_text.as_mut() {
                    c.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Some(p) = prop.as_mut() {
                    p.3.push_str(&String::from_utf8_lossy(c.as_ref().as_bytes()));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| format!("unknown entity &{};", &*r))?
                        .to_string(),
                };
                if let Some(p) = prop.as_mut() {
                    p.3.push_str(&resolved);
                }
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                stack.pop();
                match name.as_str() {
                    "count" => {
                        if let Some(c) = count_text.take() {
                            count = Some(
                                c.trim()
                                    .parse()
                                    .map_err(|_| format!("m:count {c:?} is not a number"))?,
                            );
                        }
                    }
                    "entry" if stack.last().map(String::as_str) == Some("feed") => {
                        in_entry = false;
                        page.end(false);
                    }
                    _ => {
                        if let Some((pname, ty, null, text)) = prop.take() {
                            if pname == name {
                                if let Some(slot) = page.layout().slot_of_property(&pname) {
                                    keep(&mut page, slot, ty.as_deref(), null, &text)?;
                                }
                            } else {
                                // A complex property's member: kept flat is not needed yet.
                                prop = None;
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_feed {
        return Err("not an Atom feed".into());
    }
    if !stack.is_empty() {
        return Err("the feed ends before its last element is closed".into());
    }
    let mut page = page.finish();
    page.next = next;
    page.count = count;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::odata::page::Field;

    fn layout() -> Arc<Layout> {
        Arc::new(Layout::of([
            "Customer",
            "CustomerName",
            "PostingIsBlocked",
            "CreationDate",
            "Amount",
            "DeletionIndicator",
            "Empty",
            "id",
        ]))
    }

    const FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xml:base="https://h/sap/opu/odata/sap/API_BUSINESS_PARTNER/" xmlns="http://www.w3.org/2005/Atom" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices">
 <id>https://h/A_Customer</id><title type="text">A_Customer</title>
 <m:count>1234</m:count>
 <entry m:etag="W/&quot;'20261125'&quot;">
  <id>https://h/A_Customer('1')</id>
  <link href="A_Customer('1')/to_CustomerCompany" rel="related" type="application/atom+xml;type=feed"/>
  <content type="application/xml"><m:properties>
   <d:Customer>0000000001</d:Customer>
   <d:CustomerName>Smith &amp; Sons &#x4E2D;</d:CustomerName>
   <d:PostingIsBlocked m:type="Edm.Boolean">true</d:PostingIsBlocked>
   <d:CreationDate m:type="Edm.DateTime">2026-03-31T00:00:00</d:CreationDate>
   <d:Amount m:type="Edm.Decimal">-1250.125</d:Amount>
   <d:DeletionIndicator m:type="Edm.Boolean" m:null="true"/>
   <d:Empty/>
  </m:properties></content>
 </entry>
 <entry><content type="application/xml"><m:properties><d:Customer>0000000002</d:Customer></m:properties></content></entry>
 <link rel="next" href="A_Customer?$skiptoken=2"/>
</feed>"#;

    #[test]
    fn reads_entries_values_count_and_next_link() {
        let p = parse_feed(FEED.as_bytes(), &layout()).unwrap();
        assert_eq!(p.count, Some(1234));
        assert_eq!(p.next.as_deref(), Some("A_Customer?$skiptoken=2"));
        assert_eq!(p.len(), 2);
        let e: Vec<_> = p.entities().collect();
        let text = |i: usize, name| e[i].property(name);
        assert_eq!(text(0, "Customer"), Some(Field::Text("0000000001")));
        assert_eq!(
            text(0, "CustomerName"),
            Some(Field::Text("Smith & Sons 中"))
        );
        assert_eq!(text(0, "PostingIsBlocked"), Some(Field::Bool(true)));
        assert_eq!(
            text(0, "CreationDate"),
            Some(Field::Text("2026-03-31T00:00:00"))
        );
        assert_eq!(text(0, "Amount"), Some(Field::Text("-1250.125")));
        assert_eq!(text(0, "DeletionIndicator"), Some(Field::Null));
        assert_eq!(text(0, "Empty"), Some(Field::Text("")));
        assert_eq!(e[0].etag(), Some("W/\"'20261125'\""));
        assert_eq!(text(0, "id"), None, "the entry's id is not a property");
        assert_eq!(text(1, "Customer"), Some(Field::Text("0000000002")));
        assert_eq!(e[1].etag(), None);
    }

    #[test]
    fn refuses_dtds_truncation_and_non_feeds() {
        let evil = FEED.replace(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "<?xml version=\"1.0\"?><!DOCTYPE feed [<!ENTITY x \"y\">]>",
        );
        let l = layout();
        assert!(parse_feed(evil.as_bytes(), &l)
            .unwrap_err()
            .contains("DOCTYPE"));
        assert!(parse_feed(&FEED.as_bytes()[..FEED.len() / 2], &l).is_err());
        assert!(parse_feed(b"<html><body>login</body></html>", &l).is_err());
    }
}
