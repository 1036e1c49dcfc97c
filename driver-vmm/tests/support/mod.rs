//! Test harness for the VMware drivers: a simulator, an installed remotes tree, and runs of
//! the installed scripts exactly as OpenNebula makes them. Use it from a test file with
//! `mod support;` (tests run with `--all-features`, which starts vcsim through vim-sdk).
//!
//! ```ignore
//! mod support;
//! use support::{OneEnv, sdk};
//!
//! #[tokio::test]
//! async fn poll_a_vm() {
//!     let env = OneEnv::vcenter().await;                  // vCenter model, >= 3 hosts
//!     let s = env.sdk().await;                             // independent vim-sdk session
//!     let vm = sdk::any_vm_on(&s, &env, env.host(0)).await; // a model VM on that host
//!     sdk::rename(&s, &vm, "one-7").await;
//!     let run = env.run("vmm/vmware/poll", &["one-7", env.host(0), "7", env.host(0)]);
//!     run.assert_ok();
//!     assert!(run.stdout.starts_with("STATE=a"));
//! }
//! ```
//!
//! What an environment holds ([`OneEnv`]):
//! - a simulator over HTTPS: [`OneEnv::vcenter`] (VPX model: datacenter `DC0`, 2 clusters of
//!   2 hosts and 1 standalone host, so 5 hosts) or [`OneEnv::esx`] (one ESX host, direct
//!   mode, datacenter `ha-datacenter`); its datastores are renamed `0` (system) and `1`
//!   (images), mounted on every host;
//! - a temporary directory with `etc/vmwarerc` (pointing at the simulator, TLS pinned by the
//!   certificate's SHA-256 thumbprint), `var/` (the cwd of every run, like `/var/lib/one`),
//!   `home/` (HOME of every run: the session cache lands in `home/.one/vmware-sessions`) and
//!   `remotes/`, installed by running the built binary's `install --remotes`;
//! - [`OneEnv::run`]: runs an installed script with cwd `var/`, the environment cleared
//!   except PATH, HOME and VMWARERC, stdin `/dev/null` and a timeout, returning a [`Run`].
//!
//! Checks go through the simulator independently ([`OneEnv::sdk`] and the [`sdk`] helpers),
//! never through the driver's own output.

#![allow(dead_code)]

pub mod kill_proxy;
pub mod model;
pub mod storage;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use vim_sdk::session::{ConnectOptions, Session};
use vim_sdk::testing::fault_proxy::{FaultProxy, Upstream};
use vim_sdk::testing::pki::self_signed;
use vim_sdk::testing::vcsim::{PASSWORD, USERNAME};
use vim_sdk::testing::Vcsim;
use vim_sdk::{mo, Client};

/// How long one script may run before the harness kills it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The installed binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_driver-vmm");

/// Which kind of server the environment simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// vCenter (`:vcenter:` set): actions find their host inside `DC0`.
    Vcenter,
    /// One ESX host, talked to directly (`:libvirt_uri:` only).
    Esx,
}

/// A test environment: simulator, temp tree, installed remotes. Dropping it stops the
/// simulator and removes the tree (kept when the test panicked, for reading).
pub struct OneEnv {
    /// The simulator.
    pub vcsim: Vcsim,
    /// vCenter or direct ESX.
    pub mode: Mode,
    /// The temp root.
    pub root: PathBuf,
    /// `root/etc` (holds `vmwarerc`).
    pub etc: PathBuf,
    /// `root/var`: the cwd of every run (OpenNebula's `/var/lib/one`).
    pub var: PathBuf,
    /// `root/home`: HOME of every run.
    pub home: PathBuf,
    /// `root/remotes`: the installed tree.
    pub remotes: PathBuf,
    /// `root/tmp`: `TMPDIR` of every run, so that what a run leaves in its temporary
    /// directory is this environment's alone (never another test's, nor another process's
    /// running the same test at the same time).
    pub tmp: PathBuf,
    /// OpenNebula host names usable as the `<host>` argument (inventory host names in
    /// vCenter mode; `127.0.0.1` in ESX mode).
    pub hosts: Vec<String>,
    /// The datacenter name (`DC0` or `ha-datacenter`).
    pub datacenter: String,
}

