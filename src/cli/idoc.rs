//! `idoc import` (being built).

use super::app::IdocCommand;
use super::CliError;
use std::path::Path;

pub async fn run(_path: &Path, _command: IdocCommand) -> Result<(), CliError> {
    Err(CliError::Failed("idoc import: IDoc support is not available in this version".into()))
}
