//! `mock-erp`: the SAP-dialect mock ERP as a standalone server, demanding the user, password
//! and client given on the command line and printing how a config reaches it.

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
        user: args.user,
        password: args.password,
        sap_client: args.sap_client,
        ar_scenario: args.ar_scenario,
        ..MockErpConfig::default()
    };
    mock_erp::serve_forever(config, args.listen).await?;
    Ok(())
}
