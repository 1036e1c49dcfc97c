//! `snapshot_create <deploy_id> <one_snapshot_id> <vmid> <host>`: a snapshot with memory,
//! not quiesced (as libvirt made them), named `one-<vmid>-<one_snapshot_id>-<unix time>`.
//! The name is printed as the hypervisor id: snapshot_revert and snapshot_delete find it by
//! exact name anywhere in the snapshot tree. A name, not a moref, because save/restore
//! unregisters and registers the VM again, which gives its snapshots new references.

use vim_sdk::mo;
use vim_sdk::Client;

use driver_common::connect::Conn;

use super::lifecycle::{describe, vm_snapshot_args};
use super::snapshot_revert::snapshots_named;
use driver_common::{DriverError, Result};

/// The snapshot name for OpenNebula snapshot `one_snap` of VM `vmid`, taken at `unix_time`.
pub fn snapshot_name(vmid: u64, one_snap: u64, unix_time: u64) -> String {
    format!("one-{vmid}-{one_snap}-{unix_time}")
}

/// Whether an OpenNebula snapshot id argument is acceptable (a number).
pub fn valid_one_snapshot_id(s: &str) -> bool {
    s.parse::<u64>().is_ok() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Takes snapshot `name` of `vm` (memory, no quiescing) unless one of that exact name exists
/// already (a retry within the same second); returns the name. `what` names the VM and host.
pub async fn create_snapshot(
    client: &Client,
    vm: &mo::VirtualMachine,
    name: &str,
    description: &str,
    what: &str,
) -> Result<String> {
    if !snapshots_named(client, vm, name).await?.is_empty() {
        return Ok(name.to_string());
    }
    vm.create_snapshot(client, name, Some(description), true, false)
        .await
        .map_err(|e| {
            DriverError::from(e).context(format!("cannot create snapshot {name} of {what}"))
        })?;
    Ok(name.to_string())
}

/// Runs snapshot_create with OpenNebula's arguments; prints the snapshot's name.
pub async fn run(args: &[String]) -> Result<String> {
    let (target, one_snap) = vm_snapshot_args(
        "snapshot_create",
        "<deploy_id> <one_snapshot_id> <vmid> <host>",
        args,
        valid_one_snapshot_id,
    )?;
    let one_snap: u64 = one_snap
        .parse()
        .map_err(|_| DriverError::usage("snapshot_create", "a numeric snapshot id", args))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = snapshot_name(target.vmid, one_snap, now);
    let what = describe(&target);
    let description = format!("OpenNebula snapshot {one_snap} of VM {}", target.vmid);
    Conn::with_vm(&target.host, &target.deploy_id, async |conn, vm| {
        create_snapshot(&conn.session, &vm, &name, &description, &what).await
    })
    .await
}
