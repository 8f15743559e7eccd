//! `[push]` (and the `[disputes]` rules it checks against), as the outbox worker uses it;
//! `config` reads it from the file and the environment.

use crate::erp::writer::DunningPolicy;
use crate::model::DisputeRules;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PushMode {
    #[default]
    Live,
    Simulate,
}

#[derive(Debug, Clone)]
pub struct PushConfig {
    pub mode: PushMode,
    /// After this many failed attempts an entry is dead-lettered.
    pub max_attempts: u32,
    /// `[disputes]`: the status keys in use and the allowed moves between them.
    pub dispute_rules: DisputeRules,
    /// `batch = true`: notes go many at once (OData `$batch` requests, one change set per
    /// customer text).
    pub batch: bool,
    /// Notes per `$batch` request (`batch_size`, default 100).
    pub batch_size: usize,
    /// `read_back = false` skips confirming, after each drain, that the ERP holds what was sent.
    pub read_back: bool,
    /// `dunning_block = "X"`: while a dispute is open, its items carry this dunning block
    /// (lifted when the case is resolved or closed); `None`: dunning is left alone.
    pub dunning_block: Option<String>,
    /// Dispute statuses that lift the dunning block (`dunning_lift_statuses`, default
    /// `["RSLV", "CLSD", "VOID"]`); a case the ERP reports closed lifts it as well.
    pub dunning_lift_statuses: Vec<String>,
}

impl PushConfig {
    /// The dunning block dispute statuses carry to their items; `None`: dunning is left alone.
    pub fn dunning_policy(&self) -> Option<DunningPolicy> {
        self.dunning_block.as_ref().map(|block| DunningPolicy {
            block: block.clone(),
            lift_statuses: self.dunning_lift_statuses.clone(),
        })
    }
}
