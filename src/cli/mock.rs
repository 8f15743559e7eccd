pub async fn run(_a: super::app::MockErpArgs) -> Result<(), super::CliError> {
    Err(super::CliError::Failed("mock-erp: not ready".into()))
}
