//! OData `$batch` (multipart/mixed): many writes in one round trip, one change set per
//! record so each succeeds or fails on its own, and every answer traced back to its record.
//!
//! SAP Gateway answers a failed change set with a single `application/http` part (often
//! without the Content-ID) in the change set's place, so answers are matched by position
//! first and checked against the Content-ID when the server repeats it.
//!
//! A write may carry the headers of OData's repeatable requests (OASIS "Repeatable Requests
//! Version 1.0"): `Repeatability-Request-ID` names the write, `Repeatability-First-Sent`
//! says when it was first sent. A service that honours them runs a write once, however
//! often it is sent, and answers a repeat with the first answer; it says so with
//! `Repeatability-Result: accepted` in the part's answer.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::fmt::Write as _;

/// One write inside a batch.
#[derive(Debug, Clone)]
pub struct BatchWrite {
    /// `POST`, `PUT`, `PATCH`, `MERGE`, `DELETE`.
    pub method: String,
    /// Relative to the service root: `A_CustomerText` or `A_CustomerText(Customer='1',…)`.
    pub resource: String,
    pub body: Option<serde_json::Value>,
    pub if_match: Option<String>,
    /// Sent as `Repeatability-Request-ID` and `Repeatability-First-Sent` when set.
    pub repeatability: Option<Repeatability>,
}

impl BatchWrite {
    /// The same write, made repeatable: see [`Repeatability::of`].
    pub fn repeatable(mut self, source_keys: &[&str], first_sent: DateTime<Utc>) -> BatchWrite {
        self.repeatability = Some(Repeatability::of(source_keys, &self, first_sent));
        self
    }
}

/// The repeatability headers of one write.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeatability {
    /// `Repeatability-Request-ID`: a UUID.
    pub request_id: String,
    /// `Repeatability-First-Sent`: when the write was first sent (whole seconds).
    pub first_sent: DateTime<Utc>,
}

impl Repeatability {
    /// The id of a write that carries the records named by `source_keys` (their outbox
    /// idempotency keys): derived from those keys and the request itself (method, target,
    /// If-Match, body), so the same part sent again, by this process or after a restart,
    /// has the same id, while another write for the same records (built anew on a text
    /// that changed meanwhile) has another. A version-8 UUID over a 128-bit FNV-1a hash:
    /// stable across releases and platforms, unlike the standard library's hashers.
    pub fn of(source_keys: &[&str], write: &BatchWrite, first_sent: DateTime<Utc>) -> Self {
        let mut keys = source_keys.to_vec();
        keys.sort_unstable();
        let body = write
            .body
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let mut hash = Fnv128::default();
        for field in keys.iter().copied().chain([
            "\u{0}",
            write.method.as_str(),
            write.resource.as_str(),
            write.if_match.as_deref().unwrap_or(""),
            body.as_str(),
        ]) {
            hash.field(field.as_bytes());
        }
        let id = uuid::Builder::from_custom_bytes(hash.0.to_be_bytes()).into_uuid();
        Repeatability {
            request_id: id.to_string(),
            first_sent: DateTime::from_timestamp(first_sent.timestamp(), 0).unwrap_or(first_sent),
        }
    }

    /// `Repeatability-First-Sent` as HTTP writes dates (RFC 7231 IMF-fixdate).
    pub fn first_sent_header(&self) -> String {
        http_date(self.first_sent)
    }
}

/// A time as HTTP writes dates: `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 7231 IMF-fixdate).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Reads an IMF-fixdate (the form HTTP senders must use).
pub fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%a, %d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|t| t.and_utc())
}

/// 128-bit FNV-1a over length-prefixed fields (so `ab`,`c` and `a`,`bc` differ).
struct Fnv128(u128);

