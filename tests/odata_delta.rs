//! Delta links: with `delta = true` the first pull asks the mock ERP to track changes and
//! keeps the delta link; later pulls read only what changed, mark what left the query
//! (cleared items) as cleared, and keep the new link — over V2 (`!deltatoken`, `__deleted`)
//! and V4 (`$deltatoken`, `@removed`).

mod common;

use chrono::NaiveDate;
use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::mock_erp::MockErpHandle;
use erpsync::store::{self, SharedStore};
use erpsync::sync::{self, Entity, SyncContext, SyncReport};
use std::path::Path;

fn with_delta(mapping: &str) -> String {
    mapping.replace(
        "filter = \"FinancialAccountType eq 'D' and IsCleared eq false\"\n",
        "filter = \"FinancialAccountType eq 'D' and IsCleared eq false\"\ndelta = true\n",
    )
}

async fn mock() -> MockErpHandle {
    common::mock::sized(30, 300, 40).await
}

fn config(dir: &Path, mock: &MockErpHandle, base_url: &str, mapping: &str) -> Config {
    std::fs::write(dir.join("mapping.toml"), mapping).unwrap();
    std::fs::write(dir.join("pw"), &mock.config().password).unwrap();
    ErpsyncToml::sqlite("erpsync.db")
        .sap(base_url, "10s", 0, "pw")
        .load_in(dir)
}

async fn pull(config: &Config, store: &SharedStore) -> SyncReport {
    let ctx = SyncContext::new(config.clone(), store.clone()).unwrap();
    sync::run(&ctx, &[Entity::OpenItems]).await.unwrap()
}

async fn open_count(store: &SharedStore) -> usize {
    store
        .list_open_items(&Default::default())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_delta_pull_reads_only_changes_and_clears_what_left() {
    for v4 in [false, true] {
        let mock = mock().await;
        let dir = tempfile::tempdir().unwrap();
        let (url, mapping) = if v4 {
            (
                mock.base_url_v4(),
                with_delta(include_str!("../mappings/s4hana-odata-v4.toml")),
            )
        } else {
            (
                mock.base_url(),
                with_delta(include_str!("../mappings/s4hana-odata-v2.toml")),
            )
        };
        assert!(mapping.contains("delta = true"));
        let cfg = config(dir.path(), &mock, &url, &mapping);
        let store = store::open(&cfg.store.url).await.unwrap();
        store.migrate().await.unwrap();

        let first = pull(&cfg, &store).await;
        let open = mock.dataset().open_customer_items().count();
        assert_eq!(first.pulled.get("open_items").copied(), Some(open as u64));
        let link = store.get_cursor("open_items.delta").await.unwrap();
        assert!(
            link.is_some(),
            "v4={v4}: the tracked pull keeps its delta link"
        );

        // Two open customer items get paid.
        let rows: Vec<usize> = mock
            .dataset()
            .open_items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.account_type == b'D' && !i.is_cleared)
            .map(|(r, _)| r)
            .take(2)
            .collect();
        let paid = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        for &r in &rows {
            mock.clear_open_item(r, paid);
        }

        let second = pull(&cfg, &store).await;
        assert_eq!(
            second.pulled.get("open_items").copied().unwrap_or(0),
            0,
            "v4={v4}: nothing new to read"
        );
        assert_eq!(
            second.retired.get("open_items").copied(),
            Some(2),
            "v4={v4}: the paid items are marked cleared"
        );
        assert_eq!(open_count(&store).await, open - 2);
        let next = store.get_cursor("open_items.delta").await.unwrap();
        assert_ne!(next, link, "v4={v4}: the delta link moves on");

        let third = pull(&cfg, &store).await;
        assert_eq!(third.retired.get("open_items").copied().unwrap_or(0), 0);
        assert_eq!(open_count(&store).await, open - 2, "v4={v4}: stable");

        // A full pull (sync --full) agrees with what the deltas built.
        let mut ctx = SyncContext::new(cfg.clone(), store.clone()).unwrap();
        ctx.full = true;
        sync::run(&ctx, &[Entity::OpenItems]).await.unwrap();
        assert_eq!(open_count(&store).await, open - 2);
    }
}
