//! A govmomi simulator (vcsim 0.24.2) running as a child process, for tests.
//!
//! ```no_run
//! use vim_sdk::testing::Vcsim;
//!
//! let sim = Vcsim::builder().vpx().hosts(2).vms(3).tls(true).start()?;
//! println!("{} as {}/{}", sim.url(), sim.username(), sim.password());
//! // The simulator stops when `sim` is dropped.
//! # Ok::<(), vim_sdk::testing::VcsimError>(())
//! ```
//!
//! The launcher is found through the `VCSIM_LAUNCHER` environment variable, else at
//! `<workspace>/target/vcsim/vcsim-launcher`. When it is missing (or older than its source),
//! it is built with `go` the way `scripts/setup` does; when that fails, [`Vcsim::start`]
//! returns [`VcsimError::Launcher`], whose message says to run `scripts/setup`.
//!
//! Each simulator listens on its own free port of 127.0.0.1, so tests may run several in
//! parallel.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The user name the simulators started by [`VcsimBuilder`] accept.
pub const USERNAME: &str = "user";
/// The password the simulators started by [`VcsimBuilder`] accept.
pub const PASSWORD: &str = "pass";

/// Environment variable naming the launcher binary, overriding the default location.
pub const LAUNCHER_ENV: &str = "VCSIM_LAUNCHER";

/// How long [`VcsimBuilder::start`] waits for the launcher's startup line by default.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long dropping a [`Vcsim`] waits for a clean exit before killing the process.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serialises launcher builds within one process.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Numbers the log files of the simulators of this process.
static INSTANCE: AtomicUsize = AtomicUsize::new(0);

/// Which inventory the simulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcsimModel {
    /// A standalone ESX host (`simulator.ESX()`): one host, 2 VMs and 1 datastore by default.
    Esx,
    /// A vCenter (`simulator.VPX()`): by default 1 datacenter with 1 cluster of 3 hosts,
    /// 1 standalone host, 1 datastore, 1 distributed port group and 2 VMs per cluster and
    /// per standalone host.
    Vpx,
}

impl VcsimModel {
    fn flag(self) -> &'static str {
        match self {
            VcsimModel::Esx => "esx",
            VcsimModel::Vpx => "vpx",
        }
    }
}

/// Errors starting a simulator. `Debug` prints the same text as `Display`, so that an
/// `unwrap()` in a test shows the whole message (including the `scripts/setup` hint).
#[derive(thiserror::Error)]
pub enum VcsimError {
    /// The launcher binary is missing and could not be built.
    #[error("vcsim launcher unavailable: {0}; run scripts/setup (it installs Go and govmomi and builds target/vcsim/vcsim-launcher)")]
    Launcher(String),
    /// The builder's settings do not fit the model.
    #[error("invalid vcsim settings: {0}")]
    Config(String),
    /// Spawning the launcher or creating its log file failed.
    #[error("cannot run vcsim launcher {path}: {source}")]
    Spawn {
        /// The launcher that was run.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The launcher exited, timed out or printed no usable startup line.
    #[error("vcsim did not start: {reason}; launcher log:\n{log}")]
    Startup {
        /// What went wrong.
        reason: String,
        /// The end of the launcher's standard error.
        log: String,
    },
}

impl fmt::Debug for VcsimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Settings for a simulator; made by [`Vcsim::builder`], consumed by [`VcsimBuilder::start`].
///
/// Sizes left unset keep the model's defaults (see [`VcsimModel`]). The datacenter,
/// cluster, host, standalone-host and port-group counts apply to the VPX model only.
#[derive(Debug, Clone)]
pub struct VcsimBuilder {
    model: VcsimModel,
    datacenters: Option<u32>,
    clusters: Option<u32>,
    hosts: Option<u32>,
    standalone_hosts: Option<u32>,
    vms: Option<u32>,
    datastores: Option<u32>,
    portgroups: Option<u32>,
    autostart: bool,
    tls: bool,
    strict_login: bool,
    startup_timeout: Duration,
    launcher: Option<PathBuf>,
}

impl Default for VcsimBuilder {
    fn default() -> Self {
        VcsimBuilder {
            model: VcsimModel::Vpx,
            datacenters: None,
            clusters: None,
            hosts: None,
            standalone_hosts: None,
            vms: None,
            datastores: None,
            portgroups: None,
            autostart: true,
            tls: false,
            strict_login: true,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            launcher: None,
        }
    }
}

impl VcsimBuilder {
    /// Models a standalone ESX host.
    pub fn esx(mut self) -> Self {
        self.model = VcsimModel::Esx;
        self
    }

