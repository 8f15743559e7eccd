//! The `erpsync` binary as an operator runs it.

use std::path::Path;
use std::process::Command;

/// The built `erpsync` binary, with `RUST_LOG` cleared so output is what an operator sees.
pub fn erpsync() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_erpsync"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// `erpsync --config {config}`.
pub fn erpsync_with(config: &Path) -> Command {
    let mut cmd = erpsync();
    cmd.arg("--config").arg(config);
    cmd
}

/// Runs `cmd` to its end: (exit code, stdout, stderr); -1 when killed by a signal.
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `erpsync --config {config} {args}`: (exit code, stdout, stderr).
pub fn run(config: &Path, args: &[&str]) -> (i32, String, String) {
    output(erpsync_with(config).args(args))
}
