//! The mock ERP over real HTTP: paging, query options, auth, CSRF, ETags, SOAP dispute
//! cases, determinism, planted findings and fault injection.

mod common;
#[path = "mock_erp/dispute_cases.rs"]
mod dispute_cases;
#[path = "mock_erp/lifecycle.rs"]
mod lifecycle;

use erpsync::erp::soap::dispute_case::{self as dc, log_type, SoapVersion};
use erpsync::mock_erp::{Dataset, FaultSpec, MockErpConfig, MockErpHandle};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const USER: &str = "ERPSYNC";
const PASS: &str = "secret";

async fn spawn(config: MockErpConfig) -> MockErpHandle {
    common::mock::start(config).await
}

fn client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// `base_url` + `path` with `sap-client`, `$format=json` and the given options.
fn url(h: &MockErpHandle, path: &str, opts: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{}{}", h.base_url(), path)).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("sap-client", "100");
        q.append_pair("$format", "json");
        for (k, v) in opts {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

async fn get(c: &Client, url: &str) -> reqwest::Response {
    c.get(url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap()
}

async fn get_json(c: &Client, url: &str) -> Value {
    let r = get(c, url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

/// Follows `__next` to the end; returns every entity and the number of pages.
async fn walk(c: &Client, first: &str) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_string());
    while let Some(u) = next {
        let page = get_json(c, &u).await;
        pages += 1;
        all.extend(page["d"]["results"].as_array().unwrap().iter().cloned());
        next = page["d"]["__next"].as_str().map(str::to_string);
    }
    (all, pages)
}

#[tokio::test]
async fn paging_walks_every_customer_exactly_once() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let first = url(
        &h,
        "API_BUSINESS_PARTNER/A_Customer",
        &[("$inlinecount", "allpages")],
    );
    let page = get_json(&c, &first).await;
    assert_eq!(page["d"]["__count"], "200");
    assert_eq!(page["d"]["results"].as_array().unwrap().len(), 100);
    assert!(page["d"]["__next"]
        .as_str()
        .unwrap()
        .contains("$skiptoken="));
    let (all, pages) = walk(&c, &first).await;
    assert_eq!(pages, 2);
    let ids: Vec<&str> = all
        .iter()
        .map(|e| e["Customer"].as_str().unwrap())
        .collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(ids.len(), 200);
    assert_eq!(unique.len(), 200);
    let expected: Vec<&str> = h
        .dataset()
        .customers
        .iter()
        .map(|c| c.customer.as_str())
        .collect();
    assert_eq!(ids, expected);
    let meta = &all[0]["__metadata"];
    assert_eq!(meta["type"], "API_BUSINESS_PARTNER.A_CustomerType");
    assert!(meta["uri"]
        .as_str()
        .unwrap()
        .ends_with("A_Customer('0001000001')"));
    // Chinese names arrive as UTF-8.
    assert!(all
        .iter()
        .any(|e| e["CustomerName"].as_str().unwrap().contains("有限公司")));
}

#[tokio::test]
async fn open_item_filter_excludes_cleared_and_supplier_lines() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let filter = "FinancialAccountType eq 'D' and IsCleared eq false";
    let (items, _) = walk(
        &c,
        &url(
            &h,
            "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
            &[("$filter", filter)],
        ),
    )
    .await;
    assert_eq!(items.len(), 2000);
    assert_eq!(items.len(), h.dataset().open_customer_items().count());
    for i in &items {
        assert_eq!(i["FinancialAccountType"], "D");
        assert_eq!(i["IsCleared"], false);
        assert_eq!(i["Supplier"], "");
        assert!(i["NetDueDate"].as_str().unwrap().starts_with("/Date("));
        let amount: rust_decimal::Decimal = i["AmountInTransactionCurrency"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(amount.scale(), 2);
    }
    assert!(items.iter().any(|i| i["DebitCreditCode"] == "H"));
    // Without the filter the cube is bigger: cleared items and AP lines are in it.
    let all = get_json(
        &c,
        &url(
            &h,
            "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
            &[("$top", "0"), ("$inlinecount", "allpages")],
        ),
    )
    .await;
    let total: usize = all["d"]["__count"].as_str().unwrap().parse().unwrap();
    assert!(total > 2000);
    // Ordered by the key, as sync jobs ask: same items, same order, each once.
    let (ordered, pages) = walk(
        &c,
        &url(
            &h,
            "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
            &[
                ("$filter", filter),
                (
                    "$orderby",
                    "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem",
                ),
                (
                    "$select",
                    "CompanyCode,FiscalYear,AccountingDocument,AccountingDocumentItem",
                ),
            ],
        ),
    )
    .await;
    assert_eq!(pages, 20);
    let keys: Vec<String> = ordered
        .iter()
        .map(|i| {
            format!(
                "{}/{}/{}/{}",
                i["CompanyCode"],
                i["FiscalYear"],
                i["AccountingDocument"],
                i["AccountingDocumentItem"]
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 2000);
    // Parentheses, or, datetime literals.
    let q = "(FinancialAccountType eq 'K' or IsCleared eq true) and PostingDate ge datetime'2026-01-01T00:00:00'";
    let (others, _) = walk(
        &c,
        &url(
            &h,
            "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
            &[("$filter", q)],
        ),
    )
    .await;
    assert_eq!(others.len(), total - 2000);
}

#[tokio::test]
async fn string_literals_double_their_quotes_and_bad_filters_get_400() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let page = get_json(
        &c,
        &url(
            &h,
            "API_BUSINESS_PARTNER/A_Customer",
            &[("$filter", "CustomerName eq 'O''Neill & Sons Ltd'")],
        ),
    )
    .await;
    let results = page["d"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["CustomerName"], "O'Neill & Sons Ltd");

    for bad in [
        "CustomerName eq 'O'Neill'",
        "Customer eq",
        "Nope eq 'x'",
        "PostingIsBlocked eq 'false'",
    ] {
        let r = get(
            &c,
            &url(&h, "API_BUSINESS_PARTNER/A_Customer", &[("$filter", bad)]),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"]["value"].as_str().is_some());
        assert!(body["error"]["innererror"]["errordetails"].is_array());
    }
}

#[tokio::test]
async fn select_top_skip_orderby_inlinecount() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let page = get_json(
        &c,
        &url(
            &h,
            "API_BUSINESS_PARTNER/A_Customer",
            &[
                ("$select", "Customer,CustomerName"),
                ("$top", "5"),
                ("$skip", "2"),
                ("$orderby", "Customer desc"),
                ("$inlinecount", "allpages"),
            ],
        ),
    )
    .await;
    assert_eq!(page["d"]["__count"], "200");
    assert!(page["d"]["__next"].is_null());
    let results = page["d"]["results"].as_array().unwrap();
    let mut expected: Vec<&str> = h
        .dataset()
        .customers
        .iter()
        .map(|c| c.customer.as_str())
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<&str> = results
        .iter()
        .map(|e| e["Customer"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected[2..7].to_vec());
    let keys: Vec<&String> = results[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");

    // $top larger than a page: the next link carries what is left of it.
    let first = url(&h, "API_BUSINESS_PARTNER/A_Customer", &[("$top", "150")]);
    let p1 = get_json(&c, &first).await;
    assert!(
        p1["d"]["__next"].as_str().unwrap().contains("%24top=50")
            || p1["d"]["__next"].as_str().unwrap().contains("$top=50")
    );
    let (all, pages) = walk(&c, &first).await;
    assert_eq!((all.len(), pages), (150, 2));

    // Entity by key, several key properties.
    let cc = &h.dataset().company_codes[0];
    let cust = &h.dataset().customers[cc.customer as usize].customer;
    let one = get_json(
        &c,
        &url(
            &h,
            &format!(
                "API_BUSINESS_PARTNER/A_CustomerCompany(Customer='{cust}',CompanyCode='{}')",
                cc.company_code
            ),
            &[],
        ),
    )
    .await;
    assert_eq!(one["d"]["PaymentTerms"], cc.payment_terms);

    let meta = get(
        &c,
        &format!(
            "{}API_BUSINESS_PARTNER/$metadata?sap-client=100",
            h.base_url()
        ),
    )
    .await;
    assert_eq!(meta.status(), StatusCode::OK);
    assert!(meta.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let xml = meta.text().await.unwrap();
    assert!(xml.contains("<EntityType Name=\"A_CustomerSalesAreaType\""));
    assert!(xml.contains("Name=\"CustomerPaymentTerms\""));
    assert!(xml.contains("sap:filterable=\"false\""));
}

#[tokio::test]
async fn auth_and_client_are_required() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let u = url(&h, "API_BUSINESS_PARTNER/A_Customer", &[]);
    let r = c.get(&u).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let r = c
        .get(&u)
        .basic_auth(USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let other_client = u.replace("sap-client=100", "sap-client=200");
    let r = get(&c, &other_client).await;
    assert!(r.status().is_client_error());
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"]["value"]
        .as_str()
        .unwrap()
        .contains("200"));
}

async fn fetch_token(c: &Client, h: &MockErpHandle) -> String {
    let r = c
        .get(url(h, "API_BUSINESS_PARTNER/", &[]))
        .basic_auth(USER, Some(PASS))
        .header("x-csrf-token", "Fetch")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["x-csrf-token"].to_str().unwrap().to_string()
}

fn text_body(h: &MockErpHandle, id: &str) -> Value {
    serde_json::json!({
        "Customer": h.dataset().customers[5].customer,
        "Language": "EN",
        "LongTextID": id,
        "LongText": "Called customer; promised payment by Friday.",
    })
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_session() {
    let h = spawn(MockErpConfig::default()).await;
    let a = client();
    let texts = url(&h, "API_BUSINESS_PARTNER/A_CustomerText", &[]);

    let r = a
        .post(&texts)
        .basic_auth(USER, Some(PASS))
        .json(&text_body(&h, "TX02"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["x-csrf-token"], "Required");

    let token = fetch_token(&a, &h).await;
    let r = a
        .post(&texts)
        .basic_auth(USER, Some(PASS))
        .header("x-csrf-token", &token)
        .header("Repeatability-Request-ID", "req-1")
        .json(&text_body(&h, "TX02"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.headers().contains_key("etag"));

    let writes: Value = a
        .get(format!("http://{}/mock/writes", h.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let w = &writes.as_array().unwrap()[0];
    assert_eq!(w["entity_set"], "A_CustomerText");
    assert_eq!(w["method"], "POST");
    assert_eq!(w["request_id"], "req-1");
    assert_eq!(w["body"]["LongTextID"], "TX02");
    assert!(w["key"].as_str().unwrap().contains("LongTextID='TX02'"));

    // Another session's token does not open this one, nor does this token open another.
    let b = client();
    let _ = fetch_token(&b, &h).await;
    let r = b
        .post(&texts)
        .basic_auth(USER, Some(PASS))
        .header("x-csrf-token", &token)
        .json(&text_body(&h, "TX03"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(h.writes().len(), 1);

    // Creating it twice is refused.
    let r = a
        .post(&texts)
        .basic_auth(USER, Some(PASS))
        .header("x-csrf-token", &token)
        .json(&text_body(&h, "TX02"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn etags_guard_updates() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let token = fetch_token(&c, &h).await;
    let cust = &h.dataset().customers[0].customer;
    let path = format!(
        "API_BUSINESS_PARTNER/A_CustomerText(Customer='{cust}',Language='EN',LongTextID='TX01')"
    );
    let r = get(&c, &url(&h, &path, &[])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["d"]["__metadata"]["etag"], etag.as_str());

    let put = |if_match: Option<&str>| {
        let mut req = c
            .put(url(&h, &path, &[]))
            .basic_auth(USER, Some(PASS))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({ "LongText": "Updated note" }));
        if let Some(m) = if_match {
            req = req.header("If-Match", m);
        }
        req.send()
    };
    assert_eq!(
        put(None).await.unwrap().status(),
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(
        put(Some("W/\"'0000'\"")).await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED
    );
    let ok = put(Some(&etag)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let new_etag = ok.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    // The old tag is stale now.
    assert_eq!(
        put(Some(&etag)).await.unwrap().status(),
        StatusCode::PRECONDITION_FAILED
    );

    // MERGE tunnelled through POST, as SAP UI5 clients send it.
    let r = c
        .post(url(&h, &path, &[]))
        .basic_auth(USER, Some(PASS))
        .header("x-csrf-token", &token)
        .header("X-HTTP-Method", "MERGE")
        .header("If-Match", &new_etag)
        .json(&serde_json::json!({ "LongText": "Merged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let back = get_json(&c, &url(&h, &path, &[])).await;
    assert_eq!(back["d"]["LongText"], "Merged");
    let methods: Vec<String> = h.writes().iter().map(|w| w.method.clone()).collect();
    assert_eq!(methods, ["PUT", "MERGE"]);
}

async fn soap(c: &Client, h: &MockErpHandle, v: SoapVersion, body: String) -> reqwest::Response {
    c.post(h.soap_url())
        .basic_auth(USER, Some(PASS))
        .header("content-type", v.content_type(""))
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn read_case(c: &Client, h: &MockErpHandle, id: &str) -> dc::DisputeCase {
    let req = dc::build_read_request(SoapVersion::V11, &dc::ReadRequest { case_id: id.into() });
    let r = soap(c, h, SoapVersion::V11, req).await;
    assert_eq!(r.status(), StatusCode::OK);
    dc::parse_read_response(&r.text().await.unwrap())
        .unwrap()
        .case
        .expect("case exists")
}

async fn update(
    c: &Client,
    h: &MockErpHandle,
    req: &dc::UpdateRequest,
    simulate: bool,
) -> dc::UpdateResponse {
    let body = dc::build_update_request(SoapVersion::V12, req, simulate);
    let r = soap(c, h, SoapVersion::V12, body).await;
    assert_eq!(r.status(), StatusCode::OK);
    dc::parse_update_response(&r.text().await.unwrap()).unwrap()
}
