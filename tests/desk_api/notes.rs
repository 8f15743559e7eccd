//! Collectors' notes and dispute statuses through the API and the desk's form.

use super::*;

#[tokio::test]
async fn collectors_queue_notes_and_dispute_statuses() {
    let d = Desk::start().await;
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, body) = d
        .post(
            Some("t-collector"),
            "/api/v1/notes",
            json!({"customer": customer, "text": "客户答应月底付款 / promised by month end", "channel": "chat"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["note"]["author"], "t-collector");
    let outbox = d
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap();
    assert!(outbox
        .iter()
        .any(|e| e.id == body["outbox_id"].as_i64().unwrap()
            && e.payload.to_string().contains("客户答应月底付款")));
    for bad in [
        json!({"customer": customer, "text": "  "}),
        json!({"customer": customer, "text": "x", "channel": "pigeon"}),
        json!({"customer": "not a customer number at all", "text": "x"}),
    ] {
        let (code, _) = d
            .post(Some("t-collector"), "/api/v1/notes", bad.clone())
            .await;
        assert!(
            code == StatusCode::BAD_REQUEST || code == StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {code}"
        );
    }

    let (code, body) = d
        .post(
            Some("t-collector"),
            "/api/v1/disputes/DC-77/status",
            json!({"status": "inpr", "note": "checking"}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["change"]["status"], "INPR");
    let (code, status) = d
        .get(Some("t-viewer"), "/api/v1/disputes/DC-77/status")
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["status"], "INPR");
    let (code, _) = d
        .post(
            Some("t-collector"),
            "/api/v1/disputes/DC-77/status",
            json!({"status": "not a key!"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let _ = &d.env;
}

/// A note's collector details — channel, medium, follow-up date, promise to pay — from the
/// API and from the desk's note form are stored exactly as `erpsync notes add` stores them.
#[tokio::test]
async fn notes_from_api_and_desk_form_carry_the_collector_details_as_the_cli_does() {
    let d = Desk::start().await;
    let customer = d.first("open").await["customer"]
        .as_str()
        .unwrap()
        .to_string();
    let details = [
        ("channel", "chat"),
        ("via", "WeChat"),
        ("follow_up", "2026-12-01"),
        ("promise_amount", "1250.50"),
        ("promise_currency", "cny"),
        ("promise_date", "2026-12-05"),
    ];
    let text = "客户说下周付款 / will pay next week";

    let mut body = json!({"customer": customer, "text": text});
    for (k, v) in details {
        body[k] = json!(v);
    }
    let (code, created) = d.post(Some("t-collector"), "/api/v1/notes", body).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["note"]["promise"]["currency"], "CNY");
    let from_api = created["outbox_id"].as_i64().unwrap();

    let (cookie, csrf) = login(&d, "carl", "carl-pw").await.unwrap();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("customer", customer.as_str()),
        ("text", text),
        ("back", "/flags/1"),
    ];
    form.extend(details);
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(d.url("/notes"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let (code, _, err) = d.env.cli(&[
        "notes",
        "add",
        "--customer",
        &customer,
        "--by",
        "carl",
        "--text",
        text,
        "--channel",
        "chat",
        "--via",
        "WeChat",
        "--follow-up",
        "2026-12-01",
        "--promise-amount",
        "1250.50",
        "--promise-currency",
        "cny",
        "--promise-date",
        "2026-12-05",
    ]);
    assert_eq!(code, 0, "{err}");

    let mut notes: Vec<_> = d
        .store
        .outbox_list(Some(OutboxStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.payload["text"] == text)
        .collect();
    notes.sort_by_key(|e| e.id);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes.iter().any(|e| e.id == from_api));
    // Who wrote it, when and under which key differ by nature; everything else is equal.
    let same = |e: &erpsync::store::OutboxEntry| {
        let mut p = e.payload.clone();
        for k in ["author", "created_at", "idempotency_key"] {
            p.as_object_mut().unwrap().remove(k);
        }
        p
    };
    let cli = same(&notes[2]);
    assert_eq!(cli["promise"]["amount"], "1250.50", "{cli}");
    assert_eq!(cli["follow_up"], "2026-12-01");
    assert_eq!(cli["via"], "WeChat");
    assert_eq!(cli["channel"], "chat");
    assert_eq!(same(&notes[0]), cli);
    assert_eq!(same(&notes[1]), cli);
    assert_eq!(notes[0].payload["author"], "t-collector");
    assert_eq!(notes[1].payload["author"], "carl");

    // Refused as the CLI refuses it, naming the field as sent.
    let (code, refused) = d
        .post(
            Some("t-collector"),
            "/api/v1/notes",
            json!({"customer": customer, "text": "x", "promise_amount": "10"}),
        )
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["error"],
        "a promise to pay needs promise_amount, promise_currency and promise_date together"
    );
}
