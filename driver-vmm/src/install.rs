//! `driver-vmm install --remotes DIR [--etc DIR]`: lays out OpenNebula's remotes tree.
//!
//! - `DIR/vmware-native/driver-vmm`: this binary, copied once (to a temporary file, then
//!   renamed over the old one, so a running action never sees a half-written binary);
//! - `DIR/vmm/vmware/<action>` for every VMM action, `DIR/vnm/vmware/{pre,post,clean}` and
//!   the IM probe `DIR/im/vmware.d/probe`: relative symlinks to it
//!   (`../../vmware-native/driver-vmm`), replaced atomically. A legacy `vmware.rb` probe
//!   beside it is left in place, with a warning (`run_probes` would run both);
//! - `DIR/tm/vmfs/<action>` and `DIR/datastore/vmfs/<action>` (the storage drivers), the same;
//! - with `--etc DIR`: `DIR/vmwarerc` and `DIR/vmm_exec/vmm_exec_vmware.conf`, commented
//!   examples, written only where no file exists yet (an operator's settings are kept).
//!
//! Re-running it upgrades in place.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use driver_common::{output, DriverError, Result};

use crate::Kind;

/// Where the binary goes, relative to the remotes directory.
pub const BINARY: &str = "vmware-native/driver-vmm";

/// What `--etc` writes as `vmwarerc` (when absent).
pub const VMWARERC_EXAMPLE: &str = r#"# vmwarerc: configuration of OpenNebula's native VMware drivers (YAML; keys start with ':').
# Read from $VMWARERC, else $ONE_LOCATION/etc/vmwarerc, else /etc/one/vmwarerc.

# How to reach an ESX host directly. @HOST@ is replaced by the OpenNebula host name.
# Honoured: the host, an optional port, no_verify=1 (no TLS certificate check: prefer a pin
# in :thumbprints: or :ca_file:). Other libvirt parameters are accepted and ignored.
:libvirt_uri: "esx://@HOST@/"

# The user and password on the ESX hosts (and on vCenter).
:username: "oneadmin"
:password: ""
# Or read the password from a file (first line), readable by oneadmin only:
#:password_file: "/etc/one/vmware-password"

# Through vCenter: every action goes through it and finds the ESX host by name (then DNS
# name, then IP address) inside :datacenter:. A host, host:port or URL; https unless it
# says http:// (only for a local simulator). Needed for migrate.
#:vcenter: "vcenter.example.com"
:datacenter: "ha-datacenter"

# TLS: certificates are verified against the system's CAs plus :ca_file:, unless
# no_verify=1 is in :libvirt_uri: or the server's certificate is pinned here (SHA-256 or
# SHA-1 thumbprint, by host name as in the URL, or host:port).
#:ca_file: "/etc/one/vmware-ca.pem"
#:thumbprints:
#  esx1.example.com: "AB:CD:EF:..."
#  vcenter.example.com: "12:34:56:..."

# Sessions are reused across actions (a poll then costs no login). Default directory:
# ~/.one/vmware-sessions of the OpenNebula user; false disables the cache.
#:session_cache: "/var/lib/one/.one/vmware-sessions"

# How long shutdown waits for the guest OS to power off before it fails, in seconds (1 to
# 86400; default 300). VMWARE_SHUTDOWN_TIMEOUT in the drivers' environment (e.g. in
# /etc/one/defaultrc) overrides it.
#:shutdown_timeout: 300

# How long one call waits for the server (for its reply to start, and between two parts of
# it) before the action fails, in seconds (1 to 86400; default 120).
#:call_timeout: 120
"#;

/// What `--etc` writes as `vmm_exec/vmm_exec_vmware.conf` (when absent).
pub const VMM_EXEC_EXAMPLE: &str = r#"# Default values of the VMware VMM driver, used when a VM template does not set them
# (OpenNebula reads this file through the default= attribute of VM_MAD in oned.conf).

# VCPU = 1
OS = [ ARCH = i686 ]
# DISK = [ DRIVER = lsilogic ]
# NIC = [ MODEL = e1000 ]
"#;

/// What was done, for the summary printed on stdout.
#[derive(Debug, Default)]
pub struct Report {
    /// The binary's installed path.
    pub binary: PathBuf,
    /// The symlinks made or refreshed.
    pub links: Vec<PathBuf>,
    /// Configuration files written.
    pub written: Vec<PathBuf>,
    /// Configuration files kept as they were.
    pub kept: Vec<PathBuf>,
    /// Things the operator should look at.
    pub warnings: Vec<String>,
}

fn io_err(what: &str, path: &Path, e: io::Error) -> DriverError {
    DriverError::new(format!("{what} {}: {e}", path.display()))
}