/// The outcome of one script run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// Exit code (-1 when killed by a signal or the timeout).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The text between `ERROR MESSAGE --8<------` and `ERROR MESSAGE ------>8--`, lines
    /// joined with spaces as the MAD does; `None` without a block.
    pub error_block: Option<String>,
    /// stderr lines starting with `ERROR:`, `INFO:` or `DEBUG:`.
    pub log_lines: Vec<String>,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl Run {
    /// Panics (showing everything) unless the run exited 0.
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "{} failed:\n{self}", self.command);
        self
    }

    /// Panics unless the run exited 0 with nothing on stdout (the actions OpenNebula reads
    /// no output from) and an `INFO:` line on stderr containing `info`.
    pub fn assert_silent_ok(&self, info: &str) -> &Self {
        self.assert_ok();
        assert_eq!(self.stdout, "", "stdout of {}:\n{self}", self.command);
        assert!(
            self.log_lines
                .iter()
                .any(|l| l.starts_with("INFO: ") && l.contains(info)),
            "no INFO line with {info:?}:\n{self}"
        );
        self
    }

    /// Panics unless the run failed with exit 1 and an error block containing every one of
    /// `needles`; returns the block.
    pub fn assert_failed(&self, needles: &[&str]) -> String {
        assert_eq!(self.code, 1, "{} should fail with 1:\n{self}", self.command);
        let block = self
            .error_block
            .clone()
            .unwrap_or_else(|| panic!("{} failed without an error block:\n{self}", self.command));
        for n in needles {
            assert!(block.contains(n), "error block lacks {n:?}:\n{self}");
        }
        assert!(
            self.log_lines.iter().any(|l| l.starts_with("ERROR: ")),
            "no ERROR: log line:\n{self}"
        );
        block
    }

    /// The number in a `DEBUG: <action>: N SOAP round trips` line (runs with
    /// `VMWARE_DRIVER_DEBUG=1`).
    pub fn round_trips(&self) -> Option<u64> {
        self.log_lines.iter().find_map(|l| {
            let rest = l.strip_prefix("DEBUG: ")?;
            let (_, tail) = rest.split_once(": ")?;
            tail.strip_suffix(" SOAP round trips")?.parse().ok()
        })
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit {} after {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.command, self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Parses the error block out of stderr.
pub fn error_block(stderr: &str) -> Option<String> {
    let mut inside = false;
    let mut lines = Vec::new();
    let mut found = false;
    for line in stderr.lines() {
        if line == "ERROR MESSAGE --8<------" {
            inside = true;
            found = true;
            continue;
        }
        if line == "ERROR MESSAGE ------>8--" {
            inside = false;
            continue;
        }
        if inside {
            lines.push(line.trim());
        }
    }
    found.then(|| lines.join(" ").trim().to_string())
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn temp_root() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "one-env-{}-{}-{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl OneEnv {
    /// A vCenter simulator (datacenter `DC0`: 2 clusters of 2 hosts plus 1 standalone host,
    /// datastores `0` and `1` on every host, besides the model's `LocalDS_0`) and its tree.
    pub async fn vcenter() -> OneEnv {
        let vcsim = Vcsim::builder()
            .vpx()
            .clusters(2)
            .hosts(2)
            .standalone_hosts(1)
            .tls(true)
            .start()
            .expect("the simulator must start (run scripts/setup)");
        Self::build(vcsim, Mode::Vcenter).await
    }

    /// [`vcenter`](Self::vcenter) served over plain HTTP (vmwarerc `:vcenter: http://...`),
    /// for tests that sit a loopback proxy or relay between the drivers and the simulator
    /// ([`kill_proxy`], the storage tests' relays).
    pub async fn vcenter_plain() -> OneEnv {
        let vcsim = Vcsim::builder()
            .vpx()
            .clusters(2)
            .hosts(2)
            .standalone_hosts(1)
            .tls(false)
            .start()
            .expect("the simulator must start (run scripts/setup)");
        Self::build(vcsim, Mode::Vcenter).await
    }

    /// An ESX simulator (one host, datacenter `ha-datacenter`, datastores `0` and `1`),
    /// talked to directly, and its tree.
    pub async fn esx() -> OneEnv {
        let vcsim = Vcsim::builder()
            .esx()
            .tls(true)
            .start()
            .expect("the simulator must start (run scripts/setup)");
        Self::build(vcsim, Mode::Esx).await
    }

    /// An environment over a simulator the test started itself (e.g. with
    /// `strict_login(false)`, to log in with a password of its own); `mode` must fit its model.
    pub async fn with_sim(vcsim: Vcsim, mode: Mode) -> OneEnv {
        Self::build(vcsim, mode).await
    }

    async fn build(vcsim: Vcsim, mode: Mode) -> OneEnv {
        let root = temp_root();
        let (etc, var, home, remotes, tmp) = (
            root.join("etc"),
            root.join("var"),
            root.join("home"),
            root.join("remotes"),
            root.join("tmp"),
        );
        for d in [&etc, &var, &home, &remotes, &tmp] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        let datacenter = match mode {
            Mode::Vcenter => "DC0",
            Mode::Esx => "ha-datacenter",
        }
        .to_string();
        let mut env = OneEnv {
            vcsim,
            mode,
            root,
            etc,
            var,
            home,
            remotes,
            tmp,
            hosts: Vec::new(),
            datacenter,
        };
        let s = env.sdk().await;
        // Datastores named like OpenNebula ids, on every host: made the way the model makes
        // its own (CreateLocalDatastore on each host over one folder), since vcsim 0.24
        // cannot rename a datastore.
        let all_hosts = sdk::list::<mo::HostSystem>(&s, &s.content().root_folder).await;
        for id in ["0", "1"] {
            let dir = env.root.join("datastores").join(id);
            std::fs::create_dir_all(&dir).expect("datastore dir");
            for (_, h) in &all_hosts {
                let p = sdk::props(&s, h.reference(), &["configManager.datastoreSystem"]).await;
                let dss = mo::HostDatastoreSystem::from_ref(
                    p.reference("configManager.datastoreSystem")
                        .expect("datastoreSystem")
                        .clone(),
                );
                dss.create_local_datastore(&s, id, &dir.to_string_lossy())
                    .await
                    .expect("CreateLocalDatastore");
            }
        }
        env.hosts = match mode {
            Mode::Vcenter => {
                let mut hosts: Vec<String> =
                    sdk::list::<mo::HostSystem>(&s, &s.content().root_folder)
                        .await
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect();
                hosts.sort();
                hosts
            }
            Mode::Esx => vec!["127.0.0.1".to_string()],
        };
        let _ = s.logout().await;
        std::fs::write(env.vmwarerc(), env.default_vmwarerc()).expect("write vmwarerc");
        env.install();
        env
    }

    /// `etc/vmwarerc`.
    pub fn vmwarerc(&self) -> PathBuf {
        self.etc.join("vmwarerc")
    }

    /// The vmwarerc the environment starts with.
    pub fn default_vmwarerc(&self) -> String {
        let addr = self.vcsim.addr();
        let Some(tp) = self.vcsim.thumbprint_sha256() else {
            return self.plain_vmwarerc(addr);
        };
        match self.mode {
            Mode::Vcenter => format!(
                ":libvirt_uri: \"'esx://@HOST@/?auto_answer=1'\"\n:username: \"{USERNAME}\"\n:password: \"{PASSWORD}\"\n:vcenter: \"{}:{}\"\n:datacenter: \"DC0\"\n:thumbprints:\n  \"{}\": \"{tp}\"\n",
                addr.ip(),
                addr.port(),
                addr.ip()
            ),
            Mode::Esx => format!(
                ":libvirt_uri: \"'esx://@HOST@:{}/?auto_answer=1'\"\n:username: \"{USERNAME}\"\n:password: \"{PASSWORD}\"\n:datacenter: \"ha-datacenter\"\n:thumbprints:\n  \"{}\": \"{tp}\"\n",
                addr.port(),
                addr.ip()
            ),
        }
    }

    /// A vCenter vmwarerc for a plain-HTTP simulator reached at `addr` (the simulator
    /// itself, or a proxy in front of it).
    pub fn plain_vmwarerc(&self, addr: std::net::SocketAddr) -> String {
        assert_eq!(
            self.mode,
            Mode::Vcenter,
            "plain HTTP is for the vCenter model"
        );
        format!(
            ":libvirt_uri: \"'esx://@HOST@/?auto_answer=1'\"\n:username: \"{USERNAME}\"\n:password: \"{PASSWORD}\"\n:vcenter: \"http://{addr}/sdk\"\n:datacenter: \"DC0\"\n"
        )
    }

    /// A fault proxy serving TLS (a self-signed certificate for 127.0.0.1) in front of this
    /// ESX-mode simulator, and `rc`, a vmwarerc of [`default_vmwarerc`](Self::default_vmwarerc)'s
    /// form, pointed at it: the simulator's port and pinned thumbprint replaced by the proxy's.
    pub async fn tls_fault_proxy(&self, rc: &str) -> (FaultProxy, String) {
        assert_eq!(self.mode, Mode::Esx, "the rewrite is of the ESX vmwarerc");
        let cert = self_signed(&["127.0.0.1"]);
        let proxy = FaultProxy::start_with(
            Upstream::Https(self.vcsim.addr()),
            Some(cert.server_config.clone()),
        )
        .await
        .expect("start the fault proxy");
        let thumbprint = self
            .vcsim
            .thumbprint_sha256()
            .expect("a simulator serving TLS");
        let rc = rc
            .replace(
                &format!("@HOST@:{}/", self.vcsim.addr().port()),
                &format!("@HOST@:{}/", proxy.addr().port()),
            )
            .replace(thumbprint, &cert.sha256());
        (proxy, rc)
    }

    /// Replaces `etc/vmwarerc`.
    pub fn write_vmwarerc(&self, text: &str) {
        std::fs::write(self.vmwarerc(), text).expect("write vmwarerc");
    }

    /// The `i`-th OpenNebula host name (sorted inventory names; `127.0.0.1` in ESX mode).
    pub fn host(&self, i: usize) -> &str {
        &self.hosts[i]
    }

    /// Installs (or upgrades) the remotes tree with the built binary.
    pub fn install(&self) {
        let out = Command::new(BINARY)
            .args(["install", "--remotes"])
            .arg(&self.remotes)
            .arg("--etc")
            .arg(&self.etc)
            .stdin(Stdio::null())
            .output()
            .expect("run driver-vmm install");
        assert!(
            out.status.success(),
            "install failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs the installed `script` (e.g. `vmm/vmware/deploy`) as OpenNebula does.
    pub fn run(&self, script: &str, args: &[&str]) -> Run {
        self.run_with_env(script, args, &[])
    }

    /// [`run`](Self::run) with extra environment variables (e.g. `VMWARE_DRIVER_DEBUG`).
    pub fn run_with_env(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_observed(script, args, env, |_| {})
    }

    /// [`run_with_env`](Self::run_with_env), calling `spawned` with the process id as soon
    /// as the process exists (to arm a [`kill_proxy::KillProxy`] against it).
    pub fn run_observed(
        &self,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
        spawned: impl FnOnce(u32),
    ) -> Run {
        let mut cmd = self.command(script, args, env);
        let command = format!("{} {}", self.remotes.join(script).display(), args.join(" "));
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command}: {e}"));
        spawned(child.id());
        // Read both pipes on threads so that a chatty child never blocks.
        let mut out_pipe = child.stdout.take().expect("stdout");
        let mut err_pipe = child.stderr.take().expect("stderr");
        let out_t = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut out_pipe, &mut s);
            s
        });
        let err_t = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut err_pipe, &mut s);
            s
        });
        let code = loop {
            match child.try_wait().expect("wait") {
                Some(status) => break status.code().unwrap_or(-1),
                None if started.elapsed() > RUN_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break -1;
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        let elapsed = started.elapsed();
        let stdout = out_t.join().unwrap_or_default();
        let stderr = err_t.join().unwrap_or_default();
        let log_lines = stderr
            .lines()
            .filter(|l| {
                l.starts_with("ERROR:") || l.starts_with("INFO:") || l.starts_with("DEBUG:")
            })
            .map(str::to_string)
            .collect();
        Run {
            command,
            code,
            error_block: error_block(&stderr),
            stdout,
            stderr,
            log_lines,
            elapsed,
        }
    }

    /// The command [`run_with_env`](Self::run_with_env) runs (cwd, cleared environment plus
    /// `env`, stdin `/dev/null`, stdout and stderr piped), for a test that watches the process
    /// while it runs.
    pub fn command(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(self.remotes.join(script));
        cmd.args(args)
            .current_dir(&self.var)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("VMWARERC", self.vmwarerc())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// An independent session to the simulator (pinned, no cache): for checks.
    pub async fn sdk(&self) -> Session {
        let options = ConnectOptions::new().credentials(USERNAME, PASSWORD);
        let options = match self.vcsim.thumbprint_sha256() {
            Some(tp) => options.pin(tp.parse().expect("thumbprint")),
            None => options.allow_plain_http(true),
        };
        Client::connect(self.vcsim.url(), options)
            .await
            .expect("sdk session")
    }

    /// Writes `var/vms/<vmid>/deployment.<seq>` (as oned does) and returns its path.
    pub fn write_deployment(&self, vmid: u64, seq: u32, content: &str) -> PathBuf {
        let dir = self.var.join("vms").join(vmid.to_string());
        std::fs::create_dir_all(&dir).expect("mkdir vms");
        let p = dir.join(format!("deployment.{seq}"));
        std::fs::write(&p, content).expect("write deployment");
        p
    }

    /// The session cache directory of the runs.
    pub fn session_cache(&self) -> PathBuf {
        self.home.join(".one").join("vmware-sessions")
    }
}

impl Drop for OneEnv {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        } else {
            eprintln!("test tree kept in {}", self.root.display());
        }
    }
}

