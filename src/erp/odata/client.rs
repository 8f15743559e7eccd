//! The HTTP side of OData: authentication, `sap-client`, retries with backoff that honour
//! `Retry-After`, SAP error bodies, and the CSRF-token handshake for writes.
//!
//! One client per ERP system and user: SAP binds a CSRF token to the session cookies that
//! came with it, so the token and the cookie jar must live and die together.

use super::json;
use super::page::{Layout, Page};
use super::query::with_sap_client;
use crate::erp::metadata::{self, Metadata, ODataVersion};
use crate::erp::{ErpAuth, ErpConfig, ErpError};
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use url::Url;

mod session;

/// One write request: method, target, JSON body, the ETag it expects, extra headers.
pub struct Write<'a> {
    pub method: Method,
    pub url: &'a Url,
    pub body: &'a serde_json::Value,
    pub if_match: Option<&'a str>,
    pub headers: Vec<(&'static str, String)>,
}

/// A response of a write: status, ETag and body.
#[derive(Debug, Clone)]
pub struct WriteResponse {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub retry_after: Option<Duration>,
    /// `Content-Type` of the answer, which decides how a page is read.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The connection to one ERP. Cheap to clone: clones share the HTTP connections, the
/// CSRF tokens, the OAuth token and the in-flight limit, so a pager can read ahead in a
/// task of its own within the same limits.
#[derive(Clone)]
pub struct ODataClient(std::sync::Arc<ClientState>);

impl std::ops::Deref for ODataClient {
    type Target = ClientState;
    fn deref(&self) -> &ClientState {
        &self.0
    }
}

pub struct ClientState {
    http: reqwest::Client,
    base_url: Url,
    services: BTreeMap<String, Url>,
    sap_client: Option<String>,
    auth: ErpAuth,
    max_retries: u32,
    max_retry_after: Duration,
    max_response_bytes: u64,
    page_size: u32,
    client_paging: bool,
    /// Per service root: the CSRF token fetched in this client's cookie session.
    csrf: Mutex<BTreeMap<String, String>>,
    oauth: Option<super::oauth::TokenSource>,
    sap_language: Option<String>,
    /// Requests in flight at once: one client serves one ERP host.
    in_flight: tokio::sync::Semaphore,
    /// Messages SAP sent in `sap-message` headers of successful answers, for the report.
    sap_messages: std::sync::Mutex<Vec<String>>,
}

/// `sap-message` headers kept for the report, at most; the log has them all.
const MAX_SAP_MESSAGES: usize = 100;

impl ODataClient {
    pub fn new(config: &ErpConfig) -> Result<Self, ErpError> {
        let mut builder = reqwest::Client::builder()
            .cookie_store(true)
            .gzip(true)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(15).min(config.timeout))
            .user_agent(concat!("erpsync/", env!("CARGO_PKG_VERSION")));
        builder = with_tls_files(builder, config)?;
        let http = builder
            .build()
            .map_err(|e| ErpError::Setup(format!("HTTP client: {e}")))?;
        let oauth = match &config.auth {
            ErpAuth::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            } => Some(super::oauth::TokenSource::new(
                token_url.clone(),
                client_id.clone(),
                client_secret.clone(),
                scope.clone(),
                config.max_response_bytes,
            )),
            _ => None,
        };
        Ok(ODataClient(std::sync::Arc::new(ClientState {
            http,
            base_url: config.base_url.clone().ok_or_else(|| {
                ErpError::Setup("erp.base_url is not set: the OData client needs it".into())
            })?,
            services: config.services.clone(),
            sap_client: config.sap_client.clone(),
            auth: config.auth.clone(),
            max_retries: config.max_retries,
            max_retry_after: config.max_retry_after,
            max_response_bytes: config.max_response_bytes,
            page_size: config.page_size,
            client_paging: config.client_paging,
            csrf: Mutex::new(BTreeMap::new()),
            oauth,
            sap_language: config.sap_language.clone(),
            in_flight: tokio::sync::Semaphore::new(config.max_concurrent_requests),
            sap_messages: std::sync::Mutex::new(Vec::new()),
        })))
    }

    pub fn sap_client(&self) -> Option<&str> {
        self.sap_client.as_deref()
    }

    /// The `$top` window when erpsync pages on its own side (`[erp] client_paging`).
    pub fn page_size(&self) -> Option<u32> {
        self.client_paging.then_some(self.page_size)
    }

    /// The root URL of a service: `[erp.services] NAME`, or `base_url/NAME/`.
    pub fn service_root(&self, service: &str) -> Url {
        self.services.get(service).cloned().unwrap_or_else(|| {
            self.base_url
                .join(&format!("{service}/"))
                .expect("service names are valid URL segments")
        })
    }

    /// A URL on the ERP host (for SOAP endpoints, which live outside the OData tree).
    pub fn host_url(&self, path: &str) -> Url {
        let mut u = self.base_url.clone();
        u.set_path(path);
        u.set_query(None);
        with_sap_client(u, self.sap_client.as_deref())
    }

    /// Logs the request on (Basic, bearer, or an OAuth token fetched or cached) and names
    /// the logon language.
    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ErpError> {
        let req = match &self.sap_language {
            Some(l) => req.header("sap-language", l.as_str()),
            None => req,
        };
        Ok(match &self.auth {
            ErpAuth::None => req,
            ErpAuth::Basic { user, password } => {
                req.basic_auth(user, Some(password.expose_secret()))
            }
            ErpAuth::Bearer { token } => req.bearer_auth(token.expose_secret()),
            ErpAuth::OAuth2 { .. } => match &self.oauth {
                Some(source) => req.bearer_auth(source.token(&self.http).await?.expose_secret()),
                None => req,
            },
        })
    }

    /// The messages SAP sent in `sap-message` headers since the last call.
    pub fn take_sap_messages(&self) -> Vec<String> {
        std::mem::take(&mut *self.sap_messages.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Resolves a next link against the page it came from; one that leaves the ERP is
    /// refused ([`ODataClient::check_link`]).
    pub fn next_url(&self, current: &Url, next: &str) -> Result<Url, ErpError> {
        let url = current
            .join(next)
            .map(|u| with_sap_client(u, self.sap_client.as_deref()))
            .map_err(|e| ErpError::Malformed {
                what: "next link".into(),
                url: current.to_string(),
                reason: format!("{next:?}: {e}"),
            })?;
        self.check_link("next link", &url)?;
        Ok(url)
    }

    /// Refuses a link (next, delta) that leaves the ERP: one whose scheme, host and port
    /// are not those of `base_url` or of an `[erp.services]` root. The request would carry
    /// the ERP's credentials.
    pub fn check_link(&self, what: &str, link: &Url) -> Result<(), ErpError> {
        let known = std::iter::once(&self.base_url)
            .chain(self.services.values())
            .any(|root| same_origin(root, link));
        if known {
            return Ok(());
        }
        Err(ErpError::Malformed {
            what: what.to_string(),
            url: redact(link),
            reason: format!(
                "the link leads away from the ERP ({} is not a configured service root's \
                 scheme, host and port); not followed",
                link.origin().ascii_serialization()
            ),
        })
    }

    /// Reads one page, retrying transient failures with exponential backoff. The answer's
    /// Content-Type decides the dialect: Atom XML (what SAP Gateway sends when `$format`
    /// is missing or ignored) or JSON (V2 or V4).
    pub async fn get_page(
        &self,
        what: &str,
        url: &Url,
        layout: &Arc<Layout>,
    ) -> Result<Page, ErpError> {
        self.get_page_in(what, url, ODataVersion::V2, false, layout)
            .await
    }

    /// Reads one page of a service of the given protocol version. V4 is asked for JSON
    /// with `IEEE754Compatible=true`, so decimals and Int64 arrive as strings and keep
    /// every digit; both versions are asked for pages of `[erp] page_size` with
    /// `Prefer: odata.maxpagesize` (which SAP Gateway V2 ignores), and, with
    /// `track_changes`, for a delta link on the last page (`Prefer: odata.track-changes`).
    pub async fn get_page_in(
        &self,
        what: &str,
        url: &Url,
        version: ODataVersion,
        track_changes: bool,
        layout: &Arc<Layout>,
    ) -> Result<Page, ErpError> {
        let mut headers = HeaderMap::new();
        if version == ODataVersion::V4 {
            headers.insert(
                "Accept",
                HeaderValue::from_static(
                    "application/json;odata.metadata=minimal;IEEE754Compatible=true",
                ),
            );
        }
        let mut prefer = format!("odata.maxpagesize={}", self.page_size);
        if track_changes {
            prefer.push_str(", odata.track-changes");
        }
        if let Ok(v) = HeaderValue::from_str(&prefer) {
            headers.insert("Prefer", v);
        }
        // Parsing is part of the retried step, so a page cut off in transit is read again.
        self.with_retries(|| async {
            let resp = self.get_once(what, url, headers.clone()).await?;
            parse_page_as(resp.content_type.as_deref(), &resp.body, layout).map_err(|reason| {
                if is_cut_off(resp.content_type.as_deref(), &resp.body) {
                    ErpError::Truncated {
                        what: what.to_string(),
                        url: redact(url),
                        reason,
                    }
                } else {
                    ErpError::Malformed {
                        what: what.to_string(),
                        url: redact(url),
                        reason,
                    }
                }
            })
        })
        .await
    }

    /// Reads one entity; `None` when the ERP says 404.
    pub async fn get_entity(
        &self,
        what: &str,
        url: &Url,
    ) -> Result<Option<(serde_json::Map<String, serde_json::Value>, Option<String>)>, ErpError>
    {
        match self
            .with_retries(|| self.get_once(what, url, HeaderMap::new()))
            .await
        {
            Ok(resp) => {
                let doc: serde_json::Value =
                    serde_json::from_slice(&resp.body).map_err(|e| ErpError::Malformed {
                        what: what.into(),
                        url: url.to_string(),
                        reason: format!("not JSON: {e}"),
                    })?;
                let entity = doc
                    .get("d")
                    .unwrap_or(&doc)
                    .as_object()
                    .cloned()
                    .ok_or_else(|| ErpError::Malformed {
                        what: what.into(),
                        url: url.to_string(),
                        reason: "not an entity object".into(),
                    })?;
                let etag = resp.etag.or_else(|| {
                    entity
                        .get("__metadata")
                        .and_then(|m| m.get("etag"))
                        .and_then(|e| e.as_str())
                        .map(str::to_string)
                });
                Ok(Some((entity, etag)))
            }
            Err(ErpError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads a service's `$metadata` (proves reachability, logon and authorization) and
    /// parses it.
    pub async fn get_metadata(&self, what: &str, url: &Url) -> Result<Metadata, ErpError> {
        let mut headers = HeaderMap::new();
        headers.insert("Accept", HeaderValue::from_static("application/xml"));
        let resp = self
            .with_retries(|| self.get_once(what, url, headers.clone()))
            .await?;
        let malformed = |reason: String| ErpError::Malformed {
            what: what.to_string(),
            url: redact(url),
            reason,
        };
        let text = std::str::from_utf8(&resp.body)
            .map_err(|e| malformed(format!("$metadata is not UTF-8: {e}")))?;
        metadata::parse(text).map_err(|e| malformed(e.to_string()))
    }

    async fn with_retries<T, F, Fut>(&self, op: F) -> Result<T, ErpError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ErpError>>,
    {
        op.retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(30))
                .with_max_times(self.max_retries as usize)
                .with_jitter(),
        )
        .sleep(tokio::time::sleep)
        .when(ErpError::is_transient)
        // `planned` is None once the retries are used up: a Retry-After must not start
        // them again, or a server that keeps answering 503 would be asked forever.
        .adjust(|e, planned| planned.map(|p| e.retry_after().unwrap_or(p)))
        .notify(|e, wait| tracing::warn!(error = %e, retry_in = ?wait, "ERP call failed, retrying"))
        .await
    }

    async fn get_once(
        &self,
        what: &str,
        url: &Url,
        headers: HeaderMap,
    ) -> Result<WriteResponse, ErpError> {
        let mut req = self.authorize(self.http.get(url.clone())).await?;
        if !headers.contains_key("Accept") {
            // Atom second: a server that cannot do JSON still answers something we read.
            req = req.header("Accept", "application/json, application/atom+xml;q=0.9");
        }
        self.send(what, url, req.headers(headers)).await
    }

    async fn send(
        &self,
        what: &str,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<WriteResponse, ErpError> {
        let resp = self.send_raw(what, url, req).await?;
        if resp.status.is_success() {
            return Ok(resp);
        }
        let (code, message) = json::sap_error_message(&resp.body).unwrap_or_else(|| {
            let fallback = || {
                resp.status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_string()
            };
            (
                String::new(),
                crate::erp::error_text::excerpt(&resp.body).unwrap_or_else(fallback),
            )
        });
        Err(ErpError::Status {
            what: what.to_string(),
            url: redact(url),
            status: resp.status.as_u16(),
            code,
            message,
            retry_after: resp.retry_after,
        })
    }

    /// Sends and reads the whole answer, whatever its status.
    async fn send_raw(
        &self,
        what: &str,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<WriteResponse, ErpError> {
        let unreachable = |e: reqwest::Error| ErpError::Unreachable {
            what: what.to_string(),
            url: redact(url),
            reason: describe_reqwest(&e),
        };
        // Held until the whole body is read: SAP counts a request until its answer is sent.
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| ErpError::Setup("the HTTP client is shutting down".into()))?;
        let resp = req
            .send()
            .await
            .inspect_err(|_| count_request(None))
            .map_err(unreachable)?;
        let status = resp.status();
        count_request(Some(status));
        let headers = resp.headers().clone();
        let body = super::body::read_limited(resp, self.max_response_bytes, what, url, unreachable)
            .await?;
        if status == StatusCode::UNAUTHORIZED {
            if let Some(source) = &self.oauth {
                // A token the ERP no longer takes (revoked, clock skew): the next request
                // fetches a new one.
                source.invalidate().await;
            }
        }
        if let Some(msg) = headers.get("sap-message").and_then(|v| v.to_str().ok()) {
            let text = describe_sap_message(msg);
            tracing::warn!(target_set = what, sap_message = %text, "message from the ERP");
            if status.is_success() {
                let mut kept = self.sap_messages.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() < MAX_SAP_MESSAGES {
                    kept.push(format!("{what}: {text}"));
                }
            }
        }
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        Ok(WriteResponse {
            status,
            etag: header("etag").map(str::to_string),
            retry_after: super::body::retry_after(
                header(RETRY_AFTER.as_str()),
                self.max_retry_after,
            ),
            content_type: header("content-type").map(str::to_string),
            body,
        })
    }
}

/// The TLS files of `[erp]`: `ca_file` (PEM certificates trusted besides the platform's)
/// and `client_cert_file`/`client_key_file` (an X.509 client certificate and its key, in one
/// PEM file or two). Each file is checked on its own, so a file that is missing, is not PEM,
/// holds the wrong kind of PEM block or a block that does not parse is refused with the
/// setting and the file named, rather than later by the TLS stack without either.
fn with_tls_files(
    mut builder: reqwest::ClientBuilder,
    config: &ErpConfig,
) -> Result<reqwest::ClientBuilder, ErpError> {
    use std::path::Path;
    let fail = |setting: &str, path: &Path, reason: String| {
        ErpError::Setup(format!("erp.{setting} {}: {reason}", path.display()))
    };
    let read = |setting: &str, path: &Path| {
        std::fs::read(path).map_err(|e| fail(setting, path, e.to_string()))
    };
    if let Some(ca) = &config.ca_file {
        let pem = read("ca_file", ca)?;
        if pem_blocks(&pem, &["CERTIFICATE"]) == 0 {
            return Err(fail("ca_file", ca, NO_CERTIFICATE.into()));
        }
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| fail("ca_file", ca, describe_reqwest(&e)))?;
        // A certificate is only parsed when a client is built: build one with just these.
        reqwest::Client::builder()
            .tls_certs_only(certs.clone())
            .build()
            .map_err(|e| {
                fail(
                    "ca_file",
                    ca,
                    format!("not a valid certificate: {}", describe_reqwest(&e)),
                )
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    if let Some(cert) = &config.client_cert_file {
        let mut pem = read("client_cert_file", cert)?;
        if pem_blocks(&pem, &["CERTIFICATE"]) == 0 {
            return Err(fail("client_cert_file", cert, NO_CERTIFICATE.into()));
        }
        match &config.client_key_file {
            Some(key) => {
                let key_pem = read("client_key_file", key)?;
                if pem_blocks(&key_pem, PRIVATE_KEYS) == 0 {
                    return Err(fail("client_key_file", key, NO_KEY.into()));
                }
                pem.push(b'\n');
                pem.extend(key_pem);
            }
            None if pem_blocks(&pem, PRIVATE_KEYS) == 0 => {
                return Err(fail(
                    "client_cert_file",
                    cert,
                    format!("{NO_KEY}, and erp.client_key_file is not set"),
                ));
            }
            None => {}
        }
        let with_key = match &config.client_key_file {
            Some(key) => format!(" (key {})", key.display()),
            None => String::new(),
        };
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            fail(
                "client_cert_file",
                cert,
                format!("{}{with_key}", describe_reqwest(&e)),
            )
        })?;
        // As above: certificate and key are only parsed, and matched, when a client is built.
        reqwest::Client::builder()
            .identity(identity.clone())
            .build()
            .map_err(|e| {
                fail(
                    "client_cert_file",
                    cert,
                    format!(
                        "unusable certificate or key{with_key}: {}",
                        describe_reqwest(&e)
                    ),
                )
            })?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

const NO_CERTIFICATE: &str = "no PEM certificate in it (-----BEGIN CERTIFICATE-----)";
const NO_KEY: &str = "no PEM private key in it (-----BEGIN PRIVATE KEY-----)";
/// The PEM labels of the private keys rustls reads: PKCS#8, PKCS#1 (RSA) and SEC1 (EC).
const PRIVATE_KEYS: &[&str] = &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

/// How many PEM blocks with one of `labels` the file holds (by their `BEGIN` lines).
fn pem_blocks(pem: &[u8], labels: &[&str]) -> usize {
    String::from_utf8_lossy(pem)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .filter_map(|l| l.strip_suffix("-----"))
        .filter(|label| labels.contains(label))
        .count()
}

/// Reads a page in the dialect its Content-Type names: Atom for `application/atom+xml` (and
/// plain XML), JSON otherwise; keeping the properties `layout` names.
pub fn parse_page_as(
    content_type: Option<&str>,
    body: &[u8],
    layout: &Arc<Layout>,
) -> Result<Page, String> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("atom+xml") || ct.starts_with("application/xml") || ct.starts_with("text/xml") {
        super::atom::parse_feed(body, layout)
    } else {
        json::parse_page(body, layout)
    }
}

/// Whether a body that did not parse simply stops early: JSON that ends inside a value, or
/// XML whose root element is never closed.
fn is_cut_off(content_type: Option<&str>, body: &[u8]) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("xml") {
        let text = String::from_utf8_lossy(body);
        let t = text.trim_end();
        return !(t.ends_with("</feed>") || t.ends_with("</entry>") || t.ends_with("</error>"));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err_and(|e| e.is_eof())
}

/// `sap-message` is JSON (`code`, `message`, `severity`, `details`): its severity, code and
/// text, then each detail's; anything else is shown as sent.
fn describe_sap_message(raw: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return raw.to_string();
    };
    let one = |m: &serde_json::Value| {
        let s = |k: &str| m.get(k).and_then(|x| x.as_str()).unwrap_or("");
        let severity = s("severity");
        let code = s("code");
        let mut out = String::new();
        if !severity.is_empty() {
            out.push_str(&format!("{severity}: "));
        }
        out.push_str(s("message"));
        if !code.is_empty() {
            out.push_str(&format!(" ({code})"));
        }
        out
    };
    let mut parts = vec![one(&v)];
    if let Some(details) = v.get("details").and_then(|d| d.as_array()) {
        parts.extend(details.iter().map(one));
    }
    parts.join("; ")
}

/// Same scheme, host and port. `localhost` and loopback addresses count as one host: a
/// server on loopback (SAP CAP, for one) names itself either way, and a loopback link
/// cannot leave the machine the root already points at.
fn same_origin(root: &Url, link: &Url) -> bool {
    let loopback = |u: &Url| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    root.scheme() == link.scheme()
        && root.port_or_known_default() == link.port_or_known_default()
        && (root.host() == link.host() || (loopback(root) && loopback(link)))
}

/// A URL for messages: without credentials.
fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        // The innermost cause tells a closed port from a TLS handshake that failed, e.g. a
        // server certificate no trusted CA issued.
        let mut cause = std::error::Error::source(e);
        let mut last = None;
        while let Some(c) = cause {
            last = Some(c);
            cause = c.source();
        }
        return match last {
            Some(c) => {
                let c = c.to_string();
                format!("connection failed: {c}{}", tls_hint(&c))
            }
            None => "connection failed".into(),
        };
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    let hint = tls_hint(&msg);
    msg + hint
}

/// What a TLS failure means and which `[erp]` setting it points to, for the ones a
/// misconfigured CA file or client certificate cause (rustls' wording of the certificate
/// errors and of the alerts a server sends).
fn tls_hint(message: &str) -> &'static str {
    if message.contains("UnknownIssuer") {
        " (the ERP's certificate was not issued by a trusted CA: name its CA in erp.ca_file)"
    } else if message.contains("NotValidForName") {
        " (the ERP's certificate is not made out for this host name: check erp.base_url)"
    } else if message.contains("CertificateRequired") {
        " (the ERP demands a client certificate: set erp.client_cert_file)"
    } else if message.contains("alert: UnknownCA")
        || message.contains("alert: BadCertificate")
        || message.contains("alert: CertificateUnknown")
    {
        " (the ERP refused the client certificate of erp.client_cert_file)"
    } else {
        ""
    }
}

/// Counts one request to the ERP by HTTP status ("error" when no answer came) for the
/// service's `erpsync_http_client_requests_total`; a no-op unless a metrics recorder is
/// installed (the CLI commands install none).
fn count_request(status: Option<reqwest::StatusCode>) {
    let label = status.map_or_else(|| "error".to_string(), |s| s.as_u16().to_string());
    metrics::counter!("erpsync_http_client_requests_total", "status" => label).increment(1);
}