    /// Models a vCenter (the default).
    pub fn vpx(mut self) -> Self {
        self.model = VcsimModel::Vpx;
        self
    }

    /// Number of datacenters (VPX).
    pub fn datacenters(mut self, n: u32) -> Self {
        self.datacenters = Some(n);
        self
    }

    /// Clusters per datacenter (VPX).
    pub fn clusters(mut self, n: u32) -> Self {
        self.clusters = Some(n);
        self
    }

    /// Hosts per cluster (VPX).
    pub fn hosts(mut self, n: u32) -> Self {
        self.hosts = Some(n);
        self
    }

    /// Standalone hosts per datacenter (VPX).
    pub fn standalone_hosts(mut self, n: u32) -> Self {
        self.standalone_hosts = Some(n);
        self
    }

    /// VMs per cluster and per standalone host (VPX), or on the host (ESX).
    pub fn vms(mut self, n: u32) -> Self {
        self.vms = Some(n);
        self
    }

    /// Local datastores, mounted on every host. VMs need at least one.
    pub fn datastores(mut self, n: u32) -> Self {
        self.datastores = Some(n);
        self
    }

    /// Distributed port groups per datacenter (VPX).
    pub fn portgroups(mut self, n: u32) -> Self {
        self.portgroups = Some(n);
        self
    }

    /// Whether the model's VMs start powered on (default `true`).
    pub fn autostart(mut self, on: bool) -> Self {
        self.autostart = on;
        self
    }

    /// Serve HTTPS with the simulator's self-signed certificate instead of plain HTTP.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// With `true` (the default) only [`USERNAME`]/[`PASSWORD`] may log in, as on a real
    /// server; with `false` vcsim accepts any non-empty user name and password.
    pub fn strict_login(mut self, on: bool) -> Self {
        self.strict_login = on;
        self
    }

    /// How long to wait for the simulator to build its inventory and listen.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Use this launcher binary instead of the usual lookup.
    pub fn launcher(mut self, path: impl Into<PathBuf>) -> Self {
        self.launcher = Some(path.into());
        self
    }

    /// The launcher's command-line arguments for these settings.
    fn args(&self) -> Result<Vec<String>, VcsimError> {
        let mut args = vec!["-model".to_string(), self.model.flag().to_string()];
        let vpx_only = [
            ("dc", self.datacenters),
            ("cluster", self.clusters),
            ("host", self.hosts),
            ("standalone-host", self.standalone_hosts),
            ("portgroup", self.portgroups),
        ];
        for (flag, value) in vpx_only {
            if let Some(n) = value {
                if self.model == VcsimModel::Esx {
                    return Err(VcsimError::Config(format!(
                        "-{flag} applies to the VPX model only"
                    )));
                }
                args.push(format!("-{flag}={n}"));
            }
        }
        if self.datastores == Some(0) && self.vms != Some(0) {
            return Err(VcsimError::Config(
                "VMs need a datastore: datastores(0) requires vms(0)".into(),
            ));
        }
        for (flag, value) in [("vm", self.vms), ("ds", self.datastores)] {
            if let Some(n) = value {
                args.push(format!("-{flag}={n}"));
            }
        }
        args.push(format!("-autostart={}", self.autostart));
        args.push(format!("-tls={}", self.tls));
        args.push("-listen=127.0.0.1:0".into());
        if self.strict_login {
            args.push(format!("-username={USERNAME}"));
            args.push(format!("-password={PASSWORD}"));
        }
        Ok(args)
    }

