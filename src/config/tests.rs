//! Keys, defaults, env overrides and error messages as the file format promises them.

use super::*;
use secrecy::ExposeSecret;
use std::time::Duration;

const MINIMAL: &str = r#"
[store]
url = "sqlite://erpsync.db"
[erp]
kind = "odata"
base_url = "https://sap.example.com/sap/opu/odata/sap"
sap_client = "100"
[erp.auth]
kind = "basic"
user = "ERPSYNC"
password_env = "SAP_PASSWORD"
"#;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(text: &str, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_str_with_env(
        text,
        Path::new("/etc/erpsync/erpsync.toml"),
        Path::new("/etc/erpsync"),
        env(pairs),
    )
}

#[test]
fn loads_minimal_config_with_secret_from_env() {
    let c = load(MINIMAL, &[("SAP_PASSWORD", "s3cret")]).unwrap();
    assert_eq!(c.store.url, "sqlite:///etc/erpsync/erpsync.db");
    assert_eq!(
        c.erp.base_url.as_ref().unwrap().as_str(),
        "https://sap.example.com/sap/opu/odata/sap/"
    );
    assert_eq!(
        c.erp.mapping,
        PathBuf::from("/etc/erpsync/mappings/s4hana-odata-v2.toml")
    );
    match &c.erp.auth {
        ErpAuth::Basic { user, password } => {
            assert_eq!(user, "ERPSYNC");
            assert_eq!(password.expose_secret(), "s3cret");
        }
        other => panic!("unexpected auth {other:?}"),
    }
    assert_eq!(c.schedule.open_items, Duration::from_secs(300));
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let c = load(MINIMAL, &[("SAP_PASSWORD", "s3cret-value")]).unwrap();
    assert!(!format!("{c:?}").contains("s3cret-value"));
}

