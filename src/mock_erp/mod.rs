//! An SAP S/4HANA look-alike for the demo, the tests and the benchmarks.
//!
//! It serves SAP's standard paths, so a connector configured with
//! `base_url = "http://127.0.0.1:PORT/sap/opu/odata/sap/"` talks to it as to a real system:
//!
//! - OData V2 JSON: `API_BUSINESS_PARTNER` (`A_Customer`, `A_CustomerCompany`,
//!   `A_CustomerSalesArea`, `A_BusinessPartnerAddress`, `A_CustomerText`,
//!   `A_CustomerCompanyText`), `API_OPLACCTGDOCITEMCUBE_SRV`
//!   (`A_OperationalAcctgDocItemCube`) and `API_SALES_CONTRACT_SRV` (`A_SalesContract`),
//!   each with `$metadata` and a service document; server paging with `__next`.
//! - OData V4 JSON: the same services under `/sap/opu/odata4/sap/`, with V4
//!   `$metadata`, `@odata.nextLink`, `$count`, and decimals as strings or numbers.
//! - Change tracking of the open items: delta links and removed entries.
//! - An OAuth 2.0 client-credentials token endpoint at `/sap/bc/sec/oauth2/token`.
//! - SOAP: the dispute-case service at [`dispute_case::SERVICE_PATH`], and
//!   `JournalEntryBulkChangeRequest_In` (dunning blocks, recorded in `/mock/writes`).
//! - `$batch` on `API_BUSINESS_PARTNER` (change sets of text writes).
//! - `GET /mock/writes`: every write it accepted, as JSON.
//! - A Dynamics 365 Finance and Operations face under `/data/` (see `dynamics.rs`): the
//!   same customers and open items as F&O data entities.
//!
//! The data comes from [`Dataset::generate`]: deterministic per seed, with a known set of
//! contract-vs-master mismatches ([`Dataset::planted`]) and look-alikes that must not be
//! flagged ([`Dataset::decoys`]). [`FaultSpec`] makes it fail on purpose.
//!
//! # Module graph
//!
//! Every import points down this list; no module imports one above it, so there is no cycle
//! (this file, the public face, sits on top):
//!
//! ```text
//! routes            which handler answers which path
//! ├─ batch          $batch: runs each operation through odata_handler
//! ├─ odata_handler  OData V2/V4: the Gateway checks, then the service document,
//! │  │              $metadata, and dispatch to ↓
//! │  ├─ reads, text_writes  collections and entities; text creates and changes
//! │  └─ request     the request as handlers see it, row tables, text ETags
//! ├─ soap, journal_entry    SOAP services (dispute cases, dunning blocks)
//! ├─ oauth          the token endpoint
//! └─ dynamics       the F&O face → dynamics_entities (its entities and rows)
//! gateway           logon (Basic, bearer), sap-client, CSRF, faults, SAP errors, ETags
//! state             the running mock: data set, live texts and cases, writes, sessions
//! delta → v4 → odata → filter → sets   change tracking, V4 and V2 answers, query options,
//!                   $filter, the entity sets over the data set
//! data              the generated data set (split by concern, see its module)
//! config, faults    start-up settings; fault rules
//! ```
//!
//! [`dispute_case::SERVICE_PATH`]: crate::erp::soap::dispute_case::SERVICE_PATH

mod batch;
mod config;
mod data;
mod delta;
mod dynamics;
mod dynamics_entities;
mod faults;
mod filter;
mod gateway;
mod journal_entry;
mod oauth;
mod odata;
mod odata_handler;
mod reads;
mod request;
mod routes;
mod seed_csv;
mod sets;
mod soap;
mod state;
mod text_writes;
mod v4;

pub use config::{MockErpConfig, DEFAULT_PASSWORD, DEFAULT_SAP_CLIENT, DEFAULT_USER};
pub use data::{
    reference_date, AddressRec, CompanyRec, CustomerRec, Dataset, DisputeCaseRec, OpenItemRec,
    Planted, RegisterRow, SalesAreaRec, SalesContractRec, TextRec, AR_AGING, AR_BREAKS,
    AR_DISPUTED, AR_DISPUTE_CASE, AR_ITEMS, AR_KEEPS, DISPUTE_STATUSES, REFERENCE_DATE,
};
pub use faults::{FaultKind, FaultRule, FaultSpec, FaultSpecError, TIMEOUT_HOLD};
pub use seed_csv::cap_seed_files;
pub use state::WriteRecord;

