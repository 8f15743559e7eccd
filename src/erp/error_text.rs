//! What an error message quotes from an ERP answer that is not one of SAP's structured
//! error bodies. Proxies, load balancers and the ICM answer failures with whole HTML pages
//! (styles, scripts, a hundred lines of markup): an operator needs the page's title, not the
//! page. SAP Gateway's XML error (`<error><code/><message/></error>`, the answer to an Atom or
//! `$metadata` request) is read for its code and message.

/// The most characters of an answer an error message carries.
const MAX_CHARS: usize = 200;

/// A one-line description of `body` for an error message: an SAP XML error's code and
/// message, an HTML page's `<title>` (else its first `<h1>`, else its first line of text),
/// or the first non-empty line of anything else; at most `MAX_CHARS` (200) characters. `None`
/// when the body holds no text at all.
pub fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return None;
    }
    let line = if let Some(sap) = sap_xml_error(text) {
        sap
    } else if looks_like_html(text) {
        element_text(text, "title")
            .or_else(|| element_text(text, "h1"))
            .or_else(|| first_line(&strip_tags(text)))?
    } else {
        first_line(text)?
    };
    Some(shorten(&line))
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<!doctype html") || head.contains("<html") || head.contains("<head")
}

/// `<error>` with a `<message>`: SAP Gateway's XML error body (V2 `application/xml`).
fn sap_xml_error(text: &str) -> Option<String> {
    if !text.starts_with("<?xml") && !text.starts_with("<error") {
        return None;
    }
    let message = element_text(text, "message")?;
    Some(match element_text(text, "code") {
        Some(code) => format!("{code} {message}"),
        None => message,
    })
}

/// The text inside the first `<name …>…</name>` (ASCII case-insensitive), tags inside it
/// removed, entities for markup characters decoded and white space collapsed.
fn element_text(text: &str, name: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut from = 0;
    let start = loop {
        let at = from + lower[from..].find(&open)?;
        let after = at + open.len();
        // `<title>` or `<title lang=…>`, not `<titlebar>`.
        match lower.as_bytes().get(after) {
            Some(b'>') | Some(b' ') | Some(b'\t') | Some(b'\n') | Some(b'\r') => {
                break after + lower[after..].find('>')? + 1
            }
            _ => from = after,
        }
    };
    let end = start + lower[start..].find(&format!("</{name}"))?;
    let inner = collapse(&decode_entities(&strip_tags(&text[start..end])));
    (!inner.is_empty()).then_some(inner)
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_line(text: &str) -> Option<String> {
    text.lines().map(collapse).find(|l| !l.is_empty())
}

fn shorten(line: &str) -> String {
    if line.chars().count() <= MAX_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn an_html_page_is_quoted_by_its_title() {
        let page = b"<!DOCTYPE html>\n<html><head><meta charset=utf-8>\n<style>body{color:red}</style>\n<title>502 Bad Gateway &amp; more</title></head>\n<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response.</p>\n<script>var x = 1;</script></body></html>";
        assert_eq!(excerpt(page).unwrap(), "502 Bad Gateway & more");
    }

    #[test]
    fn an_html_page_without_title_is_quoted_by_its_heading_or_first_text() {
        let h1 = b"<html><body>\n<h1>\n  Service cannot be reached\n</h1><p>ICM</p></body></html>";
        assert_eq!(excerpt(h1).unwrap(), "Service cannot be reached");
        let bare = b"<html><body>\n\n<p>Logon failed for client 100</p>\n<p>more</p></body></html>";
        assert_eq!(excerpt(bare).unwrap(), "Logon failed for client 100");
    }

    #[test]
    fn sap_gateway_xml_errors_give_code_and_message() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?><error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><code>/IWFND/MED/170</code><message xml:lang="en">No service found for namespace '', name 'API_CRDTMBUSINESSPARTNER', version '0001'</message></error>"#;
        assert_eq!(
            excerpt(xml).unwrap(),
            "/IWFND/MED/170 No service found for namespace '', name 'API_CRDTMBUSINESSPARTNER', version '0001'"
        );
    }

    #[test]
    fn plain_text_gives_its_first_line_cut_to_length() {
        assert_eq!(
            excerpt(b"\n\n  upstream timed out  \nsecond line").unwrap(),
            "upstream timed out"
        );
        let long = "x".repeat(5000);
        let cut = excerpt(long.as_bytes()).unwrap();
        assert_eq!(cut.chars().count(), 200);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(b"   \n  "), None);
    }

    #[test]
    fn odd_markup_never_panics() {
        for body in [
            &b"<html><title>"[..],
            b"<html><title",
            b"<?xml<error><message>",
            b"<html>\xff\xfe<title>\xc3</title>",
            b"<TITLE>Upper</TITLE><html>",
        ] {
            let _ = excerpt(body);
        }
        assert_eq!(
            excerpt(b"<HTML><HEAD><TITLE>Upper Case</TITLE></HEAD></HTML>").unwrap(),
            "Upper Case"
        );
    }
}
