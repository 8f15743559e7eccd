//! What the pulls are configured with: the ERP connection, the IDoc inbox, the contract
//! sources, the payment-terms file and the rules reconciliation judges by. `config`
//! assembles it from the file; sync reads nothing else of the configuration.

use crate::erp::idoc::IdocConfig;
use crate::erp::ErpConfig;
use serde::Deserialize;
use std::path::PathBuf;

/// Why nothing is written back to an IDoc-only ERP (said by `push` and the service).
pub const IDOC_ONLY_NO_PUSH: &str = "[erp] kind = \"idoc\": the ERP only sends IDocs and takes no \
     writes, so the outbox is left as it is (notes and dispute statuses stay queued)";

#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// The config file's folder: customer IDoc mappings are looked for in `mappings/` there.
    pub base_dir: PathBuf,
    pub erp: ErpConfig,
    pub idoc: Option<IdocConfig>,
    pub contracts: Vec<ContractSourceConfig>,
    pub payment_terms: PaymentTermsConfig,
    pub rules: crate::reconcile::RuleSettings,
    /// Months of sales history the first `sales_items` pull reads (the DSO window and the
    /// partial month).
    pub sales_history_months: u32,
}

impl SyncSettings {
    /// Whether a `[[contracts]]` source reads the ERP's sales contracts.
    pub fn reads_erp_contracts(&self) -> bool {
        self.contracts
            .iter()
            .any(|c| c.kind == ContractSourceKind::Erp)
    }
}

/// `[[contracts]] kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractSourceKind {
    Erp,
    File,
}

/// The source name of the ERP's sales contracts.
pub const ERP_CONTRACT_SOURCE: &str = "erp";

#[derive(Debug, Clone)]
pub struct ContractSourceConfig {
    pub kind: ContractSourceKind,
    pub path: Option<PathBuf>,
    /// What the source's contracts are keyed and shown by: `erp` for the ERP, `name` or the
    /// file's stem for a register (`/srv/erpsync/contracts.csv` → `contracts`), so the same
    /// register read from another folder or path is the same source.
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentTermsConfig {
    /// A T052 export; without it, SAP's standard keys are built in.
    pub file: Option<PathBuf>,
}
