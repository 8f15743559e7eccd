//! What a running mock holds: its data set, the texts and dispute cases writes change, the
//! writes it accepted, the Gateway's sessions and OAuth tokens, and the switches tests turn.
//! Below every handler and the Gateway checks; it knows nothing of HTTP requests beyond
//! reading a request id from their headers.

use super::config::MockErpConfig;
use super::data::{dispute_status_is_closed, Dataset, TextRec, DISPUTE_STATUSES};
use super::delta::DeltaState;
use super::faults::Faults;
use super::sets::{quote, Set};
use crate::erp::soap::dispute_case::{DisputeCase, DisputedItem};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A write the mock accepted (also served at `GET /mock/writes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteRecord {
    /// `A_CustomerText`, `A_CustomerCompanyText` or `DisputeCase`.
    pub entity_set: String,
    /// Key predicate (`Customer='…',Language='EN',LongTextID='TX01'`) or the case ID.
    pub key: String,
    /// `POST`, `PUT`, `PATCH`, `MERGE`, `DELETE`, or `Update` for dispute cases.
    pub method: String,
    pub body: serde_json::Value,
    pub received_at: DateTime<Utc>,
    /// From `Repeatability-Request-ID` or `X-Request-ID`, if sent.
    pub request_id: Option<String>,
}

pub(crate) struct CaseState {
    pub case: DisputeCase,
    pub notes: Vec<String>,
}

/// Bearer tokens the OAuth endpoint handed out, with their expiry.
pub(crate) struct TokenStore {
    pub tokens: Mutex<HashMap<String, Instant>>,
    pub lifetime_s: AtomicU64,
    pub issued: AtomicU64,
}

impl Default for TokenStore {
    fn default() -> Self {
        TokenStore {
            tokens: Mutex::new(HashMap::new()),
            lifetime_s: AtomicU64::new(3600),
            issued: AtomicU64::new(0),
        }
    }
}

impl TokenStore {
    pub fn set_lifetime(&self, d: Duration) {
        self.lifetime_s.store(d.as_secs(), Ordering::Relaxed);
    }

    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }
}

pub(crate) struct State {
    pub config: MockErpConfig,
    pub ds: Arc<Dataset>,
    pub faults: Mutex<Faults>,
    /// Session id → CSRF token.
    pub sessions: Mutex<HashMap<String, String>>,
    /// Canonical key predicate → text, per text set.
    pub customer_texts: Mutex<BTreeMap<String, TextRec>>,
    company_texts: Mutex<BTreeMap<String, TextRec>>,
    pub cases: Mutex<BTreeMap<String, CaseState>>,
    pub writes: Mutex<Vec<WriteRecord>>,
    pub cancel: CancellationToken,
    change_seq: AtomicU64,
    /// Answer collections in Atom whatever `$format` says, like a Gateway behind a proxy
    /// that drops the query option.
    pub atom_only: AtomicBool,
    /// V4: send decimals as JSON numbers even when `IEEE754Compatible=true` is asked for.
    pub v4_numbers: AtomicBool,
    /// Answer a collection in one piece (bounded only by `$top`), without next links, like a
    /// server that leaves paging to the client.
    pub no_server_paging: AtomicBool,
    pub oauth: TokenStore,
    /// Sent as `sap-message` with every successful OData answer, when set.
    pub sap_message: Mutex<Option<String>>,
    pub delta: DeltaState,
    /// `$inlinecount` results by set, query options and change-tracking version: a client
    /// paging through a million rows asks for the same count on every page, and counting
    /// anew each time would make the mock, not the client, the cost of a large pull.
    pub counts: Mutex<HashMap<String, usize>>,
}

/// Locks a mutex; a panicked holder cannot leave these maps half-written in a way that
/// matters to a test double, so poisoning is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The canonical key predicate of a long text, as the live text maps are keyed.
pub(crate) fn text_key(t: &TextRec) -> String {
    match &t.company_code {
        Some(cc) => format!(
            "Customer={},CompanyCode={},Language={},LongTextID={}",
            quote(&t.customer),
            quote(cc),
            quote(&t.language),
            quote(&t.long_text_id)
        ),
        None => format!(
            "Customer={},Language={},LongTextID={}",
            quote(&t.customer),
            quote(&t.language),
            quote(&t.long_text_id)
        ),
    }
}

/// The dispute cases of the data set as the SOAP service holds them.
fn cases(ds: &Dataset) -> BTreeMap<String, CaseState> {
    ds.dispute_cases
        .iter()
        .map(|c| {
            let item = &ds.open_items[c.item];
            let name = DISPUTE_STATUSES
                .iter()
                .find(|(k, _)| *k == c.status)
                .map(|(_, n)| *n)
                .unwrap_or_default();
            let case = DisputeCase {
                case_id: c.case_id.clone(),
                case_guid: c.case_guid.clone(),
                case_type: "F_DM".into(),
                change_state_id: c.change_state_id.clone(),
                status_code: c.status.into(),
                status_name: name.into(),
                closed: dispute_status_is_closed(c.status),
                customer_id: ds.customers[c.customer as usize].customer.clone(),
                company_code: item.company_code.into(),
                disputed_amount: c.amount,
                currency: c.currency.into(),
                title: c.title.clone(),
                reason_code: c.reason_code.into(),
                items: vec![DisputedItem {
                    company_code: item.company_code.into(),
                    fiscal_year: item.fiscal_year.to_string(),
                    accounting_document: format!("{:010}", item.document),
                    accounting_document_item: format!("{:03}", item.item),
                }],
            };
            (
                c.case_id.clone(),
                CaseState {
                    case,
                    notes: Vec::new(),
                },
            )
        })
        .collect()
}

impl State {
    pub fn new(config: MockErpConfig, ds: Arc<Dataset>, cancel: CancellationToken) -> State {
        let texts = |rows: &[TextRec]| -> BTreeMap<String, TextRec> {
            rows.iter().map(|t| (text_key(t), t.clone())).collect()
        };
        State {
            faults: Mutex::new(Faults::new(&config.faults)),
            customer_texts: Mutex::new(texts(&ds.customer_texts)),
            company_texts: Mutex::new(texts(&ds.company_texts)),
            cases: Mutex::new(cases(&ds)),
            config,
            ds,
            sessions: Mutex::new(HashMap::new()),
            writes: Mutex::new(Vec::new()),
            cancel,
            change_seq: AtomicU64::new(0),
            atom_only: AtomicBool::new(false),
            v4_numbers: AtomicBool::new(false),
            no_server_paging: AtomicBool::new(false),
            oauth: Default::default(),
            sap_message: Mutex::new(None),
            delta: Default::default(),
            counts: Mutex::new(HashMap::new()),
        }
    }

    pub fn next_change_state_id(&self) -> String {
        let n = self.change_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}.{n:07}", Utc::now().format("%Y%m%d%H%M%S"))
    }

    pub fn record(
        &self,
        entity_set: &str,
        key: &str,
        method: &str,
        body: serde_json::Value,
        headers: &HeaderMap,
    ) {
        let request_id = ["repeatability-request-id", "x-request-id"]
            .iter()
            .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
            .map(str::to_string);
        lock(&self.writes).push(WriteRecord {
            entity_set: entity_set.to_string(),
            key: key.to_string(),
            method: method.to_string(),
            body,
            received_at: Utc::now(),
            request_id,
        });
    }

    /// The live texts of a text set.
    pub fn texts(&self, set: Set) -> &Mutex<BTreeMap<String, TextRec>> {
        if set == Set::CustomerCompanyText {
            &self.company_texts
        } else {
            &self.customer_texts
        }
    }
}
