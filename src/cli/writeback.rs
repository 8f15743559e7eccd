//! `notes add`, `disputes set-status`, `push` and `outbox list|retry`.

use super::app::{DisputeCommand, NoteCommand, OutboxCommand};
use super::output::{self, Format, Table};
use super::{open, CliError};
use crate::config::PushMode;
use crate::erp::mapping::Mapping;
use crate::erp::odata::ODataClient;
use crate::model::{CustomerId, DisputeStatusChange, Note, NoteChannel, OpenItemKey};
use crate::push::{self, PushReport};
use crate::store::OutboxStatus;
use chrono::Utc;
use std::path::Path;

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

fn required(flag: &str, value: &str) -> Result<String, CliError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CliError::Usage(format!("{flag} must not be empty")));
    }
    Ok(v.to_string())
}

pub async fn notes(path: &Path, command: NoteCommand) -> Result<(), CliError> {
    let NoteCommand::Add {
        customer,
        item,
        by,
        text,
        channel,
    } = command;
    let note = Note {
        customer: CustomerId::parse(&customer).map_err(usage)?,
        item: item
            .as_deref()
            .map(OpenItemKey::parse)
            .transpose()
            .map_err(usage)?,
        author: required("--by", &by)?,
        text: required("--text", &text)?,
        channel: channel.parse::<NoteChannel>().map_err(usage)?,
        created_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    };
    let (_, store) = open(path).await?;
    let entry = store.add_note(&note).await?;
    println!(
        "note for customer {} queued (outbox entry {}); `erpsync push` sends it",
        note.customer, entry.id
    );
    Ok(())
}

/// A dispute status key as SAP keeps them: short, upper-case letters and digits.
fn status_key(raw: &str) -> Result<String, CliError> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() || s.len() > 8 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(CliError::Usage(format!(
            "--status {raw:?} is not a status key (1-8 letters or digits, e.g. OPEN, INPR, RSLV)"
        )));
    }
    Ok(s)
}

pub async fn disputes(path: &Path, command: DisputeCommand) -> Result<(), CliError> {
    let DisputeCommand::SetStatus {
        case,
        status,
        by,
        note,
    } = command;
    let change = DisputeStatusChange {
        case_id: required("CASE", &case)?,
        status: status_key(&status)?,
        requested_by: required("--by", &by)?,
        note: note.filter(|n| !n.trim().is_empty()),
        requested_at: Utc::now(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    };
    let (config, store) = open(path).await?;
    // Refused before anything is queued: the ERP would refuse it later, after the user left.
    let last = store.last_dispute_status(&change.case_id).await?;
    config
        .push
        .dispute_rules
        .check(last.as_deref(), &change.status)
        .map_err(|e| CliError::Usage(format!("dispute case {}: {e}", change.case_id)))?;
    let entry = store.add_dispute_status(&change).await?;
    println!(
        "dispute case {} → {} queued (outbox entry {}); `erpsync push` sends it",
        change.case_id, change.status, entry.id
    );
    Ok(())
}

pub async fn push(path: &Path, dry_run: bool) -> Result<(), CliError> {
    let (mut config, store) = open(path).await?;
    if dry_run {
        config.push.mode = PushMode::Simulate;
    }
    let mapping = Mapping::load(&config.erp.mapping)?;
    let client = ODataClient::new(&config.erp)?;
    let report = push::drain(store.as_ref(), &client, &mapping, &config.push).await?;
    print_push_report(&report);
    let left = report.retry_later + report.failed + report.dead;
    if left > 0 {
        return Err(CliError::Failed(format!(
            "{left} outbox entr{} not sent; `erpsync outbox list` shows why",
            if left == 1 { "y was" } else { "ies were" }
        )));
    }
    Ok(())
}

pub fn print_push_report(r: &PushReport) {
    println!(
        "pushed: {} notes, {} dispute statuses{}{}",
        r.notes,
        r.dispute_statuses,
        if r.already_there > 0 {
            format!(
                " ({} had already arrived, not written again)",
                r.already_there
            )
        } else {
            String::new()
        },
        if r.simulated > 0 {
            format!("; {} validated without writing (simulation)", r.simulated)
        } else {
            String::new()
        },
    );
    if r.retry_later + r.failed + r.dead > 0 {
        println!(
            "not sent: {} to retry, {} rejected by the ERP, {} dead",
            r.retry_later, r.failed, r.dead
        );
    }
}

pub async fn outbox(path: &Path, command: OutboxCommand) -> Result<(), CliError> {
    match command {
        OutboxCommand::List { status, format } => {
            let status = status
                .map(|s| s.parse::<OutboxStatus>())
                .transpose()
                .map_err(usage)?;
            let (_, store) = open(path).await?;
            let entries = store.outbox_list(status).await?;
            if format == Format::Json {
                return Ok(output::json(&entries)?);
            }
            let mut t = Table::new(vec![
                "id",
                "kind",
                "status",
                "attempts",
                "created",
                "last error",
            ]);
            for e in &entries {
                t.row(vec![
                    e.id.to_string(),
                    e.kind.as_str().into(),
                    e.status.as_str().into(),
                    e.attempts.to_string(),
                    e.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.last_error.clone().unwrap_or_default(),
                ]);
            }
            Ok(t.print(format)?)
        }
        OutboxCommand::Retry { id } => {
            let (_, store) = open(path).await?;
            store.outbox_retry(id, Utc::now()).await?;
            println!("outbox entry {id} is pending again");
            Ok(())
        }
    }
}
