//! `run`: the background service until SIGTERM/SIGINT (see [`crate::service`]).

use super::{open, CliError};
use crate::service;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub async fn run(path: &Path) -> Result<(), CliError> {
    let stop = CancellationToken::new();
    // Before anything slow, so an early SIGTERM already takes the orderly path.
    service::shutdown::cancel_on_signal(stop.clone())?;
    let (config, store) = open(path).await?;
    if config.erp.kind == crate::erp::ErpKind::Idoc {
        super::sync::idoc_inbox(&config)?;
    }
    service::run(
        config.service_settings(),
        config.sync_settings(),
        store,
        stop,
    )
    .await
    .map_err(|e| CliError::Failed(e.to_string()))
}
