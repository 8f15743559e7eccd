pub async fn run(
    _f: super::output::Format,
    _k: Option<std::path::PathBuf>,
) -> Result<(), super::CliError> {
    Err(super::CliError::Failed("demo: not ready".into()))
}
