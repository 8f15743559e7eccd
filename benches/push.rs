//! Push throughput: notes queued in a fresh SQLite outbox are pushed to the mock SAP system
//! on loopback until the outbox is empty, once note by note (read the text, PATCH or POST
//! it) and once as `$batch` change sets (`[push] batch = true`), read-back included in both.
//!
//! `cargo bench --bench push` (10,000 notes over 1,000 customers), or
//! `ERPSYNC_BENCH_NOTES=2000 ERPSYNC_BENCH_PUSH_CUSTOMERS=200 cargo bench --bench push`.

use chrono::Utc;
use erpsync::config::Config;
use erpsync::erp::connect;
use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::ODataClient;
use erpsync::mock_erp::{self, MockErpConfig};
use erpsync::model::note::{CollectorNote, NoteDetails};
use erpsync::model::{CustomerId, Note, NoteChannel};
use erpsync::push;
use erpsync::store::{self, OutboxStatus};
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pushes `notes` notes over `customers` customers; returns (seconds, ERP writes seen).
async fn run(notes: usize, customers: usize, batch: bool) -> (f64, usize) {
    let mock_config = MockErpConfig {
        customers,
        open_items: customers,
        ..MockErpConfig::default()
    };
    let mock = mock_erp::start(mock_config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mapping.toml"),
        include_str!("../mappings/s4hana-odata-v2.toml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("pw"), &mock_config.password).unwrap();
    let config_path = dir.path().join("erpsync.toml");
    std::fs::write(
        &config_path,
        format!(
            "[store]\nurl = \"sqlite://b.db\"\n[erp]\nkind = \"odata\"\nbase_url = \"{}\"\nmapping = \"mapping.toml\"\nsap_client = \"100\"\n[erp.auth]\nkind = \"basic\"\nuser = \"{}\"\npassword_file = \"pw\"\n[push]\nbatch = {batch}\nbatch_size = 100\n",
            mock.base_url(),
            mock_config.user
        ),
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();
    let store = store::open(&config.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let ids: Vec<String> = mock
        .dataset()
        .customers
        .iter()
        .map(|c| c.customer.clone())
        .collect();
    for i in 0..notes {
        let n = CollectorNote {
            note: Note {
                customer: CustomerId::parse(&ids[i % ids.len()]).unwrap(),
                item: None,
                author: "ana".into(),
                text: format!("call {i}: promised to pay the open invoices by Friday"),
                channel: NoteChannel::Phone,
                created_at: Utc::now(),
                idempotency_key: format!("bench-{i}"),
            },
            details: NoteDetails::default(),
        };
        store.add_note(&n).await.unwrap();
    }
    let mapping = Mapping::load(&config.erp.mapping).unwrap();
    let client = ODataClient::new(&config.erp).unwrap();
    let t = Instant::now();
    loop {
        let r = push::drain(
            store.as_ref(),
            connect::writer_for(&client, &mapping).as_ref(),
            &config.push,
        )
        .await
        .unwrap();
        assert_eq!(r.failed + r.dead, 0, "{r:?}");
        if r.notes == 0 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let sent = store.outbox_list(Some(OutboxStatus::Sent)).await.unwrap();
    assert_eq!(sent.len(), notes, "every note sent");
    assert!(
        sent.iter().all(|e| e.verified_at.is_some()),
        "every note read back"
    );
    let writes = mock
        .writes()
        .iter()
        .filter(|w| w.entity_set == "A_CustomerText")
        .count();
    mock.shutdown().await;
    (secs, writes)
}

#[tokio::main]
async fn main() {
    let notes = env_usize("ERPSYNC_BENCH_NOTES", 10_000);
    let customers = env_usize("ERPSYNC_BENCH_PUSH_CUSTOMERS", 1_000);
    for batch in [false, true] {
        let (secs, writes) = run(notes, customers, batch).await;
        println!(
            "{}: {notes} notes over {customers} customers in {secs:.2} s ({:.0} notes/s, {writes} ERP writes)",
            if batch { "$batch" } else { "one by one" },
            notes as f64 / secs
        );
    }
}
