//! The in-process mock SAP system on a free loopback port.

use erpsync::mock_erp::{self, MockErpConfig, MockErpHandle};
use std::path::Path;

/// Starts the mock with `config` on a free loopback port.
pub async fn start(config: MockErpConfig) -> MockErpHandle {
    mock_erp::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock ERP starts")
}

/// Starts a mock with this many customers and open items, served `page_size` rows a page.
pub async fn sized(customers: usize, open_items: usize, page_size: usize) -> MockErpHandle {
    start(MockErpConfig {
        customers,
        open_items,
        page_size,
        ..MockErpConfig::default()
    })
    .await
}

/// Writes the files a config against `mock` reads from `dir`: `mapping.toml` (the given
/// mapping text), `contracts.csv` (the mock's contract register) and the ERP password in
/// `password_file`.
pub fn write_files(dir: &Path, mock: &MockErpHandle, mapping: &str, password_file: &str) {
    std::fs::write(dir.join("mapping.toml"), mapping).unwrap();
    std::fs::write(dir.join("contracts.csv"), mock.dataset().register_csv()).unwrap();
    std::fs::write(dir.join(password_file), &mock.config().password).unwrap();
}
