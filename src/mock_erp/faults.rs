//! Fault injection: make the mock ERP misbehave on purpose, a given number of times.
//!
//! Syntax (`--faults SPEC`): rules separated by commas, each `KIND[@TARGET][:TIMES]`.
//!
//! | KIND | effect |
//! |---|---|
//! | `400`…`599` | that HTTP status with an SAP error body (SOAP fault for `DisputeCase`); `429` and `503` add `Retry-After: 1` |
//! | `timeout` | hold the response for 30 s before answering normally, so a client timeout fires first |
//! | `delay=MS` | answer normally after `MS` milliseconds |
//! | `malformed` | `200` with the real JSON page cut off in the middle |
//! | `drop` | the answer's headers, half its body, then the connection is closed |
//! | `csrf-expire` | a write with a valid token gets `403` + `x-csrf-token: Required`, and the session's token is dropped (as when SAP's token expires) |
//!
//! TARGET is an entity set (`A_Customer`, `A_OperationalAcctgDocItemCube`, `A_CustomerText`,
//! ...), `$metadata`, `DisputeCase` for the SOAP service, or `*` (default) for any request.
//! TIMES is how often the rule fires (default 1); `*` means every time.
//! Rules are tried in order; the first one that matches and has firings left fires.
//! Example: `500@A_Customer:1,429@*:2,timeout@A_OperationalAcctgDocItemCube,csrf-expire:1`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Status(u16),
    Timeout,
    Delay(Duration),
    Malformed,
    /// Half the body, then the connection drops.
    Drop,
    CsrfExpire,
}

/// How long `timeout` holds a response.
pub const TIMEOUT_HOLD: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub kind: FaultKind,
    /// Entity set, `$metadata`, `DisputeCase` or `*`.
    pub target: String,
    /// `None`: fire every time.
    pub times: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultSpec {
    pub rules: Vec<FaultRule>,
}

impl FaultSpec {
    pub fn none() -> Self {
        FaultSpec::default()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault rule {rule:?}: {reason}")]
pub struct FaultSpecError {
    pub rule: String,
    pub reason: String,
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rules = Vec::new();
        for raw in s.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let err = |reason: &str| FaultSpecError {
                rule: raw.to_string(),
                reason: reason.to_string(),
            };
            // `delay=MS` contains no ':' or '@', so splitting from the right is safe.
            let (head, times) = match raw.rsplit_once(':') {
                Some((h, "*")) => (h, None),
                Some((h, n)) => (
                    h,
                    Some(
                        n.parse::<u32>()
                            .map_err(|_| err("TIMES must be a number or *"))?,
                    ),
                ),
                None => (raw, Some(1)),
            };
            let (kind, target) = match head.split_once('@') {
                Some((k, t)) if !t.is_empty() => (k, t.to_string()),
                Some(_) => return Err(err("empty target after @")),
                None => (head, "*".to_string()),
            };
            let kind = match kind {
                "timeout" => FaultKind::Timeout,
                "malformed" => FaultKind::Malformed,
                "drop" => FaultKind::Drop,
                "csrf-expire" => FaultKind::CsrfExpire,
                k if k.starts_with("delay=") => FaultKind::Delay(Duration::from_millis(
                    k["delay=".len()..]
                        .parse()
                        .map_err(|_| err("delay=MS needs milliseconds"))?,
                )),
                k => match k.parse::<u16>() {
                    Ok(code) if (400..=599).contains(&code) => FaultKind::Status(code),
                    _ => {
                        return Err(err(
                            "KIND must be a status 400-599, timeout, delay=MS, malformed, drop or csrf-expire",
                        ))
                    }
                },
            };
            rules.push(FaultRule {
                kind,
                target,
                times,
            });
        }
        Ok(FaultSpec { rules })
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r.kind {
                FaultKind::Status(c) => write!(f, "{c}")?,
                FaultKind::Timeout => f.write_str("timeout")?,
                FaultKind::Delay(d) => write!(f, "delay={}", d.as_millis())?,
                FaultKind::Malformed => f.write_str("malformed")?,
                FaultKind::Drop => f.write_str("drop")?,
                FaultKind::CsrfExpire => f.write_str("csrf-expire")?,
            }
            write!(f, "@{}", r.target)?;
            match r.times {
                Some(n) => write!(f, ":{n}")?,
                None => f.write_str(":*")?,
            }
        }
        Ok(())
    }
}

/// The live state: rules with their remaining firings.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<(FaultRule, Option<u32>)>,
    fired: u64,
}

impl Faults {
    pub fn new(spec: &FaultSpec) -> Self {
        Faults {
            rules: spec.rules.iter().map(|r| (r.clone(), r.times)).collect(),
            fired: 0,
        }
    }

    /// Takes one firing of the first rule that matches `target`; `writes_only` rules
    /// (`csrf-expire`) are only considered when `want_csrf` is set, and the others only
    /// when it is not, so each check point sees its own kind of rule.
    pub fn take(&mut self, target: &str, want_csrf: bool) -> Option<FaultKind> {
        for (rule, left) in &mut self.rules {
            let is_csrf = rule.kind == FaultKind::CsrfExpire;
            if is_csrf != want_csrf || left == &Some(0) {
                continue;
            }
            if rule.target != "*" && rule.target != target {
                continue;
            }
            if let Some(n) = left {
                *n -= 1;
            }
            self.fired += 1;
            return Some(rule.kind);
        }
        None
    }

    pub fn fired(&self) -> u64 {
        self.fired
    }
}

/// The answer's status and headers, the first half of its body, then an error that makes
/// the server close the connection: what a client sees when a connection drops mid-answer.
pub(crate) async fn dropped(resp: axum::response::Response) -> axum::response::Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    // The full length is announced, so the client knows the answer is incomplete.
    parts.headers.insert(
        axum::http::header::CONTENT_LENGTH,
        axum::http::HeaderValue::from(bytes.len()),
    );
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped on purpose",
        )),
    ];
    axum::response::Response::from_parts(
        parts,
        axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let spec: FaultSpec = "500@A_Customer:1,429@*:2,timeout@A_OperationalAcctgDocItemCube:1,malformed@A_SalesContract:1,csrf-expire:1,delay=250@DisputeCase:*"
            .parse()
            .unwrap();
        assert_eq!(spec.rules.len(), 6);
        assert_eq!(spec.rules[0].kind, FaultKind::Status(500));
        assert_eq!(spec.rules[1].times, Some(2));
        assert_eq!(spec.rules[4].target, "*");
        assert_eq!(
            spec.rules[5].kind,
            FaultKind::Delay(Duration::from_millis(250))
        );
        assert_eq!(spec.rules[5].times, None);
        let again: FaultSpec = spec.to_string().parse().unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["200", "boom", "500@", "500:x", "delay=x"] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad}");
        }
        assert!("".parse::<FaultSpec>().unwrap().is_empty());
    }

    #[test]
    fn fires_the_given_number_of_times() {
        let mut f = Faults::new(&"500@A_Customer:2".parse().unwrap());
        assert_eq!(f.take("A_CustomerCompany", false), None);
        assert_eq!(f.take("A_Customer", false), Some(FaultKind::Status(500)));
        assert_eq!(f.take("A_Customer", false), Some(FaultKind::Status(500)));
        assert_eq!(f.take("A_Customer", false), None);
        assert_eq!(f.fired(), 2);
    }
}
