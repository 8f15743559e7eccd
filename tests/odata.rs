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