/// One NIC of a [`VmDoc`].
#[derive(Debug, Clone, Default)]
pub struct NicDoc {
    /// `NETWORK_ID`.
    pub network_id: u64,
    /// `BRIDGE`.
    pub bridge: String,
    /// `VLAN=YES` when true.
    pub vlan: bool,
    /// `VLAN_ID`.
    pub vlan_id: Option<u16>,
    /// `MAC`.
    pub mac: Option<String>,
    /// `MODEL`.
    pub model: Option<String>,
    /// `ATTACH=YES` when true.
    pub attach: bool,
}

/// Builds OpenNebula `<VM>` documents (for the network driver's base64 argument).
#[derive(Debug, Clone, Default)]
pub struct VmDoc {
    /// `ID`.
    pub id: u64,
    /// `HISTORY_RECORDS/HISTORY/HOSTNAME`, oldest first (the last is the current host).
    pub history: Vec<String>,
    /// `TEMPLATE/NIC`.
    pub nics: Vec<NicDoc>,
    /// `DEPLOY_ID`.
    pub deploy_id: Option<String>,
}

impl VmDoc {
    /// VM `id` on `host`.
    pub fn new(id: u64, host: &str) -> Self {
        VmDoc {
            id,
            history: vec![host.to_string()],
            ..Default::default()
        }
    }