    /// Starts the simulator and waits until it listens.
    pub fn start(self) -> Result<Vcsim, VcsimError> {
        let args = self.args()?;
        let launcher = match &self.launcher {
            Some(path) => path.clone(),
            None => locate_launcher()?,
        };

        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let log_path = std::env::temp_dir().join(format!("vcsim-{}-{n}.log", std::process::id()));
        let spawn_err = |source| VcsimError::Spawn {
            path: launcher.clone(),
            source,
        };
        let log = File::create(&log_path).map_err(spawn_err)?;
        let mut child = Command::new(&launcher)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| {
                let _ = fs::remove_file(&log_path);
                spawn_err(e)
            })?;

        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let first = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(first);
            // Keep draining so that the launcher never blocks on a full pipe.
            let _ = io::copy(&mut reader, &mut io::sink());
        });

        let fail = |mut child: Child, reason: String| {
            let _ = child.kill();
            let _ = child.wait();
            let log = log_tail(&log_path);
            let _ = fs::remove_file(&log_path);
            Err(VcsimError::Startup { reason, log })
        };
        let line = match rx.recv_timeout(self.startup_timeout) {
            Ok(Ok(line)) if !line.is_empty() => line,
            Ok(Ok(_)) => {
                // End of file: the launcher exited; let it finish writing its log.
                let status = child.wait();
                return fail(child, format!("the launcher exited ({status:?})"));
            }
            Ok(Err(e)) => return fail(child, format!("reading its output: {e}")),
            Err(_) => {
                let timeout = self.startup_timeout;
                return fail(child, format!("no startup line within {timeout:?}"));
            }
        };
        let fields = match parse_flat_json(line.trim()) {
            Ok(fields) => fields,
            Err(e) => return fail(child, format!("bad startup line {line:?}: {e}")),
        };
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let Some(url) = get("url") else {
            return fail(child, format!("no url in startup line {line:?}"));
        };
        let Some(addr) = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|host| host.parse::<SocketAddr>().ok())
            .filter(|addr| addr.ip().is_loopback())
        else {
            return fail(child, format!("url {url:?} is not a loopback address"));
        };

        Ok(Vcsim {
            pid: child.id(),
            child: Some(child),
            stdin,
            model: self.model,
            url,
            addr,
            tls: self.tls,
            thumbprint_sha1: get("thumbprint_sha1"),
            thumbprint_sha256: get("thumbprint_sha256"),
            cert_file: get("cert_file").map(PathBuf::from),
            log_path,
        })
    }
}

/// A running simulator. Dropping it stops the process (stdin is closed so that it shuts
/// down cleanly; it is killed if it has not exited after a few seconds) and reaps it.
pub struct Vcsim {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pid: u32,
    model: VcsimModel,
    url: String,
    addr: SocketAddr,
    tls: bool,
    thumbprint_sha1: Option<String>,
    thumbprint_sha256: Option<String>,
    cert_file: Option<PathBuf>,
    log_path: PathBuf,
}

