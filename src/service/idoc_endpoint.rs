//! `POST /idoc`: SAP's XML HTTP port posts IDoc XML here.
//!
//! The body (up to `[idoc] max_post_mb`) is streamed to a hidden file in the inbox and
//! imported through the same code path as files dropped there ([`IdocImporter::import_as`]);
//! the response body is the acknowledgement XML (SYSTAT01, 53 applied / 51 error per IDoc).
//! Status: 200 when the file was read (rejected IDocs are in the acknowledgement and in
//! `quarantine/`), 400 when its XML is broken (the file is quarantined), 401 without valid
//! credentials, 403 for a token whose role may not post IDocs, 413 for a body over the
//! limit. Whatever fails, the hidden file is removed.
//!
//! Credentials are the API tokens of `[[server.tokens]]`, resolved once at startup:
//! `Authorization: Bearer <token>`, or Basic auth with user = token name and password =
//! token value (what an SAP HTTP destination can send). Roles `admin` and `erp` may post.

use super::ServiceSettings;
use crate::erp::idoc::{IdocConfig, Translator, DEFAULT_MAX_POST_MB};
use crate::store::SharedStore;
use crate::sync::idoc_inbox::IdocImporter;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Roles allowed to post IDocs.
pub const IDOC_ROLES: &[&str] = &["admin", "erp"];

#[derive(Debug, thiserror::Error)]
pub enum IdocEndpointError {
    #[error("config [idoc] inbox is not set: the IDoc endpoint needs an inbox")]
    NoInbox,
    #[error("config server.tokens[{index}] ({name}): {message}")]
    Token {
        index: usize,
        name: String,
        message: String,
    },
    #[error("IDoc mappings: {0}")]
    Mapping(String),
}

/// An API token with its secret resolved.
#[derive(Debug, Clone)]
pub struct EndpointToken {
    pub name: String,
    pub role: String,
    pub secret: SecretString,
}

#[derive(Clone)]
pub struct IdocEndpointState {
    inner: Arc<Inner>,
    max_post_bytes: u64,
}

struct Inner {
    importer: IdocImporter,
    inbox: PathBuf,
    tokens: Vec<EndpointToken>,
}

impl IdocEndpointState {
    pub fn new(
        store: SharedStore,
        translator: Translator,
        inbox: PathBuf,
        tokens: Vec<EndpointToken>,
    ) -> Self {
        IdocEndpointState {
            inner: Arc::new(Inner {
                importer: IdocImporter::new(store, translator),
                inbox,
                tokens,
            }),
            max_post_bytes: DEFAULT_MAX_POST_MB * MIB,
        }
    }

    /// Refuses bodies over `bytes` (413).
    pub fn with_max_post_bytes(mut self, bytes: u64) -> Self {
        self.max_post_bytes = bytes;
        self
    }

    /// From the settings: the `[idoc] inbox` and its size limit, the mappings beside the config, and the
    /// `[[server.tokens]]` secrets read now (a missing one is an error at startup, not at
    /// the first request).
    pub fn from_config(
        settings: &ServiceSettings,
        idoc: &IdocConfig,
        store: SharedStore,
    ) -> Result<Self, IdocEndpointError> {
        let translator = IdocImporter::translator_for(&settings.base_dir)
            .map_err(|e| IdocEndpointError::Mapping(e.to_string()))?;
        let tokens = resolve_tokens(settings.clone(), &|k| std::env::var(k).ok())?;
        Ok(Self::new(store, translator, idoc.inbox.clone(), tokens)
            .with_max_post_bytes(idoc.max_post_mb.saturating_mul(MIB)))
    }
}

