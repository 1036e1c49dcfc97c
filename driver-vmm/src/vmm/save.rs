//! save (contract §4.7): snapshot `checkpoint` (with memory, not quiesced), suspend,
//! unregister (files kept). The checkpoint path argument is not used: the VM's own files are
//! the checkpoint.
//!
//! Arguments: `<deploy_id> <checkpoint_path> <host> <vmid> <host>`. Prints nothing.
//!
//! Retries: a `checkpoint` left by an earlier save is replaced while the VM still runs; a VM
//! already suspended with its `checkpoint` is only unregistered. A VM that is not registered
//! fails (nothing to save).

use driver_common::connect::Conn;
use driver_common::{output, DriverError, Result};
use vim_sdk::mo;
use vim_sdk::types::VirtualMachinePowerState;

const USAGE: &str = "<deploy_id> <checkpoint_path> <host> <vmid> <host>";

/// The name of the snapshot save takes and restore reverts to.
pub const CHECKPOINT: &str = "checkpoint";

/// Runs save.
pub async fn run(args: &[String]) -> Result<String> {
    let (deploy_id, host) = match args {
        [d, _ckpt, h, ..] if !d.is_empty() && !h.is_empty() && args.len() <= 5 => {
            (d.as_str(), h.as_str())
        }
        _ => return Err(DriverError::usage("save", USAGE, args)),
    };
    Conn::open(host)
        .await?
        .run(async |conn| save(conn, deploy_id).await)
        .await
        .map(|()| String::new())
        .map_err(|e| e.context(format!("cannot save VM {deploy_id} on host {host}")))
}

async fn save(conn: &Conn, deploy_id: &str) -> Result<()> {
    let vm = conn.require_vm(deploy_id).await?;
    let s = &conn.session;
    let state = vm.power_state(s).await?;
    let existing = vm.find_snapshot(s, CHECKPOINT).await?;
    match (state, existing) {
        (VirtualMachinePowerState::Suspended, Some(_)) => {
            output::info("already suspended with its checkpoint: unregistering only");
        }
        (state, existing) => {
            if let Some(old) = existing {
                output::info("replacing the checkpoint snapshot of an earlier save");
                old.remove_snapshot_task(s, false, None)
                    .await?
                    .wait(s)
                    .await?;
            }
            let running = state == VirtualMachinePowerState::PoweredOn;
            vm.create_snapshot_task(s, CHECKPOINT, Some("OpenNebula save"), running, false)
                .await?
                .wait(s)
                .await
                .map_err(|e| DriverError::from(e).context("snapshot checkpoint"))?;
            if running {
                vm.suspend_vm_task(s)
                    .await?
                    .wait(s)
                    .await
                    .map_err(|e| DriverError::from(e).context("suspend"))?;
            }
        }
    }
    unregister(conn, &vm).await
}

async fn unregister(conn: &Conn, vm: &mo::VirtualMachine) -> Result<()> {
    vm.unregister_vm(&conn.session)
        .await
        .map_err(|e| DriverError::from(e).context("unregister"))
}
