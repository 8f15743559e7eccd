//! `demo`: the whole loop against the built-in mock SAP system, in a few seconds.
//!
//! Starts the mock ERP on a free loopback port, writes a config, a contract register and
//! the shipped mapping into a fresh folder with a new SQLite file, pulls everything,
//! reconciles, queues sample notes and a dispute status, pushes them, and reads them back
//! from the mock to prove they arrived exactly once.

use super::output::{self, Format, Table};
use super::sync::print_sync_report;
use super::writeback::print_push_report;
use super::CliError;
use crate::config::Config;
use crate::mock_erp::{self, MockErpConfig};
use crate::model::note::{CollectorNote, NoteDetails};
use crate::model::{DiscrepancyStatus, DisputeStatusChange, Note, NoteChannel};
use crate::push;
use crate::store::{self, DiscrepancyFilter, OpenItemFilter};
use crate::sync::{self, reconcile_run, SyncContext};
use chrono::Utc;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

const MAPPING: &str = include_str!("../../mappings/s4hana-odata-v2.toml");
/// Rows of the discrepancy table printed at the end.
const SHOWN: usize = 40;

pub async fn run(format: Format, keep: Option<PathBuf>) -> Result<(), CliError> {
    let (_temp, dir) = match keep {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            (None, dir)
        }
        None => {
            let t = tempfile::tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let mock_config = MockErpConfig::default();
    let mock = mock_erp::start(
        mock_config.clone(),
        "127.0.0.1:0".parse().expect("valid address"),
    )
    .await?;
    let dataset = mock.dataset();

    std::fs::write(dir.join("s4hana-odata-v2.toml"), MAPPING)?;
    std::fs::write(dir.join("contracts.csv"), dataset.register_csv())?;
    std::fs::write(dir.join("sap-password"), &mock_config.password)?;
    let db = dir.join("erpsync.db");
    if db.exists() {
        std::fs::remove_file(&db)?;
    }
    let config_text = format!(
        r#"# Written by `erpsync demo`: a complete configuration against the mock SAP system.
[store]
url = "sqlite://erpsync.db"

[erp]
kind = "odata"
base_url = "{base}"
mapping = "s4hana-odata-v2.toml"
sap_client = "{client}"

[erp.auth]
kind = "basic"
user = "{user}"
password_file = "sap-password"

[[contracts]]
kind = "erp"

[[contracts]]
kind = "file"
path = "contracts.csv"
"#,
        base = mock.base_url(),
        client = mock_config.sap_client,
        user = mock_config.user,
    );
    let config_path = dir.join("erpsync.toml");
    std::fs::write(&config_path, config_text)?;

    let config = Config::load(&config_path)?;
    let store = store::open(&config.store.url).await?;
    store.migrate().await?;
    let push_config = config.push.clone();
    let ctx = SyncContext::new(config, store.clone())?;
    let started = std::time::Instant::now();
    let pulled = sync::run(&ctx, &[]).await?;
    let now = Utc::now();
    let reconciled =
        reconcile_run::run_with(store.as_ref(), &ctx.config.rules, now.date_naive(), now).await?;

    // Sample write-back: notes on the two customers with the largest open item, and a
    // status change on a dispute case the ERP knows.
    let items = store.list_open_items(&OpenItemFilter::default()).await?;
    let mut customers: Vec<_> = items.iter().map(|i| i.customer.clone()).collect();
    customers.dedup();
    let mut note_keys = Vec::new();
    for (n, customer) in customers.iter().take(2).enumerate() {
        let note = Note {
            customer: customer.clone(),
            item: None,
            author: "demo.collector".into(),
            text: if n == 0 {
                "Customer promised payment by the end of the month.".into()
            } else {
                "客户确认下周付款 (payment confirmed for next week).".into()
            },
            channel: if n == 0 {
                NoteChannel::Phone
            } else {
                NoteChannel::Email
            },
            created_at: Utc::now(),
            idempotency_key: uuid::Uuid::new_v4().to_string(),
        };
        note_keys.push(note.idempotency_key.clone());
        let details = NoteDetails::default();
        store.add_note(&CollectorNote { note, details }).await?;
    }
    let case = dataset
        .dispute_cases
        .iter()
        .find(|c| c.status == "OPEN")
        .map(|c| c.case_id.clone());
    if let Some(case_id) = &case {
        store
            .add_dispute_status(&DisputeStatusChange {
                case_id: case_id.clone(),
                status: "INPR".into(),
                requested_by: "demo.collector".into(),
                note: Some("Customer sent proof of delivery; checking with logistics.".into()),
                requested_at: Utc::now(),
                idempotency_key: uuid::Uuid::new_v4().to_string(),
            })
            .await?;
    }
    let odata = ctx.odata()?;
    let writer = crate::erp::connect::writer_for(&odata.client, &odata.mapping);
    let pushed = push::drain(store.as_ref(), writer.as_ref(), &push_config).await?;

    // Read back what reached the ERP.
    let writes = mock.writes();
    let notes_arrived = note_keys
        .iter()
        .filter(|k| {
            writes
                .iter()
                .filter(|w| {
                    w.entity_set == "A_CustomerText" && w.body.to_string().contains(k.as_str())
                })
                .count()
                == 1
        })
        .count();
    let cases_arrived = writes
        .iter()
        .filter(|w| w.entity_set == "DisputeCase")
        .count();
    let elapsed = started.elapsed();

    let counts = store.discrepancy_counts().await?;
    let mut by_status: BTreeMap<&str, u64> = DiscrepancyStatus::ALL
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
    let mut by_rule: BTreeMap<&str, u64> = BTreeMap::new();
    for (rule, status, n) in &counts {
        *by_status.entry(status.as_str()).or_default() += n;
        if *status == DiscrepancyStatus::Open {
            *by_rule.entry(rule.as_str()).or_default() += n;
        }
    }
    let open = store
        .list_discrepancies(&DiscrepancyFilter {
            status: Some(DiscrepancyStatus::Open),
            ..Default::default()
        })
        .await?;
    let verified = notes_arrived == note_keys.len() && cases_arrived == usize::from(case.is_some());

    if format == Format::Json {
        let mut discrepancies = serde_json::to_value(&by_status).expect("counts serialize");
        discrepancies["by_rule"] = json!(by_rule);
        discrepancies["total"] = json!(counts.iter().map(|c| c.2).sum::<u64>());
        output::json(&json!({
            "erp": mock.base_url(),
            "pulled": pulled.pulled,
            "rejected": pulled.rejected,
            "reconciled": reconciled,
            "discrepancies": discrepancies,
            "pushed": { "notes": pushed.notes, "dispute_statuses": pushed.dispute_statuses },
            "read_back": { "notes": notes_arrived, "dispute_statuses": cases_arrived, "verified": verified },
            "elapsed_ms": elapsed.as_millis() as u64,
        }))?;
    } else {
        println!(
            "erpsync demo — mock SAP S/4HANA at {} ({} customers, seed {})",
            mock.base_url(),
            mock_config.customers,
            mock_config.seed
        );
        print_sync_report(&pulled);
        println!(
            "reconciled {} customers: {} discrepancies open ({})",
            reconciled.customers,
            by_status.get("open").copied().unwrap_or(0),
            by_rule
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        print_push_report(&pushed);
        println!(
            "read back from the ERP: {notes_arrived} of {} notes in A_CustomerText, {cases_arrived} dispute case update(s) — {}",
            note_keys.len(),
            if verified { "each arrived exactly once" } else { "MISSING WRITES" }
        );
        println!();
        let mut t = Table::new(vec![
            "customer", "rule", "scope", "contract", "master", "exposure", "items", "days",
        ]);
        for d in open.iter().take(SHOWN) {
            let f = &d.finding;
            t.row(
                vec![
                    f.customer.to_string(),
                    f.rule.to_string(),
                    f.scope.to_string(),
                ]
                .into_iter()
                .chain(super::review::value_cells(f))
                .collect(),
            );
        }
        print!("{}", t.render());
        if open.len() > SHOWN {
            println!(
                "… and {} more: `erpsync discrepancies list`",
                open.len() - SHOWN
            );
        }
        println!();
        match &_temp {
            None => println!(
                "kept in {}: run `erpsync --config {} discrepancies list`",
                dir.display(),
                config_path.display()
            ),
            Some(_) => println!(
                "done in {:.1} s (temporary files removed; --keep DIR keeps them)",
                elapsed.as_secs_f64()
            ),
        }
    }
    mock.shutdown().await;
    if !verified {
        return Err(CliError::Failed(
            "demo: not every pushed write arrived exactly once in the mock ERP".into(),
        ));
    }
    Ok(())
}
