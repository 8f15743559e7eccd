//! What went wrong talking to an ERP, whichever way it was talked to (OData, SOAP, a
//! source's pages, a writer's writes): one error type the whole connector side shares.

use std::time::Duration;

/// What went wrong talking to the ERP. Every variant names the entity set or target
/// (`what`) so a one-line error says where.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ErpError {
    #[error("{what}: cannot reach the ERP at {url}: {reason}")]
    Unreachable {
        what: String,
        url: String,
        reason: String,
    },
    #[error("{what}: the ERP answered HTTP {status}{}: {message} ({url})", if code.is_empty() { String::new() } else { format!(" {code}") })]
    Status {
        what: String,
        /// The request, so a failing page or record can be found again.
        url: String,
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{what}: malformed response from {url}: {reason}")]
    Malformed {
        what: String,
        url: String,
        reason: String,
    },
    /// A `200` whose body ends mid-document: a proxy or the connection cut it. Worth
    /// another try, unlike a body that is complete but wrong.
    #[error("{what}: malformed response from {url}: the answer was cut off ({reason})")]
    Truncated {
        what: String,
        url: String,
        reason: String,
    },
    #[error("{what} {key}: {reason}")]
    Record {
        what: String,
        key: String,
        reason: String,
    },
    #[error("ERP setup: {0}")]
    Setup(String),
}

impl ErpError {
    /// Worth another try: the network, timeouts, throttling and server-side trouble.
    pub fn is_transient(&self) -> bool {
        match self {
            ErpError::Unreachable { .. } | ErpError::Truncated { .. } => true,
            ErpError::Status { status, .. } => {
                matches!(*status, 408 | 429 | 500 | 502 | 503 | 504)
            }
            _ => false,
        }
    }

    /// The ERP does not offer what was asked for, or not to this user (400, 403, 404): for
    /// an optional read (addresses, credit management), a part of the system that is not
    /// there.
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            ErpError::Status {
                status: 400 | 403 | 404,
                ..
            }
        )
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            ErpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
