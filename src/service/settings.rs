//! What the service is configured with (`[schedule]`, `[server]`, and the push settings its
//! jobs drain the outbox by). `config` assembles it; the service reads nothing else of the
//! configuration (the pulls' settings travel in the sync context).

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// The config file's folder: relative secret files are read from there.
    pub base_dir: PathBuf,
    pub schedule: ScheduleConfig,
    pub server: ServerConfig,
    pub push: crate::push::PushConfig,
    /// `[desk]`.
    pub desk: super::desk::DeskSettings,
    /// `[ar]` and `[collectors]`, for the AR API, desk pages and snapshot gauges.
    pub ar: crate::ar::ArSettings,
}

impl ServiceSettings {
    /// A path as configured, relative to the config file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub customers: Duration,
    pub open_items: Duration,
    pub contracts: Duration,
    pub push: Duration,
    pub payment_terms: Duration,
    /// Reconciliation runs after a pull stored something, and at least this often.
    pub reconcile: Duration,
    /// How often the IDoc inbox is looked at (when `[idoc]` is configured).
    pub idoc_inbox: Duration,
    /// How often everything sent is read back from the ERP, and what went missing queued again.
    pub verify_outbox: Duration,
    /// Up to this much random delay is added to every interval, so instances and jobs
    /// do not all hit the ERP at the same moment.
    pub jitter: Duration,
    /// A failing job waits its interval doubled per failure, up to this.
    pub max_backoff: Duration,
    /// How long a job lease (and an outbox claim) holds without renewal: after an
    /// instance dies, its jobs move to another instance once this has passed.
    pub lease: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerUser {
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerToken {
    pub name: String,
    pub role: String,
    pub token_env: Option<String>,
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: std::net::SocketAddr,
    pub users: Vec<ServerUser>,
    pub tokens: Vec<ServerToken>,
    /// On SIGTERM/SIGINT, running jobs get this long to finish before they are abandoned
    /// (their open transaction rolls back) and the process exits.
    pub shutdown_grace: Duration,
    /// `/readyz` fails when the last successful ERP contact is older than this.
    pub erp_contact_limit: Duration,
    /// Single sign-on: a reverse proxy that authenticated the user names them in this
    /// request header (e.g. `X-Remote-User`); the name must be one of `users`, whose role
    /// the user gets. Honoured only from `sso_trusted_proxies`.
    pub sso_header: Option<String>,
    /// The peer addresses (single IPs or CIDR blocks) `sso_header` is believed from; the
    /// header is ignored from anyone else. Never empty when `sso_header` is set.
    pub sso_trusted_proxies: Vec<ipnet::IpNet>,
    /// A review-desk session ends this long after login.
    pub session_lifetime: Duration,
    /// … and this long after its last request (`session_idle_minutes`).
    pub session_idle: Duration,
    /// Marks the session and login cookies `Secure`: by default unless `listen` is a
    /// loopback address (where there is no TLS in front to speak of).
    pub cookie_secure: bool,
    /// A second address serving `/metrics`, `/healthz` and `/readyz` alone, e.g. for a
    /// scraper on another network than the desk's users.
    pub metrics_listen: Option<std::net::SocketAddr>,
}