impl fmt::Debug for Vcsim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vcsim")
            .field("pid", &self.pid)
            .field("model", &self.model)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Vcsim {
    /// Settings for a new simulator (VPX model, plain HTTP, strict login).
    pub fn builder() -> VcsimBuilder {
        VcsimBuilder::default()
    }

    /// The SOAP endpoint, without credentials: `http(s)://127.0.0.1:PORT/sdk`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the simulator listens on (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The user name to log in with.
    pub fn username(&self) -> &str {
        USERNAME
    }

    /// The password to log in with.
    pub fn password(&self) -> &str {
        PASSWORD
    }

    /// Whether the simulator serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The inventory model.
    pub fn model(&self) -> VcsimModel {
        self.model
    }

    /// The server certificate as a PEM file (a temporary file the launcher deletes on
    /// shutdown); `None` without TLS.
    pub fn cert_file(&self) -> Option<&Path> {
        self.cert_file.as_deref()
    }

    /// SHA-1 thumbprint of the server certificate, as `AA:BB:…`; `None` without TLS.
    pub fn thumbprint_sha1(&self) -> Option<&str> {
        self.thumbprint_sha1.as_deref()
    }

    /// SHA-256 thumbprint of the server certificate, as `AA:BB:…`; `None` without TLS.
    pub fn thumbprint_sha256(&self) -> Option<&str> {
        self.thumbprint_sha256.as_deref()
    }

    /// The launcher's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The file receiving the launcher's standard error (deleted on drop, unless the
    /// thread is panicking, so that a failed test leaves it behind for reading).
    pub fn log_file(&self) -> &Path {
        &self.log_path
    }

    /// Stops the simulator as dropping it does, and returns its exit status.
    pub fn shutdown(mut self) -> io::Result<ExitStatus> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<ExitStatus> {
        // Closing stdin asks the launcher to shut down and remove its datastore folders.
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return Err(io::Error::other("vcsim already stopped"));
        };
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                return child.wait();
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Vcsim {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop();
        }
        if thread::panicking() {
            eprintln!("vcsim log kept: {}", self.log_path.display());
        } else {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// The last few kilobytes of a log file, for error messages.
fn log_tail(path: &Path) -> String {
    const MAX: usize = 4096;
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let mut bytes = Vec::new();
        let _ = f.read_to_end(&mut bytes);
        let start = bytes.len().saturating_sub(MAX);
        text = String::from_utf8_lossy(&bytes[start..]).into_owned();
    }
    if text.trim().is_empty() {
        "(empty)".into()
    } else {
        text
    }
}

/// The workspace root: the parent of vim-sdk's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Finds the launcher, building it when it is missing or older than its source.
fn locate_launcher() -> Result<PathBuf, VcsimError> {
    if let Some(path) = std::env::var_os(LAUNCHER_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(VcsimError::Launcher(format!(
                "{LAUNCHER_ENV}={} is not a file",
                path.display()
            )))
        };
    }
    let root = workspace_root();
    let launcher = root.join("target/vcsim/vcsim-launcher");
    let source = root.join("vim-sdk/vcsim/main.go");
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if launcher.is_file() && !is_newer(&source, &launcher) {
        return Ok(launcher);
    }
    build_launcher(&root, &launcher)?;
    Ok(launcher)
}

/// Whether `a` was modified after `b` (false when either time is unknown).
fn is_newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a > b)
}

/// Builds the launcher with Go in GOPATH mode, against Debian's govmomi.
fn build_launcher(root: &Path, out: &Path) -> Result<(), VcsimError> {
    let dir = out.parent().expect("launcher path has a parent");
    fs::create_dir_all(dir)
        .map_err(|e| VcsimError::Launcher(format!("cannot create {}: {e}", dir.display())))?;
    // Build under a unique name and rename, so that concurrent test binaries never run a
    // half-written file.
    let tmp = dir.join(format!("vcsim-launcher.tmp.{}", std::process::id()));
    let mut cmd = Command::new("go");
    cmd.current_dir(root)
        .args(["build", "-o"])
        .arg(&tmp)
        .arg("./vim-sdk/vcsim")
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOFLAGS", "");
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", dir.join("go-cache"));
    }
    let output = cmd.output().map_err(|e| {
        VcsimError::Launcher(format!(
            "{} is missing or stale and `go` cannot run: {e}",
            out.display()
        ))
    })?;
    if !output.status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(VcsimError::Launcher(format!(
            "{} is missing or stale and `go build` failed: {}",
            out.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    fs::rename(&tmp, out).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        VcsimError::Launcher(format!("cannot install {}: {e}", out.display()))
    })
}

/// Parses a flat JSON object whose values are all strings, such as the launcher's
/// startup line, into its key/value pairs in order.
fn parse_flat_json(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut chars = text.chars().peekable();
    let mut fields = Vec::new();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    let expect = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, want: char| {
        skip_ws(chars);
        match chars.next() {
            Some(c) if c == want => Ok(()),
            other => Err(format!("expected {want:?}, found {other:?}")),
        }
    };
    expect(&mut chars, '{')?;
    skip_ws(&mut chars);
    if chars.peek() == Some(&'}') {
        chars.next();
    } else {
        loop {
            expect(&mut chars, '"')?;
            let key = parse_json_string(&mut chars)?;
            expect(&mut chars, ':')?;
            expect(&mut chars, '"')?;
            let value = parse_json_string(&mut chars)?;
            fields.push((key, value));
            skip_ws(&mut chars);
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                other => return Err(format!("expected ',' or '}}', found {other:?}")),
            }
        }
    }
    skip_ws(&mut chars);
    match chars.next() {
        None => Ok(fields),
        Some(c) => Err(format!("trailing {c:?} after the object")),
    }
}