/// Copies `src` to `dst` through a temporary file in the same directory and a rename.
fn copy_atomically(src: &Path, dst: &Path) -> Result<()> {
    let dir = dst.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        dst.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("driver-vmm"),
        std::process::id()
    ));
    let copied = fs::copy(src, &tmp)
        .map_err(|e| io_err("cannot copy the binary to", &tmp, e))
        .and_then(|_| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
                    .map_err(|e| io_err("cannot make executable", &tmp, e))?;
            }
            fs::rename(&tmp, dst).map_err(|e| io_err("cannot install", dst, e))
        });
    if copied.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    copied
}

/// Points `link` at `target` (relative), replacing whatever is there atomically.
#[cfg(unix)]
fn symlink_atomically(target: &Path, link: &Path) -> Result<()> {
    let dir = link.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        link.file_name().and_then(|n| n.to_str()).unwrap_or("link"),
        std::process::id()
    ));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .map_err(|e| io_err("cannot create the link", &tmp, e))?;
    fs::rename(&tmp, link).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err("cannot install the link", link, e)
    })
}

fn mkdirs(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| io_err("cannot create the directory", dir, e))
}

fn write_if_absent(path: &Path, content: &str, report: &mut Report) -> Result<()> {
    if path.exists() {
        report.kept.push(path.to_path_buf());
        return Ok(());
    }
    if let Some(d) = path.parent() {
        mkdirs(d)?;
    }
    fs::write(path, content).map_err(|e| io_err("cannot write", path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // vmwarerc holds a password: readable by its owner (oneadmin) only.
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err("cannot set the mode of", path, e))?;
    }
    report.written.push(path.to_path_buf());
    Ok(())
}

/// Installs `binary` and the links under `remotes`, and the examples under `etc`.
#[cfg(unix)]
pub fn install(binary: &Path, remotes: &Path, etc: Option<&Path>) -> Result<Report> {
    let mut report = Report::default();
    let bin = remotes.join(BINARY);
    mkdirs(bin.parent().unwrap_or(remotes))?;
    let same = fs::canonicalize(binary)
        .ok()
        .zip(fs::canonicalize(&bin).ok());
    if !matches!(same, Some((a, b)) if a == b) {
        copy_atomically(binary, &bin)?;
    }
    report.binary = bin;
    let target = Path::new("../..").join(BINARY);
    for kind in [Kind::Vmm, Kind::Vnm, Kind::Im, Kind::Tm, Kind::Ds] {
        let dir = remotes.join(kind.dir());
        mkdirs(&dir)?;
        for a in kind.actions() {
            let link = dir.join(a);
            symlink_atomically(&target, &link)?;
            report.links.push(link);
        }
    }
    let legacy = remotes.join("im/vmware.d/vmware.rb");
    if legacy.exists() {
        report.warnings.push(format!(
            "{} (the legacy Ruby probe) is still there: run_probes runs it too; remove it once this probe is in use",
            legacy.display()
        ));
    }
    if let Some(etc) = etc {
        write_if_absent(&etc.join("vmwarerc"), VMWARERC_EXAMPLE, &mut report)?;
        write_if_absent(
            &etc.join("vmm_exec").join("vmm_exec_vmware.conf"),
            VMM_EXEC_EXAMPLE,
            &mut report,
        )?;
    }
    Ok(report)
}

fn command() -> clap::Command {
    clap::Command::new("driver-vmm install")
        .about("Installs OpenNebula's VMware drivers into a remotes tree (re-run to upgrade)")
        .arg(
            clap::Arg::new("remotes")
                .long("remotes")
                .value_name("DIR")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("OpenNebula's remotes directory (/var/lib/one/remotes)"),
        )
        .arg(
            clap::Arg::new("etc")
                .long("etc")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("also write example vmwarerc and vmm_exec/vmm_exec_vmware.conf here (/etc/one), keeping existing files"),
        )
}

/// `driver-vmm install ARGS`: parses the arguments, installs, prints what was done.
pub fn main(args: &[String]) -> ExitCode {
    output::set_action("install");
    let m = match command().try_get_matches_from(
        std::iter::once("driver-vmm install".to_string()).chain(args.iter().cloned()),
    ) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let remotes = m.get_one::<PathBuf>("remotes").cloned().unwrap_or_default();
    let etc = m.get_one::<PathBuf>("etc").cloned();
    let result = std::env::current_exe()
        .map_err(|e| DriverError::new(format!("cannot find this program's own path: {e}")))
        .and_then(|exe| install(&exe, &remotes, etc.as_deref()));
    let result = result.map(|r| {
        let mut out = format!(
            "installed {} and {} links under {}",
            r.binary.display(),
            r.links.len(),
            remotes.display()
        );
        for w in &r.written {
            out.push_str(&format!("\nwrote {}", w.display()));
        }
        for k in &r.kept {
            out.push_str(&format!("\nkept {} (already there)", k.display()));
        }
        for w in &r.warnings {
            output::info(&format!("warning: {w}"));
        }
        out
    });
    output::finish("install", result)
}
