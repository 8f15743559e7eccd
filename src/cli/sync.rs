//! `migrate`, `sync` and `check`.

use super::{open, CliError};
use crate::config::{Config, ConfigError};
use crate::erp::mapping::{self, Mapping};
use crate::erp::odata::query::with_sap_client;
use crate::erp::odata::{ConnectError, Connection, ErpError};
use crate::erp::ErpKind;
use crate::store;
use crate::sync::{self, reconcile_run, Entity, SyncContext, SyncReport};
use chrono::Utc;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub async fn migrate(path: &Path) -> Result<(), CliError> {
    let (config, store) = open(path).await?;
    println!(
        "migrations applied to the {} store ({})",
        store.backend(),
        redact_url(&config.store.url)
    );
    Ok(())
}

pub async fn sync(path: &Path, only: &[String], full: bool) -> Result<(), CliError> {
    let entities = only
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse::<Entity>().map_err(CliError::Usage))
        .collect::<Result<Vec<_>, _>>()?;
    let (config, store) = open(path).await?;
    if config.erp.kind == ErpKind::Idoc {
        idoc_inbox(&config)?;
    }
    let mut ctx = SyncContext::new(config, store.clone())?;
    ctx.full = full;
    ctx.load_metadata().await;
    let report = sync::run(&ctx, &entities).await?;
    print_sync_report(&report);
    let now = Utc::now();
    // --full re-reads everything, so it judges everyone again too.
    let (rules, today) = (&ctx.config.rules, now.date_naive());
    let rec = if full {
        reconcile_run::run_full(store.as_ref(), rules, today, now).await?
    } else {
        reconcile_run::run_with(store.as_ref(), rules, today, now).await?
    };
    println!(
        "reconciled {} customers ({}): {} findings ({} new, {} reopened), {} closed",
        rec.customers,
        if rec.full {
            "all"
        } else {
            "changed since the last run"
        },
        rec.findings,
        rec.new,
        rec.reopened,
        rec.closed
    );
    Ok(())
}

pub fn print_sync_report(report: &SyncReport) {
    let pulled: Vec<String> = report
        .pulled
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "pulled: {}",
        if pulled.is_empty() {
            "nothing".into()
        } else {
            pulled.join(", ")
        }
    );
    for (k, v) in &report.retired {
        if *v > 0 {
            println!("no longer in their source: {k} {v} (kept, marked cleared/ended)");
        }
    }
    if !report.rejected.is_empty() {
        println!("left out {} unreadable records:", report.rejected.len());
        for r in &report.rejected {
            println!("  {r}");
        }
    }
}

/// `check`: config, mapping, store, and each ERP service's `$metadata`.
pub async fn check(path: &Path) -> Result<(), CliError> {
    let config = Config::load(path)?;
    println!("config {}: ok", path.display());
    if config.erp.kind == ErpKind::Idoc {
        return check_idoc(&config).await;
    }
    let Connection {
        mut mapping,
        client,
    } = Connection::open(&config.erp).map_err(|e| match e {
        ConnectError::Mapping(e) => CliError::Config(ConfigError::Invalid {
            key: "erp.mapping".into(),
            message: e.to_string(),
        }),
        ConnectError::Client(e) => CliError::from(e),
    })?;
    let reads_erp_contracts = config.sync_settings().reads_erp_contracts();
    if reads_erp_contracts && mapping.optional_entity("contracts").is_none() {
        return Err(CliError::Config(ConfigError::Invalid {
            key: "contracts".into(),
            message: format!(
                "a contract source reads the ERP, but the mapping {} has no [entities.contracts]",
                mapping.path.display()
            ),
        }));
    }
    println!("mapping {}: ok", mapping.path.display());
    let mut problems = Vec::new();
    check_store(&config, &mut problems).await;
    let services: BTreeSet<String> = mapping
        .entities
        .values()
        .map(|e| e.service.clone())
        .chain(
            mapping
                .writes_back()
                .then(|| mapping.targets.notes.service.clone()),
        )
        .collect();
    let mut metadata = BTreeMap::new();
    for service in &services {
        let service = service.as_str();
        let url = with_sap_client(
            client
                .service_root(service)
                .join("$metadata")
                .expect("valid segment"),
            client.sap_client(),
        );
        match client.get_metadata(service, &url).await {
            Ok(md) => {
                let sets = md.entity_sets.len();
                println!(
                    "ERP service {service}: ok (OData {:?}, {sets} entity set{})",
                    md.version,
                    if sets == 1 { "" } else { "s" }
                );
                metadata.insert(service.to_string(), md);
            }
            Err(e) => match absent_optional_service(&mapping, service, &e) {
                Some(unjudged) => {
                    println!("WARNING ERP service {service}: {e}");
                    for (entity, why) in unjudged {
                        println!("WARNING [entities.{entity}] will not be pulled: {why}");
                        mapping.entities.remove(&entity);
                    }
                }
                None => problems.push(e.to_string()),
            },
        }
    }
    // The mapping is only judged against services that answered; an unreachable one is
    // already a problem of its own (exit 1), not a configuration mistake.
    if problems.is_empty() {
        let mapping_problems = mapping.check_against(&metadata);
        for p in &mapping_problems {
            println!("FAILED {p}");
        }
        if let Some(first) = mapping_problems.first() {
            return Err(CliError::Config(ConfigError::Invalid {
                key: "erp.mapping".into(),
                message: format!(
                    "{} problem(s) against the ERP's $metadata; first: {first}",
                    mapping_problems.len()
                ),
            }));
        }
        println!("mapping {} against $metadata: ok", mapping.path.display());
    }
    outcome(problems)
}

