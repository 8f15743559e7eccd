//! The configuration as written in the file: every section with `deny_unknown_fields`, so
//! a typo is an error; values are checked and typed in `validate`.

use super::{PushMode, StoreConfig};
use crate::erp::idoc::IdocConfig;
use crate::erp::ErpKind;
use crate::service::{ServerToken, ServerUser};
use crate::sync::ContractSourceKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) store: StoreConfig,
    pub(super) erp: RawErp,
    pub(super) idoc: Option<IdocConfig>,
    #[serde(default)]
    pub(super) contracts: Vec<RawContractSource>,
    #[serde(default)]
    pub(super) payment_terms: RawPaymentTerms,
    #[serde(default)]
    pub(super) schedule: RawSchedule,
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) push: RawPush,
    /// `[rules]`: `cost_of_capital`, and one table per rule name (checked in `validate_rules`).
    #[serde(default)]
    pub(super) rules: toml::Table,
    #[serde(default)]
    pub(super) disputes: RawDisputes,
    /// `[desk]`: the review desk's own settings (its struct, checked in `validate`).
    #[serde(default)]
    pub(super) desk: crate::service::desk::DeskSettings,
    /// `[collectors]`: accounting clerk code → desk user.
    #[serde(default)]
    pub(super) collectors: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) ar: RawAr,
}

/// A whole number as written in the file, or as text from an environment override of a
/// key the file does not set.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum IntOrText {
    Int(i64),
    Text(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAr {
    pub(super) promise_grace_days: Option<IntOrText>,
    pub(super) dso_months: Option<IntOrText>,
    /// Currency → weight, as decimal text: orders the call list only.
    #[serde(default)]
    pub(super) ranking_rates: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) payment: RawPayment,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPayment {
    #[serde(default)]
    pub(super) beneficiary: String,
    #[serde(default)]
    pub(super) bank: String,
    #[serde(default)]
    pub(super) iban: String,
    #[serde(default)]
    pub(super) bic: String,
    #[serde(default)]
    pub(super) lines: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisputes {
    #[serde(default)]
    pub(super) statuses: Vec<String>,
    #[serde(default)]
    pub(super) transitions: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawErp {
    pub(super) kind: ErpKind,
    /// Required for `kind = "odata"` (checked in `Config::from_str_with_env`).
    pub(super) base_url: Option<String>,
    pub(super) mapping: Option<PathBuf>,
    pub(super) sap_client: Option<String>,
    #[serde(default)]
    pub(super) services: BTreeMap<String, String>,
    pub(super) auth: Option<RawAuth>,
    pub(super) timeout: Option<String>,
    pub(super) page_size: Option<u32>,
    pub(super) client_paging: Option<bool>,
    pub(super) max_retries: Option<u32>,
    pub(super) sap_language: Option<String>,
    pub(super) max_concurrent_requests: Option<usize>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) client_cert_file: Option<PathBuf>,
    pub(super) client_key_file: Option<PathBuf>,
    #[serde(default)]
    pub(super) allow_insecure_http: bool,
    pub(super) max_retry_after_seconds: Option<u64>,
    pub(super) max_response_mb: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub(super) kind: String,
    pub(super) user: Option<String>,
    pub(super) password_env: Option<String>,
    pub(super) password_file: Option<PathBuf>,
    pub(super) token_env: Option<String>,
    pub(super) token_file: Option<PathBuf>,
    pub(super) token_url: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret_env: Option<String>,
    pub(super) client_secret_file: Option<PathBuf>,
    pub(super) scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContractSource {
    pub(super) kind: ContractSourceKind,
    pub(super) path: Option<PathBuf>,
    pub(super) name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPaymentTerms {
    pub(super) file: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub(super) customers: Option<String>,
    pub(super) open_items: Option<String>,
    pub(super) contracts: Option<String>,
    pub(super) push: Option<String>,
    pub(super) payment_terms: Option<String>,
    pub(super) reconcile: Option<String>,
    pub(super) idoc_inbox: Option<String>,
    pub(super) verify_outbox: Option<String>,
    pub(super) jitter: Option<String>,
    pub(super) max_backoff: Option<String>,
    pub(super) lease: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<String>,
    #[serde(default)]
    pub(super) users: Vec<ServerUser>,
    #[serde(default)]
    pub(super) tokens: Vec<ServerToken>,
    pub(super) shutdown_grace: Option<String>,
    pub(super) erp_contact_limit: Option<String>,
    pub(super) sso_header: Option<String>,
    pub(super) session_lifetime: Option<String>,
    pub(super) cookie_secure: Option<bool>,
    #[serde(default)]
    pub(super) sso_trusted_proxies: Vec<String>,
    pub(super) session_idle_minutes: Option<u64>,
    pub(super) metrics_listen: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPush {
    pub(super) mode: Option<PushMode>,
    pub(super) max_attempts: Option<u32>,
    pub(super) batch: Option<bool>,
    pub(super) batch_size: Option<usize>,
    pub(super) read_back: Option<bool>,
    pub(super) dunning_block: Option<String>,
    pub(super) dunning_lift_statuses: Option<Vec<String>>,
}
