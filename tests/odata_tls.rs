//! The TLS settings of `[erp]` proven by real handshakes on loopback: a throwaway CA, a
//! server certificate for 127.0.0.1/localhost and a client certificate are made for each
//! test, written as PEM files the way a user would keep them, and the agent pulls the mock
//! ERP through a TLS-terminating proxy (rustls) that stands in front of it.
//!
//! - `ca_file` naming the CA: the pull goes through end to end;
//! - without it: the server is not trusted, the pull fails saying so, nothing is stored;
//! - a server that demands a client certificate takes the configured one and refuses a
//!   client without one, and the agent says why;
//! - a CA or certificate file that is missing or not PEM is a setup error naming the file.

mod common;

use common::ErpsyncToml;
use erpsync::config::Config;
use erpsync::erp::odata::ODataClient;
use erpsync::mock_erp::MockErpHandle;
use erpsync::store::{self, Counts};
use erpsync::sync::{self, Entity, SyncContext};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};

const V2: &str = include_str!("../mappings/s4hana-odata-v2.toml");

/// A throwaway PKI: a CA, a server certificate it signed for 127.0.0.1 and localhost, and a
/// client certificate it signed for the ERP user, all as PEM text.
struct Pki {
    ca_pem: String,
    server_pem: String,
    server_key_pem: String,
    client_pem: String,
    client_key_pem: String,
}

impl Pki {
    fn new() -> Pki {
        Pki::issued_by("erpsync test CA")
    }

    /// The same, from a CA of this name.
    fn issued_by(ca_name: &str) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name.push(DnType::CommonName, ca_name);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().unwrap();
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "s4h.example.test");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "ERPSYNC");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer).unwrap();

        Pki {
            ca_pem: ca_cert.pem(),
            server_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// The server side: its certificate and key, and, with `require_client_cert`, a
    /// verifier that demands a client certificate issued by the CA.
    fn server_config(&self, require_client_cert: bool) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let chain = vec![CertificateDer::from_pem_slice(self.server_pem.as_bytes()).unwrap()];
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).unwrap();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
                .unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(builder.with_single_cert(chain, key).unwrap())
    }

    /// Writes the PEM files a user would install into `dir`.
    fn write_files(&self, dir: &Path) {
        std::fs::write(dir.join("corp-ca.pem"), &self.ca_pem).unwrap();
        std::fs::write(dir.join("erpsync.crt"), &self.client_pem).unwrap();
        std::fs::write(dir.join("erpsync.key"), &self.client_key_pem).unwrap();
        std::fs::write(
            dir.join("erpsync-with-key.pem"),
            format!("{}{}", self.client_pem, self.client_key_pem),
        )
        .unwrap();
    }
}

/// A TLS-terminating proxy on 127.0.0.1 in front of the (plain HTTP) mock ERP. Handshakes
/// it refused are kept with rustls' reason.
struct TlsProxy {
    addr: SocketAddr,
    refused: Arc<Mutex<Vec<String>>>,
    /// Client certificates presented in completed handshakes (their DER length, > 0).
    client_certs: Arc<Mutex<Vec<usize>>>,
}

impl TlsProxy {
    async fn start(config: Arc<ServerConfig>, upstream: SocketAddr) -> TlsProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let refused = Arc::new(Mutex::new(Vec::new()));
        let client_certs = Arc::new(Mutex::new(Vec::new()));
        let (r, c) = (refused.clone(), client_certs.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, refused, certs) = (acceptor.clone(), r.clone(), c.clone());
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(mut tls) => {
                            if let Some(chain) = tls.get_ref().1.peer_certificates() {
                                certs.lock().unwrap().push(chain[0].len());
                            }
                            if let Ok(mut up) = TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                            }
                        }
                        Err(e) => refused.lock().unwrap().push(e.to_string()),
                    }
                });
            }
        });
        TlsProxy {
            addr,
            refused,
            client_certs,
        }
    }

    /// The `[erp] base_url` through the proxy.
    fn base_url(&self) -> String {
        format!("https://{}/sap/opu/odata/sap/", self.addr)
    }

    fn refused(&self) -> Vec<String> {
        self.refused.lock().unwrap().clone()
    }

    fn client_certs(&self) -> Vec<usize> {
        self.client_certs.lock().unwrap().clone()
    }
}

/// A small mock whose every set fits in one server page: the mock writes its next links
/// as `http://` (it does not know a proxy terminated TLS for it), so a pull through the
/// proxy must not need them.
async fn mock() -> MockErpHandle {
    common::mock::sized(12, 40, 10_000).await
}

