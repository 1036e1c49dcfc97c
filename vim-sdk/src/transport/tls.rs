//! TLS policy: certificate thumbprints, the pinning and "insecure" verifiers, and the rustls
//! client configuration for each [`TlsMode`].

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::TlsMode;
use super::error::TransportError;

/// Formats bytes as upper-case hex pairs separated by colons (`AA:BB:...`).
fn colon_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// SHA-1 thumbprint of a DER certificate in `AA:BB:...` form (what ESXi and vCenter display).
pub fn sha1_thumbprint(der: &[u8]) -> String {
    colon_hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// SHA-256 thumbprint of a DER certificate in `AA:BB:...` form.
pub fn sha256_thumbprint(der: &[u8]) -> String {
    colon_hex(digest(&SHA256, der).as_ref())
}

/// Which digest a [`Thumbprint`] was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThumbprintAlgorithm {
    /// SHA-1 (20 bytes), as ESXi shows it.
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
}

/// A certificate fingerprint to pin: the SHA-1 or SHA-256 digest of the end-entity
/// certificate's DER encoding.
///
/// Parses from hex, case-insensitive, with or without `:` separators (`AA:BB:..`, `aabb..`);
/// the length decides the algorithm (20 bytes → SHA-1, 32 bytes → SHA-256). Displays as
/// upper-case `AA:BB:..`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Thumbprint {
    algorithm: ThumbprintAlgorithm,
    digest: Vec<u8>,
}

impl Thumbprint {
    /// The thumbprint of `der` with the given algorithm.
    pub fn of_certificate(algorithm: ThumbprintAlgorithm, der: &[u8]) -> Self {
        let d = match algorithm {
            ThumbprintAlgorithm::Sha1 => digest(&SHA1_FOR_LEGACY_USE_ONLY, der),
            ThumbprintAlgorithm::Sha256 => digest(&SHA256, der),
        };
        Thumbprint {
            algorithm,
            digest: d.as_ref().to_vec(),
        }
    }

    /// The digest algorithm.
    pub fn algorithm(&self) -> ThumbprintAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.digest
    }

    /// Whether this pin matches the DER certificate; the digest comparison runs in constant
    /// time with respect to the digest contents.
    pub fn matches(&self, der: &[u8]) -> bool {
        let actual = Thumbprint::of_certificate(self.algorithm, der);
        constant_time_eq(&self.digest, &actual.digest)
    }
}

/// Compares two byte strings without an early exit on the first difference (the lengths are
/// public: they only reveal the algorithm).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&colon_hex(&self.digest))
    }
}

impl fmt::Debug for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Thumbprint({:?}, {})", self.algorithm, self)
    }
}

/// Why a string is not a [`Thumbprint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid certificate thumbprint: {0}")]
pub struct ThumbprintParseError(String);

impl FromStr for Thumbprint {
    type Err = ThumbprintParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: Vec<u8> = s.trim().bytes().filter(|&b| b != b':').collect();
        if hex.len() % 2 != 0 {
            return Err(ThumbprintParseError("odd number of hex digits".to_string()));
        }
        let nibble = |c: u8| -> Result<u8, ThumbprintParseError> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(ThumbprintParseError(format!(
                    "unexpected character {:?}",
                    char::from(c)
                ))),
            }
        };
        let digest = hex
            .chunks(2)
            .map(|pair| Ok(nibble(pair[0])? << 4 | nibble(pair[1])?))
            .collect::<Result<Vec<u8>, _>>()?;
        let algorithm = match digest.len() {
            20 => ThumbprintAlgorithm::Sha1,
            32 => ThumbprintAlgorithm::Sha256,
            n => {
                return Err(ThumbprintParseError(format!(
                    "{n} bytes; expected 20 (SHA-1) or 32 (SHA-256)"
                )))
            }
        };
        Ok(Thumbprint { algorithm, digest })
    }
}

/// The certificate a verifier rejected, carried inside rustls' error so the transport can
/// report its thumbprints.
#[derive(Debug)]
pub(crate) struct RejectedCertificate {
    /// Why it was rejected.
    pub(crate) reason: String,
    /// SHA-1 thumbprint of the presented end-entity certificate.
    pub(crate) sha1: String,
    /// SHA-256 thumbprint of the presented end-entity certificate.
    pub(crate) sha256: String,
}

impl RejectedCertificate {
    fn new(reason: String, der: &[u8]) -> Self {
        RejectedCertificate {
            reason,
            sha1: sha1_thumbprint(der),
            sha256: sha256_thumbprint(der),
        }
    }

    fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            self,
        ))))
    }
}

