//! What a headless-Chromium test needs, and what it does when that is missing: fail on CI
//! (`CI=true`), elsewhere say loudly on stderr that it did not run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `tests/browser`, where the specs and their `node_modules` are.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why a browser test cannot run here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium, or set CHROMIUM)"
        ));
    }
    // Without a CJK font Chromium draws Chinese as boxes: pages and PDFs would be unreadable.
    let cjk = Command::new("fc-list")
        .args([":lang=zh", "family"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if !cjk {
        return Some("no font with Chinese glyphs (apt-get install fonts-noto-cjk)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed (run `npm ci` in tests/browser)".into());
    }
    None
}

/// `true` when the test may go on; otherwise panics on CI, or tells stderr that `test`
/// did not run and why, and returns `false`.
pub fn can_run(test: &str) -> bool {
    let Some(why) = missing_prerequisite() else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the browser test {test} must run on CI but cannot: {why}");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let line = "*".repeat(65);
    let _ = writeln!(
        std::io::stderr(),
        "\n{line}\n** {test} DID NOT RUN: {why}\n** install Chromium and a CJK font, \
         and run `npm ci` in tests/browser, to run it\n{line}\n"
    );
    false
}

/// Where the browser tests leave screenshots, PDFs and downloads.
pub fn screenshots() -> PathBuf {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/desk-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    out
}

/// Runs `spec` (a script in tests/browser) with `env` set and returns the JSON object its
/// last line of output reports; fails the test, with everything the script printed, when
/// the script fails.
pub async fn run_spec(spec: &str, env: Vec<(&'static str, String)>) -> serde_json::Value {
    let dir = dir();
    let script = dir.join(spec);
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .current_dir(&dir)
            .envs(env)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "browser script {spec} failed:\n{stderr}\n{stdout}"
    );
    let last = stdout
        .lines()
        .last()
        .expect("the script reports what it did");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{spec} reported no JSON ({e}):\n{stderr}\n{stdout}"))
}