/// The TLS settings of `[erp]`: (key, file name).
type Tls<'a> = &'a [(&'a str, &'a str)];

/// Writes `erpsync.toml` into `dir` with `base_url` and the `tls` settings in `[erp]`, and
/// loads it: file names are relative to the config, as a user writes them.
fn config(dir: &Path, mock: &MockErpHandle, base_url: &str, tls: Tls) -> Config {
    std::fs::write(dir.join("mapping.toml"), V2).unwrap();
    std::fs::write(dir.join("sap-password"), &mock.config().password).unwrap();
    ErpsyncToml::sqlite("erpsync.db")
        .sap(base_url, "10s", 0, "sap-password")
        .set("erp.page_size", 10000)
        .section("erp", tls)
        .erp_contracts()
        .load_in(dir)
}

/// Pulls what comes from the ERP (the payment-terms definitions are SAP's standard keys,
/// built in); returns the outcome (as text on failure) and what the store holds.
async fn pull(cfg: Config) -> (Result<u64, String>, Counts) {
    let store = store::open(&cfg.store.url).await.unwrap();
    store.migrate().await.unwrap();
    let ctx = SyncContext::new(cfg, store.clone()).expect("client builds");
    let outcome = sync::run(
        &ctx,
        &[Entity::Customers, Entity::Contracts, Entity::OpenItems],
    )
    .await
    .map(|r| r.pulled.values().sum::<u64>())
    .map_err(|e| e.to_string());
    (outcome, store.counts().await.unwrap())
}

