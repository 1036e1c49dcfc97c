//! Transport configuration.

use std::path::PathBuf;
use std::time::Duration;

use super::tls::Thumbprint;

/// How the server's TLS certificate is checked. The default is [`TlsMode::Verified`] with the
/// platform's trust store; anything weaker must be chosen explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Standard verification: the chain must lead to a trusted root and the certificate must
    /// be valid for the host name (or IP address) of the base URL. Roots are the platform's
    /// (through `rustls-native-certs`) plus, when given, every certificate in the PEM file
    /// `extra_ca_pem` (e.g. the vCenter VMCA root).
    Verified {
        /// A PEM file of additional trusted CA certificates.
        extra_ca_pem: Option<PathBuf>,
    },
    /// Standard verification as [`TlsMode::Verified`], with **only** the CA certificates of
    /// the PEM file `ca_pem` as roots: the platform's are not loaded (so not trusted either),
    /// as govc's `GOVC_TLS_CA_CERTS` does. The usual choice for a vCenter whose certificates
    /// its own CA (the VMCA) signs: a certificate from a public CA is refused, and a client
    /// does not parse the platform's hundred-odd roots at each start.
    CaFile {
        /// A PEM file of the trusted CA certificates (at least one).
        ca_pem: PathBuf,
    },
    /// Certificate pinning, the usual choice for ESXi hosts with self-signed certificates:
    /// the SHA-1 or SHA-256 digest of the end-entity certificate must equal one of the pins,
    /// **and nothing else is checked** — not the chain, the host name or the validity dates —
    /// and a certificate that would pass [`TlsMode::Verified`] but matches no pin is rejected
    /// ("the pin must match, period"). The handshake signature is still verified, so the
    /// server must hold the pinned certificate's private key.
    Pinned {
        /// Accepted thumbprints (at least one).
        thumbprints: Vec<Thumbprint>,
    },
    /// No certificate verification at all: any certificate is accepted, so the connection is
    /// open to interception. Each transport built with it logs a `tracing` warning, and the
    /// first in a process also writes one to stderr (seen without a `tracing` subscriber).
    Insecure,
}

impl Default for TlsMode {
    fn default() -> Self {
        TlsMode::Verified { extra_ca_pem: None }
    }
}

/// Default value of [`TransportConfig::user_agent`].
pub const DEFAULT_USER_AGENT: &str = concat!("vim-sdk/", env!("CARGO_PKG_VERSION"));

/// Settings of a [`Transport`](super::Transport).
///
/// ```
/// use std::time::Duration;
/// use vim_sdk::transport::{TlsMode, TransportConfig};
///
/// let config = TransportConfig::new("https://vc.example.com/sdk")
///     .call_timeout(Duration::from_secs(60))
///     .tls(TlsMode::Pinned { thumbprints: vec!["AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD".parse().unwrap()] });
/// assert_eq!(config.base_url, "https://vc.example.com/sdk");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// The SOAP endpoint, `https://host[:port]/sdk`. `http://` is accepted to a loopback
    /// host (`127.0.0.0/8`, `::1`, `localhost`: tests, local proxies) and refused to any
    /// other unless [`allow_plain_http`](Self::allow_plain_http) is set. `get` and `put_stream` paths are resolved against its origin.
    pub base_url: String,
    /// Limit for establishing the TCP connection. Default 30 s.
    pub connect_timeout: Duration,
    /// Limit for one call from sending the request until the response headers have arrived
    /// (connect and TLS handshake included). Default 5 minutes; it must exceed the longest
    /// server-side wait a call asks for (e.g. `WaitForUpdatesEx`'s `maxWaitSeconds`).
    pub call_timeout: Duration,
    /// Limit for the gap between two chunks of a response body (and for writing an upload
    /// chunk): a body that stalls this long fails with a timeout. Default 5 minutes.
    pub read_idle_timeout: Duration,
    /// Idle keep-alive connections are closed after this long. Default 90 s.
    pub pool_idle_timeout: Duration,
    /// At most this many idle connections are kept per host. Default 8.
    pub pool_max_idle_per_host: usize,
    /// `User-Agent` header. Default [`DEFAULT_USER_AGENT`] (`vim-sdk/<version>`).
    pub user_agent: String,
    /// Certificate policy.
    pub tls: TlsMode,
    /// Allows `http://` to a host that is not loopback: the password of `Login` and the
    /// session cookie then cross the network in clear. Default false. When set, building
    /// such a transport writes a warning to stderr (once per process) besides the `tracing`
    /// one.
    pub allow_plain_http: bool,
    /// Largest response body [`ResponseBody::collect`](super::ResponseBody::collect) is asked
    /// for by the client, counted after gzip decoding. Default
    /// [`DEFAULT_MAX_BODY`](Self::DEFAULT_MAX_BODY) (1 GiB).
    pub max_body: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            base_url: String::new(),
            connect_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(300),
            read_idle_timeout: Duration::from_secs(300),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 8,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            tls: TlsMode::default(),
            allow_plain_http: false,
            max_body: Self::DEFAULT_MAX_BODY,
        }
    }
}

impl TransportConfig {
    /// Default of [`max_body`](Self::max_body): 1 GiB.
    pub const DEFAULT_MAX_BODY: usize = 1 << 30;

    /// Defaults for the given base URL.
    pub fn new(base_url: impl Into<String>) -> Self {
        TransportConfig {
            base_url: base_url.into(),
            ..Default::default()
        }
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`call_timeout`](Self::call_timeout).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Sets [`read_idle_timeout`](Self::read_idle_timeout).
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.read_idle_timeout = timeout;
        self
    }

    /// Sets [`user_agent`](Self::user_agent).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets [`tls`](Self::tls).
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = mode;
        self
    }

    /// Sets [`allow_plain_http`](Self::allow_plain_http): `http://` to a host that is not
    /// loopback, sending the password and session cookie in clear.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// Sets [`max_body`](Self::max_body), the largest (decompressed) reply the client reads.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}
