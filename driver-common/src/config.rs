//! `vmwarerc`: the drivers' configuration (contract §2.1), YAML with `:key:` names.
//!
//! The file is found at `$VMWARERC`, else `$ONE_LOCATION/etc/vmwarerc`, else
//! `/etc/one/vmwarerc`, and read with yaml-rust2 (a maintained, pure-Rust YAML 1.2 parser,
//! the successor of yaml-rust; serde_yaml is archived and the file is a flat map, so no serde
//! layer is needed). Keys are written as Ruby symbols (`:username:`); the leading colon is
//! optional here.
//!
//! | key | meaning |
//! |---|---|
//! | `:libvirt_uri:` | `esx://@HOST@[:port]/?no_verify=1...`: how to reach an ESX host directly (`@HOST@` is the OpenNebula host name; `no_verify=1` turns TLS verification off; other parameters are accepted and ignored; quotes around the value are stripped). Needed without `:vcenter:`. |
//! | `:username:` | the ESX/vCenter user (required) |
//! | `:password:` | its password (required unless `:password_file:` is given) |
//! | `:password_file:` | a file holding the password (first line) |
//! | `:datacenter:` | the vCenter datacenter holding the hosts (required with `:vcenter:`) |
//! | `:vcenter:` | vCenter as a host, `host:port` or URL; https unless it says `http://` |
//! | `:ca_file:` | PEM file of CA certificates trusted besides the system's |
//! | `:thumbprints:` | `{host: "AA:BB:..."}`: SHA-1 or SHA-256 certificate pins per server host |
//! | `:session_cache:` | directory of cached sessions (default `~/.one/vmware-sessions`), `false` disables |
//! | `:shutdown_timeout:` | seconds shutdown waits for the guest to power off (1 to 86400; default 300); the environment variable `VMWARE_SHUTDOWN_TIMEOUT` overrides it |
//! | `:call_timeout:` | seconds one SOAP call may wait for the server: for its reply to start, and between two parts of it (1 to 86400; default [`DEFAULT_CALL_TIMEOUT`], 120); a stalled server then fails the action instead of holding it |

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vim_sdk::session::{ConnectOptions, Secret};
use vim_sdk::transport::{Thumbprint, TlsMode};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{DriverError, Result};

/// Where the configuration comes from when `$VMWARERC` and `$ONE_LOCATION` are unset.
pub const SYSTEM_PATH: &str = "/etc/one/vmwarerc";

/// The `User-Agent` of the drivers' requests.
pub const USER_AGENT: &str = concat!("opennebula-vmware-native/", env!("CARGO_PKG_VERSION"));

/// The default libvirt URI when the file has none (vCenter mode only needs it for
/// `no_verify`).
const DEFAULT_URI: &str = "esx://@HOST@/";

/// How long one SOAP call waits for the server by default (`:call_timeout:`): for the reply's
/// headers and for each part of its body. Task waits ask the server for at most half of it
/// per round trip, so long tasks are unaffected.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// How long connecting to a server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest shutdown wait accepted, in seconds (one day).
pub const MAX_SHUTDOWN_TIMEOUT_SECS: u64 = 86_400;

/// A shutdown timeout: whole seconds from 1 to [`MAX_SHUTDOWN_TIMEOUT_SECS`], blanks around
/// it ignored. The error says what is expected.
pub fn parse_timeout(value: &str) -> std::result::Result<Duration, String> {
    let v = value.trim();
    match v.parse::<u64>() {
        Ok(secs) if (1..=MAX_SHUTDOWN_TIMEOUT_SECS).contains(&secs) => {
            Ok(Duration::from_secs(secs))
        }
        _ => Err(format!(
            "{:?} is not a number of seconds from 1 to {MAX_SHUTDOWN_TIMEOUT_SECS}",
            v.chars().take(40).collect::<String>()
        )),
    }
}

/// Whether sessions are cached, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheSetting {
    /// `:session_cache:` unset: `~/.one/vmware-sessions` when `$HOME` is known.
    Default,
    /// `:session_cache: false`.
    Disabled,
    /// `:session_cache: /some/dir`.
    Dir(PathBuf),
}