#[tokio::test]
async fn with_the_ca_file_the_pull_goes_through_tls_end_to_end() {
    let pki = Pki::new();
    let mock = mock().await;
    let proxy = TlsProxy::start(pki.server_config(false), mock.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    pki.write_files(dir.path());
    let cfg = config(
        dir.path(),
        &mock,
        &proxy.base_url(),
        &[("ca_file", "corp-ca.pem")],
    );
    let (outcome, counts) = pull(cfg).await;
    let pulled = outcome.expect("the pull succeeds through TLS");
    assert!(pulled > 0);
    assert_eq!(counts.customers, 12, "every customer arrived: {counts:?}");
    assert_eq!(counts.open_items, 40, "every open item arrived: {counts:?}");
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
}

#[tokio::test]
async fn without_the_ca_file_the_server_is_not_trusted_and_nothing_is_stored() {
    let pki = Pki::new();
    let mock = mock().await;
    let proxy = TlsProxy::start(pki.server_config(false), mock.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    pki.write_files(dir.path());
    let cfg = config(dir.path(), &mock, &proxy.base_url(), &[]);
    let (outcome, counts) = pull(cfg).await;
    let err = outcome.expect_err("an untrusted server is refused, never used");
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer") && err.contains("erp.ca_file"),
        "the reason names the certificate problem and the setting: {err}"
    );
    assert!(
        err.contains(&proxy.addr.to_string()),
        "and the server: {err}"
    );
    assert_eq!(counts, Counts::default(), "nothing is stored");
    assert!(
        mock.writes().is_empty() && proxy.client_certs().is_empty(),
        "no request got through"
    );
}

#[tokio::test]
async fn a_server_demanding_a_client_certificate_takes_the_configured_one_only() {
    let pki = Pki::new();
    let mock = mock().await;
    let proxy = TlsProxy::start(pki.server_config(true), mock.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    pki.write_files(dir.path());

    // Certificate and key in two files.
    let cfg = config(
        dir.path(),
        &mock,
        &proxy.base_url(),
        &[
            ("ca_file", "corp-ca.pem"),
            ("client_cert_file", "erpsync.crt"),
            ("client_key_file", "erpsync.key"),
        ],
    );
    let (outcome, counts) = pull(cfg).await;
    outcome.expect("the configured client certificate is accepted");
    assert_eq!(counts.customers, 12);
    assert!(!proxy.client_certs().is_empty(), "a certificate was shown");
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());

    // Certificate and key in one file.
    let dir2 = tempfile::tempdir().unwrap();
    pki.write_files(dir2.path());
    let cfg = config(
        dir2.path(),
        &mock,
        &proxy.base_url(),
        &[
            ("ca_file", "corp-ca.pem"),
            ("client_cert_file", "erpsync-with-key.pem"),
        ],
    );
    let (outcome, counts) = pull(cfg).await;
    outcome.expect("a PEM file holding certificate and key works as well");
    assert_eq!(counts.customers, 12);

    // No client certificate: the server refuses the handshake, and the agent says so.
    let dir3 = tempfile::tempdir().unwrap();
    pki.write_files(dir3.path());
    let cfg = config(
        dir3.path(),
        &mock,
        &proxy.base_url(),
        &[("ca_file", "corp-ca.pem")],
    );
    let (outcome, counts) = pull(cfg).await;
    let err = outcome.expect_err("refused without a client certificate");
    assert!(
        err.contains("CertificateRequired")
            && err.contains("demands a client certificate: set erp.client_cert_file"),
        "the reason names the missing certificate and the setting: {err}"
    );
    assert_eq!(counts, Counts::default(), "nothing is stored");
    let refused = proxy.refused();
    assert!(
        refused
            .iter()
            .any(|r| r.contains("peer sent no certificates")),
        "the server refused for want of a client certificate: {refused:?}"
    );

    // A client certificate some other CA issued: refused as well, and said so.
    let stranger = Pki::issued_by("some other CA");
    let dir4 = tempfile::tempdir().unwrap();
    stranger.write_files(dir4.path());
    std::fs::write(dir4.path().join("corp-ca.pem"), &pki.ca_pem).unwrap();
    let cfg = config(
        dir4.path(),
        &mock,
        &proxy.base_url(),
        &[
            ("ca_file", "corp-ca.pem"),
            ("client_cert_file", "erpsync-with-key.pem"),
        ],
    );
    let (outcome, counts) = pull(cfg).await;
    let err = outcome.expect_err("a certificate of another CA is refused");
    assert!(
        err.contains("refused the client certificate of erp.client_cert_file"),
        "{err}"
    );
    assert_eq!(counts, Counts::default(), "nothing is stored");
    assert!(
        proxy.refused().iter().any(|r| r.contains("UnknownIssuer")),
        "{:?}",
        proxy.refused()
    );
}

#[tokio::test]
async fn a_missing_or_non_pem_tls_file_is_a_setup_error_naming_the_file() {
    let pki = Pki::new();
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    pki.write_files(dir.path());
    std::fs::write(dir.path().join("garbage.pem"), "this is no certificate\n").unwrap();
    std::fs::write(
        dir.path().join("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let url = mock.base_url();
    let setup_error = |tls: Tls| {
        let cfg = config(dir.path(), &mock, &url, tls);
        match ODataClient::new(&cfg.erp) {
            Ok(_) => panic!("{tls:?}: accepted"),
            Err(e) => e.to_string(),
        }
    };
    let cases: [(Tls, &str, &[&str]); 8] = [
        (
            &[("ca_file", "missing-ca.pem")],
            "erp.ca_file",
            &["missing-ca.pem", "No such file"],
        ),
        (
            &[("ca_file", "garbage.pem")],
            "erp.ca_file",
            &["garbage.pem", "no PEM certificate"],
        ),
        // A PEM block whose content is not a certificate.
        (
            &[("ca_file", "broken.pem")],
            "erp.ca_file",
            &["broken.pem", "not a valid certificate"],
        ),
        // A key where the CA belongs.
        (
            &[("ca_file", "erpsync.key")],
            "erp.ca_file",
            &["erpsync.key", "no PEM certificate"],
        ),
        (
            &[
                ("client_cert_file", "missing.crt"),
                ("client_key_file", "erpsync.key"),
            ],
            "erp.client_cert_file",
            &["missing.crt", "No such file"],
        ),
        (
            &[
                ("client_cert_file", "garbage.pem"),
                ("client_key_file", "erpsync.key"),
            ],
            "erp.client_cert_file",
            &["garbage.pem", "no PEM certificate"],
        ),
        (
            &[
                ("client_cert_file", "erpsync.crt"),
                ("client_key_file", "corp-ca.pem"),
            ],
            "erp.client_key_file",
            &["corp-ca.pem", "no PEM private key"],
        ),
        // The certificate alone, with no key beside it or in it.
        (
            &[("client_cert_file", "erpsync.crt")],
            "erp.client_cert_file",
            &["erpsync.crt", "no PEM private key", "client_key_file"],
        ),
    ];
    for (tls, key, wants) in cases {
        let err = setup_error(tls);
        assert!(err.starts_with("ERP setup: "), "{tls:?}: {err}");
        assert!(err.contains(key), "{tls:?}: names the setting: {err}");
        for want in wants {
            assert!(err.contains(want), "{tls:?}: wants {want:?}: {err}");
        }
    }
    // The files that are right build a client.
    let cfg = config(
        dir.path(),
        &mock,
        &url,
        &[
            ("ca_file", "corp-ca.pem"),
            ("client_cert_file", "erpsync.crt"),
            ("client_key_file", "erpsync.key"),
        ],
    );
    ODataClient::new(&cfg.erp).expect("valid files build a client");
}
