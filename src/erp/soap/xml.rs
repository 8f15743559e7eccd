//! A small element tree for SOAP messages, built with quick-xml.
//!
//! SOAP messages here are small (a dispute case and its log), so a tree is simpler to
//! query than a streaming state machine. The reader refuses DTDs outright: a SOAP message
//! must not carry one (SOAP 1.1 §3, SOAP 1.2 part 1 §5), and refusing them means no entity
//! expansion can ever happen. Only the five predefined entities and character references
//! are resolved.

use quick_xml::events::Event;
use quick_xml::Reader;
use std::fmt::Write as _;

/// Deepest nesting accepted; real messages stay below 10.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// Local name (prefix stripped).
    pub name: String,
    /// Prefix as written, used to find the namespace of the envelope.
    pub prefix: String,
    /// Attributes as (qualified name, value), including `xmlns` declarations.
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of a direct child, `None` if absent or empty.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Attribute by local name.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.rsplit(':').next() == Some(local) && !k.starts_with("xmlns"))
            .map(|(_, v)| v.as_str())
    }

    /// The namespace URI bound to this element's own prefix, if declared on it.
    pub fn own_namespace(&self) -> Option<&str> {
        let wanted = if self.prefix.is_empty() {
            "xmlns".to_string()
        } else {
            format!("xmlns:{}", self.prefix)
        };
        self.attrs
            .iter()
            .find(|(k, _)| *k == wanted)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub(crate) struct XmlError(pub String);

fn split_name(s: &str) -> Result<(String, String), XmlError> {
    Ok(match s.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), s.to_string()),
    })
}

fn start_element(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let (prefix, name) = split_name(e.name().as_ref())?;
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| XmlError(e.to_string()))?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError(e.to_string()))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        prefix,
        attrs,
        ..Element::default()
    })
}

/// Parses a whole document into its root element.
pub(crate) fn parse(input: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|e| XmlError(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(XmlError("DTDs are not accepted".into())),
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError("nesting too deep".into()));
                }
                if root.is_some() {
                    return Err(XmlError("content after the root element".into()));
                }
                stack.push(start_element(&e)?);
            }
            Event::Empty(e) => {
                let el = start_element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err(XmlError("content after the root element".into())),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(XmlError("text outside the root element".into()));
                }
            }
            Event::CData(c) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(c.as_ref());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| XmlError(e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| XmlError(format!("unknown entity &{};", &*r)))?
                        .to_string(),
                };
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError("unexpected end of document".into()));
    }
    root.ok_or_else(|| XmlError("no root element".into()))
}

/// Escapes text and attribute values (`&`, `<`, `>`, `"`, `'`).
pub(crate) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Writes `<name>text</name>`, skipping the element when `value` is `None`.
pub(crate) fn leaf(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        let _ = write!(out, "<{name}>{}</{name}>", esc(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dtd_and_unknown_entities() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
        assert!(parse(bomb).is_err());
        assert!(parse("<a>&x;</a>").is_err());
    }

    #[test]
    fn resolves_predefined_and_char_refs() {
        let el = parse("<a b=\"1&amp;2\">x &lt; y &#x4E2D;<c/></a>").unwrap();
        assert_eq!(el.text, "x < y 中");
        assert_eq!(el.attr("b"), Some("1&2"));
        assert_eq!(el.children.len(), 1);
    }
}
