//! Configuration: one TOML file, every key overridable as `ERPSYNC_SECTION__KEY`.
//!
//! Loading goes raw → typed in one place: the file is parsed into a TOML value, the
//! environment overlay is applied to that value, and only then is it deserialized with
//! `deny_unknown_fields`, so a typo in the file or in an env var name is an error, not a
//! silently ignored setting. Secrets are read from env vars or files named by the config,
//! never from the file itself, and are held as `SecretString` so they cannot reach logs.

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErpKind {
    Odata,
    Idoc,
}

#[derive(Debug, Clone)]
pub struct ErpConfig {
    pub kind: ErpKind,
    pub base_url: url::Url,
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
}

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdocConfig {
    pub inbox: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractSourceKind {
    Erp,
    File,
}

#[derive(Debug, Clone)]
pub struct ContractSourceConfig {
    pub kind: ContractSourceKind,
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentTermsConfig {
    /// A T052 export; without it, SAP's standard keys are built in.
    pub file: Option<PathBuf>,
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
    /// request header (e.g. `X-Remote-User`); the name must be one of `users`. Only set
    /// it when nothing but the proxy can reach `listen`.
    pub sso_header: Option<String>,
    /// A review-desk session ends this long after login.
    pub session_lifetime: Duration,
    /// Marks the session cookie `Secure` (served over HTTPS, e.g. behind the proxy).
    pub cookie_secure: bool,
}

// ---- raw, as written in the file ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: StoreConfig,
    erp: RawErp,
    idoc: Option<IdocConfig>,
    #[serde(default)]
    contracts: Vec<RawContractSource>,
    #[serde(default)]
    payment_terms: RawPaymentTerms,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    push: RawPush,
    /// `[rules]`: `cost_of_capital`, and one table per rule name (checked in `validate_rules`).
    #[serde(default)]
    rules: toml::Table,
    #[serde(default)]
    disputes: RawDisputes,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDisputes {
    #[serde(default)]
    statuses: Vec<String>,
    #[serde(default)]
    transitions: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErp {
    kind: ErpKind,
    base_url: String,
    mapping: Option<PathBuf>,
    sap_client: Option<String>,
    #[serde(default)]
    services: BTreeMap<String, String>,
    auth: Option<RawAuth>,
    timeout: Option<String>,
    page_size: Option<u32>,
    client_paging: Option<bool>,
    max_retries: Option<u32>,
    sap_language: Option<String>,
    max_concurrent_requests: Option<usize>,
    ca_file: Option<PathBuf>,
    client_cert_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    kind: String,
    user: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContractSource {
    kind: ContractSourceKind,
    path: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPaymentTerms {
    file: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    customers: Option<String>,
    open_items: Option<String>,
    contracts: Option<String>,
    push: Option<String>,
    payment_terms: Option<String>,
    reconcile: Option<String>,
    idoc_inbox: Option<String>,
    verify_outbox: Option<String>,
    jitter: Option<String>,
    max_backoff: Option<String>,
    lease: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    #[serde(default)]
    users: Vec<ServerUser>,
    #[serde(default)]
    tokens: Vec<ServerToken>,
    shutdown_grace: Option<String>,
    erp_contact_limit: Option<String>,
    sso_header: Option<String>,
    session_lifetime: Option<String>,
    #[serde(default)]
    cookie_secure: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPush {
    mode: Option<PushMode>,
    max_attempts: Option<u32>,
    batch: Option<bool>,
    batch_size: Option<usize>,
    read_back: Option<bool>,
    dunning_block: Option<String>,
    dunning_lift_statuses: Option<Vec<String>>,
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
        let lookup = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        validate(raw, base_dir, &lookup)
    }

    pub fn resolve(&self, path: &Path) -> PathBuf {
        resolve_path(&self.base_dir, path)
    }
}

fn resolve_path(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// `ERPSYNC_A__B__C=v` sets key `c` of table `a.b`. Variables without a `__` are not config
/// overrides (e.g. `ERPSYNC_TEST_POSTGRES_URL`) and are left alone. The value keeps the type
/// of the key it replaces (integer, boolean), and is a string otherwise.
fn apply_env_overrides(
    root: &mut toml::Table,
    env: &[(String, String)],
) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains("__") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var: name.clone(),
                message: "empty section or key name".into(),
            });
        }
        let (key, tables) = path.split_last().expect("at least two parts");
        let mut table = &mut *root;
        for t in tables {
            let entry = table
                .entry(t.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            table = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                var: name.clone(),
                message: format!("{t} is not a section"),
            })?;
        }
        let value = match table.get(key.as_str()) {
            Some(toml::Value::Integer(_)) => {
                toml::Value::Integer(raw.parse().map_err(|_| ConfigError::Env {
                    var: name.clone(),
                    message: format!("expected an integer, got {raw:?}"),
                })?)
            }
            Some(toml::Value::Boolean(_)) => {
                toml::Value::Boolean(raw.parse().map_err(|_| ConfigError::Env {
                    var: name.clone(),
                    message: format!("expected true or false, got {raw:?}"),
                })?)
            }
            _ => toml::Value::String(raw.clone()),
        };
        table.insert(key.clone(), value);
    }
    Ok(())
}

