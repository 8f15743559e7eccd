//! The `erpsync` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

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

/// Starts `cmd` (an `erpsync run`) with its stderr followed, and waits until it listens:
/// the process, its log and its address.
pub fn start_service(cmd: &mut Command) -> (Child, ServiceLog, SocketAddr) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("erpsync run starts");
    let log = ServiceLog::follow(&mut child);
    let addr = log.wait_addr(&mut child);
    (child, log, addr)
}

/// The stderr of a started `erpsync run`, read on a thread of its own: every line is kept,
/// and the address the service logs once it listens is passed on.
pub struct ServiceLog {
    lines: Arc<Mutex<String>>,
    addr: Receiver<SocketAddr>,
    reader: JoinHandle<()>,
}

impl ServiceLog {
    /// Follows the stderr of `child` (spawned with `Stdio::piped()` stderr).
    pub fn follow(child: &mut Child) -> ServiceLog {
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::new(Mutex::new(String::new()));
        let (tx, addr) = std::sync::mpsc::channel();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = listening_addr(&line) {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        ServiceLog {
            lines,
            addr,
            reader,
        }
    }

    /// The address the service listens on. When none is logged within a minute, `child` is
    /// killed and the test fails with the logs so far.
    pub fn wait_addr(&self, child: &mut Child) -> SocketAddr {
        match self.addr.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the service did not report its address; logs:\n{}",
                    self.text()
                );
            }
        }
    }

    /// The lines logged so far.
    pub fn text(&self) -> String {
        self.lines.lock().unwrap().clone()
    }

    /// Every line, once the process has closed its stderr.
    pub fn join(self) -> String {
        let ServiceLog { lines, reader, .. } = self;
        reader.join().expect("log reader ends");
        let all = lines.lock().unwrap().clone();
        all
    }
}

/// The address in the service's "listening" log line, if `line` is that line.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v["fields"]["message"] != "erpsync service listening" {
        return None;
    }
    v["fields"]["addr"].as_str()?.parse().ok()
}
