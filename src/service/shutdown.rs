//! Turning SIGTERM/SIGINT into a cancelled token. The service itself only ever sees the
//! token (shutdown is a value passed in), so tests can stop it without signals.

use tokio_util::sync::CancellationToken;

/// Cancels `stop` on the first SIGTERM or SIGINT. A second signal ends the process at once
/// (exit 130), for an operator who does not want to wait for the grace period.
///
/// The handlers are installed before this returns, so a signal that comes right after
/// start-up is not met by the default action (which would kill the process mid-write).
pub fn cancel_on_signal(stop: CancellationToken) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("shutdown requested: no new work; running jobs get the grace period");
            stop.cancel();
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::warn!("second signal: exiting without waiting");
            std::process::exit(130);
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        });
    }
    Ok(())
}