/// Parses durations written as `30s`, `15m`, `1h`, `500ms` or `2d`.
pub fn parse_duration(key: &str, raw: &str) -> Result<Duration, ConfigError> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| invalid(key, format!("{raw:?} has no unit (use ms, s, m, h or d)")))?;
    let (num, unit) = raw.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| invalid(key, format!("{raw:?} is not a duration like 30s or 15m")))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(invalid(key, format!("unknown unit {unit:?} in {raw:?}"))),
    };
    Ok(Duration::from_secs(secs))
}

fn read_secret(
    key: &str,
    env_name: Option<&str>,
    file: Option<&Path>,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretString, ConfigError> {
    match (env_name, file) {
        (Some(var), None) => lookup(var)
            .map(SecretString::from)
            .ok_or_else(|| invalid(key, format!("environment variable {var} is not set"))),
        (None, Some(file)) => {
            let path = resolve_path(base, file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                invalid(
                    key,
                    format!("cannot read secret file {}: {e}", path.display()),
                )
            })?;
            Ok(SecretString::from(
                text.trim_end_matches(['\r', '\n']).to_string(),
            ))
        }
        (Some(_), Some(_)) => Err(invalid(
            key,
            "give either the _env or the _file form, not both",
        )),
        (None, None) => Err(invalid(key, "missing: give the _env or the _file form")),
    }
}

