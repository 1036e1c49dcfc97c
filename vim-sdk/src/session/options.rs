//! [`ConnectOptions`] and the [`Secret`] string that holds a password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::transport::{Thumbprint, TlsMode};
use crate::xml::Limits;

/// A password or other secret held in memory: `Debug` never shows it and its bytes are
/// overwritten when it is dropped ("zeroize-ish": copies the allocator made earlier are not
/// reached).
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, to send it. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// How [`Client::connect`](crate::Client::connect) connects, logs in and keeps the session.
///
/// The defaults: verified TLS against the platform's roots, version negotiation, no keep-alive,
/// no re-login, no session cache, logout on [`Session::close`](super::Session::close).
///
/// ```
/// use std::time::Duration;
/// use vim_sdk::session::ConnectOptions;
///
/// let options = ConnectOptions::new()
///     .credentials("administrator@vsphere.local", "secret")
///     .extra_ca_pem("/etc/vmware/vmca-root.pem")
///     .keepalive(Duration::from_secs(600))
///     .relogin(true);
/// assert!(!format!("{options:?}").contains("secret"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub(crate) tls: TlsMode,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) relogin: bool,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) logout_on_close: Option<bool>,
    pub(crate) wire_dump: Option<PathBuf>,
    pub(crate) api_version: Option<String>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) call_timeout: Option<Duration>,
    pub(crate) read_idle_timeout: Option<Duration>,
    pub(crate) user_agent: Option<String>,
    pub(crate) allow_plain_http: bool,
    pub(crate) max_body: Option<usize>,
    pub(crate) decode_limits: Option<Limits>,
    pub(crate) max_pages: Option<usize>,
}

impl ConnectOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the TLS policy (default: [`TlsMode::Verified`] with the platform's roots).
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = mode;
        self
    }

    /// Verified TLS, trusting the CA certificates of this PEM file besides the platform's.
    pub fn extra_ca_pem(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls = TlsMode::Verified {
            extra_ca_pem: Some(path.into()),
        };
        self
    }

    /// Verified TLS with only the CA certificates of this PEM file as roots, not the
    /// platform's ([`TlsMode::CaFile`]; govc's `GOVC_TLS_CA_CERTS`).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls = TlsMode::CaFile {
            ca_pem: path.into(),
        };
        self
    }

    /// Accepts a server certificate with this SHA-1 or SHA-256 thumbprint, and nothing else
    /// (see [`TlsMode::Pinned`]); call again to accept several.
    pub fn pin(mut self, thumbprint: Thumbprint) -> Self {
        match &mut self.tls {
            TlsMode::Pinned { thumbprints } => thumbprints.push(thumbprint),
            _ => {
                self.tls = TlsMode::Pinned {
                    thumbprints: vec![thumbprint],
                }
            }
        }
        self
    }

    /// No certificate verification ([`TlsMode::Insecure`], logged as a warning).
    pub fn insecure(mut self) -> Self {
        self.tls = TlsMode::Insecure;
        self
    }

    /// The user and password to log in with, unless the URL carries them.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(Secret::new(password));
        self
    }

    /// The user, without a password: for [`Client::resume_cached`](crate::Client::resume_cached),
    /// which never logs in (a URL's user takes precedence).
    pub fn user(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Calls `CurrentTime` whenever the session has been idle this long, so that the server
    /// does not expire it (vCenter's default idle limit is 30 minutes). Stops on close or drop.
    pub fn keepalive(mut self, idle: Duration) -> Self {
        self.keepalive = Some(idle);
        self
    }

    /// Keeps the credentials in memory so that [`Client::with_relogin`](crate::Client::with_relogin)
    /// (and the keep-alive) can log in again after `NotAuthenticated`.
    pub fn relogin(mut self, on: bool) -> Self {
        self.relogin = on;
        self
    }

    /// Caches the session in `dir` (created with mode 0700; one file per URL and user, mode
    /// 0600, holding the cookie and the negotiated version), reuses a cached session after
    /// checking it is still valid, and keeps the session alive on
    /// [`close`](super::Session::close) (see [`logout_on_close`](Self::logout_on_close)).
    pub fn session_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// [`session_cache`](Self::session_cache) in [`SessionCache::default_dir`](super::SessionCache::default_dir)
    /// (`$XDG_CACHE_HOME/vim-sdk` or `~/.cache/vim-sdk`); no cache if neither is known.
    pub fn default_session_cache(mut self) -> Self {
        self.cache_dir = super::SessionCache::default_dir();
        self
    }

    /// Whether [`close`](super::Session::close) and drop log out: by default yes without a
    /// session cache and no with one.
    pub fn logout_on_close(mut self, on: bool) -> Self {
        self.logout_on_close = Some(on);
        self
    }

    /// Dumps request and response bodies into `dir`, redacted (see [`crate::trace`]).
    pub fn wire_dump(mut self, dir: impl Into<PathBuf>) -> Self {
        self.wire_dump = Some(dir.into());
        self
    }

    /// Speaks this API version without negotiating.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// Transport connect timeout (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Transport per-call timeout (default 5 minutes).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Transport limit for the gap between two chunks of a reply body (default 5 minutes):
    /// a reply that stalls this long fails with a timeout.
    pub fn read_idle_timeout(mut self, timeout: Duration) -> Self {
        self.read_idle_timeout = Some(timeout);
        self
    }

    /// `User-Agent` header (default `vim-sdk/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Allows an `http://` URL to a host that is not loopback (refused by default: the
    /// password of `Login` and the session cookie would cross the network in clear). See
    /// [`TransportConfig::allow_plain_http`](crate::transport::TransportConfig::allow_plain_http).
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// The largest reply body read, counted after gzip decoding (default 1 GiB). See
    /// [`TransportConfig::max_body`](crate::transport::TransportConfig::max_body).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// The limits replies are decoded under: element and `anyType` nesting, decoded-size
    /// budget (default [`Limits::default`]; `max_bytes` is ignored, see
    /// [`max_body`](Self::max_body)). See [`Client::set_decode_limits`](crate::Client::set_decode_limits).
    pub fn decode_limits(mut self, limits: Limits) -> Self {
        self.decode_limits = Some(limits);
        self
    }

    /// How many `RetrievePropertiesEx` pages a property stream follows (default
    /// [`DEFAULT_MAX_PAGES`](crate::client::DEFAULT_MAX_PAGES)). See
    /// [`Client::set_max_pages`](crate::Client::set_max_pages).
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = Some(pages);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let o = ConnectOptions::new().credentials("root", "hunter2-pw");
        let text = format!("{o:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("root"), "{text}");
        assert_eq!(o.password.as_ref().unwrap().expose(), "hunter2-pw");
    }

    #[test]
    fn pins_accumulate() {
        let a: Thumbprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
            .parse()
            .unwrap();
        let o = ConnectOptions::new().pin(a.clone()).pin(a);
        match o.tls {
            TlsMode::Pinned { thumbprints } => assert_eq!(thumbprints.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