#[test]
fn unknown_keys_are_errors() {
    let text = format!("{MINIMAL}\n[push]\nmode = \"live\"\nmood = \"happy\"\n");
    let err = load(&text, &[("SAP_PASSWORD", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("mood"), "{err}");
}

#[test]
fn env_overrides_replace_values_and_unknown_env_keys_fail() {
    let c = load(
        MINIMAL,
        &[
            ("SAP_PASSWORD", "x"),
            ("ERPSYNC_ERP__SAP_CLIENT", "200"),
            ("ERPSYNC_TEST_POSTGRES_URL", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(c.erp.sap_client.as_deref(), Some("200"));
    let err = load(
        MINIMAL,
        &[("SAP_PASSWORD", "x"), ("ERPSYNC_ERP__SAP_CLEINT", "200")],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("sap_cleint"), "{err}");
}

#[test]
fn missing_secret_is_a_clear_error() {
    let err = load(MINIMAL, &[]).unwrap_err().to_string();
    assert!(err.contains("SAP_PASSWORD is not set"), "{err}");
}

#[test]
fn service_keys_have_defaults_and_can_be_set_or_overridden() {
    let c = load(MINIMAL, &[("SAP_PASSWORD", "x")]).unwrap();
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(30));
    assert_eq!(c.server.erp_contact_limit, Duration::from_secs(3600));
    assert_eq!(c.schedule.reconcile, Duration::from_secs(3600));
    assert_eq!(c.schedule.jitter, Duration::from_secs(5));
    assert_eq!(c.schedule.lease, Duration::from_secs(120));
    let text = format!(
        "{MINIMAL}\n[schedule]\njitter = \"0s\"\nreconcile = \"10m\"\nlease = \"30s\"\n\
         [server]\nshutdown_grace = \"5s\"\nerp_contact_limit = \"20m\"\n"
    );
    let c = load(
        &text,
        &[
            ("SAP_PASSWORD", "x"),
            ("ERPSYNC_SERVER__SHUTDOWN_GRACE", "7s"),
        ],
    )
    .unwrap();
    assert_eq!(c.schedule.jitter, Duration::ZERO);
    assert_eq!(c.schedule.reconcile, Duration::from_secs(600));
    assert_eq!(c.schedule.lease, Duration::from_secs(30));
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(7));
    assert_eq!(c.server.erp_contact_limit, Duration::from_secs(1200));
    let bad = format!("{MINIMAL}\n[schedule]\npush = \"0s\"\n");
    let err = load(&bad, &[("SAP_PASSWORD", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("schedule.push"), "{err}");
    let typo = format!("{MINIMAL}\n[server]\nshutdown_grase = \"5s\"\n");
    let err = load(&typo, &[("SAP_PASSWORD", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("shutdown_grase"), "{err}");
}

#[test]
fn rules_section_is_read_and_checked() {
    use crate::model::{Rule, Severity};
    let text = format!(
        "{MINIMAL}\n[rules]\ncost_of_capital = \"6.5%\"\nstandard_payment_terms = [\"NT30\", \"0001\"]\n[rules.currency]\nenabled = false\n[rules.payment_terms_company_code]\nseverity = \"low\"\nmin_days = 5\n"
    );
    let c = load(&text, &[("SAP_PASSWORD", "x")]).unwrap();
    assert_eq!(c.rules.cost_of_capital.to_string(), "0.065");
    assert_eq!(c.rules.standard_payment_terms, vec!["NT30", "0001"]);
    assert!(!c.rules.enabled(Rule::Currency));
    assert!(c.rules.enabled(Rule::PaymentTermsSalesArea));
    let s = &c.rules.rules[&Rule::PaymentTermsCompanyCode];
    assert_eq!((s.severity, s.min_days), (Some(Severity::Low), Some(5)));
    let bad = format!("{MINIMAL}\n[rules.curency]\nenabled = false\n");
    let err = load(&bad, &[("SAP_PASSWORD", "x")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rules.curency") && err.contains("unknown rule"),
        "{err}"
    );
    let bad = format!("{MINIMAL}\n[rules.currency]\nenabeld = false\n");
    assert!(load(&bad, &[("SAP_PASSWORD", "x")]).is_err());
}

#[test]
fn durations_parse_and_bad_ones_fail() {
    assert_eq!(
        parse_duration("k", "15m").unwrap(),
        Duration::from_secs(900)
    );
    assert_eq!(
        parse_duration("k", "250ms").unwrap(),
        Duration::from_millis(250)
    );
    assert!(parse_duration("k", "15").is_err());
    assert!(parse_duration("k", "15 minutes").is_err());
}

#[test]
fn an_idoc_only_erp_needs_no_base_url_mapping_or_auth() {
    let text =
        "[store]\nurl = \"sqlite://e.db\"\n[erp]\nkind = \"idoc\"\n[idoc]\ninbox = \"inbox\"\n\
                [[contracts]]\nkind = \"file\"\npath = \"c.csv\"\n";
    let c = load(text, &[]).unwrap();
    assert_eq!(c.erp.kind, ErpKind::Idoc);
    assert!(c.erp.base_url.is_none());
    assert_eq!(c.idoc.unwrap().inbox, PathBuf::from("/etc/erpsync/inbox"));

    let odata = "[store]\nurl = \"sqlite://e.db\"\n[erp]\nkind = \"odata\"\n";
    let err = load(odata, &[]).unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    assert!(
        err.to_string().contains("missing field `base_url`"),
        "{err}"
    );

    let erp_contracts = text.replace("kind = \"file\"\npath = \"c.csv\"", "kind = \"erp\"");
    let err = load(&erp_contracts, &[]).unwrap_err().to_string();
    assert!(err.contains("contracts[0].kind"), "{err}");
}

#[test]
fn sso_needs_trusted_proxies_given_as_addresses_or_blocks() {
    let pw = [("SAP_PASSWORD", "x")];
    let sso = format!("{MINIMAL}\n[server]\nsso_header = \"X-Remote-User\"\n");
    let err = load(&sso, &pw).unwrap_err().to_string();
    assert!(err.contains("server.sso_trusted_proxies"), "{err}");
    let c = load(
        &format!("{sso}sso_trusted_proxies = [\"10.1.2.3\", \"10.0.0.0/24\", \"::1\"]\n"),
        &pw,
    )
    .unwrap();
    let nets: Vec<String> = c
        .server
        .sso_trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["10.1.2.3/32", "10.0.0.0/24", "::1/128"]);
    let err = load(
        &format!("{sso}sso_trusted_proxies = [\"proxy.local\"]\n"),
        &pw,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("\"proxy.local\" is not an IP address"),
        "{err}"
    );
}

#[test]
fn server_security_defaults_follow_the_listen_address() {
    let pw = [("SAP_PASSWORD", "x")];
    let c = load(MINIMAL, &pw).unwrap();
    assert!(!c.server.cookie_secure, "loopback: no TLS to require");
    assert_eq!(c.server.session_idle, Duration::from_secs(30 * 60));
    assert_eq!(c.server.metrics_listen, None);
    let c = load(
        &format!(
            "{MINIMAL}\n[server]\nlisten = \"0.0.0.0:8088\"\nsession_idle_minutes = 5\n\
             metrics_listen = \"127.0.0.1:9090\"\n"
        ),
        &pw,
    )
    .unwrap();
    assert!(c.server.cookie_secure, "on the network cookies are Secure");
    assert_eq!(c.server.session_idle, Duration::from_secs(300));
    assert_eq!(
        c.server.metrics_listen,
        Some("127.0.0.1:9090".parse().unwrap())
    );
    let c = load(
        &format!("{MINIMAL}\n[server]\nlisten = \"0.0.0.0:8088\"\ncookie_secure = false\n"),
        &pw,
    )
    .unwrap();
    assert!(!c.server.cookie_secure, "an explicit false is kept");
}

#[test]
fn cleartext_erp_urls_are_refused_except_on_loopback_or_on_purpose() {
    let pw = [("SAP_PASSWORD", "x"), ("SECRET", "s")];
    let https = "https://sap.example.com/sap/opu/odata/sap";
    let with_base = |base: &str, extra: &str| {
        MINIMAL.replace(https, base).replace(
            "sap_client = \"100\"\n",
            &format!("sap_client = \"100\"\n{extra}"),
        )
    };
    let err = load(&with_base("http://sap.example.com/odata", ""), &pw)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("erp.base_url") && err.contains("allow_insecure_http"),
        "{err}"
    );
    for local in [
        "http://127.0.0.1:8080/odata",
        "http://localhost/odata",
        "http://[::1]:9/x",
    ] {
        load(&with_base(local, ""), &pw).unwrap();
    }
    let c = load(
        &with_base(
            "http://sap.example.com/odata",
            "allow_insecure_http = true\n",
        ),
        &pw,
    )
    .unwrap();
    assert!(c.erp.allow_insecure_http);
    let services = format!("{MINIMAL}[erp.services]\nAPI_X = \"http://10.0.0.9/x\"\n");
    let err = load(&services, &pw).unwrap_err().to_string();
    assert!(err.contains("erp.services.API_X"), "{err}");
    let oauth = MINIMAL.replace(
        "kind = \"basic\"\nuser = \"ERPSYNC\"\npassword_env = \"SAP_PASSWORD\"",
        "kind = \"oauth2\"\ntoken_url = \"http://login.example.com/token\"\n\
         client_id = \"c\"\nclient_secret_env = \"SECRET\"",
    );
    let err = load(&oauth, &pw).unwrap_err().to_string();
    assert!(err.contains("erp.auth.token_url"), "{err}");
}

#[test]
fn erp_answer_limits_have_defaults_and_can_be_set() {
    let pw = [("SAP_PASSWORD", "x")];
    let c = load(MINIMAL, &pw).unwrap();
    assert_eq!(c.erp.max_retry_after, Duration::from_secs(600));
    assert_eq!(c.erp.max_response_bytes, 256 << 20);
    let set = MINIMAL.replace(
        "sap_client = \"100\"",
        "sap_client = \"100\"\nmax_retry_after_seconds = 30\nmax_response_mb = 16",
    );
    let c = load(&set, &pw).unwrap();
    assert_eq!(c.erp.max_retry_after, Duration::from_secs(30));
    assert_eq!(c.erp.max_response_bytes, 16 << 20);
    let zero = MINIMAL.replace(
        "sap_client = \"100\"",
        "sap_client = \"100\"\nmax_response_mb = 0",
    );
    let err = load(&zero, &pw).unwrap_err().to_string();
    assert!(err.contains("erp.max_response_mb"), "{err}");
}