fn validate(
    raw: RawConfig,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    if raw.store.url.trim().is_empty() {
        return Err(invalid("store.url", "empty"));
    }
    let mut store = raw.store;
    // A relative SQLite path is relative to the config file, like every other path.
    if let Some(rest) = store.url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap_or(rest);
        if !file.is_empty() && file != ":memory:" && !Path::new(file).is_absolute() {
            let query = &rest[file.len()..];
            store.url = format!("sqlite://{}{}", base.join(file).display(), query);
        }
    }

    let erp = validate_erp(raw.erp, base, lookup)?;
    let contracts = raw
        .contracts
        .into_iter()
        .enumerate()
        .map(|(i, c)| match (c.kind, c.path) {
            (ContractSourceKind::File, None) => Err(invalid(
                &format!("contracts[{i}].path"),
                "a file contract source needs a path",
            )),
            (kind, path) => Ok(ContractSourceConfig {
                kind,
                path: path.map(|p| resolve_path(base, &p)),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let sched = raw.schedule;
    let dur = |key: &str, v: Option<String>, default: &str| {
        parse_duration(key, v.as_deref().unwrap_or(default))
    };
    let schedule = ScheduleConfig {
        customers: dur("schedule.customers", sched.customers, "15m")?,
        open_items: dur("schedule.open_items", sched.open_items, "5m")?,
        contracts: dur("schedule.contracts", sched.contracts, "1h")?,
        push: dur("schedule.push", sched.push, "30s")?,
        payment_terms: dur("schedule.payment_terms", sched.payment_terms, "1d")?,
        reconcile: dur("schedule.reconcile", sched.reconcile, "1h")?,
        idoc_inbox: dur("schedule.idoc_inbox", sched.idoc_inbox, "1m")?,
        verify_outbox: dur("schedule.verify_outbox", sched.verify_outbox, "6h")?,
        jitter: dur("schedule.jitter", sched.jitter, "5s")?,
        max_backoff: dur("schedule.max_backoff", sched.max_backoff, "15m")?,
        lease: dur("schedule.lease", sched.lease, "2m")?,
    };
    for (key, d) in [
        ("schedule.customers", schedule.customers),
        ("schedule.open_items", schedule.open_items),
        ("schedule.contracts", schedule.contracts),
        ("schedule.push", schedule.push),
        ("schedule.payment_terms", schedule.payment_terms),
        ("schedule.reconcile", schedule.reconcile),
        ("schedule.idoc_inbox", schedule.idoc_inbox),
        ("schedule.verify_outbox", schedule.verify_outbox),
        ("schedule.lease", schedule.lease),
    ] {
        // A zero interval would spin; a zero lease would be taken over while running.
        if d.is_zero() {
            return Err(invalid(key, "must be longer than 0"));
        }
    }
    let shutdown_grace = dur(
        "server.shutdown_grace",
        raw.server.shutdown_grace.clone(),
        "30s",
    )?;
    let erp_contact_limit = dur(
        "server.erp_contact_limit",
        raw.server.erp_contact_limit.clone(),
        "1h",
    )?;

    let session_lifetime = dur(
        "server.session_lifetime",
        raw.server.session_lifetime.clone(),
        "8h",
    )?;
    let listen_raw = raw.server.listen.unwrap_or_else(|| "127.0.0.1:8088".into());
    let listen = listen_raw.parse().map_err(|_| {
        invalid(
            "server.listen",
            format!("{listen_raw:?} is not an address like 127.0.0.1:8088"),
        )
    })?;

    Ok(Config {
        base_dir: base.to_path_buf(),
        store,
        erp,
        idoc: raw.idoc.map(|i| IdocConfig {
            inbox: resolve_path(base, &i.inbox),
        }),
        contracts,
        payment_terms: PaymentTermsConfig {
            file: raw.payment_terms.file.map(|f| resolve_path(base, &f)),
        },
        schedule,
        server: ServerConfig {
            listen,
            users: raw.server.users,
            tokens: raw.server.tokens,
            shutdown_grace,
            erp_contact_limit,
            sso_header: raw.server.sso_header.filter(|h| !h.trim().is_empty()),
            session_lifetime,
            cookie_secure: raw.server.cookie_secure,
        },
        push: PushConfig {
            mode: raw.push.mode.unwrap_or_default(),
            max_attempts: raw.push.max_attempts.unwrap_or(10).max(1),
            dispute_rules: validate_disputes(raw.disputes)?,
            batch: raw.push.batch.unwrap_or(false),
            batch_size: match raw.push.batch_size {
                None => 100,
                Some(n @ 1..=1000) => n,
                Some(_) => return Err(invalid("push.batch_size", "must be 1 to 1000")),
            },
            read_back: raw.push.read_back.unwrap_or(true),
            dunning_block: match raw.push.dunning_block.map(|b| b.trim().to_string()) {
                None => None,
                Some(b) if b.chars().count() == 1 && !b.contains(' ') => Some(b),
                Some(_) => {
                    return Err(invalid(
                        "push.dunning_block",
                        "must be one dunning block key (MANSP), e.g. \"X\"",
                    ))
                }
            },
            dunning_lift_statuses: raw
                .push
                .dunning_lift_statuses
                .unwrap_or_else(|| ["RSLV", "CLSD", "VOID"].map(str::to_string).to_vec()),
        },
        rules: validate_rules(raw.rules)?,
    })
}

/// `[disputes]`: the status keys in use and `[disputes.transitions]` FROM = [TO, …]; every
/// key named in a transition must be a configured status.
fn validate_disputes(raw: RawDisputes) -> Result<crate::model::DisputeRules, ConfigError> {
    let known = |s: &String| raw.statuses.is_empty() || raw.statuses.contains(s);
    for (from, tos) in &raw.transitions {
        for s in std::iter::once(from).chain(tos) {
            if !known(s) {
                return Err(invalid(
                    &format!("disputes.transitions.{from}"),
                    format!("{s} is not in disputes.statuses"),
                ));
            }
        }
    }
    Ok(crate::model::DisputeRules {
        statuses: raw.statuses,
        transitions: raw.transitions,
    })
}

/// `[rules]`: `cost_of_capital` (annual rate, `0.08` or `"8%"`), `standard_payment_terms`
/// (keys) and `[rules.RULE_NAME]`
/// tables; an unknown rule name is an error like any unknown key.
fn validate_rules(table: toml::Table) -> Result<crate::reconcile::RuleSettings, ConfigError> {
    use crate::model::Rule;
    use crate::reconcile::{RuleSetting, RuleSettings};
    use rust_decimal::Decimal;
    let mut settings = RuleSettings::default();
    for (key, value) in table {
        if key == "cost_of_capital" {
            let text = match &value {
                toml::Value::String(s) => s.trim().to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Integer(i) => i.to_string(),
                other => other.to_string(),
            };
            let rate = match text.strip_suffix('%') {
                Some(pct) => pct
                    .trim()
                    .parse::<Decimal>()
                    .map(|p| p / Decimal::ONE_HUNDRED),
                None => text.parse::<Decimal>(),
            }
            .map_err(|_| {
                invalid(
                    "rules.cost_of_capital",
                    format!("{text:?} is not a rate like 0.08 or \"8%\""),
                )
            })?;
            if rate.is_sign_negative() || rate > Decimal::ONE {
                return Err(invalid(
                    "rules.cost_of_capital",
                    format!("{text} is not between 0 and 100%"),
                ));
            }
            settings.cost_of_capital = rate;
            continue;
        }
        if key == "standard_payment_terms" {
            settings.standard_payment_terms = Vec::<String>::deserialize(value).map_err(|_| {
                invalid(
                    "rules.standard_payment_terms",
                    "expected a list of payment-terms keys, e.g. [\"NT30\"]".to_string(),
                )
            })?;
            continue;
        }
        let rule: Rule = key.parse().map_err(|_| {
            let known: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
            invalid(
                &format!("rules.{key}"),
                format!("unknown rule (known: {})", known.join(", ")),
            )
        })?;
        let setting = RuleSetting::deserialize(value)
            .map_err(|e| invalid(&format!("rules.{key}"), e.to_string()))?;
        settings.rules.insert(rule, setting);
    }
    Ok(settings)
}

fn validate_erp(
    raw: RawErp,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ErpConfig, ConfigError> {
    let parse_url = |key: &str, s: &str| -> Result<url::Url, ConfigError> {
        let mut u = url::Url::parse(s).map_err(|e| invalid(key, format!("{s:?}: {e}")))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(invalid(key, "must be an http:// or https:// URL"));
        }
        // A trailing slash keeps `join` from dropping the last path segment. It goes on the
        // path: query options of a service root (`…/data/?cross-company=true`) stay intact.
        if !u.path().ends_with('/') {
            let path = format!("{}/", u.path());
            u.set_path(&path);
        }
        Ok(u)
    };
    let base_url = parse_url("erp.base_url", &raw.base_url)?;
    let services = raw
        .services
        .iter()
        .map(|(name, u)| Ok((name.clone(), parse_url(&format!("erp.services.{name}"), u)?)))
        .collect::<Result<BTreeMap<_, _>, ConfigError>>()?;
    let auth = match raw.auth {
        None => ErpAuth::None,
        Some(a) => match a.kind.as_str() {
            "basic" => ErpAuth::Basic {
                user: a
                    .user
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| invalid("erp.auth.user", "missing for basic auth"))?,
                password: read_secret(
                    "erp.auth.password",
                    a.password_env.as_deref(),
                    a.password_file.as_deref(),
                    base,
                    lookup,
                )?,
            },
            "bearer" => ErpAuth::Bearer {
                token: read_secret(
                    "erp.auth.token",
                    a.token_env.as_deref(),
                    a.token_file.as_deref(),
                    base,
                    lookup,
                )?,
            },
            "oauth2" => ErpAuth::OAuth2 {
                token_url: {
                    let u = a
                        .token_url
                        .as_deref()
                        .ok_or_else(|| invalid("erp.auth.token_url", "missing for oauth2 auth"))?;
                    let u = url::Url::parse(u)
                        .map_err(|e| invalid("erp.auth.token_url", format!("{u:?}: {e}")))?;
                    if !matches!(u.scheme(), "http" | "https") {
                        return Err(invalid(
                            "erp.auth.token_url",
                            "must be an http:// or https:// URL",
                        ));
                    }
                    u
                },
                client_id: a
                    .client_id
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| invalid("erp.auth.client_id", "missing for oauth2 auth"))?,
                client_secret: read_secret(
                    "erp.auth.client_secret",
                    a.client_secret_env.as_deref(),
                    a.client_secret_file.as_deref(),
                    base,
                    lookup,
                )?,
                scope: a.scope.filter(|s| !s.is_empty()),
            },
            "none" => ErpAuth::None,
            other => {
                return Err(invalid(
                    "erp.auth.kind",
                    format!("{other:?} is not supported (basic, bearer, oauth2 or none)"),
                ))
            }
        },
    };
    let mapping = raw
        .mapping
        .unwrap_or_else(|| PathBuf::from("mappings/s4hana-odata-v2.toml"));
    Ok(ErpConfig {
        kind: raw.kind,
        base_url,
        mapping: resolve_path(base, &mapping),
        sap_client: raw.sap_client.filter(|c| !c.is_empty()),
        services,
        auth,
        timeout: parse_duration("erp.timeout", raw.timeout.as_deref().unwrap_or("60s"))?,
        page_size: raw.page_size.unwrap_or(500).max(1),
        client_paging: raw.client_paging.unwrap_or(false),
        sap_language: raw.sap_language.filter(|l| !l.is_empty()),
        max_concurrent_requests: raw.max_concurrent_requests.unwrap_or(8).max(1),
        ca_file: raw.ca_file.map(|p| resolve_path(base, &p)),
        client_cert_file: raw.client_cert_file.map(|p| resolve_path(base, &p)),
        client_key_file: raw.client_key_file.map(|p| resolve_path(base, &p)),
        max_retries: raw.max_retries.unwrap_or(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const MINIMAL: &str = r#"
[store]
url = "sqlite://erpsync.db"
[erp]
kind = "odata"
base_url = "https://sap.example.com/sap/opu/odata/sap"
sap_client = "100"
[erp.auth]
kind = "basic"
user = "ERPSYNC"
password_env = "SAP_PASSWORD"
"#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(text: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_str_with_env(
            text,
            Path::new("/etc/erpsync/erpsync.toml"),
            Path::new("/etc/erpsync"),
            env(pairs),
        )
    }

    #[test]
    fn loads_minimal_config_with_secret_from_env() {
        let c = load(MINIMAL, &[("SAP_PASSWORD", "s3cret")]).unwrap();
        assert_eq!(c.store.url, "sqlite:///etc/erpsync/erpsync.db");
        assert_eq!(
            c.erp.base_url.as_str(),
            "https://sap.example.com/sap/opu/odata/sap/"
        );
        assert_eq!(
            c.erp.mapping,
            PathBuf::from("/etc/erpsync/mappings/s4hana-odata-v2.toml")
        );
        match &c.erp.auth {
            ErpAuth::Basic { user, password } => {
                assert_eq!(user, "ERPSYNC");
                assert_eq!(password.expose_secret(), "s3cret");
            }
            other => panic!("unexpected auth {other:?}"),
        }
        assert_eq!(c.schedule.open_items, Duration::from_secs(300));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = load(MINIMAL, &[("SAP_PASSWORD", "s3cret-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cret-value"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{MINIMAL}\n[push]\nmode = \"live\"\nmood = \"happy\"\n");
        let err = load(&text, &[("SAP_PASSWORD", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mood"), "{err}");
    }

    #[test]
    fn env_overrides_replace_values_and_unknown_env_keys_fail() {
        let c = load(
            MINIMAL,
            &[
                ("SAP_PASSWORD", "x"),
                ("ERPSYNC_ERP__SAP_CLIENT", "200"),
                ("ERPSYNC_TEST_POSTGRES_URL", "ignored"),
            ],
        )
        .unwrap();
        assert_eq!(c.erp.sap_client.as_deref(), Some("200"));
        let err = load(
            MINIMAL,
            &[("SAP_PASSWORD", "x"), ("ERPSYNC_ERP__SAP_CLEINT", "200")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("sap_cleint"), "{err}");
    }

    #[test]
    fn missing_secret_is_a_clear_error() {
        let err = load(MINIMAL, &[]).unwrap_err().to_string();
        assert!(err.contains("SAP_PASSWORD is not set"), "{err}");
    }

    #[test]
    fn service_keys_have_defaults_and_can_be_set_or_overridden() {
        let c = load(MINIMAL, &[("SAP_PASSWORD", "x")]).unwrap();
        assert_eq!(c.server.shutdown_grace, Duration::from_secs(30));
        assert_eq!(c.server.erp_contact_limit, Duration::from_secs(3600));
        assert_eq!(c.schedule.reconcile, Duration::from_secs(3600));
        assert_eq!(c.schedule.jitter, Duration::from_secs(5));
        assert_eq!(c.schedule.lease, Duration::from_secs(120));
        let text = format!(
            "{MINIMAL}\n[schedule]\njitter = \"0s\"\nreconcile = \"10m\"\nlease = \"30s\"\n\
             [server]\nshutdown_grace = \"5s\"\nerp_contact_limit = \"20m\"\n"
        );
        let c = load(
            &text,
            &[
                ("SAP_PASSWORD", "x"),
                ("ERPSYNC_SERVER__SHUTDOWN_GRACE", "7s"),
            ],
        )
        .unwrap();
        assert_eq!(c.schedule.jitter, Duration::ZERO);
        assert_eq!(c.schedule.reconcile, Duration::from_secs(600));
        assert_eq!(c.schedule.lease, Duration::from_secs(30));
        assert_eq!(c.server.shutdown_grace, Duration::from_secs(7));
        assert_eq!(c.server.erp_contact_limit, Duration::from_secs(1200));
        let bad = format!("{MINIMAL}\n[schedule]\npush = \"0s\"\n");
        let err = load(&bad, &[("SAP_PASSWORD", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("schedule.push"), "{err}");
        let typo = format!("{MINIMAL}\n[server]\nshutdown_grase = \"5s\"\n");
        let err = load(&typo, &[("SAP_PASSWORD", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("shutdown_grase"), "{err}");
    }

    #[test]
    fn rules_section_is_read_and_checked() {
        use crate::model::{Rule, Severity};
        let text = format!(
            "{MINIMAL}\n[rules]\ncost_of_capital = \"6.5%\"\nstandard_payment_terms = [\"NT30\", \"0001\"]\n[rules.currency]\nenabled = false\n[rules.payment_terms_company_code]\nseverity = \"low\"\nmin_days = 5\n"
        );
        let c = load(&text, &[("SAP_PASSWORD", "x")]).unwrap();
        assert_eq!(c.rules.cost_of_capital.to_string(), "0.065");
        assert_eq!(c.rules.standard_payment_terms, vec!["NT30", "0001"]);
        assert!(!c.rules.enabled(Rule::Currency));
        assert!(c.rules.enabled(Rule::PaymentTermsSalesArea));
        let s = &c.rules.rules[&Rule::PaymentTermsCompanyCode];
        assert_eq!((s.severity, s.min_days), (Some(Severity::Low), Some(5)));
        let bad = format!("{MINIMAL}\n[rules.curency]\nenabled = false\n");
        let err = load(&bad, &[("SAP_PASSWORD", "x")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rules.curency") && err.contains("unknown rule"),
            "{err}"
        );
        let bad = format!("{MINIMAL}\n[rules.currency]\nenabeld = false\n");
        assert!(load(&bad, &[("SAP_PASSWORD", "x")]).is_err());
    }

    #[test]
    fn durations_parse_and_bad_ones_fail() {
        assert_eq!(
            parse_duration("k", "15m").unwrap(),
            Duration::from_secs(900)
        );
        assert_eq!(
            parse_duration("k", "250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert!(parse_duration("k", "15").is_err());
        assert!(parse_duration("k", "15 minutes").is_err());
    }
}
