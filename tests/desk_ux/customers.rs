//! Bad addresses, refused notes, the customer page and each role's landing view.

use super::*;

#[tokio::test]
async fn bad_addresses_answer_html_pages_and_rules_keep_their_names_in_the_api() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let r = d
        .http
        .get(d.url("/?status=bogus"))
        .header("cookie", &mia.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html_of = |r: &reqwest::Response| {
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    };
    let (status, page) = d.page(&mia, "/flags/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("There is no flag abc") && !page.contains("Cannot parse"));
    let id = d.all_flags(&mia).await[0]["id"].as_i64().unwrap();
    // A form without its CSRF token: the HTML refusal, not the parser's plain text.
    let r = d
        .http
        .post(d.url(&format!("/flags/{id}/acknowledge")))
        .header("cookie", &mia.cookie)
        .form(&[("note", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(html_of(&r));
    // A blank note: a page that keeps the other fields, not `{"error": …}`.
    let customer = d.all_flags(&mia).await[0]["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let r = d
        .post(
            &mia,
            "/notes",
            &[
                ("customer", &customer),
                ("text", "   "),
                ("via", "WeChat"),
                ("back", &format!("/flags/{id}")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(html_of(&r));
    let text = r.text().await.unwrap();
    assert!(
        text.contains("role=\"alert\"") && text.contains("value=\"WeChat\""),
        "{text}"
    );
    // The API keeps its JSON and its rule names.
    let api = d.json(&mia, "/api/v1/discrepancies?status=bogus").await;
    assert!(api["error"].is_string());
    let flags = d.all_flags(&mia).await;
    assert!(flags
        .iter()
        .all(|f| f["rule"].as_str().unwrap().parse::<Rule>().is_ok()));
}

#[tokio::test]
async fn notes_for_unknown_customers_or_items_and_overlong_notes_are_refused_at_once() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let customer = d.all_flags(&mia).await[0]["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |body: Value| {
        d.http
            .post(d.url("/api/v1/notes"))
            .header("cookie", &mia.cookie)
            .header("x-csrf-token", &mia.csrf)
            .json(&body)
            .send()
    };
    let refused = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let v: Value = r.json().await.unwrap();
        v["error"].as_str().unwrap().to_string()
    };
    let e = refused(
        post(serde_json::json!({"customer": "9999999", "text": "called"}))
            .await
            .unwrap(),
    )
    .await;
    assert!(e.contains("not in the master"), "{e}");
    let e = refused(
        post(serde_json::json!({"customer": customer, "item": "1010/2026/9999999999/001", "text": "x"}))
            .await
            .unwrap(),
    )
    .await;
    assert!(e.contains("not an open item"), "{e}");
    let e = refused(
        post(serde_json::json!({"customer": customer, "text": "a".repeat(200_000)}))
            .await
            .unwrap(),
    )
    .await;
    assert!(e.contains("at most 4000"), "{e}");
    // A note for a real customer is still queued.
    let r = post(serde_json::json!({"customer": customer, "text": "called, promised to pay"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // The desk's form says so on a page, with the text kept.
    let r = d
        .post(
            &mia,
            "/notes",
            &[("customer", "9999999"), ("text", "kept text")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("not in the master") && html.contains(">kept text</textarea>"));
}

/// The customer's flags, as the API lists them.
fn flags_of<'a>(flags: &'a [Value], customer: &str) -> Vec<&'a Value> {
    flags
        .iter()
        .filter(|f| f["customer"].as_str() == Some(customer))
        .collect()
}

#[tokio::test]
async fn the_customer_page_shows_flags_contracts_master_levels_and_each_notes_way_to_sap() {
    let d = Desk::start().await;
    let mia = d.login("mia").await;
    let all = d.all_flags(&mia).await;
    let with_contract = all
        .iter()
        .find(|f| f["contract_id"].is_string() && f["rule"] == "payment_terms_company_code")
        .expect("a payment-terms flag against a contract");
    let customer = with_contract["customer"].as_str().unwrap().to_string();
    let id = with_contract["id"].as_i64().unwrap();
    let path = format!("/customers/{customer}");

    // The queue and the flag page lead to it.
    let (_, queue) = d.page(&mia, "/?status=all&per_page=200").await;
    assert!(queue.contains(&format!("href=\"{path}\"")));
    let (_, flag) = d.page(&mia, &format!("/flags/{id}")).await;
    assert!(flag.contains(&format!("id=\"customer-link\" href=\"{path}\"")));

    let (status, html) = d.page(&mia, &path).await;
    assert_eq!(status, StatusCode::OK);
    for f in flags_of(&all, &customer) {
        assert!(
            html.contains(&format!("href=\"/flags/{}\"", f["id"])),
            "flag {} linked",
            f["id"]
        );
    }
    assert!(html.contains("id=\"customer-contracts\""));
    let contract_id = with_contract["contract_id"].as_str().unwrap();
    assert!(html.contains(&format!("<td>{}</td>", esc(contract_id))));
    // Every master level, as the store holds it.
    let master = d
        .store
        .customer(&erpsync::model::CustomerId::parse(&customer).unwrap())
        .await
        .unwrap()
        .expect("the customer is in the master");
    assert!(!master.company_codes.is_empty());
    let levels = &html[html.find("id=\"customer-master\"").unwrap()..];
    assert!(levels.contains("id=\"company-codes\""));
    for cc in &master.company_codes {
        assert!(levels.contains(&format!(
            "<td>{}</td><td>{}</td>",
            cc.company_code,
            cc.payment_terms.as_deref().unwrap_or("–")
        )));
    }
    assert_eq!(
        levels.contains("id=\"sales-areas\""),
        !master.sales_areas.is_empty()
    );
    for sa in &master.sales_areas {
        assert!(levels.contains(&format!("<td>{}</td>", sa.area)));
    }
    assert!(html.contains(&format!("href=\"/ar/customers/{customer}\"")));
    // Register contracts go by their source's name; the server's paths are nobody's business.
    let dir = d._env.dir.path().to_str().unwrap().to_string();
    for page in [&html, &flag, &queue] {
        assert!(!page.contains(&dir) && !page.contains("contracts.csv"));
    }
    assert!(element(&html, "no-notes").is_some());

    // A note from the customer page: back to it, shown as queued.
    let r = d
        .post(
            &mia,
            "/notes",
            &[
                ("customer", customer.as_str()),
                ("text", "called <AP>, invoice approved"),
                ("channel", "phone"),
                ("back", path.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{path}?done=note")
    );
    let (_, html) = d.page(&mia, &path).await;
    assert!(html.contains("called &lt;AP&gt;, invoice approved"));
    assert!(
        html.contains("data-status=\"queued\""),
        "a new note is queued"
    );

    // The outbox sends it to the mock SAP: the page says so, and so does the flag's page.
    let config = d._env.config();
    let (mapping, client) = common::erp_of(&config);
    let report = push::drain(
        d.store.as_ref(),
        connect::writer_for(&client, &mapping).as_ref(),
        &config.push,
    )
    .await
    .unwrap();
    assert_eq!(report.notes, 1);
    let (_, html) = d.page(&mia, &path).await;
    assert!(html.contains("data-status=\"sent\"") && html.contains("sent to SAP"));
    assert!(!html.contains("data-status=\"queued\""));
    let (_, flag) = d.page(&mia, &format!("/flags/{id}")).await;
    let notes = &flag[flag.find("id=\"flag-notes\"").unwrap()..];
    assert!(notes.contains("data-status=\"sent\"") && notes.contains("invoice approved"));

    // A note SAP refused says so with SAP's message; one given up says it is a dead letter.
    for (text, outcome, message) in [
        (
            "refused one",
            OutboxStatus::Failed,
            "Text object ZCOL not allowed",
        ),
        ("given up", OutboxStatus::Dead, "503 Service Unavailable"),
    ] {
        let r = d
            .post(
                &mia,
                "/notes",
                &[("customer", customer.as_str()), ("text", text)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let entry = d
            .store
            .outbox_list(Some(OutboxStatus::Pending))
            .await
            .unwrap()
            .pop()
            .unwrap();
        d.store
            .outbox_mark_failed(entry.id, message, chrono::Utc::now(), Some(outcome))
            .await
            .unwrap();
    }
    let (_, html) = d.page(&mia, &path).await;
    assert!(html.contains("data-status=\"failed\""));
    assert!(html.contains("SAP said \u{201c}Text object ZCOL not allowed\u{201d}"));
    assert!(html.contains("data-status=\"dead\"") && html.contains("dead letter"));

    // Nothing held, or not a customer number: a page saying so.
    for missing in ["/customers/9999999", "/customers/abc%3Cx%3E"] {
        let (status, html) = d.page(&mia, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(html.contains("id=\"error\"") && !html.contains("<x>"));
    }
}

#[tokio::test]
async fn a_collector_lands_on_their_customers_and_a_viewer_on_the_open_flags() {
    let d = Desk::start().await;
    let cole = d.login("cole").await;
    let mine: std::collections::HashSet<String> = d
        .store
        .customers_of_clerks(&["01".to_string()])
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert!(!mine.is_empty(), "the mock has customers of clerk 01");
    let (status, html) = d.page(&cole, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("class=\"on\" aria-current=\"page\" id=\"view-customers\""));
    let shown: Vec<String> = html
        .split("class=\"customer-link\" tabindex=\"-1\" href=\"/customers/")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    assert!(!shown.is_empty(), "the collector's customers have flags");
    assert!(
        shown.iter().all(|c| mine.contains(c)),
        "{shown:?} not all of clerk 01"
    );
    // Every open flag of those customers is there.
    let all = d.all_flags(&cole).await;
    let expected = all
        .iter()
        .filter(|f| mine.contains(f["customer"].as_str().unwrap()))
        .filter(|f| f["status"] == "open" || f["status"] == "acknowledged")
        .count();
    let tab = element(&html, "view-customers").unwrap();
    assert!(
        tab.ends_with(&format!(">{expected}")),
        "{tab} counts {expected}"
    );

    // A viewer collects nothing and lands on the open flags.
    let vera = d.login("vera").await;
    let (_, html) = d.page(&vera, "/").await;
    assert!(!html.contains("id=\"view-customers\""));
    let open_tab = html
        .split("<a")
        .find(|a| a.contains("data-status=\"open\">"))
        .unwrap();
    assert!(open_tab.contains("class=\"on\""), "{open_tab}");
}
