//! `driver-vmm`: the multi-call binary of OpenNebula's VMware drivers.
//!
//! Called through an installed symlink (`.../vmm/vmware/deploy`, `.../vnm/vmware/pre`) it runs
//! that action with the remaining arguments. Called as `driver-vmm` it takes the action as
//! its first argument (`driver-vmm vmm/vmware/poll one-1 esx1 1 esx1`), or `install`.

use std::process::ExitCode;

use driver_common::{output, rtt, DriverError};
use driver_vmm::{dispatch, install, Action};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = if args.is_empty() {
        String::new()
    } else {
        args.remove(0)
    };
    let action = match invoked_as(&argv0) {
        Some(a) => a,
        None => match args.first().map(String::as_str) {
            Some("install") => return install::main(&args[1..]),
            Some(first) => match Action::from_path(first) {
                Some(a) => {
                    args.remove(0);
                    a
                }
                None => return usage(&argv0, Some(first)),
            },
            None => return usage(&argv0, None),
        },
    };
    output::set_action(action.name);
    output::install_panic_hook();
    rtt::install();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return output::finish(
                action.name,
                Err(DriverError::new(format!("cannot start the runtime: {e}"))),
            )
        }
    };
    let result = runtime.block_on(dispatch(action, &args));
    let code = output::finish(action.name, result);
    // Let a spawned logout (a session dropped without close) finish, briefly.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

/// The action named by argv\[0\]: an absolute path (`/var/lib/one/remotes/vmm/vmware/poll`,
/// as the VMM MAD runs actions) or one relative to the working directory (`./probe`, as
/// `run_probes` runs the probes from `im/vmware.d`). The link itself is not resolved: its
/// name is the action.
fn invoked_as(argv0: &str) -> Option<Action> {
    if let Some(a) = Action::from_path(argv0) {
        return Some(a);
    }
    let path = std::path::Path::new(argv0);
    if argv0.is_empty() || !argv0.contains('/') {
        return None;
    }
    let full = std::env::current_dir().ok()?.join(path);
    let mut parts: Vec<String> = Vec::new();
    for c in full.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    Action::from_path(&parts.join("/"))
}

fn usage(argv0: &str, got: Option<&str>) -> ExitCode {
    let name = argv0.rsplit('/').next().unwrap_or("driver-vmm");
    let msg = match got {
        Some(g) => format!("{name}: unknown action '{g}'"),
        None => format!("{name}: no action given"),
    };
    output::set_action("driver-vmm");
    output::finish(
        "driver-vmm",
        Err(DriverError::new(format!(
            "{msg}; usage: driver-vmm install --remotes DIR [--etc DIR] | driver-vmm vmm/vmware/<action> ARGS... | driver-vmm vnm/vmware/<pre|post|clean> ARGS... | driver-vmm im/vmware.d/probe ARGS..."
        ))),
    )
}
