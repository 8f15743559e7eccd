//! Acknowledgements in the form of SAP's STATUS message (basic type `SYSTAT01`): one `<IDOC>`
//! per received IDoc with an `E1STATS` segment carrying DOCNUM, status 53 (applied) or 51
//! (error), a text, and the segment/field at fault. SAP-side monitoring (or a status file
//! port) can read them as any other inbound STATUS IDoc.
//!
//! Written as a stream, so acknowledging a file with a million IDocs needs no more memory
//! than acknowledging one.

use chrono::{DateTime, Utc};
use std::io::{self, Write};

/// ALE status: data applied.
pub const STATUS_APPLIED: &str = "53";
/// ALE status: error during application; the IDoc was not applied.
pub const STATUS_ERROR: &str = "51";

/// One acknowledged IDoc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckEntry {
    pub docnum: Option<String>,
    pub idoc_type: Option<String>,
    pub message_type: Option<String>,
    pub status: &'static str,
    pub text: String,
    pub segment: Option<String>,
    pub field: Option<String>,
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

pub struct AckWriter<W: Write> {
    out: W,
    at: DateTime<Utc>,
    counter: u64,
}

impl<W: Write> AckWriter<W> {
    pub fn begin(mut out: W, at: DateTime<Utc>) -> io::Result<Self> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SYSTAT01>\n")?;
        Ok(AckWriter {
            out,
            at,
            counter: 0,
        })
    }

    pub fn write(&mut self, e: &AckEntry) -> io::Result<()> {
        self.counter += 1;
        let date = self.at.format("%Y%m%d").to_string();
        let time = self.at.format("%H%M%S").to_string();
        let docnum = e.docnum.as_deref().unwrap_or("");
        let mut s = String::with_capacity(640);
        s.push_str("<IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM>");
        s.push_str("<DIRECT>2</DIRECT><IDOCTYP>SYSTAT01</IDOCTYP><MESTYP>STATUS</MESTYP>");
        s.push_str(&format!(
            "<SNDPRN>ERPSYNC</SNDPRN><CREDAT>{date}</CREDAT><CRETIM>{time}</CRETIM>"
        ));
        s.push_str("</EDI_DC40><E1STATS SEGMENT=\"1\"><TABNAM>EDI_DS40</TABNAM>");
        s.push_str(&format!("<DOCNUM>{}</DOCNUM>", esc(docnum)));
        s.push_str(&format!("<LOGDAT>{date}</LOGDAT><LOGTIM>{time}</LOGTIM>"));
        s.push_str(&format!("<STATUS>{}</STATUS>", e.status));
        s.push_str(&format!("<STATXT>{}</STATXT>", esc(&e.text)));
        if let Some(seg) = &e.segment {
            s.push_str(&format!("<SEGNUM>{}</SEGNUM>", esc(seg)));
        }
        if let Some(f) = &e.field {
            s.push_str(&format!("<SEGFLD>{}</SEGFLD>", esc(f)));
        }
        if let Some(t) = &e.idoc_type {
            s.push_str(&format!("<STAPA1>{}</STAPA1>", esc(t)));
        }
        if let Some(m) = &e.message_type {
            s.push_str(&format!("<STAPA2>{}</STAPA2>", esc(m)));
        }
        s.push_str("</E1STATS></IDOC>\n");
        self.out.write_all(s.as_bytes())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"</SYSTAT01>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_systat01_that_reads_back() {
        let mut w = AckWriter::begin(Vec::new(), Utc::now()).unwrap();
        w.write(&AckEntry {
            docnum: Some("0000000000000001".into()),
            idoc_type: Some("DEBMAS07".into()),
            message_type: Some("DEBMAS".into()),
            status: STATUS_ERROR,
            text: "bad <date> & such".into(),
            segment: Some("E1KNA1M".into()),
            field: Some("LOEVM".into()),
        })
        .unwrap();
        let xml = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(xml.contains("<STATUS>51</STATUS>"));
        assert!(xml.contains("bad &lt;date&gt; &amp; such"));
        let mut r = crate::erp::idoc::IdocReader::new(
            xml.as_bytes(),
            ["E1STATS".to_string()].into_iter().collect(),
        );
        let idoc = r.next_idoc().unwrap().unwrap();
        assert_eq!(idoc.segments[0].field("SEGFLD"), Some("LOEVM"));
    }
}
