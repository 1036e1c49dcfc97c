//! restore (contract §4.7): registers the saved VM again, reverts to and removes its
//! `checkpoint` snapshot, and powers it on if it is not running.
//!
//! Arguments: 4.4 `<checkpoint_path> <host> <deploy_id> <vmid> <host>`; 4.2 and older
//! `<checkpoint_path> <host> <vmid> <host>` (deploy id `one-<vmid>`). Prints nothing.
//!
//! - A VM already registered as the deploy id is used as it is (a retried restore).
//! - Otherwise `RegisterVM_Task` of `[<sysds>] <vmid>/one-<vmid>.vmx` (the `.vmx` deploy
//!   created; sysds from the newest `deployment.<N>` of the VM's front-end directory, taken by
//!   NUMBER, so `deployment.10` wins over `deployment.9`). When that `.vmx` is gone
//!   (`NotFound`/`FileNotFound`), the VM is created again from that deployment file instead.
//! - A missing `checkpoint` is not an error: the VM keeps the state its files hold (on ESX the
//!   suspended state, which powering on resumes); an INFO line says so. vcsim's
//!   `RegisterVM_Task` always gives such a VM (no snapshot tree, no devices).
//! - Removing `checkpoint` after the revert failing is only logged (as the legacy driver did).
//! - If anything after registering fails, the VM is unregistered again (files kept).

use std::path::{Path, PathBuf};

use driver_common::connect::Conn;
use driver_common::{output, DriverError, Result};
use vim_sdk::mo;

use super::deploy::{create, ensure_powered_on, read_deployment, unregister_after_failure};
use super::save::CHECKPOINT;
use crate::deployment::spec;

const USAGE: &str = "<checkpoint_path> <host> [<deploy_id>] <vmid> <host>";

/// Runs restore.
pub async fn run(args: &[String]) -> Result<String> {
    let (host, deploy_id, vmid) = match args {
        [_ckpt, h, d, v, _] => (h, Some(d.as_str()), v),
        [_ckpt, h, v, _] => (h, None, v),
        _ => return Err(DriverError::usage("restore", USAGE, args)),
    };
    let vmid: u64 = vmid
        .parse()
        .map_err(|_| DriverError::usage("restore", USAGE, args))?;
    let name = spec::vm_name(vmid);
    if let Some(d) = deploy_id {
        if d != name {
            return Err(DriverError::new(format!(
                "deploy id {d:?} is not {name}, the name this driver gives VM {vmid}"
            )));
        }
    }
    Conn::open(host)
        .await?
        .run(async |conn| restore(conn, vmid).await)
        .await
        .map(|()| String::new())
        .map_err(|e| e.context(format!("cannot restore VM {vmid} on host {host}")))
}

async fn restore(conn: &Conn, vmid: u64) -> Result<()> {
    let name = spec::vm_name(vmid);
    let (vm, registered_now) = match conn.find_vm(&name).await? {
        Some(vm) => {
            output::info(&format!("{name} is already registered: using it"));
            (vm, false)
        }
        None => (register(conn, vmid).await?, true),
    };
    let result = revert_and_start(conn, &vm).await;
    match result {
        Err(e) if registered_now => Err(unregister_after_failure(conn, &vm, e).await),
        other => other,
    }
}

async fn register(conn: &Conn, vmid: u64) -> Result<mo::VirtualMachine> {
    let dfile = newest_deployment(&vms_dir(vmid)?)?
        .ok_or_else(|| DriverError::new(format!("no deployment.<N> file for VM {vmid}")))?;
    let dfile = dfile.to_string_lossy().into_owned();
    let dep = read_deployment(&dfile, vmid)?;
    let vmx = spec::vmx_path(&dep, vmid).map_err(|e| DriverError::new(e.to_string()))?;
    let name = spec::vm_name(vmid);
    let registered = conn
        .vm_folder
        .register_vm_task(
            &conn.session,
            &vmx.to_string(),
            Some(&name),
            false,
            Some(conn.pool.reference()),
            Some(conn.host.reference()),
        )
        .await?
        .wait(&conn.session)
        .await;
    match registered {
        Ok(vm) => Ok(vm),
        Err(e) if matches!(e.fault_type(), Some("NotFound" | "FileNotFound")) => {
            output::info(&format!(
                "{vmx} cannot be registered ({}): creating the VM again from {dfile}",
                DriverError::from(e)
            ));
            create(conn, &dep, vmid).await
        }
        Err(e) => Err(DriverError::from(e).context(format!("RegisterVM_Task {vmx}"))),
    }
}

async fn revert_and_start(conn: &Conn, vm: &mo::VirtualMachine) -> Result<()> {
    let s = &conn.session;
    match vm.find_snapshot(s, CHECKPOINT).await? {
        Some(snap) => {
            snap.revert_to_snapshot_task(s, None, None)
                .await?
                .wait(s)
                .await
                .map_err(|e| DriverError::from(e).context("revert to checkpoint"))?;
            let removed = async {
                snap.remove_snapshot_task(s, false, None)
                    .await?
                    .wait(s)
                    .await
            }
            .await;
            if let Err(e) = removed {
                output::error(&format!(
                    "removing the checkpoint snapshot failed (left in place): {}",
                    DriverError::from(e)
                ));
            }
        }
        None => {
            output::info("no checkpoint snapshot: the VM resumes from the state its files hold")
        }
    }
    ensure_powered_on(conn, vm).await
}

/// The VM's front-end directory: `$ONE_LOCATION/var/vms/<vmid>`, else `vms/<vmid>` under the
/// working directory (oned runs drivers in `/var/lib/one`), else `/var/lib/one/vms/<vmid>`.
fn vms_dir(vmid: u64) -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(loc) = std::env::var_os("ONE_LOCATION").filter(|l| !l.is_empty()) {
        candidates.push(PathBuf::from(loc).join("var/vms").join(vmid.to_string()));
    }
    candidates.push(PathBuf::from("vms").join(vmid.to_string()));
    candidates.push(PathBuf::from("/var/lib/one/vms").join(vmid.to_string()));
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .ok_or_else(|| DriverError::new(format!("no front-end directory vms/{vmid}")))
}

/// The `deployment.<N>` of `dir` with the highest N (by number, not lexically).
pub fn newest_deployment(dir: &Path) -> Result<Option<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| DriverError::new(format!("cannot list {}: {e}", dir.display())))?;
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("deployment."))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| n > *b) {
            best = Some((n, entry.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_deployment_is_by_number() {
        let dir = std::env::temp_dir().join(format!("drv-restore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in [
            "deployment.9",
            "deployment.10",
            "deployment.2",
            "deployment.x",
            "deployment.",
            "transfer.11",
        ] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        let newest = newest_deployment(&dir).unwrap().unwrap();
        assert_eq!(newest.file_name().unwrap(), "deployment.10");
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(newest_deployment(&empty).unwrap(), None);
        assert!(newest_deployment(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
