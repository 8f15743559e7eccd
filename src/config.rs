//! Configuration: one TOML file, every key overridable as `ERPSYNC_SECTION__KEY`.
//!
//! Loading goes raw → typed in one place: the file is parsed into a TOML value, the
//! environment overlay is applied to that value, and only then is it deserialized with
//! `deny_unknown_fields`, so a typo in the file or in an env var name is an error, not a
//! silently ignored setting. Secrets are read from env vars or files named by the config,
//! never from the file itself, and are held as `SecretString` so they cannot reach logs.

//!
//! Each component owns the settings it reads, beside its code (`erp::ErpConfig`,
//! `sync::SyncSettings`, `service::ServiceSettings`, …); this module only fills them, and
//! no component imports it.

mod env;
mod raw;
mod validate;

use env::apply_env_overrides;
use env::resolve_path;
use raw::RawConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use validate::validate;

pub use crate::erp::idoc::IdocConfig;
pub use crate::erp::{ErpAuth, ErpConfig, ErpKind};
pub use crate::service::{ScheduleConfig, ServerConfig, ServerToken, ServerUser, ServiceSettings};
pub use crate::sync::{ContractSourceConfig, ContractSourceKind, PaymentTermsConfig, SyncSettings};
pub use validate::parse_duration;

pub use crate::push::{PushConfig, PushMode};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config {key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The typed configuration the rest of the program works with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The folder relative paths are resolved against (the config file's folder).
    pub base_dir: PathBuf,
    pub store: StoreConfig,
    pub erp: ErpConfig,
    pub idoc: Option<IdocConfig>,
    pub contracts: Vec<ContractSourceConfig>,
    pub payment_terms: PaymentTermsConfig,
    pub schedule: ScheduleConfig,
    pub server: ServerConfig,
    pub push: PushConfig,
    pub rules: crate::reconcile::RuleSettings,
    pub desk: crate::service::desk::DeskSettings,
    /// `[ar]` and `[collectors]`.
    pub ar: crate::ar::ArSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub url: String,
}

/// The prefix of environment overrides: `ERPSYNC_ERP__BASE_URL` sets `[erp] base_url`.
pub const ENV_PREFIX: &str = "ERPSYNC_";

impl Config {
    /// Loads the config file and applies the process environment's overrides.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        Config::from_str_with_env(&text, path, &base_dir, std::env::vars())
    }

    /// Parses config text, overlays `env` (pairs of name and value), validates.
    pub fn from_str_with_env(
        text: &str,
        path: &Path,
        base_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut value: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let env: Vec<(String, String)> = env.into_iter().collect();
        apply_env_overrides(&mut value, &env)?;
        let raw: RawConfig =
            RawConfig::deserialize(toml::Value::Table(value)).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        // The OData service root is required unless the ERP only sends IDocs; refused with
        // the same words the file's own parser uses for a missing key.
        if raw.erp.kind == ErpKind::Odata && raw.erp.base_url.is_none() {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: <toml::de::Error as serde::de::Error>::missing_field("base_url")
                    .to_string(),
            });
        }
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        validate(raw, base_dir, &lookup)
    }

    pub fn resolve(&self, path: &Path) -> PathBuf {
        resolve_path(&self.base_dir, path)
    }

    /// What the pulls and reconciliation are configured with.
    pub fn sync_settings(&self) -> SyncSettings {
        SyncSettings {
            base_dir: self.base_dir.clone(),
            erp: self.erp.clone(),
            idoc: self.idoc.clone(),
            contracts: self.contracts.clone(),
            payment_terms: self.payment_terms.clone(),
            rules: self.rules.clone(),
            sales_history_months: self.ar.dso_months + 1,
        }
    }

    /// What the service is configured with.
    pub fn service_settings(&self) -> ServiceSettings {
        ServiceSettings {
            base_dir: self.base_dir.clone(),
            schedule: self.schedule.clone(),
            server: self.server.clone(),
            push: self.push.clone(),
            desk: self.desk.clone(),
            ar: self.ar.clone(),
        }
    }
}

impl From<Config> for SyncSettings {
    fn from(config: Config) -> Self {
        config.sync_settings()
    }
}

impl From<&Config> for SyncSettings {
    fn from(config: &Config) -> Self {
        config.sync_settings()
    }
}

impl From<&Config> for ServiceSettings {
    fn from(config: &Config) -> Self {
        config.service_settings()
    }
}

#[cfg(test)]
mod tests;