/// Reads each token's secret from its `token_env` variable or `token_file`.
pub fn resolve_tokens(
    settings: impl Into<ServiceSettings>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EndpointToken>, IdocEndpointError> {
    let settings = settings.into();
    settings
        .server
        .tokens
        .iter()
        .enumerate()
        .map(|(index, t)| {
            let fail = |message: String| IdocEndpointError::Token {
                index,
                name: t.name.clone(),
                message,
            };
            let secret = match (&t.token_env, &t.token_file) {
                (Some(var), None) => env(var)
                    .ok_or_else(|| fail(format!("environment variable {var} is not set")))?,
                (None, Some(file)) => {
                    let path = settings.resolve(file);
                    std::fs::read_to_string(&path)
                        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string()
                }
                _ => return Err(fail("give exactly one of token_env and token_file".into())),
            };
            if secret.is_empty() {
                return Err(fail("the token is empty".into()));
            }
            Ok(EndpointToken {
                name: t.name.clone(),
                role: t.role.clone(),
                secret: SecretString::from(secret),
            })
        })
        .collect()
}

const MIB: u64 = 1024 * 1024;

/// `POST /idoc`. The body is streamed to disk, never held, so axum's in-memory limit does
/// not apply; the handler counts the bytes against `[idoc] max_post_mb` itself.
pub fn router(state: IdocEndpointState) -> Router {
    Router::new()
        .route("/idoc", post(post_idoc))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Compares without stopping at the first differing byte, so response time does not
/// reveal how much of a guessed token was right.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

enum Auth<'a> {
    Missing,
    Invalid,
    Ok(&'a EndpointToken),
}

fn authenticate<'a>(headers: &HeaderMap, tokens: &'a [EndpointToken]) -> Auth<'a> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::Missing;
    };
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    let found = if scheme.eq_ignore_ascii_case("bearer") {
        tokens.iter().find(|t| same(t.secret.expose_secret(), rest))
    } else if scheme.eq_ignore_ascii_case("basic") {
        base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| {
                let (user, pass) = pair.split_once(':')?;
                tokens
                    .iter()
                    .find(|t| t.name == user && same(t.secret.expose_secret(), pass))
            })
    } else {
        None
    };
    found.map_or(Auth::Invalid, Auth::Ok)
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut r = (status, format!("{text}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"erpsync\", Bearer"),
        );
    }
    r
}

async fn post_idoc(State(state): State<IdocEndpointState>, request: Request) -> Response {
    let inner = &state.inner;
    let token = match authenticate(request.headers(), &inner.tokens) {
        Auth::Missing => return plain(StatusCode::UNAUTHORIZED, "credentials required"),
        Auth::Invalid => return plain(StatusCode::UNAUTHORIZED, "invalid credentials"),
        Auth::Ok(t) => t,
    };
    if !IDOC_ROLES.contains(&token.role.as_str()) {
        return plain(
            StatusCode::FORBIDDEN,
            &format!("role {} may not post IDocs (admin or erp)", token.role),
        );
    }
    let limit = state.max_post_bytes;
    let too_large = || {
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "IDoc XML over the limit of {limit} bytes ([idoc] max_post_mb); split the file"
            ),
        )
    };
    // A declared length over the limit is refused before a byte is written.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let who = token.name.clone();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let name = format!(
        "http-{}-{}.xml",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        &id[..12]
    );
    // Hidden while it arrives, so an inbox pick-up running now does not take it half-written.
    let upload = inner.inbox.join(format!(".{name}.part"));
    // Removes the hidden file on every way out: an error below, or the client going away
    // (the handler is then dropped mid-await). After an import it is gone already.
    let _part = RemoveOnDrop(&upload);
    match receive(request.into_body(), &upload, limit).await {
        Ok(()) => {}
        Err(Received::TooLarge) => {
            tracing::warn!(token = %who, limit, "IDoc upload over the size limit refused");
            return too_large();
        }
        Err(Received::Failed(e)) => {
            tracing::warn!(error = %e, token = %who, "IDoc upload failed");
            return plain(StatusCode::BAD_REQUEST, &format!("upload failed: {e}"));
        }
    }
    let report = match inner.importer.import_as(&upload, &inner.inbox, &name).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, file = %name, "IDoc import failed");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("import failed: {e}"),
            );
        }
    };
    tracing::info!(
        token = %who,
        file = %name,
        applied = report.applied,
        duplicates = report.duplicates,
        superseded = report.superseded,
        quarantined = report.quarantined,
        "IDoc XML received over HTTP"
    );
    let status = if report.file_quarantined {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let Some(ack) = report.ack.as_deref() else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no acknowledgement written",
        );
    };
    ack_response(status, ack).await
}

/// Deletes a file when dropped (a missing file is fine).
struct RemoveOnDrop<'a>(&'a Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

enum Received {
    TooLarge,
    Failed(std::io::Error),
}

impl From<std::io::Error> for Received {
    fn from(e: std::io::Error) -> Self {
        Received::Failed(e)
    }
}

/// Streams `body` to a new file at `path`, stopping as soon as more than `limit` bytes came.
async fn receive(body: Body, path: &Path, limit: u64) -> Result<(), Received> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(std::io::Error::other)?;
        received = received.saturating_add(chunk.len() as u64);
        if received > limit {
            return Err(Received::TooLarge);
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(file.sync_all().await?)
}

/// The acknowledgement file as the body, streamed (it grows with the number of IDocs).
async fn ack_response(status: StatusCode, ack: &Path) -> Response {
    match tokio::fs::File::open(ack).await {
        Ok(f) => {
            let body = Body::from_stream(chunks(f));
            (
                status,
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                body,
            )
                .into_response()
        }
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot read the acknowledgement: {e}"),
        ),
    }
}

/// A file as a stream of chunks; stops after the first read error.
fn chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}
