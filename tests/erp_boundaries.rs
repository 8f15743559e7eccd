//! What the ERP client refuses whatever a server answers: next links that leave the ERP or
//! loop, waits longer than `max_retry_after_seconds`, and answers (OData, gzip, OAuth token)
//! larger than `max_response_mb`. The servers are scripted on loopback, one answer per path,
//! so each test can show that nothing was sent where it must not be.

use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::{ODataClient, Pager};
use erpsync::erp::{ErpAuth, ErpConfig, ErpKind};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One scripted answer: status line, extra headers, body.
struct Answer {
    status: &'static str,
    headers: Vec<String>,
    body: Vec<u8>,
}

fn json(body: String) -> Answer {
    Answer {
        status: "200 OK",
        headers: vec!["Content-Type: application/json".into()],
        body: body.into_bytes(),
    }
}

type Script = Arc<dyn Fn(&str, usize) -> Answer + Send + Sync>;

/// A loopback HTTP server answering by `script(path, n)` (n: requests so far to that
/// path); returns its root URL and the paths it was asked for.
async fn serve(script: Script) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (script, log) = (script.clone(), log.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let path = target.split('?').next().unwrap_or("/").to_string();
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(path.clone());
                    log.iter().filter(|p| **p == path).count() - 1
                };
                let answer = script(&path, n);
                let mut out = format!("HTTP/1.1 {}\r\nConnection: close\r\n", answer.status);
                for h in &answer.headers {
                    out.push_str(h);
                    out.push_str("\r\n");
                }
                out.push_str("\r\n");
                let _ = conn.write_all(out.as_bytes()).await;
                let _ = conn.write_all(&answer.body).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    (root, asked)
}

fn config(root: &str, auth: ErpAuth) -> ErpConfig {
    ErpConfig {
        kind: ErpKind::Odata,
        base_url: Some(format!("{root}/sap/").parse().unwrap()),
        mapping: "mappings/s4hana-odata-v2.toml".into(),
        sap_client: None,
        services: Default::default(),
        auth,
        timeout: Duration::from_secs(10),
        page_size: 500,
        client_paging: false,
        max_retries: 2,
        sap_language: None,
        max_concurrent_requests: 4,
        ca_file: None,
        client_cert_file: None,
        client_key_file: None,
        max_retry_after: Duration::from_secs(1),
        allow_insecure_http: false,
        max_response_bytes: 1 << 20,
    }
}

fn mapping() -> Mapping {
    Mapping::load(std::path::Path::new("mappings/s4hana-odata-v2.toml")).unwrap()
}

/// Reads every page of the customers; the error text when one fails.
async fn pull_customers(client: &ODataClient) -> Result<usize, String> {
    let mapping = mapping();
    let mut pager = Pager::new(client, mapping.entity("customers"), None);
    let mut pages = 0;
    let read = async {
        while pager
            .next_page()
            .await
            .map_err(|e| e.to_string())?
            .is_some()
        {
            pages += 1;
        }
        Ok(pages)
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap_or_else(|_| Err("the pull did not end".into()))
}

const CUSTOMERS: &str = "/sap/API_BUSINESS_PARTNER/A_Customer";

fn page(next: &str) -> Answer {
    json(format!(
        r#"{{"d":{{"results":[{{"Customer":"1","CustomerName":"A"}}],"__next":"{next}"}}}}"#
    ))
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let (foreign, foreign_asked) = serve(Arc::new(|_: &str, _| json("{}".into()))).await;
    let link = format!("{foreign}/steal?$skiptoken=2");
    let (root, _) = serve(Arc::new(move |_: &str, _| page(&link))).await;
    let client = ODataClient::new(&config(&root, ErpAuth::None)).unwrap();
    let err = pull_customers(&client).await.unwrap_err();
    assert!(err.contains("leads away from the ERP"), "{err}");
    assert!(foreign_asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_next_link_loop_stops_the_pull() {
    let (root, asked) = serve(Arc::new(|path: &str, _| {
        if path == CUSTOMERS {
            page("/sap/API_BUSINESS_PARTNER/Page2")
        } else {
            page(&format!("{CUSTOMERS}?$skiptoken=1"))
        }
    }))
    .await;
    // The first page's link leads to page 2, whose link leads back to the first.
    let client = ODataClient::new(&config(&root, ErpAuth::None)).unwrap();
    let err = pull_customers(&client).await.unwrap_err();
    assert!(err.contains("a loop"), "{err}");
    assert!(asked.lock().unwrap().len() <= 4);
}

#[tokio::test]
async fn a_huge_retry_after_waits_only_the_configured_cap() {
    let (root, _) = serve(Arc::new(|_: &str, n| {
        if n == 0 {
            Answer {
                status: "503 Service Unavailable",
                headers: vec!["Retry-After: 100000".into()],
                body: Vec::new(),
            }
        } else {
            json(r#"{"d":{"results":[]}}"#.into())
        }
    }))
    .await;
    let client = ODataClient::new(&config(&root, ErpAuth::None)).unwrap();
    assert_eq!(pull_customers(&client).await, Ok(1));
}

fn too_large(err: &str) {
    assert!(
        err.contains("larger than 1 MB") && err.contains("erp.max_response_mb"),
        "{err}"
    );
}

#[tokio::test]
async fn an_answer_over_the_limit_is_refused() {
    let (root, _) = serve(Arc::new(|_: &str, _| {
        let mut body = br#"{"d":{"results":[]}}"#.to_vec();
        body.resize(3 << 20, b' ');
        Answer {
            status: "200 OK",
            headers: vec!["Content-Type: application/json".into()],
            body,
        }
    }))
    .await;
    let client = ODataClient::new(&config(&root, ErpAuth::None)).unwrap();
    let err = pull_customers(&client).await.unwrap_err();
    too_large(&err);
    assert!(err.contains(CUSTOMERS), "{err}");
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_by_its_decompressed_size() {
    let mut body = br#"{"d":{"results":[]}}"#.to_vec();
    body.resize(8 << 20, b' ');
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&body).unwrap();
    let gz = Arc::new(gz.finish().unwrap());
    assert!(gz.len() < 1 << 20);
    let (root, _) = serve(Arc::new(move |_: &str, _| Answer {
        status: "200 OK",
        headers: vec![
            "Content-Type: application/json".into(),
            "Content-Encoding: gzip".into(),
            format!("Content-Length: {}", gz.len()),
        ],
        body: gz.to_vec(),
    }))
    .await;
    let client = ODataClient::new(&config(&root, ErpAuth::None)).unwrap();
    too_large(&pull_customers(&client).await.unwrap_err());
}

#[tokio::test]
async fn an_oauth_token_answer_over_the_limit_is_refused() {
    let (root, asked) = serve(Arc::new(|path: &str, _| {
        if path == "/token" {
            json(format!(
                r#"{{"access_token":"{}","token_type":"bearer"}}"#,
                "x".repeat(2 << 20)
            ))
        } else {
            json(r#"{"d":{"results":[]}}"#.into())
        }
    }))
    .await;
    let auth = ErpAuth::OAuth2 {
        token_url: format!("{root}/token").parse().unwrap(),
        client_id: "erpsync".into(),
        client_secret: "secret".to_string().into(),
        scope: None,
    };
    let client = ODataClient::new(&config(&root, auth)).unwrap();
    let err = pull_customers(&client).await.unwrap_err();
    too_large(&err);
    assert!(err.contains("/token"), "{err}");
    assert!(!asked.lock().unwrap().iter().any(|p| p == CUSTOMERS));
}
