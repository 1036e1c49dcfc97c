//! Throwaway certificates for TLS tests: a test CA, server certificates it issues (for any
//! names, valid or expired), self-signed ones, and the rustls server configuration serving
//! each (for a loopback server or a [`FaultProxy`](super::fault_proxy::FaultProxy)).
//!
//! ```
//! use vim_sdk::testing::pki::{TestCa, Validity};
//!
//! let ca = TestCa::new("my test CA");
//! let cert = ca.issue(&["127.0.0.1"], Validity::Current);
//! assert!(cert.sha256().contains(':'));
//! ```

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The validity period of an issued certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From a year ago to ten years from now.
    Current,
    /// From 2020-01-01 to 2021-01-01: expired.
    Expired,
}

/// A test certificate authority.
pub struct TestCa {
    key: rcgen::KeyPair,
    cert: rcgen::Certificate,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A server certificate and its key, ready to serve.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// The certificate, DER.
    pub der: CertificateDer<'static>,
    /// The certificate, PEM.
    pub pem: String,
    /// A rustls server configuration presenting this certificate.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl TestCert {
    /// SHA-1 thumbprint, `AA:BB:…`.
    pub fn sha1(&self) -> String {
        crate::transport::sha1_thumbprint(&self.der)
    }

    /// SHA-256 thumbprint, `AA:BB:…`.
    pub fn sha256(&self) -> String {
        crate::transport::sha256_thumbprint(&self.der)
    }
}

fn params(names: &[&str], validity: Validity) -> rcgen::CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut p = rcgen::CertificateParams::new(names.clone()).expect("certificate names");
    if let Some(first) = names.first() {
        p.distinguished_name
            .push(rcgen::DnType::CommonName, first.as_str());
    }
    let (from, to) = match validity {
        Validity::Current => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let year = 1970 + (now / 31_557_600) as i32;
            (
                rcgen::date_time_ymd(year - 1, 1, 1),
                rcgen::date_time_ymd(year + 10, 1, 1),
            )
        }
        Validity::Expired => (
            rcgen::date_time_ymd(2020, 1, 1),
            rcgen::date_time_ymd(2021, 1, 1),
        ),
    };
    p.not_before = from;
    p.not_after = to;
    p
}

fn finish(cert: rcgen::Certificate, key: &rcgen::KeyPair) -> TestCert {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server certificate");
    TestCert {
        der: cert.der().clone(),
        pem: cert.pem(),
        server_config: Arc::new(server_config),
    }
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut p = params(&[], Validity::Current);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        let cert = p.self_signed(&key).expect("CA certificate");
        TestCa { key, cert }
    }

    /// The CA certificate, PEM (what a `ca_file` holds).
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn issue(&self, names: &[&str], validity: Validity) -> TestCert {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params(names, validity)
            .signed_by(&key, &self.cert, &self.key)
            .expect("certificate");
        finish(cert, &key)
    }
}

/// A self-signed server certificate for `names`, as ESXi makes by default.
pub fn self_signed(names: &[&str]) -> TestCert {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params(names, Validity::Current)
        .self_signed(&key)
        .expect("certificate");
    finish(cert, &key)
}
