//! The mock ERP over real HTTP: paging, query options, auth, CSRF, ETags, SOAP dispute
//! cases, determinism, planted findings and fault injection.

mod common;

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

#[tokio::test]
async fn soap_dispute_cases_read_update_conflict_closed_check() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let cases = &h.dataset().dispute_cases;
    let open = read_case(&c, &h, &cases[0].case_id).await;
    assert_eq!(open.status_code, "OPEN");
    assert!(!open.closed);
    assert_eq!(open.items.len(), 1);

    // Check: validates, writes nothing.
    let req = dc::UpdateRequest {
        case_id: open.case_id.clone(),
        change_state_id: open.change_state_id.clone(),
        status_code: Some("INPR".into()),
        note: Some("Customer sent proof of delivery".into()),
    };
    let checked = update(&c, &h, &req, true).await;
    assert!(!checked.is_error());
    assert!(checked.has(log_type::CHECK_OK));
    assert!(h.writes().is_empty());
    assert_eq!(read_case(&c, &h, &open.case_id).await, open);

    let done = update(&c, &h, &req, false).await;
    assert!(done.has(log_type::UPDATED), "{done:?}");
    assert_eq!(done.status_code.as_deref(), Some("INPR"));
    assert_ne!(
        done.change_state_id.as_deref(),
        Some(open.change_state_id.as_str())
    );
    let writes = h.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].entity_set, "DisputeCase");
    assert_eq!(writes[0].key, open.case_id);
    assert_eq!(writes[0].method, "Update");
    assert_eq!(writes[0].body["StatusCode"], "INPR");

    // The old ChangeStateID is stale now.
    let stale = update(&c, &h, &req, false).await;
    assert!(stale.is_error());
    assert!(stale.has(log_type::CHANGE_STATE_MISMATCH));
    assert_eq!(h.writes().len(), 1);

    // Closed and voided cases refuse changes.
    for idx in [2, 3] {
        let closed = read_case(&c, &h, &cases[idx].case_id).await;
        assert!(closed.closed);
        let r = update(
            &c,
            &h,
            &dc::UpdateRequest {
                case_id: closed.case_id.clone(),
                change_state_id: closed.change_state_id.clone(),
                status_code: Some("OPEN".into()),
                note: None,
            },
            false,
        )
        .await;
        assert!(r.has(log_type::CASE_CLOSED));
    }

    // Unknown case: an error in the log; garbage: a SOAP fault; no auth: 401.
    let req = dc::build_read_request(
        SoapVersion::V11,
        &dc::ReadRequest {
            case_id: "999999999999".into(),
        },
    );
    let r = soap(&c, &h, SoapVersion::V11, req).await;
    let resp = dc::parse_read_response(&r.text().await.unwrap()).unwrap();
    assert!(resp.case.is_none());
    assert_eq!(resp.log[0].type_id, log_type::NOT_FOUND);
    let r = soap(&c, &h, SoapVersion::V11, "<nonsense/>".into()).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(matches!(
        dc::parse_read_response(&r.text().await.unwrap()),
        Err(dc::SoapError::Fault { .. })
    ));
    let r = c.post(h.soap_url()).body("x").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(h.writes().len(), 1);
}

#[tokio::test]
async fn same_seed_same_bytes_other_seed_other_data() {
    let a = spawn(MockErpConfig::default()).await;
    let b = spawn(MockErpConfig::default()).await;
    let c = client();
    for path in [
        "API_BUSINESS_PARTNER/A_Customer",
        "API_BUSINESS_PARTNER/A_CustomerSalesArea",
        "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
        "API_SALES_CONTRACT_SRV/A_SalesContract",
    ] {
        let ta = get(&c, &url(&a, path, &[])).await.text().await.unwrap();
        let tb = get(&c, &url(&b, path, &[])).await.text().await.unwrap();
        let tb = tb.replace(&b.addr().to_string(), &a.addr().to_string());
        assert_eq!(ta, tb, "{path}");
    }
    assert_eq!(a.dataset().register_csv(), b.dataset().register_csv());
    let other = Dataset::generate(&MockErpConfig {
        seed: 43,
        ..MockErpConfig::default()
    });
    assert_ne!(other.register_csv(), a.dataset().register_csv());
    assert_ne!(other.customers, a.dataset().customers);
}

#[test]
fn planted_findings_cover_every_rule_and_decoys_exist() {
    let ds = Dataset::generate(&MockErpConfig::default());
    let planted = ds.planted();
    for rule in [
        "payment_terms_company_code",
        "payment_terms_sales_area",
        "currency",
        "unknown_payment_terms",
        "contract_terms_unreadable",
        "customer_missing",
        "payment_terms_company_vs_sales_area",
        "customer_blocked",
        "billing_address",
        "open_item_billed_terms",
        "contract_expired_special_terms",
        "credit_limit",
    ] {
        assert!(planted.iter().any(|p| p.rule == rule), "no planted {rule}");
    }
    let decoys = ds.decoys();
    assert!(!decoys.is_empty());
    let contract_ids: HashSet<&str> = ds
        .register
        .iter()
        .map(|r| r.contract_id.as_str())
        .chain(ds.sales_contracts.iter().map(|c| c.sales_contract.as_str()))
        .collect();
    for p in planted.iter().chain(&decoys) {
        assert!(
            p.contract_id.is_empty() || contract_ids.contains(p.contract_id.as_str()),
            "{p:?}"
        );
        assert!(
            p.scope.starts_with("CC ")
                || p.scope.starts_with("SA ")
                || p.scope.starts_with("contract ")
                || p.scope == "customer"
                || p.scope == "credit",
            "{p:?}"
        );
    }
    let csv = ds.register_csv();
    // CLM exports drop leading zeros for some customers; an expired contract is present.
    assert!(ds
        .register
        .iter()
        .any(|r| !r.customer.starts_with('0') && r.customer.chars().all(|c| c.is_ascii_digit())));
    assert!(csv.contains("2025-12-31"));
    assert!(csv.contains("货到付款"));
}

