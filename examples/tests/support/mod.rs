//! Test harness for the examples: one simulator per test binary, runs of a built example
//! binary with the environment cleared, and an independent vim-sdk session to check what
//! the example printed against what the server holds.
//!
//! ```ignore
//! mod support;
//! use support::{example, sim, sdk};
//!
//! #[test]
//! fn about_prints_the_version() {
//!     let sim = sim();
//!     let run = example(env!("CARGO_BIN_EXE_about")).against(sim).arg("--json").run();
//!     let json = run.ok().json();
//!     let about = sdk(sim, async |s| s.content().about.clone());
//!     assert_eq!(json["version"], about.version);
//! }
//! ```
//!
//! A run ([`Example::run`]) has no variable of the test's environment but `PATH`: `HOME` and
//! `XDG_CACHE_HOME` point into a fresh temporary directory (so the session cache is private
//! to the run unless [`Example::cache`] shares one), standard input is `/dev/null`, and the
//! output and exit code come back in a [`Run`].

#![allow(dead_code)]

pub mod canned;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation};
use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::session::{ConnectOptions, Session};
use vim_sdk::testing::Vcsim;
use vim_sdk::Client;

/// How long one run may take before the test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The test binary's simulator (vCenter model, strict login, plain HTTP on 127.0.0.1),
/// started on first use and shared by the binary's tests. It stops when the test process
/// exits (the launcher ends when its standard input closes).
pub fn sim() -> &'static Vcsim {
    static SIM: OnceLock<Vcsim> = OnceLock::new();
    SIM.get_or_init(|| start(Vcsim::builder()))
}

/// A simulator of this builder's model, or a failing test (never a skip).
pub fn start(builder: vim_sdk::testing::VcsimBuilder) -> Vcsim {
    builder
        .strict_login(true)
        .start()
        .expect("start vcsim (run scripts/setup)")
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(what: &str) -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "examples-{what}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// A run of the example binary at `path` (`env!("CARGO_BIN_EXE_ls")`).
pub fn example(path: &str) -> Example {
    Example {
        path: path.into(),
        args: Vec::new(),
        env: Vec::new(),
        home: None,
    }
}

/// A run being prepared.
#[derive(Debug, Clone)]
pub struct Example {
    path: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    home: Option<PathBuf>,
}

impl Example {
    /// Points the run at `sim` the way an admin would: `GOVC_URL` (the simulator's URL),
    /// `GOVC_USERNAME` and `GOVC_PASSWORD`.
    pub fn against(self, sim: &Vcsim) -> Self {
        self.env("GOVC_URL", sim.url())
            .env("GOVC_USERNAME", sim.username())
            .env("GOVC_PASSWORD", sim.password())
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable (the rest of the environment is cleared).
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    /// Removes an environment variable set earlier (e.g. `GOVC_PASSWORD`).
    pub fn without(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Uses `home` as `HOME` (and `home/.cache` as `XDG_CACHE_HOME`), so that runs share a
    /// session cache.
    pub fn cache(mut self, home: &Path) -> Self {
        self.home = Some(home.to_path_buf());
        self
    }

    /// The command line, for messages.
    pub fn describe(&self) -> String {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        format!("{name} {}", self.args.join(" "))
    }

    /// The command to run, with the run's environment and `home` (see the module's
    /// description); for a run read while it goes on (`--follow`), else use [`Example::run`].
    pub fn command(&self, home: &Path) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary and waits for it (at most [`RUN_TIMEOUT`]).
    pub fn run(self) -> Run {
        let home = self.home.clone().unwrap_or_else(|| temp_dir("home"));
        let mut cmd = self.command(&home);
        let command = self.describe();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(cmd.output());
        });
        let out = match rx.recv_timeout(RUN_TIMEOUT) {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => panic!("cannot run {command}: {e}"),
            Err(_) => panic!("{command} still runs after {RUN_TIMEOUT:?}"),
        };
        if self.home.is_none() {
            let _ = std::fs::remove_dir_all(&home);
        }
        Run {
            command,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line.
    pub command: String,
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0 and an empty standard error; returns the run.
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "{self}");
        assert!(self.stderr.is_empty(), "{self}");
        self
    }

    /// Asserts that the run failed with `code` and one error line starting with
    /// `PROGRAM: ` on standard error; returns that line.
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one error line: {self}");
        let name = self.command.split(' ').next().unwrap_or_default();
        assert!(lines[0].starts_with(&format!("{name}: ")), "{self}");
        lines[0]
    }

    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }

    /// Standard output as a table: the header's cells, then each row's (cells are separated
    /// by two spaces or more).
    pub fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut lines = self.stdout.lines().map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        });
        let header = lines.next().unwrap_or_default();
        (header, lines.collect())
    }

    /// Standard output and standard error together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` exited {:?}\n--- stdout\n{}--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `check` with an independent vim-sdk session on `sim` (logged out afterwards).
pub fn sdk<T>(sim: &Vcsim, check: impl AsyncFnOnce(&Session) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let options = ConnectOptions::new().credentials(sim.username(), sim.password());
        let session = Client::connect(sim.url(), options)
            .await
            .expect("independent session");
        let out = check(&session).await;
        let _ = session.close().await;
        out
    })
}

/// The VM named `name`, found through the SDK (`None` when there is none).
pub async fn find_vm(s: &Session, name: &str) -> Option<mo::VirtualMachine> {
    let m = Managers::from_content(s.content());
    Finder::new(&m)
        .list::<mo::VirtualMachine>(s, m.root_folder.reference(), true)
        .await
        .expect("list VMs")
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Runs `f` on VM `name` of the test binary's simulator, through an independent session.
pub fn on_vm<T>(name: &str, f: impl AsyncFnOnce(&Session, mo::VirtualMachine) -> T) -> T {
    sdk(sim(), async |s| {
        let vm = find_vm(s, name).await.expect("the VM");
        f(s, vm).await
    })
}

/// File access to the simulator's datastore `LocalDS_0` of `DC0`, through the SDK.
pub async fn local_ds(s: &Session) -> DatastoreFiles {
    let m = Managers::from_content(s.content());
    let dc: mo::Datacenter = Finder::new(&m)
        .by_inventory_path(s, "DC0")
        .await
        .expect("find DC0")
        .expect("DC0");
    DatastoreFiles::new(&m, dc, DatastoreLocation::new("DC0", "LocalDS_0"))
}