    /// Adds a NIC.
    pub fn nic(mut self, nic: NicDoc) -> Self {
        self.nics.push(nic);
        self
    }

    /// The XML.
    pub fn xml(&self) -> String {
        let mut s = format!("<VM><ID>{}</ID><NAME>vm{}</NAME>", self.id, self.id);
        if let Some(d) = &self.deploy_id {
            s.push_str(&format!("<DEPLOY_ID>{d}</DEPLOY_ID>"));
        }
        s.push_str("<TEMPLATE>");
        for (i, n) in self.nics.iter().enumerate() {
            s.push_str(&format!(
                "<NIC><NIC_ID>{i}</NIC_ID><NETWORK_ID>{}</NETWORK_ID><BRIDGE><![CDATA[{}]]></BRIDGE><VLAN>{}</VLAN>",
                n.network_id,
                n.bridge,
                if n.vlan { "YES" } else { "NO" }
            ));
            if let Some(v) = n.vlan_id {
                s.push_str(&format!("<VLAN_ID>{v}</VLAN_ID>"));
            }
            if let Some(m) = &n.mac {
                s.push_str(&format!("<MAC>{m}</MAC>"));
            }
            if let Some(m) = &n.model {
                s.push_str(&format!("<MODEL>{m}</MODEL>"));
            }
            if n.attach {
                s.push_str("<ATTACH>YES</ATTACH>");
            }
            s.push_str("</NIC>");
        }
        s.push_str("</TEMPLATE><HISTORY_RECORDS>");
        for (seq, h) in self.history.iter().enumerate() {
            s.push_str(&format!(
                "<HISTORY><SEQ>{seq}</SEQ><HOSTNAME>{h}</HOSTNAME></HISTORY>"
            ));
        }
        s.push_str("</HISTORY_RECORDS></VM>");
        s
    }

