//! `notes add`, `disputes set-status`, `push` and `outbox list|show|retry|drop|verify`.

use super::app::{DisputeCommand, NoteCommand, OutboxCommand};
use super::output::{self, Format, Table};
use super::{open, CliError};
use crate::config::PushMode;
use crate::erp::connect;
use crate::erp::odata::Connection;
use crate::model::note_input::{FieldNames, NoteInput};
use crate::model::DisputeStatusChange;
use crate::push::{self, PushReport};
use crate::store::{OutboxEntry, OutboxStatus};
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
        via,
        follow_up,
        promise_amount,
        promise_currency,
        promise_date,
    } = command;
    let note = NoteInput {
        customer,
        item,
        author: by,
        text,
        channel: Some(channel),
        via,
        follow_up,
        promise_amount,
        promise_currency,
        promise_date,
    }
    .check(
        &FieldNames::CLI,
        Utc::now(),
        uuid::Uuid::new_v4().to_string(),
    )
    .map_err(usage)?;
    let (_, store) = open(path).await?;
    let entry = store.add_note(&note).await?;
    println!(
        "note for customer {} queued (outbox entry {}); `erpsync push` sends it",
        note.note.customer, entry.id
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
    if config.erp.kind == crate::erp::ErpKind::Idoc {
        eprintln!("erpsync: {}", crate::sync::IDOC_ONLY_NO_PUSH);
        return Ok(());
    }
    if dry_run {
        config.push.mode = PushMode::Simulate;
    }
    let Connection { mapping, client } = Connection::open(&config.erp)?;
    let writer = connect::writer_for(&client, &mapping);
    let report = push::drain(store.as_ref(), writer.as_ref(), &config.push).await?;
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
    if r.verified + r.requeued > 0 {
        println!(
            "read back: {} confirmed in the ERP{}",
            r.verified,
            if r.requeued > 0 {
                format!(", {} missing and queued again", r.requeued)
            } else {
                String::new()
            }
        );
    }
    if r.retry_later + r.failed + r.dead > 0 {
        println!(
            "not sent: {} to retry, {} rejected by the ERP, {} dead",
            r.retry_later, r.failed, r.dead
        );
    }
}

fn dropped_text(e: &OutboxEntry) -> String {
    match (&e.dropped_by, e.dropped_at, &e.drop_reason) {
        (Some(by), Some(at), reason) => format!(
            "dropped by {by} at {}: {}",
            at.format("%Y-%m-%d %H:%M:%S"),
            reason.as_deref().unwrap_or("")
        ),
        _ => String::new(),
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
                "dropped",
                "erp ref",
            ]);
            for e in &entries {
                t.row(vec![
                    e.id.to_string(),
                    e.kind.as_str().into(),
                    e.status.as_str().into(),
                    e.attempts.to_string(),
                    e.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.last_error.clone().unwrap_or_default(),
                    dropped_text(e),
                    e.erp_ref.clone().unwrap_or_default(),
                ]);
            }
            Ok(t.print(format)?)
        }
        OutboxCommand::Show { id, format } => {
            let (_, store) = open(path).await?;
            let entry = store.outbox_entry(id).await?;
            let audit = store.outbox_audit(id).await?;
            if format == Format::Json {
                return Ok(output::json(&serde_json::json!({
                    "entry": entry,
                    "audit": audit,
                }))?);
            }
            println!(
                "outbox entry {} ({}): {}, {} attempt(s){}",
                entry.id,
                entry.kind.as_str(),
                entry.status.as_str(),
                entry.attempts,
                entry
                    .last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            );
            let dropped = dropped_text(&entry);
            if !dropped.is_empty() {
                println!("{dropped}");
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&entry.payload).unwrap_or_default()
            );
            let mut t = Table::new(vec!["at", "by", "action", "from", "to", "note"]);
            for a in &audit {
                t.row(vec![
                    a.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    a.actor.clone(),
                    a.action.clone(),
                    a.from_status.as_str().into(),
                    a.to_status.as_str().into(),
                    a.note.clone().unwrap_or_default(),
                ]);
            }
            Ok(t.print(format)?)
        }
        OutboxCommand::Retry { id, by } => {
            let (_, store) = open(path).await?;
            // Without --by, the login name stands for who retried it.
            let by = match by {
                Some(by) => required("--by", &by)?,
                None => std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            };
            store.outbox_retry_by(id, &by, Utc::now()).await?;
            println!("outbox entry {id} is pending again");
            Ok(())
        }
        OutboxCommand::Drop { id, by, reason } => {
            let by = required("--by", &by)?;
            let reason = required("--reason", &reason)?;
            let (_, store) = open(path).await?;
            store.outbox_drop(id, &by, &reason, Utc::now()).await?;
            println!("outbox entry {id} dropped by {by}; it is kept and will not be sent");
            Ok(())
        }
        OutboxCommand::Verify { format } => {
            let (config, store) = open(path).await?;
            let Connection { mapping, client } = Connection::open(&config.erp)?;
            let writer = connect::writer_for(&client, &mapping);
            let report = push::verify::verify_sent(store.as_ref(), writer.as_ref())
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            if format == Format::Json {
                output::json(&report)?;
            } else {
                println!(
                    "checked {} sent entr{}: {} confirmed in the ERP, {} note(s) queued again, {} dispute case(s) differ",
                    report.checked,
                    if report.checked == 1 { "y" } else { "ies" },
                    report.confirmed,
                    report.requeued.len(),
                    report.differing.len()
                );
                for f in report.requeued.iter().chain(&report.differing) {
                    println!(
                        "  entry {} ({}) {}: {}",
                        f.outbox_id, f.kind, f.target, f.why
                    );
                }
            }
            if report.requeued.is_empty() && report.differing.is_empty() {
                Ok(())
            } else {
                Err(CliError::Failed(format!(
                    "{} sent entr{} not as sent in the ERP",
                    report.requeued.len() + report.differing.len(),
                    if report.requeued.len() + report.differing.len() == 1 {
                        "y is"
                    } else {
                        "ies are"
                    }
                )))
            }
        }
    }
}