impl fmt::Display for RejectedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server certificate rejected: {}; presented certificate thumbprints: SHA-1 {}, SHA-256 {}",
            self.reason, self.sha1, self.sha256
        )
    }
}

impl std::error::Error for RejectedCertificate {}

/// Chain verification against trust anchors (system roots plus an optional extra CA), which
/// reports the presented certificate's thumbprints when it rejects it.
#[derive(Debug)]
struct ReportingWebPkiVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ReportingWebPkiVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| {
                let reason = match &e {
                    rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                        "it is not signed by a trusted certificate authority (self-signed? \
                         configure the CA with extra_ca_pem, or pin its thumbprint)"
                            .to_string()
                    }
                    rustls::Error::InvalidCertificate(ce) => ce.to_string(),
                    other => other.to_string(),
                };
                RejectedCertificate::new(reason, end_entity).into_rustls()
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// What a [`FingerprintVerifier`] accepts as the server's identity.
#[derive(Debug)]
enum Accept {
    /// The end-entity certificate must match one of these pins.
    Pinned(Vec<Thumbprint>),
    /// Any certificate (verification disabled).
    Any,
}

/// Identity check by pin (or not at all), while the handshake signatures are still verified
/// with the provider's algorithms so the peer must hold the certificate's private key.
#[derive(Debug)]
struct FingerprintVerifier {
    accept: Accept,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for FingerprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.accept {
            Accept::Any => Ok(ServerCertVerified::assertion()),
            Accept::Pinned(pins) => {
                // Check every pin (no early exit) so timing does not reveal which one matched.
                let matched = pins
                    .iter()
                    .fold(false, |acc, pin| pin.matches(end_entity) | acc);
                if matched {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(RejectedCertificate::new(
                        format!("it matches none of the {} pinned thumbprint(s)", pins.len()),
                        end_entity,
                    )
                    .into_rustls())
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn tls_error(message: impl Into<String>) -> TransportError {
    TransportError::Tls {
        message: message.into(),
    }
}

/// The trust anchors of a verified mode: the platform's roots when `platform`
/// ([`TlsMode::Verified`]), plus (or, for [`TlsMode::CaFile`], only) the certificates of the
/// PEM file `extra_ca_pem`.
fn root_store(
    platform: bool,
    extra_ca_pem: Option<&std::path::Path>,
) -> Result<RootCertStore, TransportError> {
    let mut roots = RootCertStore::empty();
    if platform {
        let native = rustls_native_certs::load_native_certs();
        if !native.errors.is_empty() {
            tracing::debug!(
                errors = native.errors.len(),
                "some platform root certificates could not be loaded"
            );
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "loaded platform root certificates");
    }

    if let Some(path) = extra_ca_pem {
        let iter = CertificateDer::pem_file_iter(path)
            .map_err(|e| tls_error(format!("cannot read CA file {}: {e}", path.display())))?;
        let mut count = 0usize;
        for cert in iter {
            let cert = cert
                .map_err(|e| tls_error(format!("cannot parse CA file {}: {e}", path.display())))?;
            roots.add(cert).map_err(|e| {
                tls_error(format!(
                    "CA file {} holds an unusable certificate: {e}",
                    path.display()
                ))
            })?;
            count += 1;
        }
        if count == 0 {
            return Err(tls_error(format!(
                "CA file {} holds no PEM certificate",
                path.display()
            )));
        }
    }
    if roots.is_empty() {
        return Err(tls_error(
            "no trusted root certificates: the platform store is empty and no extra CA was given",
        ));
    }
    Ok(roots)
}

/// The ring crypto provider, made once per process and shared by every configuration.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The chain verifier over `roots`, reporting a rejected certificate's thumbprints.
fn webpki_verifier(
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TransportError> {
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| tls_error(format!("cannot build certificate verifier: {e}")))?;
    Ok(Arc::new(ReportingWebPkiVerifier { inner }))
}

/// The rustls client configuration for `mode` (ring provider, TLS 1.2 and 1.3, ALPN left to
/// the HTTPS connector).
pub(crate) fn client_config(mode: &TlsMode) -> Result<rustls::ClientConfig, TransportError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("cannot configure TLS protocol versions: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        TlsMode::Verified { extra_ca_pem } => {
            webpki_verifier(root_store(true, extra_ca_pem.as_deref())?, provider)?
        }
        TlsMode::CaFile { ca_pem } => webpki_verifier(root_store(false, Some(ca_pem))?, provider)?,
        TlsMode::Pinned { thumbprints } => {
            if thumbprints.is_empty() {
                return Err(tls_error("TlsMode::Pinned needs at least one thumbprint"));
            }
            Arc::new(FingerprintVerifier {
                accept: Accept::Pinned(thumbprints.clone()),
                algorithms: provider.signature_verification_algorithms,
            })
        }
        TlsMode::Insecure => Arc::new(FingerprintVerifier {
            accept: Accept::Any,
            algorithms: provider.signature_verification_algorithms,
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The TLS configuration of a transport whose base URL is `http`: it never makes a TLS
/// connection (calls go to the base origin only), so no root store is loaded (reading the
/// system's roots is most of a short-lived client's start-up), and any certificate it were
/// ever shown would be refused.
pub(crate) fn unused_config() -> Result<rustls::ClientConfig, TransportError> {
    let provider = provider();
    let verifier = Arc::new(FingerprintVerifier {
        accept: Accept::Pinned(Vec::new()),
        algorithms: provider.signature_verification_algorithms,
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(format!("cannot configure TLS protocol versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Finds a rustls error in an error's source chain (looking inside wrapped `io::Error`s, whose
/// `source()` skips the error they wrap) and describes it; `None` when the failure was not a
/// TLS one.
pub(crate) fn describe_tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    find_rustls_error(err, 0).map(describe_rustls)
}

fn find_rustls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
    depth: usize,
) -> Option<&'a rustls::Error> {
    if depth > 16 {
        return None;
    }
    if let Some(r) = err.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if let Some(r) = find_rustls_error(inner, depth + 1) {
            return Some(r);
        }
    }
    err.source()
        .and_then(|source| find_rustls_error(source, depth + 1))
}

fn describe_rustls(err: &rustls::Error) -> String {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            match other.0.downcast_ref::<RejectedCertificate>() {
                Some(rejected) => rejected.to_string(),
                None => format!("server certificate rejected: {other}"),
            }
        }
        rustls::Error::InvalidCertificate(ce) => {
            format!("server certificate rejected: {ce}")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_parses_both_lengths_any_case_with_or_without_colons() {
        let sha1 = "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:0A:1b:2C:3d";
        let t: Thumbprint = sha1.parse().unwrap();
        assert_eq!(t.algorithm(), ThumbprintAlgorithm::Sha1);
        assert_eq!(t.as_bytes().len(), 20);
        assert_eq!(t.to_string(), sha1.to_uppercase());
        let no_colons: Thumbprint = sha1.replace(':', "").parse().unwrap();
        assert_eq!(t, no_colons);

        let sha256 = "00".repeat(31) + "ff";
        let t: Thumbprint = sha256.parse().unwrap();
        assert_eq!(t.algorithm(), ThumbprintAlgorithm::Sha256);
        assert_eq!(t.as_bytes()[31], 0xff);
    }

    #[test]
    fn thumbprint_rejects_bad_input() {
        assert!("".parse::<Thumbprint>().is_err());
        assert!("abc".parse::<Thumbprint>().is_err());
        assert!("zz".repeat(20).parse::<Thumbprint>().is_err());
        assert!("ab".repeat(16).parse::<Thumbprint>().is_err());
        assert!("ab".repeat(21).parse::<Thumbprint>().is_err());
    }

    #[test]
    fn thumbprint_matches_only_its_certificate() {
        let der = b"not really DER but digests do not care";
        let s1 = sha1_thumbprint(der);
        let s256 = sha256_thumbprint(der);
        assert_eq!(s1.len(), 20 * 3 - 1);
        assert_eq!(s256.len(), 32 * 3 - 1);
        assert!(s1.parse::<Thumbprint>().unwrap().matches(der));
        assert!(s256.parse::<Thumbprint>().unwrap().matches(der));
        assert!(!s256.parse::<Thumbprint>().unwrap().matches(b"other"));
        // Known vector: SHA-1("abc").
        assert_eq!(
            sha1_thumbprint(b"abc"),
            "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D"
        );
        // Known vector: SHA-256("abc").
        assert_eq!(
            sha256_thumbprint(b"abc").replace(':', ""),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
    }

    #[cfg(feature = "vcsim")]
    #[test]
    fn ca_file_roots_are_the_files_certificates_only() {
        let ca = crate::testing::pki::TestCa::new("vim-sdk root store test CA");
        let path =
            std::env::temp_dir().join(format!("vim-sdk-root-store-{}.pem", std::process::id()));
        std::fs::write(&path, ca.pem()).unwrap();
        let only = root_store(false, Some(&path));
        let _ = std::fs::remove_file(&path);
        // The file's one CA, none of the platform's.
        assert_eq!(only.unwrap().len(), 1);
    }

    #[test]
    fn constant_time_eq_compares_lengths_and_contents() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