impl Default for Fnv128 {
    fn default() -> Self {
        Fnv128(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fnv128 {
    fn field(&mut self, bytes: &[u8]) {
        for b in (bytes.len() as u64).to_be_bytes().iter().chain(bytes) {
            self.0 ^= u128::from(*b);
            self.0 = self
                .0
                .wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
    }
}

/// A built request: the outer Content-Type (with its boundary) and the body.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub content_type: String,
    pub body: String,
}

/// Builds a batch with one change set per write; Content-ID `i+1` names write `i`.
pub fn build(writes: &[BatchWrite], boundary_seed: &str) -> BatchRequest {
    let batch = format!("batch_{boundary_seed}");
    let mut body = String::new();
    for (i, w) in writes.iter().enumerate() {
        let cs = format!("changeset_{boundary_seed}_{}", i + 1);
        let _ = write!(
            body,
            "--{batch}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n--{cs}\r\n\
             Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\
             Content-ID: {}\r\n\r\n{} {} HTTP/1.1\r\nAccept: application/json\r\n",
            i + 1,
            w.method,
            w.resource
        );
        if let Some(etag) = &w.if_match {
            let _ = write!(body, "If-Match: {etag}\r\n");
        }
        if let Some(r) = &w.repeatability {
            let _ = write!(
                body,
                "Repeatability-Request-ID: {}\r\nRepeatability-First-Sent: {}\r\n",
                r.request_id,
                r.first_sent_header()
            );
        }
        match &w.body {
            Some(b) => {
                let json = b.to_string();
                let _ = write!(
                    body,
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}\r\n",
                    json.len()
                );
            }
            None => body.push_str("\r\n"),
        }
        let _ = write!(body, "--{cs}--\r\n");
    }
    let _ = write!(body, "--{batch}--\r\n");
    BatchRequest {
        content_type: format!("multipart/mixed; boundary={batch}"),
        body,
    }
}

/// The answer to one write of the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PartResult {
    /// Index of the write in the request.
    pub index: usize,
    pub status: u16,
    pub etag: Option<String>,
    /// `Repeatability-Result` of the answer: `accepted` when the service honoured the
    /// write's repeatability headers (ran it once, or answered a repeat from its record).
    pub repeatability: Option<String>,
    pub body: String,
}

impl PartResult {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Lower-cased header names with their values.
type Headers = Vec<(String, String)>;

/// Splits a multipart body into its parts (headers, body), without the delimiters.
fn parts<'a>(body: &'a str, boundary: &str) -> Result<Vec<(Headers, &'a str)>, String> {
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    let mut chunks = body.split(delim.as_str());
    chunks.next(); // preamble
    let mut closed = false;
    for chunk in chunks {
        if chunk.starts_with("--") {
            closed = true;
            break;
        }
        let chunk = chunk.trim_start_matches(['\r', '\n']);
        let (head, rest) = split_head(chunk);
        out.push((headers(head), rest.trim_end_matches(['\r', '\n'])));
    }
    if !closed {
        return Err(format!("multipart body not closed by --{boundary}--"));
    }
    Ok(out)
}

fn split_head(s: &str) -> (&str, &str) {
    if let Some(i) = s.find("\r\n\r\n") {
        (&s[..i], &s[i + 4..])
    } else if let Some(i) = s.find("\n\n") {
        (&s[..i], &s[i + 2..])
    } else {
        (s, "")
    }
}

fn headers(head: &str) -> Headers {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// An embedded response: status, ETag, `Repeatability-Result`, body.
type EmbeddedResponse = (u16, Option<String>, Option<String>, String);

/// Reads an embedded `application/http` response with httparse.
fn http_response(text: &str) -> Result<EmbeddedResponse, String> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut hs);
    // httparse wants CRLF line ends; servers differ, so normalise first.
    let normalised = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let with_end = if normalised.contains("\r\n\r\n") {
        normalised
    } else {
        format!("{normalised}\r\n\r\n")
    };
    match resp.parse(with_end.as_bytes()) {
        Ok(httparse::Status::Complete(n)) => {
            let status = resp.code.ok_or("embedded response without status")?;
            let header = |name: &str| {
                resp.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).into_owned())
            };
            Ok((
                status,
                header("etag"),
                header("repeatability-result"),
                with_end[n..].trim().to_string(),
            ))
        }
        Ok(httparse::Status::Partial) => Err("embedded response is truncated".into()),
        Err(e) => Err(format!("embedded response: {e}")),
    }
}

/// Parses a `$batch` answer into one result per write of a request of `writes` writes.
pub fn parse_response(
    content_type: &str,
    body: &str,
    writes: usize,
) -> Result<Vec<PartResult>, String> {
    let boundary =
        boundary_of(content_type).ok_or_else(|| format!("no boundary in {content_type:?}"))?;
    let top = parts(body, &boundary)?;
    if top.len() != writes {
        return Err(format!("{} answers for {writes} change sets", top.len()));
    }
    let mut out = Vec::with_capacity(writes);
    for (index, (h, part)) in top.into_iter().enumerate() {
        let ct = header(&h, "content-type").unwrap_or("");
        let (inner_headers, http) = if ct.starts_with("multipart/mixed") {
            let inner = boundary_of(ct).ok_or("change set without boundary")?;
            let mut ps = parts(part, &inner)?;
            if ps.len() != 1 {
                return Err(format!(
                    "change set {} has {} answers, sent 1 write",
                    index + 1,
                    ps.len()
                ));
            }
            ps.remove(0)
        } else {
            (h, part)
        };
        if let Some(id) = header(&inner_headers, "content-id") {
            if id != (index + 1).to_string() {
                return Err(format!(
                    "answer #{} carries Content-ID {id}, expected {}",
                    index + 1,
                    index + 1
                ));
            }
        }
        let (status, etag, repeatability, body) = http_response(http)?;
        out.push(PartResult {
            index,
            status,
            etag,
            repeatability,
            body,
        });
    }
    Ok(out)
}