/// The parsed `vmwarerc`.
#[derive(Clone)]
pub struct VmwareRc {
    /// The file it was read from.
    pub path: PathBuf,
    /// `:username:`.
    pub username: String,
    password: Secret,
    /// `:datacenter:` (trimmed; `None` when unset or empty).
    pub datacenter: Option<String>,
    /// `:vcenter:` (`None` when unset or empty).
    pub vcenter: Option<String>,
    /// `:libvirt_uri:` with the quotes stripped, `@HOST@` still in it.
    pub libvirt_uri: String,
    /// `:ca_file:`.
    pub ca_file: Option<PathBuf>,
    /// `:thumbprints:`: server host (or `host:port`) → pin.
    pub thumbprints: BTreeMap<String, Thumbprint>,
    /// `:session_cache:`.
    pub session_cache: CacheSetting,
    /// `:shutdown_timeout:` (checked by [`parse_timeout`]); `None` when unset.
    pub shutdown_timeout: Option<Duration>,
    /// `:call_timeout:` (checked by [`parse_timeout`]); `None` when unset (see
    /// [`call_timeout`](Self::call_timeout)).
    pub call_timeout: Option<Duration>,
}

impl fmt::Debug for VmwareRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VmwareRc")
            .field("path", &self.path)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("datacenter", &self.datacenter)
            .field("vcenter", &self.vcenter)
            .field("libvirt_uri", &self.libvirt_uri)
            .field("ca_file", &self.ca_file)
            .field("thumbprints", &self.thumbprints)
            .field("session_cache", &self.session_cache)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// The server an action talks to for one OpenNebula host.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The SOAP URL (`https://host[:port]/sdk`).
    pub url: String,
    /// The server's host name or address (from the URL).
    pub server: String,
    /// Whether it is vCenter (`:vcenter:` set) rather than the ESX host itself.
    pub vcenter: bool,
    /// The TLS policy.
    pub tls: TlsMode,
    /// Whether the URL is plain `http://` (local simulators only).
    pub plain_http: bool,
}

/// The configuration file's path: `$VMWARERC`, else `$ONE_LOCATION/etc/vmwarerc`, else
/// [`SYSTEM_PATH`].
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("VMWARERC").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(loc) = std::env::var_os("ONE_LOCATION").filter(|p| !p.is_empty()) {
        return Path::new(&loc).join("etc").join("vmwarerc");
    }
    PathBuf::from(SYSTEM_PATH)
}

/// A scalar as text (`password: 1234` is an integer to YAML); `None` for null/absent.
fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn key_name(k: &Yaml) -> Option<String> {
    let s = scalar(k)?;
    let s = s.trim();
    let s = s.strip_prefix(':').unwrap_or(s);
    Some(s.strip_suffix(':').unwrap_or(s).to_string())
}

/// Strips one pair of surrounding quotes (legacy values carry `"'esx://...'"`) and blanks.
fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.trim();
        }
    }
    t
}

impl VmwareRc {
    /// Reads the configuration from [`default_path`].
    pub fn load() -> Result<Self> {
        Self::load_from(&default_path())
    }

