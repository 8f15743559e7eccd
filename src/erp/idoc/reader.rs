//! Streaming IDoc XML reader: one `<IDOC>` at a time, in bounded memory.
//!
//! An IDoc XML file is `<ROOT><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1">…</EDI_DC40><SEG SEGMENT="1">
//! <FIELD>value</FIELD>…<CHILD SEGMENT="1">…</CHILD></SEG>…</IDOC><IDOC>…</IDOC></ROOT>`. The
//! root element is the basic type or the extension (`<ZINV_ARDO>` in SAP's own sample), so
//! it is not trusted; the control record says what an IDoc is.
//!
//! Memory stays bounded whatever the file size: only the segments the caller asks for are
//! kept (others are skipped as they stream past), one IDoc is held at a time, and no single
//! XML event may grow beyond [`MAX_EVENT_BYTES`]. DTDs are refused at once (so no entity can
//! ever be declared, let alone expanded); only the five predefined entities and character
//! references are resolved.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashSet;
use std::io::{self, BufRead, Read};

/// The largest single XML event (tag, text run, comment) accepted. IDoc fields are at most
/// a few hundred characters; a multi-megabyte event is an attack or a broken file.
pub const MAX_EVENT_BYTES: usize = 1 << 20;
/// Deepest nesting accepted; DEBMAS and INVOIC stay below 8.
const MAX_DEPTH: usize = 32;
/// Segments kept per IDoc; a real DEBMAS/INVOIC header has far fewer of the mapped ones.
const MAX_KEPT_SEGMENTS: usize = 100_000;
/// The longest field text, however many events (text, entities, CDATA) it arrives in: SAP
/// fields are at most a few thousand characters.
pub const MAX_FIELD_BYTES: usize = 64 << 10;
/// Fields per segment (and in the control record): SAP segments carry at most a few hundred.
pub const MAX_FIELDS_PER_SEGMENT: usize = 1_000;

/// A problem that makes the rest of the file unreadable: the whole file is quarantined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML at byte {position}: {reason}")]
pub struct XmlFault {
    pub position: u64,
    pub reason: String,
}

/// One data segment as kept: its name, its nearest kept ancestor and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub parent: Option<usize>,
    pub fields: Vec<(String, String)>,
    /// The index after this segment's last kept descendant: its subtree is `self+1..end`,
    /// so a walk over children jumps over grandchildren instead of scanning the IDoc.
    pub end: usize,
}

impl Segment {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Sets each segment's `end` from the parents, for segment lists built by hand.
#[cfg(test)]
pub(crate) fn close_subtrees(segments: &mut [Segment]) {
    for i in (0..segments.len()).rev() {
        segments[i].end = segments[i].end.max(i + 1);
        if let Some(p) = segments[i].parent {
            segments[p].end = segments[p].end.max(segments[i].end);
        }
    }
}

/// One IDoc as read: its control record fields and the kept data segments in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawIdoc {
    /// Position of `<IDOC>` in the file (ordinal, from 1) for messages.
    pub ordinal: u64,
    pub control: Vec<(String, String)>,
    pub segments: Vec<Segment>,
    /// Byte range of `<IDOC>…</IDOC>` in the input, to copy a rejected IDoc to quarantine.
    pub start: u64,
    pub end: u64,
    /// A structural problem inside this IDoc that is not an XML fault (e.g. no control
    /// record): the IDoc is rejected, the file goes on.
    pub problem: Option<String>,
}

impl RawIdoc {
    pub fn control_field(&self, name: &str) -> Option<&str> {
        self.control
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// A `BufRead` that fails once more than `budget` bytes are consumed without
/// [`Budgeted::reset`]: quick-xml buffers a whole event before returning it, so this is what
/// bounds the buffer when an event never ends.
struct Budgeted<R> {
    inner: R,
    used: usize,
    limit: usize,
}

impl<R> Budgeted<R> {
    fn reset(&mut self) {
        self.used = 0;
    }
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.used += n;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Budgeted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.used > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("an XML element or text is longer than {} bytes", self.limit),
            ));
        }
        // Never hand out more than the budget allows, so even an in-memory source (whose
        // buffer is the whole input) is consumed in budget-sized steps and checked.
        let room = self.limit + 1 - self.used;
        let buf = self.inner.fill_buf()?;
        let n = buf.len().min(room);
        Ok(&buf[..n])
    }
    fn consume(&mut self, amt: usize) {
        self.used += amt;
        self.inner.consume(amt);
    }
}

