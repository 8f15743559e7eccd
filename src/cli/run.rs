//! `run`: the background service (being built).

use super::CliError;
use std::path::Path;

pub async fn run(_path: &Path) -> Result<(), CliError> {
    Err(CliError::Failed("run: the background service is not available in this version".into()))
}
