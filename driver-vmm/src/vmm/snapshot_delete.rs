//! `snapshot_delete <deploy_id> <hypervisor_id> <vmid> <host>`: removes the snapshot named
//! exactly `<hypervisor_id>`, keeping its children (`removeChildren=false`). A snapshot
//! already gone is a success (OpenNebula retries); an ambiguous name is a failure.

use vim_sdk::mo;
use vim_sdk::Client;

use super::snapshot_revert::unique_snapshot;
use crate::common::{DriverError, Result};

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
    match snap.remove(client, false, |_| {}).await {
        Ok(()) => Ok(Delete::Removed),
        Err(e) if super::lifecycle::is_gone(&e) => Ok(Delete::Absent),
        Err(e) => {
            Err(DriverError::from(e).context(format!("cannot delete snapshot {name} of {what}")))
        }
    }
}