/// What the reader is inside of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    Root,
    Idoc,
    Control,
    /// A data segment; `kept` is its index in the current IDoc when kept.
    Segment {
        kept: Option<usize>,
    },
    /// A field of a segment (or of the control record): its text is collected.
    Field {
        name: String,
    },
    /// Inside something skipped (a field of a skipped segment, or unknown structure).
    Skip,
}

pub struct IdocReader<R: BufRead> {
    reader: Reader<Budgeted<R>>,
    buf: Vec<u8>,
    stack: Vec<Frame>,
    wanted: HashSet<String>,
    current: Option<RawIdoc>,
    text: String,
    ordinal: u64,
    done: bool,
    seen_root: bool,
    root: Option<String>,
    event_start: u64,
}

impl<R: BufRead> IdocReader<R> {
    /// Reads from `input`, keeping the data segments named in `wanted` (and always the
    /// control record).
    pub fn new(input: R, wanted: HashSet<String>) -> Self {
        let mut reader = Reader::from_reader(Budgeted {
            inner: input,
            used: 0,
            limit: MAX_EVENT_BYTES,
        });
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = true;
        IdocReader {
            reader,
            buf: Vec::with_capacity(4096),
            stack: Vec::new(),
            wanted,
            current: None,
            text: String::new(),
            ordinal: 0,
            done: false,
            seen_root: false,
            root: None,
            event_start: 0,
        }
    }