/// When `service` answered its `$metadata` with "not there" (400, 403, 404) and serves only
/// optional pulls a system may lack: those pulls and what goes unjudged without them, as
/// `sync` reports them. `None` when the failure is a problem `check` must fail on.
fn absent_optional_service(
    mapping: &Mapping,
    service: &str,
    error: &ErpError,
) -> Option<Vec<(String, &'static str)>> {
    if !matches!(
        error,
        ErpError::Status {
            status: 400 | 403 | 404,
            ..
        }
    ) {
        return None;
    }
    if mapping.writes_back() && mapping.targets.notes.service == service {
        return None;
    }
    mapping
        .entities
        .iter()
        .filter(|(_, e)| e.service == service)
        .map(|(name, _)| mapping::unjudged_without(name).map(|why| (name.clone(), why)))
        .collect()
}

/// `check` for an IDoc-only ERP: the inbox it sends to, and the store.
async fn check_idoc(config: &Config) -> Result<(), CliError> {
    let inbox = idoc_inbox(config)?;
    let mut problems = Vec::new();
    match std::fs::read_dir(inbox) {
        Ok(entries) => {
            let waiting = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count();
            println!(
                "IDoc inbox {}: ok ({waiting} file(s) waiting)",
                inbox.display()
            );
        }
        Err(e) => problems.push(format!("IDoc inbox {}: {e}", inbox.display())),
    }
    check_store(config, &mut problems).await;
    outcome(problems)
}

/// The inbox an IDoc-only ERP is read from: `sync`, `run` and `check` need one.
pub(super) fn idoc_inbox(config: &Config) -> Result<&Path, CliError> {
    match &config.idoc {
        Some(idoc) => Ok(&idoc.inbox),
        None => Err(CliError::Config(ConfigError::Invalid {
            key: "idoc.inbox".into(),
            message: "missing: [erp] kind = \"idoc\" reads the ERP's IDocs from this folder".into(),
        })),
    }
}

async fn check_store(config: &Config, problems: &mut Vec<String>) {
    match store::open(&config.store.url).await {
        Ok(s) => match s.ping().await {
            Ok(()) => println!(
                "store {} ({}): ok",
                s.backend(),
                redact_url(&config.store.url)
            ),
            Err(e) => problems.push(format!("store: {e}")),
        },
        Err(e) => problems.push(format!("store: {e}")),
    }
}

/// Exit 0 without problems; otherwise each is listed and the first one is the reason.
fn outcome(problems: Vec<String>) -> Result<(), CliError> {
    if problems.is_empty() {
        Ok(())
    } else {
        for p in &problems {
            println!("FAILED {p}");
        }
        Err(CliError::Failed(format!(
            "check found {} problem(s); first: {}",
            problems.len(),
            problems[0]
        )))
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
