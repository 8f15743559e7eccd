//! The API and the desk's pages agree with the CLI; a Chinese call note reaches the mock once.

use super::*;

/// The API answers what the command line prints; the desk pages show the same figures to a
/// signed-in collector (their own call list by default), and a call logged on the customer
/// page — in Chinese, with a promise — reaches the mock ERP exactly once through the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_desk_agree_with_the_cli() {
    use erpsync::service::desk::{self, DeskState};
    use reqwest::{Client, StatusCode};
    use std::sync::Arc;

    let env = common::TestEnv::start(30, 300).await;
    common::desk::ar_team(&env).write(&env.config_path);
    let (code, _, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{err}");
    let store = env.store().await;
    let state = Arc::new(DeskState::from_config(&env.config(), store.clone()).unwrap());
    let base = format!("http://{}", common::serve(desk::router(state)).await);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http
                .get(url)
                .bearer_auth(common::desk::VIEWER_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let as_of = "2026-11-25";
    for (cli_args, path) in [
        (
            vec!["ar", "kpis", "--as-of", as_of, "--format", "json"],
            format!("/api/v1/ar/kpis?as_of={as_of}"),
        ),
        (
            vec![
                "ar",
                "kpis",
                "--by",
                "collector",
                "--as-of",
                as_of,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/kpis?by=collector&as_of={as_of}"),
        ),
        (
            vec![
                "ar",
                "worklist",
                "--collector",
                "ana",
                "--as-of",
                as_of,
                "--format",
                "json",
            ],
            format!("/api/v1/ar/worklist?collector=ana&as_of={as_of}"),
        ),
    ] {
        let (code, out, err) = env.cli(&cli_args);
        assert_eq!(code, 0, "{err}");
        let cli: Value = serde_json::from_str(&out).unwrap();
        assert!(!cli.as_array().unwrap().is_empty(), "{cli_args:?}");
        assert_eq!(api(path.clone()).await, cli, "{path}");
    }
    let spec = api("/api/v1/openapi.json".into()).await;
    assert!(spec["paths"]["/api/v1/ar/kpis"]["get"].is_object());
    // Without credentials: 401.
    let r = http
        .get(format!("{base}/api/v1/ar/kpis"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The collector's pages.
    let (cookie, csrf) =
        common::desk::sign_in(&http, &base, common::desk::ANA.0, common::desk::ANA.1).await;
    let page = |path: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let overview = page(format!("/ar?as_of={as_of}")).await;
    let kpis = api(format!("/api/v1/ar/kpis?as_of={as_of}")).await;
    for r in kpis.as_array().unwrap() {
        let open = dec(r["open_amount"].as_str().unwrap());
        let shown = erpsync::ar::statement::fmt_amount(open);
        assert!(overview.contains(&shown), "{shown} on the overview");
        let id = format!(
            "aging-{}-{}",
            r["company_code"].as_str().unwrap(),
            r["currency"].as_str().unwrap()
        );
        assert!(overview.contains(&id), "{id}");
    }
    assert!(overview.contains("<svg class=\"chart trend\""));
    let calls = page(format!("/ar/calls?as_of={as_of}")).await;
    assert!(
        calls.contains("collector ana"),
        "a collector sees their own list"
    );
    let list = api(format!("/api/v1/ar/worklist?collector=ana&as_of={as_of}")).await;
    let customer = list[0]["customer"].as_str().unwrap().to_string();
    assert!(calls.contains(&format!("/ar/customers/{customer}")));
    let customer_page = page(format!("/ar/customers/{customer}?as_of={as_of}")).await;
    assert!(customer_page.contains("id=\"log-call\""));
    let text = "客户答应周五前付款，请届时跟进";
    let back = format!("/ar/customers/{customer}");
    let r = http
        .post(format!("{base}/notes"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("customer", customer.as_str()),
            ("text", text),
            ("channel", "chat"),
            ("via", "WeChat"),
            ("promise_amount", "1000.00"),
            ("promise_currency", "EUR"),
            ("promise_date", "2026-12-11"),
            ("back", back.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{back}?done=note")
    );
    let customer_page = page(back.clone()).await;
    assert!(
        customer_page.contains(text),
        "the note shows on the customer page"
    );
    assert!(customer_page.contains("promise 1,000.00 EUR by 2026-12-11"));
    // The collector sees where the note stands on its way to SAP: queued, then sent.
    let badge = |status: &str| format!("data-status=\"{status}\"");
    assert!(
        customer_page.contains(&badge("queued")) && !customer_page.contains(&badge("sent")),
        "{customer_page}"
    );
    // Pushed twice: written once.
    for _ in 0..2 {
        let (code, _, err) = env.cli(&["push"]);
        assert_eq!(code, 0, "{err}");
    }
    let customer_page = page(back.clone()).await;
    assert!(
        customer_page.contains(&badge("sent")) && !customer_page.contains(&badge("queued")),
        "{customer_page}"
    );
    let written = env
        .mock
        .writes()
        .iter()
        .filter(|w| w.body.to_string().contains(text))
        .count();
    assert_eq!(written, 1, "{:?}", env.mock.writes());
    // A statement in Chinese through the API, as the customer page links it.
    let r = http
        .get(format!(
            "{base}/api/v1/ar/customers/{customer}/statement?format=html&lang=zh&as_of={as_of}"
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("对账单") && html.contains("合计"), "{html}");
}
