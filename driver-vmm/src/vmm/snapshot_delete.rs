//! `snapshot_delete <deploy_id> <hypervisor_id> <vmid> <host>`: removes the snapshot named
//! exactly `<hypervisor_id>`, keeping its children (`removeChildren=false`). A snapshot
//! already gone is a success (OpenNebula retries); an ambiguous name is a failure.

use vim_sdk::mo;
use vim_sdk::Client;

use driver_common::connect::Conn;

use super::lifecycle::{describe, vm_snapshot_args};
use super::snapshot_revert::{unique_snapshot, valid_snapshot_name};
use driver_common::{DriverError, Result};

/// What [`delete_snapshot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delete {
    /// The snapshot was removed.
    Removed,
    /// There was no snapshot of that name.
    Absent,
}

/// Removes snapshot `name` of `vm`, keeping its children.
pub async fn delete_snapshot(
    client: &Client,
    vm: &mo::VirtualMachine,
    name: &str,
    what: &str,
) -> Result<Delete> {
    let Some(snap) = unique_snapshot(client, vm, name, what).await? else {
        return Ok(Delete::Absent);
    };
    match snap.remove(client, false).await {
        Ok(()) => Ok(Delete::Removed),
        Err(e) if super::lifecycle::is_gone(&e) => Ok(Delete::Absent),
        Err(e) => {
            Err(DriverError::from(e).context(format!("cannot delete snapshot {name} of {what}")))
        }
    }
}

/// Runs snapshot_delete with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (target, name) = vm_snapshot_args(
        "snapshot_delete",
        "<deploy_id> <hypervisor_snapshot_id> <vmid> <host>",
        args,
        valid_snapshot_name,
    )?;
    let what = describe(&target);
    let done = Conn::with_vm(&target.host, &target.deploy_id, async |conn, vm| {
        delete_snapshot(&conn.session, &vm, &name, &what).await
    })
    .await?;
    if done == Delete::Absent {
        driver_common::output::info(&format!("{what} has no snapshot {name}: nothing to delete"));
    }
    Ok(String::new())
}
