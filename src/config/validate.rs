//! From the raw file to the typed settings each component owns: defaults, ranges, paths
//! made absolute against the config file's folder, secrets resolved.

use super::env::{read_secret, resolve_path};
use super::raw::*;
use super::{invalid, Config, ConfigError, PushConfig};
use crate::erp::config::{DEFAULT_MAX_RESPONSE_MB, DEFAULT_MAX_RETRY_AFTER};
use crate::erp::idoc::IdocConfig;
use crate::erp::{ErpAuth, ErpConfig, ErpKind};
use crate::service::{ScheduleConfig, ServerConfig};
use crate::sync::{
    ContractSourceConfig, ContractSourceKind, PaymentTermsConfig, ERP_CONTRACT_SOURCE,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A contract source's stable name: `erp` for the ERP; for a register, `name` or else the
/// file's stem. Never a path: the name is shown to users and keys the source's contracts.
fn contract_source_name(
    i: usize,
    kind: ContractSourceKind,
    path: Option<&Path>,
    name: Option<&str>,
) -> Result<String, ConfigError> {
    let key = format!("contracts[{i}].name");
    if kind == ContractSourceKind::Erp {
        return match name.map(str::trim) {
            None | Some(ERP_CONTRACT_SOURCE) => Ok(ERP_CONTRACT_SOURCE.into()),
            Some(_) => Err(invalid(
                &key,
                "the ERP's sales contracts are always named \"erp\"; name is for register files",
            )),
        };
    }
    let name = match name {
        Some(n) => n.trim().to_string(),
        None => path
            .and_then(Path::file_stem)
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string(),
    };
    if name.is_empty() {
        return Err(invalid(&key, "a register needs a name (name = \"clm\")"));
    }
    if name == ERP_CONTRACT_SOURCE {
        return Err(invalid(
            &key,
            "\"erp\" names the ERP's sales contracts; give the register another name",
        ));
    }
    if name.chars().count() > 64 || name.contains(['/', '\\']) || name.chars().any(char::is_control)
    {
        return Err(invalid(
            &key,
            format!("{name:?} is not a name: at most 64 characters, no slashes"),
        ));
    }
    Ok(name)
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

pub(super) fn validate(
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
            // An IDoc-only ERP has no OData service to read sales contracts from.
            (ContractSourceKind::Erp, _) if erp.kind == ErpKind::Idoc => Err(invalid(
                &format!("contracts[{i}].kind"),
                "\"erp\" reads sales contracts over OData, which [erp] kind = \"idoc\" has not; \
                 use kind = \"file\" with a contract register",
            )),
            (ContractSourceKind::File, None) => Err(invalid(
                &format!("contracts[{i}].path"),
                "a file contract source needs a path",
            )),
            (kind, path) => Ok(ContractSourceConfig {
                name: contract_source_name(i, kind, path.as_deref(), c.name.as_deref())?,
                kind,
                path: path.map(|p| resolve_path(base, &p)),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in contracts.iter().enumerate() {
        let same = contracts[..i]
            .iter()
            .any(|o| o.name == c.name && o.kind == ContractSourceKind::File);
        if same && c.kind == ContractSourceKind::File {
            return Err(invalid(
                &format!("contracts[{i}].name"),
                format!(
                    "another register is also named {:?}; give each [[contracts]] file its own name = \"…\"",
                    c.name
                ),
            ));
        }
    }

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
    let address = |key: &str, text: &str| -> Result<std::net::SocketAddr, ConfigError> {
        text.parse().map_err(|_| {
            invalid(
                key,
                format!("{text:?} is not an address like 127.0.0.1:8088"),
            )
        })
    };
    let listen_raw = raw.server.listen.unwrap_or_else(|| "127.0.0.1:8088".into());
    let listen = address("server.listen", &listen_raw)?;
    let metrics_listen = raw
        .server
        .metrics_listen
        .as_deref()
        .map(|m| address("server.metrics_listen", m))
        .transpose()?;
    let sso_header = raw.server.sso_header.filter(|h| !h.trim().is_empty());
    let sso_trusted_proxies = trusted_proxies(&raw.server.sso_trusted_proxies)?;
    if sso_header.is_some() && sso_trusted_proxies.is_empty() {
        return Err(invalid(
            "server.sso_trusted_proxies",
            "required when server.sso_header is set: the addresses of the reverse proxies \
             whose user header is believed (e.g. [\"10.1.2.3\", \"10.0.0.0/24\"])",
        ));
    }
    let session_idle = match raw.server.session_idle_minutes {
        None => Duration::from_secs(30 * 60),
        Some(0) => return Err(invalid("server.session_idle_minutes", "must be at least 1")),
        Some(m) => Duration::from_secs(m.saturating_mul(60)),
    };

    Ok(Config {
        base_dir: base.to_path_buf(),
        store,
        erp,
        idoc: raw.idoc.map(|i| IdocConfig {
            inbox: resolve_path(base, &i.inbox),
            max_post_mb: i.max_post_mb,
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
            sso_header,
            sso_trusted_proxies,
            session_lifetime,
            session_idle,
            // Over plain HTTP a browser drops `Secure` cookies; on loopback nobody can
            // listen in, so that is the one place a cleartext desk is the default.
            cookie_secure: raw
                .server
                .cookie_secure
                .unwrap_or(!listen.ip().is_loopback()),
            metrics_listen,
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
        desk: {
            raw.desk.check().map_err(|m| invalid("desk", m))?;
            raw.desk
        },
        ar: validate_ar(raw.ar, raw.collectors)?,
    })
}

/// `[ar]` and `[collectors]`.
fn validate_ar(
    raw: RawAr,
    collectors: BTreeMap<String, String>,
) -> Result<crate::ar::ArSettings, ConfigError> {
    use crate::ar::settings::{PaymentDetails, DEFAULT_DSO_MONTHS, DEFAULT_PROMISE_GRACE_DAYS};
    let whole = |key: &str, v: Option<IntOrText>, default: u32, max: u32, min: u32| {
        let n = match v {
            None => return Ok(default),
            Some(IntOrText::Int(n)) => n,
            Some(IntOrText::Text(t)) => t
                .trim()
                .parse::<i64>()
                .map_err(|_| invalid(key, format!("{t:?} is not a whole number")))?,
        };
        if n < i64::from(min) || n > i64::from(max) {
            return Err(invalid(key, format!("must be {min} to {max}")));
        }
        Ok(n as u32)
    };
    let mut ranking_rates = BTreeMap::new();
    for (currency, rate) in raw.ranking_rates {
        let r: rust_decimal::Decimal = rate.trim().parse().map_err(|_| {
            invalid(
                &format!("ar.ranking_rates.{currency}"),
                format!("{rate:?} is not a decimal"),
            )
        })?;
        if r <= rust_decimal::Decimal::ZERO {
            return Err(invalid(
                &format!("ar.ranking_rates.{currency}"),
                "must be more than 0",
            ));
        }
        ranking_rates.insert(currency.to_ascii_uppercase(), r);
    }
    for (clerk, user) in &collectors {
        if clerk.trim().is_empty() || user.trim().is_empty() || clerk.chars().count() > 2 {
            return Err(invalid(
                &format!("collectors.{clerk}"),
                "an accounting clerk is a code of one or two characters mapped to a user name",
            ));
        }
    }
    Ok(crate::ar::ArSettings {
        promise_grace_days: whole(
            "ar.promise_grace_days",
            raw.promise_grace_days,
            DEFAULT_PROMISE_GRACE_DAYS,
            90,
            0,
        )?,
        dso_months: whole("ar.dso_months", raw.dso_months, DEFAULT_DSO_MONTHS, 36, 1)?,
        ranking_rates,
        collectors,
        payment: PaymentDetails {
            beneficiary: raw.payment.beneficiary,
            bank: raw.payment.bank,
            iban: raw.payment.iban,
            bic: raw.payment.bic,
            lines: raw.payment.lines,
        },
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
        refuse_cleartext(key, &u, raw.allow_insecure_http)?;
        // A trailing slash keeps `join` from dropping the last path segment. It goes on the
        // path: query options of a service root (`…/data/?cross-company=true`) stay intact.
        if !u.path().ends_with('/') {
            let path = format!("{}/", u.path());
            u.set_path(&path);
        }
        Ok(u)
    };
    let base_url = raw
        .base_url
        .as_deref()
        .map(|u| parse_url("erp.base_url", u))
        .transpose()?;
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
                    refuse_cleartext("erp.auth.token_url", &u, raw.allow_insecure_http)?;
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
        allow_insecure_http: raw.allow_insecure_http,
        max_retry_after: raw
            .max_retry_after_seconds
            .map_or(DEFAULT_MAX_RETRY_AFTER, Duration::from_secs),
        max_response_bytes: match raw.max_response_mb {
            None => DEFAULT_MAX_RESPONSE_MB,
            Some(0) => return Err(invalid("erp.max_response_mb", "must be at least 1")),
            Some(mb) => mb,
        }
        .saturating_mul(1 << 20),
    })
}

/// `server.sso_trusted_proxies`: single addresses (`10.1.2.3`) or CIDR blocks (`10.0.0.0/24`).
fn trusted_proxies(raw: &[String]) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.iter()
        .map(|p| {
            let p = p.trim();
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(
                        "server.sso_trusted_proxies",
                        format!("{p:?} is not an IP address or CIDR block"),
                    )
                })
        })
        .collect()
}

/// Basic passwords, bearer tokens and client secrets travel with every request to these
/// URLs: plain `http://` is refused unless the host is this machine (a local test system
/// or a TLS-terminating sidecar), or `[erp] allow_insecure_http = true` says it on purpose.
fn refuse_cleartext(key: &str, u: &url::Url, allowed: bool) -> Result<(), ConfigError> {
    if u.scheme() != "http" || allowed || is_loopback(u) {
        return Ok(());
    }
    Err(invalid(
        key,
        format!(
            "{u} is plain http:// to another host, so credentials would travel unencrypted: \
             use https://, or set [erp] allow_insecure_http = true"
        ),
    ))
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
pub(crate) fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
