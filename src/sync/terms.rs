//! Payment-terms definitions (being assembled).

use super::{SyncContext, SyncError, SyncReport};

pub async fn pull(_ctx: &SyncContext, _report: &mut SyncReport) -> Result<(), SyncError> {
    Err(SyncError::Source("payment terms loading is not wired yet".into()))
}
