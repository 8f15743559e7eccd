//! Seeds, planted findings, faults, shutdown and the standalone server.

use super::*;

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
