//! How erpsync reaches the ERP (`[erp]`): which kind of source it is, and for OData the
//! service root, mapping, logon and connection limits. `config` fills these from the file
//! and the environment; the connectors read them and nothing else of the configuration.

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// `[erp] kind`: where masters and open items come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErpKind {
    /// OData services (S/4HANA V2/V4, Dynamics 365 F&O), read page by page.
    Odata,
    /// IDoc files in `[idoc] inbox` (and `POST /idoc`): an ERP that sends, no OData.
    Idoc,
}

#[derive(Debug, Clone)]
pub struct ErpConfig {
    pub kind: ErpKind,
    /// The OData service root. Always set for `kind = "odata"`; an IDoc-only ERP needs none.
    pub base_url: Option<url::Url>,
    pub mapping: PathBuf,
    pub sap_client: Option<String>,
    /// Per-service root URL overrides, by the service names the mapping uses.
    pub services: BTreeMap<String, url::Url>,
    pub auth: ErpAuth,
    pub timeout: Duration,
    /// Entities per page asked of the server (`Prefer: odata.maxpagesize`), and the `$top`
    /// window when paging on our side.
    pub page_size: u32,
    /// Page with `$top`/`$skip` on our side, for servers that send everything at once
    /// rather than next links.
    pub client_paging: bool,
    pub max_retries: u32,
    /// `sap-language` (logon language of SAP's texts and messages), e.g. `EN`.
    pub sap_language: Option<String>,
    /// Requests in flight to the ERP at once, at most (SAP work processes are few).
    pub max_concurrent_requests: usize,
    /// An extra CA certificate (PEM) trusted besides the platform's, e.g. a company CA.
    pub ca_file: Option<PathBuf>,
    /// X.509 client certificate logon: a PEM file with the certificate (chain) and, unless
    /// `client_key_file` names another, its private key.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    /// `http://` to a host other than this machine was allowed on purpose (warned at start).
    pub allow_insecure_http: bool,
    /// The longest `Retry-After` honoured: a longer one is cut to this, so a server cannot
    /// park a job (and the lease it renews) for hours.
    pub max_retry_after: Duration,
    /// Bytes an answer (OData, SOAP, OAuth token) may have once decompressed; a larger one
    /// is refused while it is read, so a gzip bomb never reaches memory whole.
    pub max_response_bytes: u64,
}

/// `[erp] max_retry_after_seconds` when not set.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
/// `[erp] max_response_mb` when not set.
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 256;

/// How erpsync logs on to the ERP. Secrets are resolved at load time.
#[derive(Debug, Clone)]
pub enum ErpAuth {
    None,
    Basic {
        user: String,
        password: SecretString,
    },
    Bearer {
        token: SecretString,
    },
    /// OAuth 2.0 client credentials: a token from `token_url`, cached until shortly before
    /// it expires.
    OAuth2 {
        token_url: url::Url,
        client_id: String,
        client_secret: SecretString,
        scope: Option<String>,
    },
}
