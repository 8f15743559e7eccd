//! The operator's surface: one module per command group, all returning [`CliError`],
//! which carries the exit code (DESIGN §5: 1 failure, 2 bad usage or config).

mod app;
mod ar;
mod demo;
mod idoc;
mod masters;
mod mock;
pub mod output;
mod review;
mod run;
mod sync;
mod users;
mod writeback;

pub use app::Cli;
use app::Command;
use clap::Parser;

use crate::config::{Config, ConfigError};
use crate::store::{self, SharedStore, StoreError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

macro_rules! failed_from {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                CliError::Failed(e.to_string())
            }
        }
    )*};
}
failed_from!(
    StoreError,
    crate::sync::SyncError,
    crate::erp::odata::ErpError,
    crate::erp::mapping::MappingError,
    crate::erp::odata::ConnectError,
    std::io::Error,
    crate::collections::CollectionsError
);

/// Loads the config and opens (and migrates) its store.
pub(crate) async fn open(config_path: &Path) -> Result<(Config, SharedStore), CliError> {
    let config = Config::load(config_path)?;
    let store = store::open(&config.store.url).await?;
    store.migrate().await?;
    Ok((config, store))
}

/// Parses the process arguments, runs the command, and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    init_logging(matches!(cli.command, Command::MockErp(_) | Command::Run));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("erpsync: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("erpsync: {e}");
            e.exit_code()
        }
    }
}

/// Logs go to stderr (stdout carries the command's output): human-readable on a terminal,
/// JSON lines otherwise, filtered by `RUST_LOG` (default: warnings; info for servers).
fn init_logging(server: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = if server { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.json().try_init()
    };
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    let path = cli.config.as_path();
    match cli.command {
        Command::Demo { format, keep } => demo::run(format, keep).await,
        Command::Check => sync::check(path).await,
        Command::Migrate => sync::migrate(path).await,
        Command::Run => run::run(path).await,
        Command::Idoc { command } => idoc::run(path, command).await,
        Command::Sync { only, full } => sync::sync(path, &only, full).await,
        Command::Discrepancies { command } => review::run(path, command).await,
        Command::Notes { command } => writeback::notes(path, command).await,
        Command::Disputes { command } => writeback::disputes(path, command).await,
        Command::Push { dry_run } => writeback::push(path, dry_run).await,
        Command::Outbox { command } => writeback::outbox(path, command).await,
        Command::Customers { command } => masters::customers(path, command).await,
        Command::OpenItems { command } => masters::open_items(path, command).await,
        Command::MockErp(args) => mock::run(args).await,
        Command::Ar { command } => ar::run(path, command).await,
        Command::Users { command } => users::run(command),
    }
}
