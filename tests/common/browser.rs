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