    /// The root element's name (e.g. `DEBMAS07`, or an extension like `ZINV_ARDO`).
    pub fn root(&self) -> Option<&str> {
        self.root.as_deref()
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn fault(&self, reason: impl Into<String>) -> XmlFault {
        XmlFault {
            position: self.reader.buffer_position(),
            reason: reason.into(),
        }
    }

    /// The next IDoc, `None` at the end of the file.
    pub fn next_idoc(&mut self) -> Result<Option<RawIdoc>, XmlFault> {
        if self.done {
            return Ok(None);
        }
        // The buffer is taken out of `self` so events can borrow it (no copy per event)
        // while `self` is updated; it is put back after each event that does not return.
        let mut buf = std::mem::take(&mut self.buf);
        loop {
            buf.clear();
            self.reader.get_mut().reset();
            self.event_start = self.reader.buffer_position();
            let event = match self.reader.read_event_into(&mut buf) {
                Ok(e) => e,
                Err(e) => {
                    self.done = true;
                    return Err(self.fault(e.to_string()));
                }
            };
            match event {
                Event::DocType(_) => {
                    self.done = true;
                    return Err(self.fault("a DTD (<!DOCTYPE …>) is not accepted in IDoc XML"));
                }
                Event::Start(e) => self.start(&e)?,
                Event::End(_) => {
                    if let Some(idoc) = self.end()? {
                        self.buf = buf;
                        return Ok(Some(idoc));
                    }
                }
                Event::Text(t) => {
                    let s = t.xml10_content().into_owned();
                    self.push_text(&s)?;
                }
                Event::CData(c) => {
                    let s = c.as_ref().to_string();
                    self.push_text(&s)?;
                }
                Event::GeneralRef(r) => {
                    let resolved = match r
                        .resolve_char_ref()
                        .map_err(|e| self.fault(e.to_string()))?
                    {
                        Some(c) => c.to_string(),
                        None => {
                            let name: String = r.as_ref().to_string();
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| {
                                    self.fault(format!(
                                        "unknown entity &{name}; (entities are not expanded)"
                                    ))
                                })?
                                .to_string()
                        }
                    };
                    self.push_text(&resolved)?;
                }
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                Event::Eof => {
                    self.done = true;
                    if !self.stack.is_empty() {
                        return Err(self.fault("the file ends inside an element"));
                    }
                    if !self.seen_root {
                        return Err(self.fault("no root element"));
                    }
                    return Ok(None);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    fn push_text(&mut self, s: &str) -> Result<(), XmlFault> {
        match self.stack.last() {
            Some(Frame::Field { .. }) => {
                if self.text.len() + s.len() > MAX_FIELD_BYTES {
                    return Err(self.fault(format!(
                        "a field's text is longer than {MAX_FIELD_BYTES} bytes"
                    )));
                }
                self.text.push_str(s);
                Ok(())
            }
            None if !s.trim().is_empty() => Err(self.fault("text outside the root element")),
            _ => Ok(()),
        }
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), XmlFault> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.fault("elements nested too deep"));
        }
        let name = e.local_name().as_ref().to_string();
        // Attribute syntax is checked for every element: a broken attribute is broken XML.
        let mut is_segment = false;
        for a in e.attributes() {
            let a = a.map_err(|err| self.fault(err.to_string()))?;
            if a.key.local_name().as_ref() == "SEGMENT" {
                is_segment = true;
            }
        }
        let frame = match self.stack.last() {
            None => {
                if self.seen_root {
                    return Err(self.fault("a second root element"));
                }
                self.seen_root = true;
                self.root = Some(name);
                Frame::Root
            }
            Some(Frame::Root) => {
                if name == "IDOC" {
                    self.ordinal += 1;
                    self.current = Some(RawIdoc {
                        ordinal: self.ordinal,
                        start: self.event_start,
                        ..RawIdoc::default()
                    });
                    Frame::Idoc
                } else {
                    Frame::Skip
                }
            }
            Some(Frame::Idoc) if name == "EDI_DC40" => Frame::Control,
            // Everything directly under IDOC is a segment; below a segment, only elements
            // marked SEGMENT are (the others are its fields).
            Some(Frame::Idoc) | Some(Frame::Segment { .. })
                if is_segment || matches!(self.stack.last(), Some(Frame::Idoc)) =>
            {
                let parent = self.nearest_kept();
                let idoc = self.current.as_mut().expect("inside an IDoc");
                if self.wanted.contains(&name) {
                    if idoc.segments.len() >= MAX_KEPT_SEGMENTS {
                        return Err(self.fault("too many segments in one IDoc"));
                    }
                    let index = idoc.segments.len();
                    idoc.segments.push(Segment {
                        name,
                        parent,
                        fields: Vec::new(),
                        end: index + 1,
                    });
                    Frame::Segment {
                        kept: Some(idoc.segments.len() - 1),
                    }
                } else {
                    Frame::Segment { kept: None }
                }
            }
            Some(Frame::Control) | Some(Frame::Segment { .. }) | Some(Frame::Idoc) => {
                self.text.clear();
                Frame::Field { name }
            }
            Some(Frame::Field { .. }) | Some(Frame::Skip) => Frame::Skip,
        };
        self.stack.push(frame);
        Ok(())
    }

    fn nearest_kept(&self) -> Option<usize> {
        self.stack.iter().rev().find_map(|f| match f {
            Frame::Segment { kept: Some(i) } => Some(*i),
            _ => None,
        })
    }

    fn end(&mut self) -> Result<Option<RawIdoc>, XmlFault> {
        let frame = self
            .stack
            .pop()
            .ok_or_else(|| self.fault("an end tag without a start tag"))?;
        match frame {
            Frame::Field { name } => {
                let value = std::mem::take(&mut self.text);
                let owner = self.stack.last().cloned();
                let idoc = self.current.as_mut().expect("inside an IDoc");
                let fields = match owner {
                    Some(Frame::Control) => &mut idoc.control,
                    Some(Frame::Segment { kept: Some(i) }) => &mut idoc.segments[i].fields,
                    _ => return Ok(None),
                };
                if fields.len() >= MAX_FIELDS_PER_SEGMENT {
                    return Err(self.fault(format!(
                        "more than {MAX_FIELDS_PER_SEGMENT} fields in one segment"
                    )));
                }
                fields.push((name, value));
                Ok(None)
            }
            Frame::Segment { kept: Some(i) } => {
                let idoc = self.current.as_mut().expect("inside an IDoc");
                idoc.segments[i].end = idoc.segments.len();
                Ok(None)
            }
            Frame::Idoc => {
                let mut idoc = self.current.take().expect("inside an IDoc");
                idoc.end = self.reader.buffer_position();
                if idoc.control.is_empty() && idoc.problem.is_none() {
                    idoc.problem = Some("no control record EDI_DC40".into());
                }
                Ok(Some(idoc))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(xml: &str, wanted: &[&str]) -> Result<Vec<RawIdoc>, XmlFault> {
        let mut r = IdocReader::new(
            xml.as_bytes(),
            wanted.iter().map(|s| s.to_string()).collect(),
        );
        let mut out = Vec::new();
        while let Some(i) = r.next_idoc()? {
            out.push(i);
        }
        Ok(out)
    }

    #[test]
    fn reads_control_and_wanted_segments_with_nesting() {
        let xml = r#"<?xml version="1.0"?><DEBMAS07><IDOC BEGIN="1">
            <EDI_DC40 SEGMENT="1"><DOCNUM>0001</DOCNUM><IDOCTYP>DEBMAS07</IDOCTYP></EDI_DC40>
            <E1KNA1M SEGMENT="1"><KUNNR>4711</KUNNR><NAME1>A &amp; B &#x4E2D;</NAME1>
              <E1KNB1M SEGMENT="1"><BUKRS>1010</BUKRS><ZSKIP SEGMENT="1"><X>1</X></ZSKIP></E1KNB1M>
            </E1KNA1M></IDOC><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1"><DOCNUM>0002</DOCNUM></EDI_DC40></IDOC></DEBMAS07>"#;
        let idocs = read_all(xml, &["E1KNA1M", "E1KNB1M"]).unwrap();
        assert_eq!(idocs.len(), 2);
        assert_eq!(idocs[0].control_field("DOCNUM"), Some("0001"));
        assert_eq!(idocs[0].segments.len(), 2);
        assert_eq!(idocs[0].segments[0].field("NAME1"), Some("A & B 中"));
        assert_eq!(idocs[0].segments[1].parent, Some(0));
        assert_eq!(idocs[0].segments[1].field("BUKRS"), Some("1010"));
        assert_eq!(idocs[1].ordinal, 2);
    }

    #[test]
    fn refuses_dtds_and_unknown_entities() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><R><IDOC><EDI_DC40><DOCNUM>&lol2;</DOCNUM></EDI_DC40></IDOC></R>"#;
        let err = read_all(bomb, &[]).unwrap_err();
        assert!(err.reason.contains("DTD"), "{err}");
        let err = read_all(
            "<R><IDOC><EDI_DC40><DOCNUM>&x;</DOCNUM></EDI_DC40></IDOC></R>",
            &[],
        )
        .unwrap_err();
        assert!(err.reason.contains("unknown entity"), "{err}");
    }

    #[test]
    fn broken_xml_is_a_fault_after_the_good_idocs() {
        let xml = "<R><IDOC><EDI_DC40><DOCNUM>1</DOCNUM></EDI_DC40></IDOC><IDOC><EDI_DC40><DOCNUM>2</DOC></EDI_DC40></IDOC></R>";
        let mut r = IdocReader::new(xml.as_bytes(), HashSet::new());
        assert!(r.next_idoc().unwrap().is_some());
        assert!(r.next_idoc().is_err());
        let err = read_all("<R><IDOC>", &[]).unwrap_err();
        assert!(err.reason.contains("ends inside"), "{err}");
    }

    #[test]
    fn field_text_and_fields_per_segment_are_bounded() {
        // Many small events (entities) that together make one oversized field.
        let mut xml = String::from("<R><IDOC><EDI_DC40><DOCNUM>");
        xml.push_str(&"a&amp;".repeat(MAX_FIELD_BYTES / 2 + 1));
        xml.push_str("</DOCNUM></EDI_DC40></IDOC></R>");
        let err = read_all(&xml, &[]).unwrap_err();
        assert!(err.reason.contains("field's text is longer"), "{err}");
        let mut xml =
            String::from("<R><IDOC><EDI_DC40><DOCNUM>1</DOCNUM></EDI_DC40><S SEGMENT=\"1\">");
        xml.push_str(&"<F>1</F>".repeat(MAX_FIELDS_PER_SEGMENT + 1));
        xml.push_str("</S></IDOC></R>");
        let err = read_all(&xml, &["S"]).unwrap_err();
        assert!(err.reason.contains("fields in one segment"), "{err}");
    }

    #[test]
    fn each_kept_segment_knows_where_its_subtree_ends() {
        let xml = r#"<R><IDOC><EDI_DC40><DOCNUM>1</DOCNUM></EDI_DC40>
            <A SEGMENT="1"><B SEGMENT="1"><C SEGMENT="1"/></B><B SEGMENT="1"/></A><A SEGMENT="1"/></IDOC></R>"#;
        let idoc = read_all(xml, &["A", "B", "C"]).unwrap().remove(0);
        let ends: Vec<usize> = idoc.segments.iter().map(|s| s.end).collect();
        assert_eq!(ends, [4, 3, 3, 4, 5]);
    }

    #[test]
    fn an_endless_text_run_is_refused_without_buffering_it() {
        let mut xml = String::from("<R><IDOC><EDI_DC40><DOCNUM>");
        xml.push_str(&"9".repeat(MAX_EVENT_BYTES * 3));
        xml.push_str("</DOCNUM></EDI_DC40></IDOC></R>");
        match read_all(&xml, &[]) {
            Ok(v) => panic!("an oversized text was accepted ({} IDocs)", v.len()),
            Err(err) => assert!(err.reason.contains("longer than"), "{err}"),
        }
    }
}
