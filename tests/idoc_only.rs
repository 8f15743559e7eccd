//! An ERP that only sends IDocs (`[erp] kind = "idoc"`): no `base_url`, no OData mapping,
//! no logon. `check`, `sync`, `push` and `run` work from the inbox, a contract register
//! and a T052 export alone.

mod common;

use common::config::token;
use common::ErpsyncToml;
use erpsync::store;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const T052: &str = "\
ZTERM,ZTAGG,ZDART,ZFAEL,ZMONA,ZTAG1,ZPRZ1,ZSTG1,ZSMN1,ZTAG2,ZPRZ2,ZSTG2,ZSMN2,ZTAG3,ZSTG3,ZSMN3,TEXT1
NT30,00,B,00,00,000,0.000,00,00,000,0.000,00,00,030,00,00,Net 30
NT60,00,B,00,00,000,0.000,00,00,000,0.000,00,00,060,00,00,Net 60
";

/// The contract says NT60 where the master (from the IDoc) says NT30.
const REGISTER: &str = "\
contract_id,customer,company_code,sales_org,distribution_channel,division,payment_terms,credit_limit,currency,billing_name,billing_street,billing_city,billing_postal_code,billing_country,valid_from,valid_to
K-1,0000004711,1010,,,,NT60,,EUR,,,,,,2026-01-01,2030-12-31
";

/// Only what an IDoc-only ERP needs: the inbox, a contract register, a T052 export, and
/// a token for `POST /idoc`.
fn idoc_only_config() -> ErpsyncToml {
    ErpsyncToml::sqlite("erpsync.db")
        .set("erp.kind", "idoc")
        .set("idoc.inbox", "inbox")
        .file_contracts("contracts.csv")
        .set("payment_terms.file", "t052.csv")
        .set("server.listen", "127.0.0.1:0")
        .push(
            "server.tokens",
            token("sap-pi", "erp", "token_env", "IDOC_ONLY_TEST_TOKEN"),
        )
}

/// A DEBMAS07 file with one customer: NT30 in company code 1010 and sales area 1010/10/00.
fn debmas(docnum: &str, customer: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DEBMAS07><IDOC BEGIN=\"1\">\
         <EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT><DOCNUM>{docnum}</DOCNUM>\
         <DIRECT>2</DIRECT><IDOCTYP>DEBMAS07</IDOCTYP><MESTYP>DEBMAS</MESTYP>\
         <SNDPOR>SAPECC</SNDPOR><SNDPRT>LS</SNDPRT><SNDPRN>ECCCLNT100</SNDPRN>\
         <CREDAT>20261101</CREDAT><CRETIM>100000</CRETIM></EDI_DC40>\
         <E1KNA1M SEGMENT=\"1\"><MSGFN>009</MSGFN><KUNNR>{customer}</KUNNR><NAME1>Acme GmbH</NAME1>\
         <STRAS>Hauptstraße 5</STRAS><ORT01>Köln</ORT01><PSTLZ>50667</PSTLZ><LAND1>DE</LAND1>\
         <E1KNB1M SEGMENT=\"1\"><MSGFN>009</MSGFN><BUKRS>1010</BUKRS><ZTERM>NT30</ZTERM>\
         <AKONT>0012100000</AKONT></E1KNB1M>\
         <E1KNVVM SEGMENT=\"1\"><MSGFN>009</MSGFN><VKORG>1010</VKORG><VTWEG>10</VTWEG><SPART>00</SPART>\
         <WAERS>EUR</WAERS><ZTERM>NT30</ZTERM></E1KNVVM>\
         </E1KNA1M></IDOC></DEBMAS07>\n"
    )
}

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = idoc_only_config().write_in(dir.path());
        std::fs::write(dir.path().join("t052.csv"), T052).unwrap();
        std::fs::write(dir.path().join("contracts.csv"), REGISTER).unwrap();
        std::fs::create_dir_all(dir.path().join("inbox")).unwrap();
        Env { dir, config }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = common::cli::erpsync_with(&self.config);
        cmd.args(args).env("IDOC_ONLY_TEST_TOKEN", "s3cret-erp");
        cmd
    }

    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        common::cli::output(&mut self.command(args))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idoc_only_erp_is_checked_synced_served_and_not_pushed_to() {
    let env = Env::new();
    std::fs::write(
        env.path("inbox/debmas.xml"),
        debmas("0000000000100001", "0000004711"),
    )
    .unwrap();

    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("IDoc inbox") && out.contains("1 file(s) waiting"),
        "{out}"
    );

    let (code, out, err) = env.cli(&["sync"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("idocs_applied 1"), "{out}");
    assert!(out.contains("payment_terms 2"), "{out}");
    assert!(out.contains("contracts 1"), "{out}");
    assert!(env.path("inbox/processed/debmas.xml").is_file());
    let store = store::open(&format!("sqlite://{}", env.path("erpsync.db").display()))
        .await
        .unwrap();
    let flagged = common::open_findings(store.as_ref()).await;
    assert!(
        flagged
            .iter()
            .any(|(rule, customer, _, _)| rule.starts_with("payment_terms")
                && customer.ends_with("4711")),
        "{flagged:?}"
    );

    // Queued work stays queued: the ERP takes no writes.
    let (code, out, err) = env.cli(&[
        "notes",
        "add",
        "--customer",
        "0000004711",
        "--by",
        "ana",
        "--text",
        "called",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = env.cli(&["push"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("kind = \"idoc\"") && err.contains("outbox is left as it is"),
        "{err}"
    );
    let (code, out, err) = env.cli(&["outbox", "list", "--status", "pending"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("note") && l.contains("pending")),
        "{out}"
    );

    // The service: up, takes IDocs over HTTP, stops cleanly on SIGTERM.
    let (mut child, log, addr) = common::cli::start_service(&mut env.command(&["run"]));
    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("http://{addr}/idoc"))
        .basic_auth("sap-pi", Some("s3cret-erp"))
        .header("content-type", "application/xml")
        .body(debmas("0000000000100002", "0000004712"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<STATUS>53</STATUS>"));

    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = wait_exit(&mut child, Duration::from_secs(60));
    let logs = log.join();
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{logs}");
    assert!(logs.contains("outbox is left as it is"), "{logs}");
}

#[test]
fn erp_contracts_are_refused_for_an_idoc_only_erp() {
    let env = Env::new();
    idoc_only_config()
        .unset("contracts")
        .erp_contracts()
        .write(&env.config);
    let (code, out, err) = env.cli(&["check"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("contracts[0].kind"), "{err}");
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > until {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
