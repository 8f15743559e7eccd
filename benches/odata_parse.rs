//! Page parsing: how fast a page of open items is read in each dialect the connector speaks
//! (V2 JSON, V2 Atom XML, V4 JSON with decimals as strings), and read and converted into
//! model records through the shipped mappings. The pages come from the mock ERP over HTTP,
//! so they are what a pull receives; only the reading is timed.
//!
//! `cargo bench --bench odata_parse` (pages of 1,000 items, read 200 times each), or
//! `ERPSYNC_BENCH_PAGE=5000 ERPSYNC_BENCH_ROUNDS=50 cargo bench --bench odata_parse`.

use erpsync::erp::mapping::Mapping;
use erpsync::erp::odata::client::parse_page_as;
use erpsync::erp::odata::Layout;
use erpsync::erp::odata::Record;
use erpsync::mock_erp::{self, MockErpConfig};
use std::sync::Arc;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Sample {
    dialect: &'static str,
    content_type: String,
    body: Vec<u8>,
    mapping: &'static str,
}

#[tokio::main]
async fn main() {
    let page = env_usize("ERPSYNC_BENCH_PAGE", 1000);
    let rounds = env_usize("ERPSYNC_BENCH_ROUNDS", 200);
    let config = MockErpConfig {
        customers: page / 5,
        open_items: page,
        page_size: page,
        ..MockErpConfig::default()
    };
    let mock = mock_erp::start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("mock starts");
    let http = reqwest::Client::new();
    let set = "API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube";
    let query =
        "sap-client=100&$filter=FinancialAccountType%20eq%20%27D%27%20and%20IsCleared%20eq%20false";
    let fetch = |url: String, accept: &'static str| {
        let req = http
            .get(url)
            .basic_auth(&config.user, Some(&config.password))
            .header("Accept", accept);
        async move {
            let resp = req.send().await.expect("mock answers");
            assert!(resp.status().is_success(), "{}", resp.status());
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            (ct, resp.bytes().await.unwrap().to_vec())
        }
    };
    let mut samples = Vec::new();
    let (ct, body) = fetch(
        format!("{}{set}?$format=json&{query}", mock.base_url()),
        "application/json",
    )
    .await;
    samples.push(Sample {
        dialect: "V2 JSON",
        content_type: ct,
        body,
        mapping: "mappings/s4hana-odata-v2.toml",
    });
    mock.set_atom_only(true);
    let (ct, body) = fetch(
        format!("{}{set}?{query}", mock.base_url()),
        "application/atom+xml",
    )
    .await;
    mock.set_atom_only(false);
    samples.push(Sample {
        dialect: "V2 Atom XML",
        content_type: ct,
        body,
        mapping: "mappings/s4hana-odata-v2.toml",
    });
    let (ct, body) = fetch(
        format!(
            "{}{set}?sap-client=100&$filter=FinancialAccountType%20eq%20'D'%20and%20IsCleared%20eq%20false",
            mock.base_url_v4()
        ),
        "application/json;odata.metadata=minimal;IEEE754Compatible=true",
    )
    .await;
    samples.push(Sample {
        dialect: "V4 JSON",
        content_type: ct,
        body,
        mapping: "mappings/s4hana-odata-v4.toml",
    });

    println!("pages of {page} open items, each read {rounds} times");
    println!(
        "| dialect | page size | parse MB/s | parse entities/s | parse + convert entities/s |"
    );
    println!("|---|---|---|---|---|");
    for s in &samples {
        let mapping = Mapping::load(std::path::Path::new(s.mapping)).expect("mapping loads");
        let items = mapping.entity("open_items");
        let layout = Arc::new(Layout::of_mapping(items));
        let first = parse_page_as(Some(&s.content_type), &s.body, &layout).expect("page parses");
        assert_eq!(first.len(), page, "{}", s.dialect);
        for entity in first.entities() {
            Record::new(items, entity)
                .open_item()
                .unwrap_or_else(|e| panic!("{}: {e}", s.dialect));
        }

        let t = Instant::now();
        for _ in 0..rounds {
            let p = parse_page_as(Some(&s.content_type), &s.body, &layout).unwrap();
            std::hint::black_box(&p);
        }
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..rounds {
            let p = parse_page_as(Some(&s.content_type), &s.body, &layout).unwrap();
            for entity in p.entities() {
                std::hint::black_box(Record::new(items, entity).open_item().unwrap());
            }
        }
        let both = t.elapsed().as_secs_f64();
        let entities = (page * rounds) as f64;
        println!(
            "| {} | {:.0} KB | {:.0} | {:.0} | {:.0} |",
            s.dialect,
            s.body.len() as f64 / 1024.0,
            (s.body.len() * rounds) as f64 / parse / 1e6,
            entities / parse,
            entities / both
        );
    }
    mock.shutdown().await;
}