    /// The base64 of [`xml`](Self::xml), as the network driver receives it.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.xml())
    }
}

/// Independent checks and set-up through vim-sdk.
pub mod sdk {
    use vim_sdk::find::Entity;
    use vim_sdk::mo;
    use vim_sdk::property::ObjectProps;
    use vim_sdk::session::Session;
    use vim_sdk::types::{
        AnyVirtualDiskSpec, FileBackedVirtualDiskSpec, HostDatastoreBrowserSearchSpec,
        VirtualDiskSpec,
    };
    use vim_sdk::xml::ManagedObjectReference;

    use super::OneEnv;

    /// Every `T` below `container` (recursively) with its name.
    pub async fn list<T: Entity>(
        s: &Session,
        container: &ManagedObjectReference,
    ) -> Vec<(String, T)> {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        finder.list::<T>(s, container, true).await.expect("list")
    }

    /// Renames a managed entity (`Rename_Task`).
    pub async fn rename(s: &Session, obj: &ManagedObjectReference, name: &str) {
        mo::ManagedEntity::from_ref(obj.clone())
            .rename_task(s, name)
            .await
            .expect("Rename_Task")
            .wait(s)
            .await
            .expect("rename");
    }

    /// The VMs named exactly `name` (reads every VM's `name` through the property collector,
    /// so the simulator's stale `HostSystem.vm` lists do not matter).
    pub async fn vms_named(s: &Session, name: &str) -> Vec<mo::VirtualMachine> {
        let all = all_vms(s).await;
        all.into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The VM named exactly `name`, if exactly one exists (panics on several).
    pub async fn find_vm(s: &Session, name: &str) -> Option<mo::VirtualMachine> {
        let mut v = vms_named(s, name).await;
        assert!(v.len() <= 1, "{} VMs named {name}", v.len());
        v.pop()
    }

    /// Every VM with its name (from every datacenter's VM folder).
    pub async fn all_vms(s: &Session) -> Vec<(String, mo::VirtualMachine)> {
        let mut out = Vec::new();
        for (_, dc) in list::<mo::Datacenter>(s, &s.content().root_folder).await {
            let props = dc
                .reference()
                .properties(s, &["vmFolder"])
                .await
                .expect("vmFolder");
            let folder = props.reference("vmFolder").expect("vmFolder").clone();
            out.extend(list::<mo::VirtualMachine>(s, &folder).await);
        }
        out
    }

    /// Reads `paths` of `obj`.
    pub async fn props(s: &Session, obj: &ManagedObjectReference, paths: &[&str]) -> ObjectProps {
        obj.properties(s, paths).await.expect("properties")
    }

    /// `runtime.powerState` of `vm`.
    pub async fn power_state(s: &Session, vm: &mo::VirtualMachine) -> String {
        props(s, vm.reference(), &["runtime.powerState"])
            .await
            .str("runtime.powerState")
            .unwrap_or_default()
            .to_string()
    }

    /// The host named `host` (inventory name).
    pub async fn host(s: &Session, name: &str) -> mo::HostSystem {
        list::<mo::HostSystem>(s, &s.content().root_folder)
            .await
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    /// A VM of the simulator's model whose `runtime.host` is `host` (ESX mode: any VM). The
    /// model's VMs are powered on.
    pub async fn any_vm_on(s: &Session, env: &OneEnv, host: &str) -> mo::VirtualMachine {
        let want = match env.mode {
            super::Mode::Esx => None,
            super::Mode::Vcenter => Some(self::host(s, host).await),
        };
        for (name, vm) in all_vms(s).await {
            if name.starts_with("one-") {
                continue;
            }
            let p = props(s, vm.reference(), &["runtime.host"]).await;
            if want
                .as_ref()
                .is_none_or(|h| p.reference("runtime.host") == Some(h.reference()))
            {
                return vm;
            }
        }
        panic!("no model VM on host {host}");
    }

    /// A model VM on `host` renamed `one-<vmid>` (powered on, as the model makes them): a VM
    /// for the actions to work on without a deploy.
    pub async fn adopt_vm(s: &Session, env: &OneEnv, host: &str, vmid: u64) -> mo::VirtualMachine {
        let vm = any_vm_on(s, env, host).await;
        rename(s, vm.reference(), &format!("one-{vmid}")).await;
        vm
    }

    /// The datacenter of the environment.
    pub async fn datacenter(s: &Session, env: &OneEnv) -> mo::Datacenter {
        list::<mo::Datacenter>(s, &s.content().root_folder)
            .await
            .into_iter()
            .find(|(n, _)| *n == env.datacenter)
            .map(|(_, d)| d)
            .expect("datacenter")
    }

    /// Creates `[<ds>] <vmid>/disk.<n>/disk.vmdk` the way the TM would (folder first, then
    /// `CreateVirtualDisk_Task`, thin, 1 GB) and returns that datastore path.
    pub async fn create_disk(s: &Session, env: &OneEnv, ds: &str, vmid: u64, n: u32) -> String {
        create_disk_in(s, env, &format!("[{ds}] {vmid}/disk.{n}")).await
    }

    /// Creates `<folder>/disk.vmdk` (a `[ds] path` folder, made first; thin, 1 GB) and
    /// returns that datastore path: an image folder when `folder` is `[<ds>] <name>`.
    pub async fn create_disk_in(s: &Session, env: &OneEnv, folder: &str) -> String {
        let dc = datacenter(s, env).await;
        let fm = mo::FileManager::from_ref(s.content().file_manager.clone().expect("FileManager"));
        fm.make_directory(s, folder, Some(dc.reference()), Some(true))
            .await
            .expect("MakeDirectory");
        let path = format!("{folder}/disk.vmdk");
        let vdm = mo::VirtualDiskManager::from_ref(
            s.content()
                .virtual_disk_manager
                .clone()
                .expect("VirtualDiskManager"),
        );
        let spec =
            AnyVirtualDiskSpec::FileBackedVirtualDiskSpec(Box::new(FileBackedVirtualDiskSpec {
                base: VirtualDiskSpec {
                    disk_type: "thin".into(),
                    adapter_type: "lsiLogic".into(),
                },
                capacity_kb: 1024 * 1024,
                ..Default::default()
            }));
        vdm.create_virtual_disk_task(s, &path, Some(dc.reference()), &spec)
            .await
            .expect("CreateVirtualDisk_Task")
            .wait(s)
            .await
            .expect("create disk");
        path
    }

    /// The server's sessions (`SessionManager.sessionList`), as (key-free) user names.
    pub async fn session_count(s: &Session) -> usize {
        s.session_list().await.expect("sessionList").len()
    }

    /// The sessions on the server besides the checker's own (read through a fresh session
    /// that logs out again).
    pub async fn driver_sessions(env: &OneEnv) -> usize {
        let s = env.sdk().await;
        let n = session_count(&s).await;
        let _ = s.logout().await;
        n - 1
    }

    /// Whether the VM named exactly `name` is registered.
    pub async fn registered(s: &Session, name: &str) -> bool {
        !vms_named(s, name).await.is_empty()
    }

    /// The local folder of datastore `name` in the simulator (its `summary.url`).
    pub async fn datastore_dir(s: &Session, name: &str) -> std::path::PathBuf {
        for (n, ds) in list::<mo::Datastore>(s, &s.content().root_folder).await {
            if n == name {
                let p = props(s, ds.reference(), &["summary.url"]).await;
                let url = p.str("summary.url").expect("summary.url").to_string();
                return std::path::PathBuf::from(url.trim_start_matches("ds://"));
            }
        }
        panic!("no datastore {name}");
    }

    /// The names of the files in folder `folder` of datastore `ds`, as the server's datastore
    /// browser lists them (`SearchDatastore_Task`, pattern `*`: vcsim needs a search spec and
    /// a pattern). A missing folder is an empty list.
    pub async fn datastore_files(s: &Session, ds: &str, folder: &str) -> Vec<String> {
        let store = list::<mo::Datastore>(s, &s.content().root_folder)
            .await
            .into_iter()
            .find(|(n, _)| n == ds)
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no datastore {ds}"));
        let browser = mo::HostDatastoreBrowser::from_ref(
            props(s, store.reference(), &["browser"])
                .await
                .reference("browser")
                .expect("browser")
                .clone(),
        );
        let spec = HostDatastoreBrowserSearchSpec {
            match_pattern: vec!["*".into()],
            ..Default::default()
        };
        let found = browser
            .search_datastore_task(s, &format!("[{ds}] {folder}"), Some(&spec))
            .await
            .expect("SearchDatastore_Task")
            .wait(s)
            .await;
        match found {
            Ok(r) => {
                let mut names: Vec<String> = r.file.iter().map(|f| f.base().path.clone()).collect();
                names.sort();
                names
            }
            Err(e) if e.fault_type() == Some("FileNotFound") => Vec::new(),
            Err(e) => panic!("SearchDatastore_Task [{ds}] {folder}: {e}"),
        }
    }

    /// A deployment file for `one-<vmid>`: disk `[0] <vmid>/disk.0/disk.vmdk` at `sda`, one
    /// e1000 NIC with `mac` on port group `VM Network`.
    pub fn small_deployment(vmid: u64, mac: &str) -> String {
        format!(
            "<domain type='vmware'><name>one-{vmid}</name><memory>262144</memory>\
             <os><type arch='x86_64'>hvm</type></os><devices>\
             <disk type='file' device='disk'><source file='[0] {vmid}/disk.0/disk.vmdk'/>\
             <target dev='sda'/></disk>\
             <interface type='bridge'><source bridge='VM Network'/>\
             <mac address='{mac}'/></interface></devices></domain>"
        )
    }

    /// Deploys `one-<vmid>` on `host` through the installed tree (its disk made first, as the
    /// TM would) from [`small_deployment`], and returns the VM.
    pub async fn deploy_small(
        s: &Session,
        env: &OneEnv,
        vmid: u64,
        host: &str,
        mac: &str,
    ) -> mo::VirtualMachine {
        create_disk(s, env, "0", vmid, 0).await;
        let dfile = env.write_deployment(vmid, 0, &small_deployment(vmid, mac));
        let vmid_s = vmid.to_string();
        env.run(
            "vmm/vmware/deploy",
            &[dfile.to_str().expect("utf-8 path"), host, &vmid_s, host],
        )
        .assert_ok();
        find_vm(s, &format!("one-{vmid}"))
            .await
            .expect("deployed VM")
    }
}
