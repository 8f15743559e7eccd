//! The collections workbench in a real browser: Debian's Chromium, driven by
//! `playwright-core` (tests/browser/ar.spec.mjs), against the desk serving a store that a
//! real `erpsync sync` filled from the mock ERP's planted AR scenario.
//!
//! The script walks the overview, the call list and a customer page, logs a call with a
//! Chinese note and a promise, and prints the statement to PDF in Chinese and English (its
//! text read back from the PDF). Then `erpsync push` runs twice and the note must have
//! reached the mock ERP exactly once.
//!
//! Needs `/usr/bin/chromium` (or `CHROMIUM`), a CJK font, `node`, and `npm ci` in
//! tests/browser; without them the test fails on CI (`CI=true`) and elsewhere says loudly
//! that it did not run. Screenshots and PDFs are left in `target/desk-screenshots/`.

mod common;

use erpsync::mock_erp::AR_AGING;
use erpsync::service::desk::{self, auth, DeskState};
use std::sync::Arc;

const COLLECTOR: (&str, &str) = ("ana", "ana-secret-1234");
/// The mock's reference date: the plants' days past due are counted from it.
const AS_OF: &str = "2026-11-25";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_works_the_call_list_in_chromium() {
    if !common::browser::can_run("ar_browser") {
        return;
    }
    let env = common::TestEnv::start_ar(30, 300).await;
    env.toml(&env.mock.base_url(), 1)
        .set("collectors.01", COLLECTOR.0)
        .set("collectors.02", "ben")
        .set("ar.payment.beneficiary", "Muster AG")
        .push(
            "server.users",
            common::config::user(
                COLLECTOR.0,
                "collector",
                &auth::hash_password(COLLECTOR.1).unwrap(),
            ),
        )
        .write(&env.config_path);
    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    // Two snapshots a week apart, for the trend lines.
    for day in ["2026-11-18", AS_OF] {
        let (code, _, err) = env.cli(&["ar", "snapshot", "--as-of", day]);
        assert_eq!(code, 0, "{err}");
    }
    let store = env.store().await;
    let state = Arc::new(DeskState::from_config(&env.config(), store).unwrap());
    let base = format!("http://{}", common::serve(desk::router(state)).await);

    let out = common::browser::screenshots();
    let files = [
        "ar-overview.png",
        "ar-calls.png",
        "ar-customer.png",
        "ar-customer.pdf",
        "statement-zh.pdf",
        "statement-en.pdf",
    ];
    for f in files {
        let _ = std::fs::remove_file(out.join(f));
    }
    let note = "客户承诺下周一前电汇一千欧元，已通过微信确认";
    let result = common::browser::run_spec(
        "ar.spec.mjs",
        vec![
            ("DESK_URL", base),
            ("DESK_OUT", out.display().to_string()),
            (
                "AR_USER",
                serde_json::json!([COLLECTOR.0, COLLECTOR.1]).to_string(),
            ),
            ("AR_CUSTOMER", AR_AGING.to_string()),
            ("AR_AS_OF", AS_OF.to_string()),
            ("AR_NOTE", note.to_string()),
        ],
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["statement_zh_items"], 8, "{result}");

    // The call is in the outbox; pushed twice, it reaches the ERP once.
    for _ in 0..2 {
        let (code, _, err) = env.cli(&["push"]);
        assert_eq!(code, 0, "{err}");
    }
    let written: Vec<_> = env
        .mock
        .writes()
        .into_iter()
        .filter(|w| w.body.to_string().contains(note))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");

    for f in files {
        let bytes = std::fs::read(out.join(f)).unwrap_or_default();
        let magic: &[u8] = if f.ends_with(".png") {
            b"\x89PNG"
        } else {
            b"%PDF"
        };
        assert!(bytes.starts_with(magic), "{f} saved");
    }
}