/// Parses the rest of a JSON string whose opening quote has been consumed.
fn parse_json_string(chars: &mut impl Iterator<Item = char>) -> Result<String, String> {
    let mut out = String::new();
    let hex4 = |chars: &mut dyn Iterator<Item = char>| -> Result<u32, String> {
        let digits: String = chars.take(4).collect();
        if digits.len() != 4 {
            return Err("short \\u escape".into());
        }
        u32::from_str_radix(&digits, 16).map_err(|_| format!("bad \\u escape {digits:?}"))
    };
    loop {
        match chars.next() {
            None => return Err("unterminated string".into()),
            Some('"') => return Ok(out),
            Some('\\') => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let mut code = hex4(chars)?;
                    if (0xD800..0xDC00).contains(&code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err("lone high surrogate".into());
                        }
                        let low = hex4(chars)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return Err("bad low surrogate".into());
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    out.push(char::from_u32(code).ok_or("invalid \\u escape")?);
                }
                other => return Err(format!("bad escape {other:?}")),
            },
            Some(c) if (c as u32) < 0x20 => return Err("control character in string".into()),
            Some(c) => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_startup_line() {
        let line = r#"{"url":"https://127.0.0.1:4433/sdk","thumbprint_sha1":"AB:CD","thumbprint_sha256":"","cert_file":"/tmp/a\u0026b \"c\"\\d"}"#;
        let fields = parse_flat_json(line).unwrap();
        assert_eq!(
            fields,
            vec![
                ("url".into(), "https://127.0.0.1:4433/sdk".into()),
                ("thumbprint_sha1".into(), "AB:CD".into()),
                ("thumbprint_sha256".into(), String::new()),
                ("cert_file".into(), "/tmp/a&b \"c\"\\d".into()),
            ]
        );
        assert_eq!(parse_flat_json(" { } ").unwrap(), vec![]);
        assert_eq!(
            parse_flat_json(r#"{"k":"\ud83d\ude00\n"}"#).unwrap(),
            vec![("k".into(), "\u{1F600}\n".into())]
        );
    }

    #[test]
    fn rejects_malformed_json() {
        for bad in [
            "",
            "{",
            r#"{"url"}"#,
            r#"{"url":1}"#,
            r#"{"url":"x""#,
            r#"{"url":"x"} tail"#,
            r#"{"url":"\ud83d"}"#,
            r#"{"url":"\q"}"#,
        ] {
            assert!(parse_flat_json(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn builder_arguments() {
        let args = Vcsim::builder()
            .vpx()
            .hosts(2)
            .vms(3)
            .tls(true)
            .args()
            .unwrap();
        for want in [
            "-model",
            "vpx",
            "-host=2",
            "-vm=3",
            "-tls=true",
            "-listen=127.0.0.1:0",
            "-username=user",
            "-password=pass",
        ] {
            assert!(
                args.iter().any(|a| a == want),
                "{want} missing from {args:?}"
            );
        }
        let lax = Vcsim::builder().esx().strict_login(false).args().unwrap();
        assert!(!lax.iter().any(|a| a.starts_with("-username")));
        assert!(matches!(
            Vcsim::builder().esx().hosts(2).args(),
            Err(VcsimError::Config(_))
        ));
        assert!(matches!(
            Vcsim::builder().datastores(0).args(),
            Err(VcsimError::Config(_))
        ));
    }

    #[test]
    fn missing_launcher_error_names_scripts_setup() {
        let err = Vcsim::builder()
            .launcher("/nonexistent/vcsim-launcher")
            .start()
            .unwrap_err();
        assert!(matches!(err, VcsimError::Spawn { .. }), "{err}");
        let err = VcsimError::Launcher("x".into());
        assert!(err.to_string().contains("scripts/setup"));
    }
}
