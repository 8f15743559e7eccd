//! What a mock is started with: the size and seed of its world, its faults, and the
//! credentials and client it demands.

use super::faults::FaultSpec;

#[derive(Debug, Clone)]
pub struct MockErpConfig {
    pub customers: usize,
    /// Open customer items (uncleared, account type `D`); cleared items and supplier lines
    /// come on top.
    pub open_items: usize,
    pub seed: u64,
    pub faults: FaultSpec,
    pub user: String,
    pub password: String,
    pub sap_client: String,
    /// Server-side page size (`__next` after this many entities).
    pub page_size: usize,
    /// Appends the collections scenario (`data::ar_plants`): every aging bucket, a promise
    /// to keep and one to break, a disputed customer, two collectors, two currencies.
    pub ar_scenario: bool,
}

/// The user, password and client a mock demands unless told otherwise.
pub const DEFAULT_USER: &str = "ERPSYNC";
pub const DEFAULT_PASSWORD: &str = "secret";
pub const DEFAULT_SAP_CLIENT: &str = "100";

impl Default for MockErpConfig {
    fn default() -> Self {
        MockErpConfig {
            customers: 200,
            open_items: 2000,
            seed: 42,
            faults: FaultSpec::default(),
            user: DEFAULT_USER.into(),
            password: DEFAULT_PASSWORD.into(),
            sap_client: DEFAULT_SAP_CLIENT.into(),
            page_size: 100,
            ar_scenario: false,
        }
    }
}
