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
    let page = erpsync::erp::odata::atom::parse_feed(&resp.bytes().await.unwrap()).unwrap();
    assert!(page.count.unwrap() > 120);
    assert!(page.next.is_some());
    assert!(page.entities[0]["AmountInTransactionCurrency"].is_string());

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
