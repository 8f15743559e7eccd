//! Register contracts are keyed by the source's stable name, not by the file's path: the
//! same register read from another folder is the same contracts, a contract the register
//! no longer holds is retired, contracts an earlier version keyed by path are retired when
//! the named source loads, and no server path reaches the API or the pages.

mod common;

use common::TestEnv;
use erpsync::config::Config;
use erpsync::model::{Contract, CustomerId};
use erpsync::store::SharedStore;
use erpsync::sync::{self, Entity, SyncContext};
use std::collections::BTreeMap;

async fn load_contracts(config: Config, store: &SharedStore) {
    let ctx = SyncContext::new(config, store.clone()).unwrap();
    sync::run(&ctx, &[Entity::Contracts])
        .await
        .expect("contracts load");
}

async fn register_contracts(store: &SharedStore) -> Vec<Contract> {
    let customers: Vec<CustomerId> = {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = store.customers_page(after.as_ref(), 500).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|c| c.id().clone());
            all.extend(page.into_iter().map(|c| c.id().clone()));
        }
        all
    };
    let mut contracts = store.contracts_for(&customers).await.unwrap();
    contracts.extend(store.contracts_without_customer().await.unwrap());
    contracts.retain(|c| c.source != "erp");
    contracts
}

/// A mock ERP and a store holding its customers and the register's contracts.
async fn start() -> (TestEnv, SharedStore, Vec<Contract>) {
    let env = TestEnv::start(20, 50).await;
    let store = env.store().await;
    // Customers first, so contracts_for can find every register contract by its customer.
    let ctx = SyncContext::new(env.config(), store.clone()).unwrap();
    sync::run(&ctx, &[Entity::Customers]).await.unwrap();
    load_contracts(env.config(), &store).await;
    let loaded = register_contracts(&store).await;
    (env, store, loaded)
}

#[tokio::test]
async fn one_register_read_through_two_paths_is_one_set_of_contracts_and_dropped_rows_retire() {
    let (env, store, first) = start().await;
    assert!(!first.is_empty(), "the register holds contracts");
    assert!(
        first.iter().all(|c| c.source == "contracts"),
        "keyed by the file's stem, not its path: {:?}",
        first.iter().map(|c| &c.source).collect::<Vec<_>>()
    );

    // The same register under another folder (as when erpsync runs from elsewhere).
    let elsewhere = env.dir.path().join("run");
    std::fs::create_dir(&elsewhere).unwrap();
    let register = std::fs::read_to_string(env.dir.path().join("contracts.csv")).unwrap();
    std::fs::write(elsewhere.join("contracts.csv"), &register).unwrap();
    let moved = env
        .toml(&env.mock.base_url(), 1)
        .unset("contracts")
        .erp_contracts();
    let moved = moved.file_contracts(elsewhere.join("contracts.csv").to_str().unwrap());
    moved.write(&env.config_path);
    load_contracts(env.config(), &store).await;
    let second = register_contracts(&store).await;
    let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &second {
        *per_id.entry(c.id.as_str()).or_default() += 1;
    }
    assert!(
        per_id.values().all(|n| *n == 1),
        "one contract per id: {per_id:?}"
    );
    assert_eq!(second.len(), first.len());

    // A row removed from the register: its contract ends; the others stay.
    let mut lines: Vec<&str> = register.lines().collect();
    let removed_line = lines.remove(1);
    let removed_id = removed_line.split(',').next().unwrap().to_string();
    std::fs::write(elsewhere.join("contracts.csv"), lines.join("\n") + "\n").unwrap();
    load_contracts(env.config(), &store).await;
    let third = register_contracts(&store).await;
    assert!(
        third.iter().all(|c| c.id != removed_id),
        "{removed_id} is retired once the register no longer holds it"
    );
    assert_eq!(third.len(), first.len() - 1);
}

#[tokio::test]
async fn contracts_keyed_by_a_path_are_retired_and_a_named_register_is_shown_by_its_name() {
    let (env, store, loaded) = start().await;
    // What an earlier version stored: the same contracts keyed by the path as typed.
    let old: Vec<Contract> = loaded
        .iter()
        .map(|c| Contract {
            source: "/srv/erpsync/contracts.csv".into(),
            ..c.clone()
        })
        .collect();
    store
        .upsert_contracts(&old, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(register_contracts(&store).await.len(), 2 * loaded.len());

    // The register named in the config: its contracts carry the name.
    let named = env
        .toml(&env.mock.base_url(), 1)
        .unset("contracts")
        .erp_contracts()
        .push(
            "contracts",
            common::config::table([
                ("kind", "file".into()),
                ("path", "contracts.csv".into()),
                ("name", "clm".into()),
            ]),
        );
    named.write(&env.config_path);
    load_contracts(env.config(), &store).await;
    let now = register_contracts(&store).await;
    assert_eq!(
        now.len(),
        loaded.len(),
        "path-keyed and stem-keyed copies retired"
    );
    assert!(now.iter().all(|c| c.source == "clm"));
    let text = serde_json::to_string(&now).unwrap();
    assert!(!text.contains("/srv/") && !text.contains(".csv"));
}

#[tokio::test]
async fn two_registers_with_one_name_and_a_register_named_erp_are_refused() {
    let env = TestEnv::start(1, 1).await;
    let base = || env.toml(&env.mock.base_url(), 1).unset("contracts");
    let load = |toml: common::ErpsyncToml| {
        toml.write(&env.config_path);
        Config::load(&env.config_path)
    };
    let both = base()
        .file_contracts("a/contracts.csv")
        .file_contracts("b/contracts.csv");
    let err = load(both).unwrap_err().to_string();
    assert!(err.contains("contracts[1].name"), "{err}");
    let err = load(base().file_contracts("erp.csv"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("contracts[0].name"), "{err}");
    let renamed = base().file_contracts("a/contracts.csv").push(
        "contracts",
        common::config::table([
            ("kind", "file".into()),
            ("path", "b/contracts.csv".into()),
            ("name", "legacy-clm".into()),
        ]),
    );
    let config = load(renamed).unwrap();
    let names: Vec<&str> = config.contracts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["contracts", "legacy-clm"]);
}
