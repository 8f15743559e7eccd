//! `mock-erp`: the SAP-dialect mock ERP as a standalone server.

use super::app::MockErpArgs;
use super::CliError;
use crate::mock_erp::{self, FaultSpec, MockErpConfig};

pub async fn run(args: MockErpArgs) -> Result<(), CliError> {
    let faults = match args.faults.as_deref() {
        Some(spec) => spec
            .parse::<FaultSpec>()
            .map_err(|e| CliError::Usage(e.to_string()))?,
        None => FaultSpec::default(),
    };
    let config = MockErpConfig {
        customers: args.customers,
        open_items: args.open_items,
        seed: args.seed,
        faults,
        ..MockErpConfig::default()
    };
    mock_erp::serve_forever(config, args.listen).await?;
    Ok(())
}
