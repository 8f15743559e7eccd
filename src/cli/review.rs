//! `discrepancies list|show|acknowledge|resolve|waive`.

use super::app::{DiscrepancyCommand, QueueFilterArgs, ReviewArgs};
use super::output::{self, Format, Table};
use super::{open, CliError};
use crate::export;
use crate::model::{CustomerId, Discrepancy, DiscrepancyStatus, Finding, Rule};
use crate::store::{DiscrepancyFilter, SharedStore};
use chrono::{NaiveDate, Utc};
use std::path::Path;

fn filter(args: QueueFilterArgs) -> Result<DiscrepancyFilter, CliError> {
    Ok(DiscrepancyFilter {
        status: args
            .status
            .map(|s| s.parse::<DiscrepancyStatus>())
            .transpose()
            .map_err(usage)?,
        customer: args
            .customer
            .map(|c| CustomerId::parse(&c))
            .transpose()
            .map_err(usage)?,
        rule: args
            .rule
            .map(|r| r.parse::<Rule>())
            .transpose()
            .map_err(usage)?,
        ..DiscrepancyFilter::default()
    })
}

pub async fn run(path: &Path, command: DiscrepancyCommand) -> Result<(), CliError> {
    match command {
        DiscrepancyCommand::Export {
            xlsx,
            csv,
            filter: f,
        } => {
            let filter = filter(f)?;
            let (_, store) = open(path).await?;
            let list = store.list_discrepancies(&filter).await?;
            let (file, bytes) = match (xlsx, csv) {
                (Some(f), _) => (f, export::to_xlsx(&list)),
                (None, Some(f)) => (f, export::to_csv(&list)),
                (None, None) => {
                    return Err(CliError::Usage("give --xlsx FILE or --csv FILE".into()))
                }
            };
            let bytes = bytes.map_err(|e| CliError::Failed(e.to_string()))?;
            std::fs::write(&file, bytes)
                .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", file.display())))?;
            println!("{} discrepancies written to {}", list.len(), file.display());
            Ok(())
        }
        DiscrepancyCommand::List { filter: f, format } => {
            let filter = filter(f)?;
            let (_, store) = open(path).await?;
            let list = store.list_discrepancies(&filter).await?;
            if format == Format::Json {
                return Ok(output::json(&list)?);
            }
            Ok(table(&list).print(format)?)
        }
        DiscrepancyCommand::Show { id, format } => {
            let (_, store) = open(path).await?;
            let d = store
                .discrepancy(id)
                .await?
                .ok_or_else(|| CliError::Failed(format!("discrepancy {id} not found")))?;
            let audit = store.audit_log(id).await?;
            if format == Format::Json {
                let mut v =
                    serde_json::to_value(&d).map_err(|e| CliError::Failed(e.to_string()))?;
                v["audit"] =
                    serde_json::to_value(&audit).map_err(|e| CliError::Failed(e.to_string()))?;
                return Ok(output::json(&v)?);
            }
            let f = &d.finding;
            println!(
                "discrepancy {} — {} ({})",
                d.id,
                f.rule,
                f.severity.as_str()
            );
            println!(
                "status:    {}{}",
                d.status,
                d.assignee
                    .as_deref()
                    .map(|a| format!(" (assigned to {a})"))
                    .unwrap_or_default()
            );
            println!(
                "customer:  {}   scope: {}   field: {}",
                f.customer, f.scope, f.field
            );
            println!(
                "contract:  {}{}",
                f.contract_value,
                f.contract_id
                    .as_deref()
                    .map(|c| format!("   ({c})"))
                    .unwrap_or_default()
            );
            println!("master:    {}", f.master_value);
            println!("why:       {}", f.explanation);
            println!(
                "exposure:  {} {} on {} open item(s), due dates shifted by {} day(s)",
                f.exposure.amount, f.exposure.currency, f.exposure.items, f.exposure.days
            );
            println!(
                "seen:      first {}, last {}",
                d.first_seen.format("%Y-%m-%d %H:%M"),
                d.last_seen.format("%Y-%m-%d %H:%M")
            );
            if d.status == DiscrepancyStatus::Waived {
                println!(
                    "waiver:    proposed by {}{}; {}",
                    d.waiver_by.as_deref().unwrap_or("?"),
                    d.waived_until
                        .map(|u| format!(" until {u}"))
                        .unwrap_or_default(),
                    d.waiver_approved_by
                        .as_deref()
                        .map(|a| format!("approved by {a}"))
                        .unwrap_or_else(|| "awaiting approval by a second person".into())
                );
            }
            println!("history:");
            for a in audit {
                println!(
                    "  {}  {:<10} {} → {}{}",
                    a.at.format("%Y-%m-%d %H:%M:%S"),
                    a.actor,
                    a.from.map(|s| s.as_str()).unwrap_or("-"),
                    a.to,
                    a.note.map(|n| format!("  “{n}”")).unwrap_or_default()
                );
            }
            Ok(())
        }
        DiscrepancyCommand::Acknowledge(args) => {
            act(path, DiscrepancyStatus::Acknowledged, args).await
        }
        DiscrepancyCommand::Resolve(args) => act(path, DiscrepancyStatus::Resolved, args).await,
        DiscrepancyCommand::Waive(args) => act(path, DiscrepancyStatus::Waived, args).await,
        DiscrepancyCommand::Reopen(args) => act(path, DiscrepancyStatus::Open, args).await,
        DiscrepancyCommand::Approve { id, by, note } => {
            if by.trim().is_empty() {
                return Err(CliError::Usage("--by must name who approves".into()));
            }
            let (_, store) = open(path).await?;
            let d = store
                .approve_waiver(id, by.trim(), note.as_deref(), Utc::now())
                .await?;
            println!(
                "discrepancy {}: waiver by {} approved by {}{}",
                d.id,
                d.waiver_by.as_deref().unwrap_or("?"),
                by.trim(),
                d.waived_until
                    .map(|u| format!(", until {u}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

async fn act(path: &Path, to: DiscrepancyStatus, args: ReviewArgs) -> Result<(), CliError> {
    if args.by.trim().is_empty() {
        return Err(CliError::Usage("--by must name who acts".into()));
    }
    let until = args
        .until
        .as_deref()
        .map(|u| {
            NaiveDate::parse_from_str(u, "%Y-%m-%d")
                .map_err(|_| CliError::Usage(format!("--until {u:?} is not a date YYYY-MM-DD")))
        })
        .transpose()?;
    if until.is_some() && to != DiscrepancyStatus::Waived {
        return Err(CliError::Usage("--until only applies to waive".into()));
    }
    if to != DiscrepancyStatus::Acknowledged
        && args.note.as_deref().is_none_or(|n| n.trim().is_empty())
    {
        return Err(CliError::Usage(format!(
            "{} needs --note saying why",
            to.as_str()
        )));
    }
    let (_, store): (_, SharedStore) = open(path).await?;
    let before = store
        .discrepancy(args.id)
        .await?
        .ok_or_else(|| CliError::Failed(format!("discrepancy {} not found", args.id)))?;
    let after = store
        .change_status(
            args.id,
            to,
            args.by.trim(),
            args.note.as_deref(),
            until,
            Utc::now(),
        )
        .await?;
    println!(
        "discrepancy {}: {} → {} by {}",
        after.id,
        before.status,
        after.status,
        args.by.trim()
    );
    Ok(())
}

pub fn table(list: &[Discrepancy]) -> Table {
    let mut t = Table::new(vec![
        "id", "status", "severity", "rule", "customer", "scope", "contract", "master", "exposure",
        "items", "days",
    ]);
    for d in list {
        let f = &d.finding;
        t.row(
            vec![
                d.id.to_string(),
                d.status.to_string(),
                f.severity.as_str().into(),
                f.rule.to_string(),
                f.customer.to_string(),
                f.scope.to_string(),
            ]
            .into_iter()
            .chain(value_cells(f))
            .collect(),
        );
    }
    t
}

/// The cells every finding table ends with: both values and the exposure.
pub(super) fn value_cells(f: &Finding) -> [String; 5] {
    [
        f.contract_value.clone(),
        f.master_value.clone(),
        format!("{} {}", f.exposure.amount, f.exposure.currency)
            .trim()
            .to_string(),
        f.exposure.items.to_string(),
        f.exposure.days.to_string(),
    ]
}
