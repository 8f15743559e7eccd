//! The OData connector against the mock SAP system: `$metadata` checks of the mapping,
//! value formats, Atom, incremental pulls and `$batch`.

mod common;

use common::{TestEnv, MAPPING};

fn write_mapping(env: &TestEnv, text: &str) {
    std::fs::write(env.dir.path().join("mapping.toml"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn check_validates_the_shipped_mapping_against_the_mock_metadata() {
    let env = TestEnv::start(5, 10).await;
    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("against $metadata: ok"), "{out}");
    // Each service with the number of its entity sets, in words that agree with it.
    assert!(
        out.contains("ERP service API_BUSINESS_PARTNER: ok (OData V2, 6 entity sets)"),
        "{out}"
    );
    assert!(
        out.contains("ERP service API_SALES_CONTRACT_SRV: ok (OData V2, 1 entity set)"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_file_entry_and_reason_for_a_mapping_that_does_not_fit() {
    let env = TestEnv::start(5, 10).await;
    let cases = [
        (
            MAPPING.replace("name = \"CustomerName\"", "name = \"CustomerNickname\""),
            "[entities.customers] fields.name = \"CustomerNickname\": A_Customer has no property CustomerNickname",
        ),
        (
            MAPPING.replace("valid_to = \"SalesContractValidityEndDate\"", "valid_to = \"SoldToParty\""),
            "[entities.contracts] fields.valid_to = \"SoldToParty\": A_SalesContract.SoldToParty is Edm.String",
        ),
        (
            MAPPING.replace(
                "entity_set = \"A_OperationalAcctgDocItemCube\"",
                "entity_set = \"A_OperationalAcctgDocItemCube\"\nwatermark = \"CustomerName\"",
            ),
            "[entities.open_items] watermark \"CustomerName\": A_OperationalAcctgDocItemCube.CustomerName is Edm.String, not a date",
        ),
        (
            MAPPING.replace("IsCleared eq false", "IsOpen eq true"),
            "[entities.open_items] filter: A_OperationalAcctgDocItemCube has no property IsOpen",
        ),
        (
            MAPPING.replace("entity_set = \"A_CustomerSalesArea\"", "entity_set = \"A_CustomerSalesAreas\""),
            "[entities.sales_areas] entity_set A_CustomerSalesAreas: not in service API_BUSINESS_PARTNER",
        ),
    ];
    for (text, expected) in cases {
        write_mapping(&env, &text);
        let (code, out, err) = env.cli(&["check"]);
        assert_eq!(code, 2, "{expected}\n{out}\n{err}");
        assert!(err.contains("mapping.toml"), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in\n{err}");
        assert!(out.contains(expected), "{out}");
    }
}

/// A system without FSCM credit management has no `API_CRDTMBUSINESSPARTNER`: `check` says
/// what will not be judged and passes, as `sync` reports it and syncs the rest.
#[tokio::test(flavor = "multi_thread")]
async fn check_warns_and_passes_when_an_optional_service_is_absent() {
    let env = TestEnv::start(5, 10).await;
    assert!(MAPPING.contains("service = \"API_CRDTMBUSINESSPARTNER\""));
    write_mapping(
        &env,
        &MAPPING.replace(
            "service = \"API_CRDTMBUSINESSPARTNER\"",
            "service = \"ZAPI_CRDTM_NOT_INSTALLED\"",
        ),
    );
    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("WARNING ERP service ZAPI_CRDTM_NOT_INSTALLED")
            && out.contains("/IWFND/MED/170"),
        "{out}"
    );
    assert!(
        out.contains("WARNING [entities.credit_limits] will not be pulled: credit limits are not read, so the credit_limit rule has nothing to judge"),
        "{out}"
    );
    assert!(out.contains("against $metadata: ok"), "{out}");

    // The same absence for a pull erpsync cannot do without is a failure.
    write_mapping(
        &env,
        &MAPPING.replace(
            "service = \"API_OPLACCTGDOCITEMCUBE_SRV\"",
            "service = \"ZAPI_ITEMS_NOT_INSTALLED\"",
        ),
    );
    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("ZAPI_ITEMS_NOT_INSTALLED"), "{err}");
    assert!(!out.contains("WARNING"), "{out}");
}

/// The ICM answers a failed logon with an HTML page: the error quotes its title, not markup.
#[tokio::test(flavor = "multi_thread")]
async fn an_html_error_page_is_quoted_by_its_title() {
    let env = TestEnv::start(5, 10).await;
    std::fs::write(env.dir.path().join(common::PASSWORD_FILE), "wrong-password").unwrap();
    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("HTTP 401") && err.contains("Logon Error Message"),
        "{err}"
    );
    assert!(!err.contains('<') && !out.contains("<html"), "{out}\n{err}");
}

/// A Gateway that answers Atom whatever `$format` says yields the same data as JSON.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_over_atom_stores_exactly_what_a_json_pull_stores() {
    let json_env = TestEnv::start(30, 120).await;
    let atom_env = TestEnv::start(30, 120).await;
    atom_env.mock.set_atom_only(true);

    // The mock really answers Atom, with the next link and count in the feed.
    let url = format!(
        "{}API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube?$format=json&$inlinecount=allpages&sap-client=100",
        atom_env.mock.base_url()
    );
    let resp = reqwest::Client::new()
        .get(&url)
        .basic_auth("ERPSYNC", Some("secret"))
        .send()
        .await
        .unwrap();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/atom+xml"), "{ct}");
    let layout = std::sync::Arc::new(erpsync::erp::odata::Layout::of([
        "AmountInTransactionCurrency",
    ]));
    let page =
        erpsync::erp::odata::atom::parse_feed(&resp.bytes().await.unwrap(), &layout).unwrap();
    assert!(page.count.unwrap() > 120);
    assert!(page.next.is_some());
    assert!(matches!(
        page.entities()
            .next()
            .unwrap()
            .property("AmountInTransactionCurrency"),
        Some(erpsync::erp::odata::page::Field::Text(_))
    ));

    let (code, out, err) = json_env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, atom_out, err) = atom_env.cli(&["sync"]);
    assert_eq!(code, 0, "{atom_out}\n{err}");
    assert_eq!(
        out.lines().next(),
        atom_out.lines().next(),
        "pulled counts differ"
    );
    assert!(!atom_out.contains("left out"), "{atom_out}");
    for list in [
        &["open-items", "list", "--format", "json"][..],
        &["customers", "list", "--format", "json"][..],
    ] {
        let (c1, a, e1) = json_env.cli(list);
        let (c2, b, e2) = atom_env.cli(list);
        assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
        assert!(a.len() > 100);
        assert_eq!(a, b, "{list:?} differ between JSON and Atom pulls");
    }
}

/// `pulled: a 1, b 2` → count of `name`.
fn pulled(out: &str, name: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("pulled:"))
        .unwrap_or_else(|| panic!("no pulled line in {out}"));
    line.trim_start_matches("pulled:")
        .split(',')
        .filter_map(|part| part.trim().rsplit_once(' '))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn watermarked_pulls_fetch_only_recent_changes_and_full_refreshes_everything() {
    let env = TestEnv::start(40, 400).await;
    let mapping = MAPPING
        .replace(
            "entity_set = \"A_OperationalAcctgDocItemCube\"\n",
            "entity_set = \"A_OperationalAcctgDocItemCube\"\nwatermark = \"LastChangeDate\"\n",
        )
        .replace(
            "entity_set = \"A_SalesContract\"\n",
            "entity_set = \"A_SalesContract\"\nwatermark = \"LastChangeDateTime\"\n",
        );
    write_mapping(&env, &mapping);
    let ds = env.mock.dataset();
    let all_items = ds.open_customer_items().count() as u64;
    let newest = ds
        .open_customer_items()
        .map(|i| i.last_change)
        .max()
        .unwrap();
    // The cursor is the newest change read; the next pull starts a day (the overlap) before.
    let recent_items = ds
        .open_customer_items()
        .filter(|i| i.last_change >= newest - chrono::Duration::days(1))
        .count() as u64;
    assert!(recent_items > 0 && recent_items < all_items / 2);
    let newest_contract = ds
        .sales_contracts
        .iter()
        .map(|c| c.contract_date)
        .max()
        .unwrap();
    let recent_contracts = ds
        .sales_contracts
        .iter()
        .filter(|c| c.contract_date >= newest_contract - chrono::Duration::days(1))
        .count() as u64;
    let all_contracts = ds.sales_contracts.len() as u64;
    assert!(recent_contracts < all_contracts);

    // First pull: no cursor yet, so everything.
    let (code, first, err) = env.cli(&["sync", "--only", "open-items,contracts"]);
    assert_eq!(code, 0, "{first}\n{err}");
    assert_eq!(pulled(&first, "open_items"), all_items, "{first}");
    let store = env.store().await;
    assert_eq!(
        store.get_cursor("open_items.watermark").await.unwrap(),
        Some(newest.and_hms_opt(0, 0, 0).unwrap().and_utc().to_rfc3339())
    );
    assert_eq!(
        store.get_cursor("contracts.watermark").await.unwrap(),
        Some(
            newest_contract
                .and_hms_opt(9, 30, 0)
                .unwrap()
                .and_utc()
                .to_rfc3339()
        )
    );

    // Second pull: only what changed since the cursor (minus the overlap); nothing that
    // was not read is marked cleared or ended.
    let (code, second, err) = env.cli(&["sync", "--only", "open-items,contracts"]);
    assert_eq!(code, 0, "{second}\n{err}");
    assert_eq!(pulled(&second, "open_items"), recent_items, "{second}");
    assert_eq!(
        pulled(&first, "contracts") - pulled(&second, "contracts"),
        all_contracts - recent_contracts,
        "{first}\n{second}"
    );
    assert!(!second.contains("no longer in their source"), "{second}");
    let (_, listed, _) = env.cli(&["open-items", "list", "--format", "json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len() as u64, all_items);

    // --full reads everything again, whatever the cursor says.
    let (code, full, err) = env.cli(&["sync", "--only", "open-items", "--full"]);
    assert_eq!(code, 0, "{full}\n{err}");
    assert_eq!(pulled(&full, "open_items"), all_items, "{full}");
}
