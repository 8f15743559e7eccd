//! Reading an ERP answer within bounds: the body is taken chunk by chunk (decompressed, when
//! the answer was gzip) and refused as soon as it passes the limit, so neither a huge answer
//! nor a small gzip that inflates to gigabytes is ever held whole; and a `Retry-After` is
//! cut to the longest wait the configuration allows.

use super::ErpError;
use std::time::Duration;
use url::Url;

/// The whole body of `resp`; an error naming the URL's path and the limit as soon as more
/// than `limit` bytes have arrived. `transport` describes a connection that failed mid-body.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: u64,
    what: &str,
    url: &Url,
    transport: impl Fn(reqwest::Error) -> ErpError,
) -> Result<Vec<u8>, ErpError> {
    let too_large = || ErpError::Malformed {
        what: what.to_string(),
        url: url.path().to_string(),
        reason: format!(
            "the answer is larger than {} (erp.max_response_mb); the read was stopped",
            describe_bytes(limit)
        ),
    };
    // A declared length says it at once (for gzip it is the compressed size, still a floor).
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    // Room for the declared length at once rather than doubling towards it; a declared
    // length is only a claim, so at most 16 MiB is reserved before bytes arrive.
    let declared = resp.content_length().unwrap_or(0).min(limit).min(16 << 20);
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = resp.chunk().await.map_err(&transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn describe_bytes(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// A `Retry-After` in seconds, cut to `cap`; `None` when absent or not a number.
pub(crate) fn retry_after(value: Option<&str>, cap: Duration) -> Option<Duration> {
    value
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs).min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_retry_after_is_cut_to_the_cap() {
        let cap = Duration::from_secs(600);
        assert_eq!(retry_after(Some("18446744073709551615"), cap), Some(cap));
        assert_eq!(retry_after(Some(" 5 "), cap), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(Some("soon"), cap), None);
        assert_eq!(retry_after(None, cap), None);
    }

    #[test]
    fn limits_are_named_in_megabytes_when_whole() {
        assert_eq!(describe_bytes(256 << 20), "256 MB");
        assert_eq!(describe_bytes(1000), "1000 bytes");
    }
}