use state::{lock, State};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running mock; dropping it stops the server.
pub struct MockErpHandle {
    addr: SocketAddr,
    state: Arc<State>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl MockErpHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/sap/opu/odata/sap/`, the `[erp] base_url` to configure.
    pub fn base_url(&self) -> String {
        format!("http://{}/sap/opu/odata/sap/", self.addr)
    }

    /// URL of the dispute-case SOAP service.
    pub fn soap_url(&self) -> String {
        format!(
            "http://{}{}",
            self.addr,
            crate::erp::soap::dispute_case::SERVICE_PATH
        )
    }

    pub fn dataset(&self) -> &Dataset {
        &self.state.ds
    }

    pub fn config(&self) -> &MockErpConfig {
        &self.state.config
    }

    pub fn writes(&self) -> Vec<WriteRecord> {
        lock(&self.state.writes).clone()
    }

    /// Replaces the fault rules (and their counters).
    pub fn set_faults(&self, faults: FaultSpec) {
        *lock(&self.state.faults) = faults::Faults::new(&faults);
    }

    /// Answer every collection in Atom XML, whatever `$format` asks: a Gateway behind a
    /// proxy that drops the query option.
    pub fn set_atom_only(&self, on: bool) {
        self.state
            .atom_only
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// V4 decimals as JSON numbers even when the client asks for `IEEE754Compatible=true`,
    /// like a server that does not support the parameter.
    pub fn set_v4_decimals_as_numbers(&self, on: bool) {
        self.state
            .v4_numbers
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Collections in one answer (bounded only by `$top`) without next links, like a server
    /// that leaves paging to the client.
    pub fn set_server_paging(&self, on: bool) {
        self.state
            .no_server_paging
            .store(!on, std::sync::atomic::Ordering::Relaxed);
    }

    /// URL of the OAuth 2.0 token endpoint (client credentials: the mock's user and
    /// password as client ID and secret).
    pub fn token_url(&self) -> String {
        format!("http://{}{}", self.addr, oauth::TOKEN_PATH)
    }

    /// How long tokens handed out from now on live.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        self.state.oauth.set_lifetime(lifetime);
    }

    /// Clears open item `row` (an index into [`Dataset::open_items`]) on `on`, as a payment
    /// would: reads show it cleared and change tracking reports it.
    pub fn clear_open_item(&self, row: usize, on: chrono::NaiveDate) {
        self.state.delta.clear(row, on);
    }

    /// Deletes every long text of `customer` (general level), as a user in SAP might: a
    /// read-back then finds erpsync's notes missing.
    pub fn erase_customer_texts(&self, customer: &str) {
        lock(&self.state.customer_texts).retain(|_, t| t.customer != customer);
    }

    /// The customer's general long texts as the ERP now holds them, joined.
    pub fn customer_texts(&self, customer: &str) -> String {
        lock(&self.state.customer_texts)
            .values()
            .filter(|t| t.customer == customer)
            .map(|t| t.long_text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Tokens handed out so far.
    pub fn tokens_issued(&self) -> u64 {
        self.state.oauth.issued()
    }

    /// Sends `message` as `sap-message` with every successful OData answer (`None`: stop).
    pub fn set_sap_message(&self, message: Option<String>) {
        *lock(&self.state.sap_message) = message;
    }

    /// `http://ADDR/sap/opu/odata4/sap/`, the `[erp] base_url` for the V4 services.
    pub fn base_url_v4(&self) -> String {
        format!("http://{}/sap/opu/odata4/sap/", self.addr)
    }

    /// `http://ADDR/data/`, the root of the Dynamics 365 F&O data entities (add
    /// `?cross-company=true` to read every legal entity).
    pub fn dynamics_data_url(&self) -> String {
        format!("http://{}{}", self.addr, dynamics::DATA_PREFIX)
    }

    /// How many faults fired since the rules were last set.
    pub fn faults_fired(&self) -> u64 {
        lock(&self.state.faults).fired()
    }

    /// What a config needs to reach this mock, as one block for a terminal: the URLs, and a
    /// ready-to-paste `[erp]` + `[erp.auth]` snippet whose password comes from the
    /// environment, with the line that sets it (the password is the one the mock was started
    /// with).
    pub fn connection_info(&self) -> String {
        let c = &self.state.config;
        let quoted = format!("'{}'", c.password.replace('\'', "'\\''"));
        format!(
            "# mock ERP listening on {addr}\n\
             #   OData V2      {v2}\n\
             #   OData V4      {v4}\n\
             #   F&O entities  {fo}\n\
             #   OAuth token   {token} (client ID and secret: the user and password)\n\
             # Paste into erpsync.toml, and before running erpsync:\n\
             #   export SAP_PASSWORD={quoted}\n\
             [erp]\n\
             kind = \"odata\"\n\
             base_url = \"{v2}\"\n\
             mapping = \"mappings/s4hana-odata-v2.toml\"\n\
             sap_client = \"{client}\"\n\
             \n\
             [erp.auth]\n\
             kind = \"basic\"\n\
             user = \"{user}\"\n\
             password_env = \"SAP_PASSWORD\"\n",
            addr = self.addr,
            v2 = self.base_url(),
            v4 = self.base_url_v4(),
            fo = self.dynamics_data_url(),
            token = self.token_url(),
            client = c.sap_client,
            user = c.user,
        )
    }

    /// Stops accepting requests and waits for the server to finish.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockErpHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Generates the data set and starts serving on `listen` (port 0 picks a free port).
pub async fn start(config: MockErpConfig, listen: SocketAddr) -> std::io::Result<MockErpHandle> {
    let cfg = config.clone();
    // Large data sets take seconds to build; keep that off the async workers.
    let ds = tokio::task::spawn_blocking(move || Dataset::generate(&cfg))
        .await
        .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let state = Arc::new(State::new(config, Arc::new(ds), cancel.clone()));
    let app = routes::router(state.clone());
    let stop = cancel.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "mock ERP server stopped");
        }
    });
    Ok(MockErpHandle {
        addr,
        state,
        cancel,
        task: Some(task),
    })
}

/// Serves until SIGINT or SIGTERM (the `erpsync mock-erp` command). Prints
/// [`MockErpHandle::connection_info`] on stdout once it listens.
pub async fn serve_forever(config: MockErpConfig, listen: SocketAddr) -> std::io::Result<()> {
    let handle = start(config, listen).await?;
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", handle.connection_info())?;
        out.flush()?;
    }
    tracing::info!(
        addr = %handle.addr(),
        base_url = %handle.base_url(),
        customers = handle.dataset().customers.len(),
        open_items = handle.dataset().open_customer_items().count(),
        "mock ERP listening"
    );
    wait_for_signal().await;
    handle.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
