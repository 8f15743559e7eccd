//! `erpsync ar …`: collections KPIs, the call list, statements and reminders, snapshots.

use super::output::{self, Format, Table};
use super::{open, CliError};
use crate::ar::statement::{Kind, Lang};
use crate::ar::worklist::WorkEntry;
use crate::collections::kpi_export::{kpi_columns, kpis_xlsx, worklist_xlsx};
use crate::collections::kpis::{kpis, GroupBy, KpiQuery};
use crate::collections::statement::{document, html, xlsx, StatementQuery};
use crate::collections::views::KpiRow;
use crate::collections::worklist::{worklist, WorklistQuery, DEFAULT_LIMIT, MAX_LIMIT};
use crate::model::CustomerId;
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum ArCommand {
    /// Open AR, OD%, aging buckets, AR>60/360, DSO per company code (or collector,
    /// customer) and currency.
    Kpis {
        /// company-code, collector or customer
        #[arg(long, default_value = "company-code")]
        by: String,
        #[arg(long)]
        company_code: Option<String>,
        /// A user named in [collectors], or an accounting clerk code.
        #[arg(long)]
        collector: Option<String>,
        /// YYYY-MM-DD (default today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the KPIs as an XLSX workbook (numbers as numbers, frozen header) instead.
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// The call list: customers with overdue items, ranked.
    Worklist {
        #[arg(long)]
        collector: Option<String>,
        #[arg(long)]
        company_code: Option<String>,
        /// Lines per section (call, promised, disputed).
        #[arg(long, default_value_t = DEFAULT_LIMIT)]
        limit: usize,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the call list as an XLSX workbook (one line per customer and currency,
        /// numbers as numbers, frozen header) instead.
        #[arg(long)]
        xlsx: Option<PathBuf>,
    },
    /// A statement of account or payment reminder for one customer, as XLSX or HTML.
    Statement {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        company_code: Option<String>,
        /// en or zh
        #[arg(long, default_value = "en")]
        lang: String,
        /// statement or reminder
        #[arg(long, default_value = "statement")]
        kind: String,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, conflicts_with = "html", required_unless_present = "html")]
        xlsx: Option<PathBuf>,
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Take (or retake) the day's snapshot per company code, currency and collector.
    Snapshot {
        #[arg(long)]
        as_of: Option<String>,
    },
}

fn as_of(raw: Option<&str>) -> Result<NaiveDate, CliError> {
    match raw {
        None => Ok(Utc::now().date_naive()),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| CliError::Usage(format!("--as-of {s:?} is not a date YYYY-MM-DD"))),
    }
}

fn usage<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, CliError> {
    r.map_err(|e| CliError::Usage(e.to_string()))
}

pub async fn run(path: &Path, command: ArCommand) -> Result<(), CliError> {
    match command {
        ArCommand::Kpis {
            by,
            company_code,
            collector,
            as_of: day,
            format,
            xlsx: xlsx_file,
        } => {
            let q = KpiQuery {
                by: usage(by.parse::<GroupBy>())?,
                company_code,
                collector,
                as_of: as_of(day.as_deref())?,
            };
            let (config, store) = open(path).await?;
            let rows = kpis(store.as_ref(), &config.ar, &q).await?;
            if let Some(file) = xlsx_file {
                std::fs::write(&file, kpis_xlsx(&rows, q.by)?)?;
                println!("{} KPI row(s) written to {}", rows.len(), file.display());
                return Ok(());
            }
            if format == Format::Json {
                return Ok(output::json(&rows)?);
            }
            Ok(kpi_table(&rows, q.by).print(format)?)
        }
        ArCommand::Worklist {
            collector,
            company_code,
            limit,
            as_of: day,
            format,
            xlsx: xlsx_file,
        } => {
            if limit == 0 || limit > MAX_LIMIT {
                return Err(CliError::Usage(format!("--limit must be 1 to {MAX_LIMIT}")));
            }
            let q = WorklistQuery {
                collector,
                company_code,
                limit,
                as_of: as_of(day.as_deref())?,
            };
            let (config, store) = open(path).await?;
            let list = worklist(store.as_ref(), &config.ar, &q).await?;
            if let Some(file) = xlsx_file {
                std::fs::write(&file, worklist_xlsx(&list)?)?;
                println!(
                    "{} customer(s) of the call list written to {}",
                    list.len(),
                    file.display()
                );
                return Ok(());
            }
            if format == Format::Json {
                return Ok(output::json(&list)?);
            }
            Ok(worklist_table(&list).print(format)?)
        }
        ArCommand::Statement {
            customer,
            company_code,
            lang,
            kind,
            as_of: day,
            xlsx: xlsx_file,
            html: html_file,
        } => {
            let q = StatementQuery {
                customer: usage(CustomerId::parse(&customer))?,
                company_code,
                lang: usage(lang.parse::<Lang>())?,
                kind: usage(kind.parse::<Kind>())?,
                as_of: as_of(day.as_deref())?,
            };
            let (config, store) = open(path).await?;
            let doc = document(store.as_ref(), &config.ar, &q).await?;
            if let Some(file) = xlsx_file {
                std::fs::write(&file, xlsx(&doc)?)?;
            } else if let Some(file) = html_file {
                std::fs::write(&file, html(&doc))?;
            }
            Ok(())
        }
        ArCommand::Snapshot { as_of: day } => {
            let day = as_of(day.as_deref())?;
            let (_, store) = open(path).await?;
            let rows = crate::collections::snapshot::take(store.as_ref(), day, Utc::now()).await?;
            println!("snapshot {day}: {} rows", rows.len());
            Ok(())
        }
    }
}

fn kpi_table(rows: &[KpiRow], by: GroupBy) -> Table {
    let columns = kpi_columns(by);
    let mut t = Table::new(columns.iter().map(|(name, _)| *name).collect());
    for r in rows {
        t.row(columns.iter().map(|(_, fill)| fill(r).print()).collect());
    }
    t
}

fn worklist_table(list: &[WorkEntry]) -> Table {
    let mut t = Table::new(vec![
        "rank",
        "section",
        "customer",
        "name",
        "collector",
        "overdue",
        "oldest_days",
        "promise",
        "follow_up",
        "disputes",
        "last_note",
        "urgent",
    ]);
    for e in list {
        let section = match e.section {
            crate::ar::worklist::Section::Call => "call",
            crate::ar::worklist::Section::Promised => "promised",
            crate::ar::worklist::Section::Disputed => "disputed",
        };
        t.row(vec![
            e.rank.to_string(),
            section.into(),
            e.customer.clone(),
            e.name.clone(),
            e.collector.clone().unwrap_or_default(),
            e.overdue
                .iter()
                .map(|a| format!("{} {}", a.amount, a.currency))
                .collect::<Vec<_>>()
                .join(" "),
            e.oldest_days_past_due.to_string(),
            e.promise
                .as_ref()
                .map(|p| {
                    format!(
                        "{} {} {} by {}",
                        p.status.as_str(),
                        p.amount,
                        p.currency,
                        p.date
                    )
                })
                .unwrap_or_default(),
            e.follow_up.map(|d| d.to_string()).unwrap_or_default(),
            e.open_disputes.join(" "),
            e.last_note
                .as_ref()
                .map(|n| {
                    format!(
                        "{} {} ({}): {}",
                        n.at.format("%Y-%m-%d"),
                        n.author,
                        n.channel,
                        n.text
                    )
                })
                .unwrap_or_default(),
            e.urgent.unwrap_or_default().to_string(),
        ]);
    }
    t
}