#[tokio::test]
async fn faults_fire_the_given_number_of_times() {
    let h = spawn(MockErpConfig::default()).await;
    let c = client();
    let customers = url(&h, "API_BUSINESS_PARTNER/A_Customer", &[("$top", "1")]);

    h.set_faults("500@A_Customer:2,429@A_CustomerCompany:1".parse().unwrap());
    for _ in 0..2 {
        let r = get(&c, &customers).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"]["value"].as_str().is_some());
    }
    assert_eq!(get(&c, &customers).await.status(), StatusCode::OK);
    let r = get(&c, &url(&h, "API_BUSINESS_PARTNER/A_CustomerCompany", &[])).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(
        get(&c, &url(&h, "API_BUSINESS_PARTNER/A_CustomerCompany", &[]))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(h.faults_fired(), 3);

    h.set_faults("malformed@A_SalesContract:1".parse().unwrap());
    let sc = url(&h, "API_SALES_CONTRACT_SRV/A_SalesContract", &[]);
    let broken = get(&c, &sc).await.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&broken).is_err());
    assert!(serde_json::from_str::<Value>(&get(&c, &sc).await.text().await.unwrap()).is_ok());

    h.set_faults("delay=300@*:1".parse().unwrap());
    let t = Instant::now();
    assert_eq!(get(&c, &customers).await.status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));

    h.set_faults("timeout@A_OperationalAcctgDocItemCube:1".parse().unwrap());
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = impatient
        .get(url(
            &h,
            "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube",
            &[("$top", "1")],
        ))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());

    // CSRF expiry: a valid token is refused once, and a fresh fetch works again.
    h.set_faults("csrf-expire@A_CustomerText:1".parse::<FaultSpec>().unwrap());
    let token = fetch_token(&c, &h).await;
    let texts = url(&h, "API_BUSINESS_PARTNER/A_CustomerText", &[]);
    let post = |token: String| {
        c.post(&texts)
            .basic_auth(USER, Some(PASS))
            .header("x-csrf-token", token)
            .json(&text_body(&h, "TX09"))
            .send()
    };
    let r = post(token.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.headers()["x-csrf-token"], "Required");
    let fresh = fetch_token(&c, &h).await;
    assert_ne!(fresh, token);
    assert_eq!(post(fresh).await.unwrap().status(), StatusCode::CREATED);

    // SOAP faults.
    h.set_faults("503@DisputeCase:1".parse().unwrap());
    let req = dc::build_read_request(
        SoapVersion::V11,
        &dc::ReadRequest {
            case_id: h.dataset().dispute_cases[0].case_id.clone(),
        },
    );
    let r = soap(&c, &h, SoapVersion::V11, req.clone()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        soap(&c, &h, SoapVersion::V11, req).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let h = spawn(MockErpConfig {
        customers: 5,
        open_items: 10,
        ..MockErpConfig::default()
    })
    .await;
    let addr = h.addr();
    h.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Kills the standalone mock when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn standalone_mock_demands_and_prints_the_given_credentials() {
    use std::io::{BufRead, BufReader};
    let mut child = Child(
        common::cli::erpsync()
            .args([
                "mock-erp",
                "--listen",
                "127.0.0.1:0",
                "--customers",
                "40",
                "--open-items",
                "100",
                "--user",
                "COLLECTOR",
                "--password",
                "it's s3cret",
                "--sap-client",
                "200",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("erpsync mock-erp starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    // The block ends with the password line of `[erp.auth]`. The reader keeps draining
    // stdout afterwards, so the mock never writes into a closed pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut block = Vec::new();
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.is_none() {
                continue;
            }
            let last = line.starts_with("password_env");
            block.push(line);
            if last {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(std::mem::take(&mut block));
                }
            }
        }
    });
    let block = tokio::task::spawn_blocking(move || {
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the mock prints its block")
    })
    .await
    .unwrap();
    let value = |key: &str| -> String {
        block
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{key} in {block:#?}"))
            .to_string()
    };
    let base_url = value("base_url");
    assert!(base_url.ends_with("/sap/opu/odata/sap/"), "{base_url}");
    assert_eq!(value("sap_client"), "200");
    assert_eq!(value("user"), "COLLECTOR");
    assert_eq!(value("password_env"), "SAP_PASSWORD");
    assert!(
        block
            .iter()
            .any(|l| l.contains(r#"export SAP_PASSWORD='it'\''s s3cret'"#)),
        "{block:#?}"
    );

    let c = client();
    let page =
        format!("{base_url}API_BUSINESS_PARTNER/A_Customer?sap-client=200&$format=json&$top=5");
    let r = c
        .get(&page)
        .basic_auth("COLLECTOR", Some("it's s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["d"]["results"].as_array().unwrap().len(), 5);
    // Today's fixed credentials no longer open it, nor does a wrong password.
    for (user, pass) in [(USER, PASS), ("COLLECTOR", "secret")] {
        let r = c
            .get(&page)
            .basic_auth(user, Some(pass))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
    }
    // The default client is refused too.
    let other = page.replace("sap-client=200", "sap-client=100");
    let r = c
        .get(&other)
        .basic_auth("COLLECTOR", Some("it's s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