/// The writes whose change sets failed, to be sent again (alone or in the next batch).
pub fn failed<'a>(writes: &'a [BatchWrite], results: &[PartResult]) -> Vec<&'a BatchWrite> {
    results
        .iter()
        .filter(|r| !r.ok())
        .filter_map(|r| writes.get(r.index))
        .collect()
}

/// One operation of a received batch request (what a server, such as the mock ERP, reads).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedOp {
    pub content_id: Option<String>,
    pub method: String,
    /// The request target as written: relative to the service root.
    pub resource: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ReceivedOp {
    /// A header of the operation (`name` lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// Reads a `$batch` request into its change sets, each a list of operations; an operation
/// outside any change set (a read) is a change set of its own.
pub fn parse_request(content_type: &str, body: &str) -> Result<Vec<Vec<ReceivedOp>>, String> {
    let boundary =
        boundary_of(content_type).ok_or_else(|| format!("no boundary in {content_type:?}"))?;
    let mut out = Vec::new();
    for (h, part) in parts(body, &boundary)? {
        let ct = header(&h, "content-type").unwrap_or("");
        if ct.starts_with("multipart/mixed") {
            let inner = boundary_of(ct).ok_or("change set without boundary")?;
            let ops = parts(part, &inner)?
                .into_iter()
                .map(|(ih, http)| http_request(&ih, http))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(ops);
        } else {
            out.push(vec![http_request(&h, part)?]);
        }
    }
    Ok(out)
}

/// Reads an embedded `application/http` request: request line, headers, body.
fn http_request(part_headers: &[(String, String)], text: &str) -> Result<ReceivedOp, String> {
    let (head, body) = split_head(text);
    let mut lines = head.lines();
    let line = lines.next().unwrap_or("").trim();
    let mut words = line.split_whitespace();
    let (Some(method), Some(resource)) = (words.next(), words.next()) else {
        return Err(format!("embedded request without a request line: {line:?}"));
    };
    Ok(ReceivedOp {
        content_id: header(part_headers, "content-id").map(str::to_string),
        method: method.to_ascii_uppercase(),
        resource: resource.to_string(),
        headers: headers(&lines.collect::<Vec<_>>().join("\n")),
        body: body.to_string(),
    })
}

/// The answer to one operation, as a server writes it into a `$batch` response.
#[derive(Debug, Clone, PartialEq)]
pub struct OpAnswer {
    pub content_id: Option<String>,
    pub status: u16,
    pub reason: String,
    pub etag: Option<String>,
    /// `Repeatability-Result` (`accepted`, `rejected`), when the operation was repeatable.
    pub repeatability: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// A change set's answer: every operation's when all succeeded, else the one failure that
/// stands for the whole change set (as SAP Gateway answers).
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeSetAnswer {
    Done(Vec<OpAnswer>),
    Failed(OpAnswer),
}

fn write_op(out: &mut String, a: &OpAnswer) {
    let _ = write!(
        out,
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    );
    if let Some(id) = &a.content_id {
        let _ = write!(out, "Content-ID: {id}\r\n");
    }
    let _ = write!(out, "\r\nHTTP/1.1 {} {}\r\n", a.status, a.reason);
    if let Some(e) = &a.etag {
        let _ = write!(out, "ETag: {e}\r\n");
    }
    if let Some(r) = &a.repeatability {
        let _ = write!(out, "Repeatability-Result: {r}\r\n");
    }
    if let Some(ct) = &a.content_type {
        let _ = write!(out, "Content-Type: {ct}\r\n");
    }
    let _ = write!(
        out,
        "Content-Length: {}\r\n\r\n{}\r\n",
        a.body.len(),
        a.body
    );
}

/// Builds a `$batch` response: one part per change set, in request order.
pub fn build_response(answers: &[ChangeSetAnswer], boundary_seed: &str) -> BatchRequest {
    let batch = format!("batchresponse_{boundary_seed}");
    let mut body = String::new();
    for (i, a) in answers.iter().enumerate() {
        let _ = write!(body, "--{batch}\r\n");
        match a {
            ChangeSetAnswer::Failed(op) => write_op(&mut body, op),
            ChangeSetAnswer::Done(ops) => {
                let cs = format!("changesetresponse_{boundary_seed}_{}", i + 1);
                let _ = write!(body, "Content-Type: multipart/mixed; boundary={cs}\r\n\r\n");
                for op in ops {
                    let _ = write!(body, "--{cs}\r\n");
                    write_op(&mut body, op);
                }
                let _ = write!(body, "--{cs}--\r\n");
            }
        }
    }
    let _ = write!(body, "--{batch}--\r\n");
    BatchRequest {
        content_type: format!("multipart/mixed; boundary={batch}"),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writes() -> Vec<BatchWrite> {
        (1..=3)
            .map(|i| BatchWrite {
                method: "POST".into(),
                resource: "A_CustomerText".into(),
                body: Some(json!({"Customer": format!("{i}"), "LongText": "x"})),
                if_match: (i == 2).then(|| "W/\"'1'\"".to_string()),
                repeatability: None,
            })
            .collect()
    }

    #[test]
    fn builds_one_change_set_per_write_with_content_ids() {
        let req = build(&writes(), "abc");
        assert_eq!(req.content_type, "multipart/mixed; boundary=batch_abc");
        assert_eq!(
            req.body
                .matches("Content-Type: multipart/mixed; boundary=changeset_abc_")
                .count(),
            3
        );
        for i in 1..=3 {
            assert!(req.body.contains(&format!("Content-ID: {i}\r\n")));
        }
        assert!(req.body.contains("If-Match: W/\"'1'\"\r\n"));
        assert!(req.body.contains("POST A_CustomerText HTTP/1.1\r\n"));
        assert!(req.body.ends_with("--batch_abc--\r\n"));
    }

    #[test]
    fn maps_answers_back_and_retries_only_failed_change_sets() {
        // SAP's shape: successes inside change sets, a failure as a bare application/http.
        let body = "--resp\r\nContent-Type: multipart/mixed; boundary=cs1\r\n\r\n--cs1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\nETag: W/\"'9'\"\r\n\r\n{\"d\":{}}\r\n--cs1--\r\n\r\n--resp\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"code\":\"X\",\"message\":{\"value\":\"changed\"}}}\r\n--resp\r\nContent-Type: multipart/mixed; boundary=cs3\r\n\r\n--cs3\nContent-Type: application/http\nContent-ID: 3\n\nHTTP/1.1 204 No Content\n\n--cs3--\r\n--resp--\r\n";
        let results = parse_response("multipart/mixed; boundary=resp", body, 3).unwrap();
        assert_eq!(
            results.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![201, 412, 204]
        );
        assert_eq!(results[0].etag.as_deref(), Some("W/\"'9'\""));
        assert!(results[1].body.contains("changed"));
        let ws = writes();
        let retry = failed(&ws, &results);
        assert_eq!(retry.len(), 1);
        assert_eq!(retry[0].body.as_ref().unwrap()["Customer"], "2");
    }

    #[test]
    fn refuses_answers_that_do_not_fit_the_request() {
        let one =
            "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n--r--\r\n";
        assert!(parse_response("multipart/mixed; boundary=r", one, 2).is_err());
        let unclosed = "--r\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n";
        assert!(parse_response("multipart/mixed; boundary=r", unclosed, 1).is_err());
        let wrong_id = "--r\r\nContent-Type: application/http\r\nContent-ID: 7\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n--r--\r\n";
        assert!(parse_response("multipart/mixed; boundary=r", wrong_id, 1)
            .unwrap_err()
            .contains("Content-ID 7"));
        assert!(parse_response("application/json", one, 1).is_err());
    }

    #[test]
    fn a_server_reads_the_request_and_its_answer_reads_back() {
        let ws = writes();
        let req = build(&ws, "rt");
        let sets = parse_request(&req.content_type, &req.body).unwrap();
        assert_eq!(sets.len(), 3);
        assert_eq!(sets[1][0].method, "POST");
        assert_eq!(sets[1][0].content_id.as_deref(), Some("2"));
        assert!(sets[1][0]
            .headers
            .iter()
            .any(|(k, v)| k == "if-match" && v == "W/\"'1'\""));
        let body: serde_json::Value = serde_json::from_str(&sets[2][0].body).unwrap();
        assert_eq!(body["Customer"], "3");
        let ok = |id: &str| OpAnswer {
            content_id: Some(id.into()),
            status: 201,
            reason: "Created".into(),
            etag: Some("W/\"'9'\"".into()),
            repeatability: None,
            content_type: Some("application/json".into()),
            body: "{}".into(),
        };
        let answers = vec![
            ChangeSetAnswer::Done(vec![ok("1")]),
            ChangeSetAnswer::Failed(OpAnswer {
                content_id: None,
                status: 400,
                reason: "Bad Request".into(),
                etag: None,
                repeatability: None,
                content_type: Some("application/json".into()),
                body: r#"{"error":{"message":{"value":"Customer 2 does not exist"}}}"#.into(),
            }),
            ChangeSetAnswer::Done(vec![ok("3")]),
        ];
        let resp = build_response(&answers, "rt");
        let results = parse_response(&resp.content_type, &resp.body, 3).unwrap();
        assert!(results[0].ok() && !results[1].ok() && results[2].ok());
        assert_eq!(results[1].status, 400);
        assert!(results[1].body.contains("does not exist"));
        assert_eq!(results[2].etag.as_deref(), Some("W/\"'9'\""));
    }
    #[test]
    fn a_repeatable_write_keeps_its_id_when_sent_again_and_a_new_write_gets_another() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T09:15:07.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = at + chrono::Duration::minutes(5);
        let w = writes().remove(1);
        let a = w.clone().repeatable(&["k1", "k2"], at);
        let r = a.repeatability.clone().unwrap();
        // The same records and request: the same id, whatever the order of the keys.
        let again = w.clone().repeatable(&["k2", "k1"], later);
        assert_eq!(again.repeatability.unwrap().request_id, r.request_id);
        let id = uuid::Uuid::parse_str(&r.request_id).unwrap();
        assert_eq!(id.get_version_num(), 8);
        // Another body (the text was re-read), another ETag, other records: other ids.
        let mut changed = w.clone();
        changed.body = Some(json!({"Customer": "2", "LongText": "x\ny"}));
        let mut other_etag = w.clone();
        other_etag.if_match = Some("W/\"'2'\"".into());
        for other in [
            changed.repeatable(&["k1", "k2"], at),
            other_etag.repeatable(&["k1", "k2"], at),
            w.clone().repeatable(&["k1"], at),
            w.clone().repeatable(&["k1k2"], at),
        ] {
            assert_ne!(other.repeatability.unwrap().request_id, r.request_id);
        }
        assert_eq!(r.first_sent_header(), "Wed, 25 Nov 2026 09:15:07 GMT");
        assert_eq!(
            parse_http_date(&r.first_sent_header()),
            Some(r.first_sent),
            "whole seconds, as the header carries them"
        );
        assert_eq!(parse_http_date("2026-11-25T09:15:07Z"), None);

        // On the wire, and read back by a server, with the part's own headers.
        let req = build(&[writes().remove(0), a], "rp");
        let sets = parse_request(&req.content_type, &req.body).unwrap();
        assert_eq!(sets[0][0].header("repeatability-request-id"), None);
        let op = &sets[1][0];
        assert_eq!(
            op.header("repeatability-request-id"),
            Some(r.request_id.as_str())
        );
        assert_eq!(
            op.header("repeatability-first-sent"),
            Some("Wed, 25 Nov 2026 09:15:07 GMT")
        );
        assert_eq!(op.header("if-match"), Some("W/\"'1'\""));
        let body: serde_json::Value = serde_json::from_str(&op.body).unwrap();
        assert_eq!(body["Customer"], "2", "the body is still the body");
    }

    #[test]
    fn the_repeatability_result_of_each_answer_is_read() {
        let answer = |id: &str, r: Option<&str>| OpAnswer {
            content_id: Some(id.into()),
            status: 204,
            reason: "No Content".into(),
            etag: None,
            repeatability: r.map(str::to_string),
            content_type: None,
            body: String::new(),
        };
        let resp = build_response(
            &[
                ChangeSetAnswer::Done(vec![answer("1", Some("accepted"))]),
                ChangeSetAnswer::Done(vec![answer("2", None)]),
            ],
            "rr",
        );
        let results = parse_response(&resp.content_type, &resp.body, 2).unwrap();
        assert_eq!(results[0].repeatability.as_deref(), Some("accepted"));
        assert_eq!(results[1].repeatability, None);
    }
}
