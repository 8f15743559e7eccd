//! The command line (DESIGN §5): arguments are parsed here and handed to one function per
//! command group.

use super::output::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "erpsync",
    version,
    about = "Keeps an ERP's accounts-receivable master data honest"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        default_value = "erpsync.toml",
        env = "ERPSYNC_CONFIG"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Built-in mock ERP + temporary SQLite: pull, flag, push, and a summary.
    Demo {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Keep the demo's database, config and register in this folder.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Check the configuration, the store and the ERP connection.
    Check,
    /// Apply database migrations.
    Migrate,
    /// Run as a background service until SIGTERM/SIGINT.
    Run,
    /// IDoc XML: one-off loads.
    Idoc {
        #[command(subcommand)]
        command: IdocCommand,
    },
    /// Pull from the ERP and reconcile.
    Sync {
        /// Comma-separated: customers,payment-terms,open-items,contracts
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Pull everything again (the default pull is already complete for now).
        #[arg(long)]
        full: bool,
    },
    /// The review queue of contract-vs-master discrepancies.
    Discrepancies {
        #[command(subcommand)]
        command: DiscrepancyCommand,
    },
    /// Collectors' notes, written into the ERP.
    Notes {
        #[command(subcommand)]
        command: NoteCommand,
    },
    /// Dispute-case statuses, written into the ERP.
    Disputes {
        #[command(subcommand)]
        command: DisputeCommand,
    },
    /// Send pending notes and dispute statuses to the ERP once.
    Push {
        /// Validate against the ERP without writing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Inspect and requeue outbox entries.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// What erpsync holds for customers (all levels).
    Customers {
        #[command(subcommand)]
        command: CustomerCommand,
    },
    /// Open items held by erpsync.
    OpenItems {
        #[command(subcommand)]
        command: OpenItemCommand,
    },
    /// Start the SAP-dialect mock ERP; prints its URLs and a config snippet with its credentials.
    MockErp(MockErpArgs),
    /// Collections: KPIs, the call list, statements and reminders, snapshots.
    Ar {
        #[command(subcommand)]
        command: super::ar::ArCommand,
    },
    /// Review-desk users.
    Users {
        #[command(subcommand)]
        command: super::users::UserCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdocCommand {
    /// Import IDoc XML files (DEBMAS customer masters, INVOIC invoices).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscrepancyCommand {
    List {
        #[command(flatten)]
        filter: QueueFilterArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Acknowledge(ReviewArgs),
    Resolve(ReviewArgs),
    /// Propose a waiver; it counts once a second person approves it.
    Waive(ReviewArgs),
    /// Approve a waiver someone else proposed.
    Approve {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Put an acknowledged, resolved or waived flag back in the queue.
    Reopen(ReviewArgs),
    /// Write the queue (with the same filters as `list`) to an XLSX or CSV file.
    Export {
        #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
        xlsx: Option<PathBuf>,
        #[arg(long)]
        csv: Option<PathBuf>,
        #[command(flatten)]
        filter: QueueFilterArgs,
    },
}

// Which flags `discrepancies list` and `export` take (none given: all). A plain comment:
// a doc comment here would become the help text of `list`.
#[derive(Debug, Args)]
pub struct QueueFilterArgs {
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub customer: Option<String>,
    #[arg(long)]
    pub rule: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub id: i64,
    #[arg(long)]
    pub by: String,
    #[arg(long)]
    pub note: Option<String>,
    /// For a waiver: until when it holds (YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NoteCommand {
    Add {
        #[arg(long)]
        customer: String,
        /// COMPANY/YEAR/DOC/ITEM
        #[arg(long)]
        item: Option<String>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        text: String,
        /// phone, email, chat, meeting or letter
        #[arg(long, default_value = "phone")]
        channel: String,
        /// The medium within the channel, e.g. WeChat for chat.
        #[arg(long)]
        via: Option<String>,
        /// When to follow up (YYYY-MM-DD).
        #[arg(long)]
        follow_up: Option<String>,
        /// Promise to pay: amount (decimal), with --promise-currency and --promise-date.
        #[arg(long)]
        promise_amount: Option<String>,
        #[arg(long)]
        promise_currency: Option<String>,
        /// Promise to pay: by when (YYYY-MM-DD).
        #[arg(long)]
        promise_date: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DisputeCommand {
    SetStatus {
        case: String,
        #[arg(long)]
        status: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Retry {
        id: i64,
        /// Who retries it (recorded in the entry's audit).
        #[arg(long)]
        by: Option<String>,
    },
    /// Give a failed or dead entry up: kept with who, when and why; never sent.
    Drop {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// One entry with its audit history.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Read back what was sent and put back anything the ERP does not hold.
    Verify {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Show {
        customer: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum OpenItemCommand {
    List {
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        overdue: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub struct MockErpArgs {
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: std::net::SocketAddr,
    #[arg(long, default_value_t = 200)]
    pub customers: usize,
    #[arg(long, default_value_t = 2000)]
    pub open_items: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fault injection, e.g. "500@A_Customer:1,429@*:2".
    #[arg(long)]
    pub faults: Option<String>,
    /// User the mock demands (Basic auth; also the OAuth client ID).
    #[arg(long, default_value = crate::mock_erp::DEFAULT_USER)]
    pub user: String,
    /// Password the mock demands (also the OAuth client secret). It is printed on start-up
    /// with the config snippet, so pick one for the mock alone.
    #[arg(long, default_value = crate::mock_erp::DEFAULT_PASSWORD)]
    pub password: String,
    /// SAP client (`sap-client`) the mock serves.
    #[arg(long, default_value = crate::mock_erp::DEFAULT_SAP_CLIENT)]
    pub sap_client: String,
    /// Also plant the collections scenario (customers CUST-AR001…004: every aging bucket,
    /// a promise to keep and one to break, a disputed invoice).
    #[arg(long)]
    pub ar_scenario: bool,
}