    /// Reads the configuration from `path`.
    pub fn load_from(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            DriverError::new(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            ))
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the file `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let file = path.display();
        let bad = |what: String| DriverError::new(format!("configuration file {file}: {what}"));
        let docs = YamlLoader::load_from_str(text).map_err(|e| {
            let m = e.marker();
            bad(format!(
                "malformed YAML at line {}, column {}: {}",
                m.line(),
                m.col() + 1,
                e.info()
            ))
        })?;
        let mut map: BTreeMap<String, Yaml> = BTreeMap::new();
        match docs.into_iter().next() {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(h)) => {
                for (k, v) in h {
                    let Some(name) = key_name(&k) else {
                        return Err(bad("a key is not a plain name".into()));
                    };
                    map.insert(name, v);
                }
            }
            Some(_) => return Err(bad("expected a map of `:key: value` lines".into())),
        }
        let text_of = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(Yaml::Null) => Ok(None),
                Some(v) => match scalar(v) {
                    Some(s) => Ok(Some(s)),
                    None => Err(bad(format!("key :{key}: must be a single value"))),
                },
            }
        };
        let nonempty =
            |v: Option<String>| v.map(|s| unquote(&s).to_string()).filter(|s| !s.is_empty());

        let username =
            nonempty(text_of("username")?).ok_or_else(|| bad("missing key :username:".into()))?;
        let password = match (text_of("password")?, nonempty(text_of("password_file")?)) {
            (_, Some(pf)) => {
                let content = std::fs::read_to_string(&pf)
                    .map_err(|e| bad(format!("key :password_file:: cannot read {pf}: {e}")))?;
                let content = Secret::new(content);
                Secret::new(content.expose().lines().next().unwrap_or(""))
            }
            (Some(p), None) => Secret::new(p),
            (None, None) => return Err(bad("missing key :password: (or :password_file:)".into())),
        };
        let datacenter = nonempty(text_of("datacenter")?);
        let vcenter = nonempty(text_of("vcenter")?);
        if vcenter.is_some() && datacenter.is_none() {
            return Err(bad(
                "missing key :datacenter: (needed with :vcenter:)".into()
            ));
        }
        let libvirt_uri = match nonempty(text_of("libvirt_uri")?) {
            Some(u) => u,
            None if vcenter.is_some() => DEFAULT_URI.to_string(),
            None => {
                return Err(bad(
                    "missing key :libvirt_uri: (needed without :vcenter:)".into()
                ))
            }
        };
        let ca_file = nonempty(text_of("ca_file")?).map(PathBuf::from);
        if let Some(ca) = &ca_file {
            if let Err(e) = std::fs::metadata(ca) {
                return Err(bad(format!(
                    "key :ca_file:: cannot read {}: {e}",
                    ca.display()
                )));
            }
        }
        let mut thumbprints = BTreeMap::new();
        match map.get("thumbprints") {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(h)) => {
                for (k, v) in h {
                    let (Some(host), Some(tp)) = (scalar(k), scalar(v)) else {
                        return Err(bad(
                            "key :thumbprints: must map host names to thumbprints".into()
                        ));
                    };
                    let pin: Thumbprint = unquote(&tp)
                        .parse()
                        .map_err(|e| bad(format!("key :thumbprints:, host {host}: {e}")))?;
                    thumbprints.insert(host.trim().to_string(), pin);
                }
            }
            Some(_) => {
                return Err(bad(
                    "key :thumbprints: must map host names to thumbprints".into()
                ))
            }
        }
        let session_cache = match map.get("session_cache") {
            None | Some(Yaml::Null) => CacheSetting::Default,
            Some(Yaml::Boolean(false)) => CacheSetting::Disabled,
            Some(Yaml::Boolean(true)) => CacheSetting::Default,
            Some(v) => match nonempty(scalar(v)) {
                Some(s) if s == "false" || s == "no" => CacheSetting::Disabled,
                Some(s) => CacheSetting::Dir(PathBuf::from(s)),
                None => CacheSetting::Default,
            },
        };
        let shutdown_timeout = nonempty(text_of("shutdown_timeout")?)
            .map(|v| parse_timeout(&v))
            .transpose()
            .map_err(|e| bad(format!("key :shutdown_timeout:: {e}")))?;
        let call_timeout = nonempty(text_of("call_timeout")?)
            .map(|v| parse_timeout(&v))
            .transpose()
            .map_err(|e| bad(format!("key :call_timeout:: {e}")))?;
        Ok(VmwareRc {
            path: path.to_path_buf(),
            username,
            password,
            datacenter,
            vcenter,
            libvirt_uri,
            ca_file,
            thumbprints,
            session_cache,
            shutdown_timeout,
            call_timeout,
        })
    }

    /// The password (to send it; never log it).
    pub fn password(&self) -> &Secret {
        &self.password
    }

    /// The session cache directory, if caching is on.
    pub fn session_cache_dir(&self) -> Option<PathBuf> {
        match &self.session_cache {
            CacheSetting::Disabled => None,
            CacheSetting::Dir(d) => Some(d.clone()),
            CacheSetting::Default => std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| h.is_absolute())
                .map(|h| h.join(".one").join("vmware-sessions")),
        }
    }

    fn err(&self, what: impl fmt::Display) -> DriverError {
        DriverError::new(format!(
            "configuration file {}: {what}",
            self.path.display()
        ))
    }

    /// Whether `:libvirt_uri:` asks for no certificate verification (`no_verify=1`).
    fn no_verify(&self) -> bool {
        let q = self
            .libvirt_uri
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("");
        q.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            k.trim() == "no_verify" && v.trim() == "1"
        })
    }

    /// The server to talk to for OpenNebula host `host`: vCenter when `:vcenter:` is set,
    /// else the host itself through `:libvirt_uri:`.
    pub fn endpoint(&self, host: &str) -> Result<Endpoint> {
        if host.is_empty()
            || host.len() > 255
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "/?#@'\"\\".contains(c))
        {
            return Err(DriverError::new(format!("invalid host name '{host}'")));
        }
        let (url, vcenter) = match &self.vcenter {
            Some(vc) => {
                let with_scheme = if vc.contains("://") {
                    vc.clone()
                } else {
                    format!("https://{vc}")
                };
                let u = url::Url::parse(&with_scheme).map_err(|e| {
                    self.err(format_args!("key :vcenter:: not a host or URL ({e})"))
                })?;
                if u.scheme() != "https" && u.scheme() != "http" {
                    return Err(self.err("key :vcenter:: the URL must be https:// (or http:// for a local simulator)"));
                }
                (u, true)
            }
            None => {
                if !self.libvirt_uri.contains("@HOST@") {
                    return Err(self.err("key :libvirt_uri:: has no @HOST@"));
                }
                let raw = self.libvirt_uri.replace("@HOST@", host);
                let u = url::Url::parse(&raw)
                    .map_err(|e| self.err(format_args!("key :libvirt_uri:: not a URI ({e})")))?;
                let scheme = match u.scheme() {
                    "esx" | "gsx" | "vpx" | "https" => "https",
                    "http" => "http",
                    other => {
                        return Err(self.err(format_args!(
                            "key :libvirt_uri:: unsupported scheme {other}:// (esx:// expected)"
                        )))
                    }
                };
                let h = u
                    .host_str()
                    .ok_or_else(|| self.err("key :libvirt_uri:: no host"))?;
                let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                let u = url::Url::parse(&format!("{scheme}://{h}{port}/"))
                    .map_err(|e| self.err(format_args!("key :libvirt_uri:: not a URI ({e})")))?;
                (u, false)
            }
        };
        let server = url.host_str().unwrap_or_default().to_string();
        let server_port = url
            .port()
            .map(|p| format!("{server}:{p}"))
            .unwrap_or_else(|| server.clone());
        let plain_http = url.scheme() == "http";
        let path = if url.path().is_empty() || url.path() == "/" {
            "/sdk"
        } else {
            url.path()
        };
        let url_text = format!("{}://{}{}", url.scheme(), url_host_port(&url), path);
        let pin = self
            .thumbprints
            .get(&server_port)
            .or_else(|| self.thumbprints.get(&server))
            .or_else(|| (!vcenter).then(|| self.thumbprints.get(host)).flatten());
        let tls = if let Some(pin) = pin {
            TlsMode::Pinned {
                thumbprints: vec![pin.clone()],
            }
        } else if self.no_verify() {
            TlsMode::Insecure
        } else {
            TlsMode::Verified {
                extra_ca_pem: self.ca_file.clone(),
            }
        };
        Ok(Endpoint {
            url: url_text,
            server,
            vcenter,
            tls,
            plain_http,
        })
    }

    /// How long one SOAP call may wait for the server: `:call_timeout:`, else
    /// [`DEFAULT_CALL_TIMEOUT`]. Used for the reply's headers and for the gap between two
    /// parts of its body.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout.unwrap_or(DEFAULT_CALL_TIMEOUT)
    }

    /// The transport settings of a connection to `ep` (TLS policy, timeouts, user agent):
    /// what [`connect_options`](Self::connect_options) sets, for a client built directly.
    pub fn transport_config(&self, ep: &Endpoint) -> vim_sdk::transport::TransportConfig {
        vim_sdk::transport::TransportConfig::new(ep.url.clone())
            .tls(ep.tls.clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .call_timeout(self.call_timeout())
            .read_idle_timeout(self.call_timeout())
            .user_agent(USER_AGENT)
    }

    /// Connect options for `ep`: credentials, TLS policy, session cache, timeouts.
    pub fn connect_options(&self, ep: &Endpoint) -> ConnectOptions {
        let mut o = ConnectOptions::new()
            .credentials(self.username.clone(), self.password.expose())
            .tls(ep.tls.clone())
            .connect_timeout(CONNECT_TIMEOUT)
            .call_timeout(self.call_timeout())
            .read_idle_timeout(self.call_timeout())
            .user_agent(USER_AGENT);
        if let Some(dir) = self.session_cache_dir() {
            o = o.session_cache(dir);
        }
        o
    }
}

/// `host[:port]` of a URL, with IPv6 addresses in brackets.
fn url_host_port(u: &url::Url) -> String {
    let host = match u.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<VmwareRc> {
        VmwareRc::parse(Path::new("/etc/one/vmwarerc"), text)
    }

    const LEGACY: &str = "---\n:libvirt_uri: \"'esx://@HOST@/?no_verify=1&auto_answer=1'\"\n:username: \"oneadmin\"\n:password: \"s3cret\"\n:datacenter: \"ha-datacenter\"\n:vcenter:\n";

    #[test]
    fn legacy_file_parses() {
        let rc = parse(LEGACY).unwrap();
        assert_eq!(rc.username, "oneadmin");
        assert_eq!(rc.password().expose(), "s3cret");
        assert_eq!(rc.datacenter.as_deref(), Some("ha-datacenter"));
        assert_eq!(rc.vcenter, None);
        assert_eq!(rc.libvirt_uri, "esx://@HOST@/?no_verify=1&auto_answer=1");
        let ep = rc.endpoint("esx1").unwrap();
        assert_eq!(ep.url, "https://esx1/sdk");
        assert!(!ep.vcenter);
        assert!(matches!(ep.tls, TlsMode::Insecure));
        assert!(!format!("{rc:?}").contains("s3cret"));
    }

    #[test]
    fn port_pins_and_vcenter() {
        let tp = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";
        let rc = parse(&format!(
            ":libvirt_uri: esx://@HOST@:8443/\n:username: u\n:password: 1234\n:thumbprints:\n  esx2: \"{tp}\"\n"
        ))
        .unwrap();
        assert_eq!(rc.password().expose(), "1234");
        let ep = rc.endpoint("esx2").unwrap();
        assert_eq!(ep.url, "https://esx2:8443/sdk");
        assert!(matches!(ep.tls, TlsMode::Pinned { .. }));
        let ep = rc.endpoint("esx3").unwrap();
        assert!(matches!(ep.tls, TlsMode::Verified { extra_ca_pem: None }));

        let rc =
            parse(":username: u\n:password: p\n:vcenter: vc.example.com:9443\n:datacenter: DC0\n")
                .unwrap();
        let ep = rc.endpoint("esx1").unwrap();
        assert_eq!(ep.url, "https://vc.example.com:9443/sdk");
        assert!(ep.vcenter);
        let rc = parse(
            ":username: u\n:password: p\n:vcenter: http://127.0.0.1:1/sdk\n:datacenter: DC0\n",
        )
        .unwrap();
        let ep = rc.endpoint("esx1").unwrap();
        assert_eq!(ep.url, "http://127.0.0.1:1/sdk");
        assert!(ep.plain_http);
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let e = parse(":password: p\n:libvirt_uri: esx://@HOST@/\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/etc/one/vmwarerc") && e.contains(":username:"),
            "{e}"
        );
        let e = parse(":username: u\n:libvirt_uri: esx://@HOST@/\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":password:"), "{e}");
        let e = parse(":username: u\n:password: p\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":libvirt_uri:"), "{e}");
        let e = parse(":username: u\n:password: p\n:vcenter: vc\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":datacenter:"), "{e}");
        let e = parse(":username: [u\n").unwrap_err().to_string();
        assert!(
            e.contains("malformed YAML") && e.contains("/etc/one/vmwarerc"),
            "{e}"
        );
        let e = parse("- a\n- b\n").unwrap_err().to_string();
        assert!(e.contains("map"), "{e}");
        let e = parse(
            ":username: u\n:password: p\n:libvirt_uri: esx://@HOST@/\n:thumbprints: {h: zz}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":thumbprints:"), "{e}");
        let rc = parse(":username: u\n:password: p\n:libvirt_uri: esx://@HOST@/\n").unwrap();
        assert!(rc.endpoint("a b").is_err());
        assert!(rc.endpoint("x/../y").is_err());
    }

    #[test]
    fn session_cache_setting() {
        let base = ":username: u\n:password: p\n:libvirt_uri: esx://@HOST@/\n";
        assert_eq!(parse(base).unwrap().session_cache, CacheSetting::Default);
        let rc = parse(&format!("{base}:session_cache: false\n")).unwrap();
        assert_eq!(rc.session_cache_dir(), None);
        let rc = parse(&format!("{base}:session_cache: /tmp/x\n")).unwrap();
        assert_eq!(rc.session_cache_dir(), Some(PathBuf::from("/tmp/x")));
    }

    #[test]
    fn call_timeout_setting() {
        let base = ":username: u\n:password: p\n:libvirt_uri: esx://@HOST@/\n";
        let rc = parse(base).unwrap();
        assert_eq!(rc.call_timeout(), DEFAULT_CALL_TIMEOUT);
        let ep = rc.endpoint("esx1").unwrap();
        let config = rc.transport_config(&ep);
        assert_eq!(config.call_timeout, DEFAULT_CALL_TIMEOUT);
        assert_eq!(config.read_idle_timeout, DEFAULT_CALL_TIMEOUT);
        assert_eq!(config.connect_timeout, CONNECT_TIMEOUT);
        let rc = parse(&format!("{base}:call_timeout: 7\n")).unwrap();
        assert_eq!(rc.call_timeout(), Duration::from_secs(7));
        assert_eq!(
            rc.transport_config(&ep).read_idle_timeout,
            Duration::from_secs(7)
        );
        let e = parse(&format!("{base}:call_timeout: 0\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":call_timeout:"), "{e}");
    }

    #[test]
    fn shutdown_timeout_setting() {
        let base = ":username: u\n:password: p\n:libvirt_uri: esx://@HOST@/\n";
        assert_eq!(parse(base).unwrap().shutdown_timeout, None);
        for (value, secs) in [
            ("120", 120),
            ("\"45\"", 45),
            ("' 7 '", 7),
            ("86400", 86_400),
        ] {
            let rc = parse(&format!("{base}:shutdown_timeout: {value}\n")).unwrap();
            assert_eq!(
                rc.shutdown_timeout,
                Some(Duration::from_secs(secs)),
                "{value}"
            );
        }
        let rc = parse(&format!("{base}:shutdown_timeout:\n")).unwrap();
        assert_eq!(rc.shutdown_timeout, None, "empty is unset");
        for bad in ["0", "-5", "ten", "1.5", "86401", "[1]"] {
            let e = parse(&format!("{base}:shutdown_timeout: {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("/etc/one/vmwarerc") && e.contains(":shutdown_timeout:"),
                "{bad}: {e}"
            );
        }
        assert_eq!(parse_timeout(" 9 "), Ok(Duration::from_secs(9)));
        assert!(parse_timeout("").is_err());
    }
}
