//! `snapshot_revert <deploy_id> <hypervisor_id> <vmid> <host>`: reverts to the snapshot
//! named exactly `<hypervisor_id>` (found at any depth of the tree). An unknown or ambiguous
//! name is a failure.

use vim_sdk::mo;
use vim_sdk::types::VirtualMachineSnapshotTree;
use vim_sdk::Client;

use driver_common::connect::Conn;
use driver_common::{DriverError, Result};

use super::lifecycle::{describe, vm_snapshot_args};

/// Whether a hypervisor snapshot id argument is acceptable: a snapshot name (1 to 255
/// characters, no control characters).
pub fn valid_snapshot_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control)
}

fn collect(
    trees: &[VirtualMachineSnapshotTree],
    name: &str,
    out: &mut Vec<mo::VirtualMachineSnapshot>,
) {
    for t in trees {
        if t.name == name {
            out.push(mo::VirtualMachineSnapshot::from_ref(t.snapshot.clone()));
        }
        collect(&t.child_snapshot_list, name, out);
    }
}

/// Every snapshot of `vm` named exactly `name`, depth first.
pub async fn snapshots_named(
    client: &Client,
    vm: &mo::VirtualMachine,
    name: &str,
) -> Result<Vec<mo::VirtualMachineSnapshot>> {
    let (trees, _) = vm.snapshots(client).await?;
    let mut found = Vec::new();
    collect(&trees, name, &mut found);
    Ok(found)
}

/// The one snapshot named `name`: `None` when there is none, an error when several are.
pub async fn unique_snapshot(
    client: &Client,
    vm: &mo::VirtualMachine,
    name: &str,
    what: &str,
) -> Result<Option<mo::VirtualMachineSnapshot>> {
    let mut found = snapshots_named(client, vm, name).await?;
    match found.len() {
        0 | 1 => Ok(found.pop()),
        n => Err(DriverError::new(format!(
            "{n} snapshots of {what} are named {name}: refusing to pick one"
        ))),
    }
}

/// Reverts `vm` to its snapshot `name`.
pub async fn revert_snapshot(
    client: &Client,
    vm: &mo::VirtualMachine,
    name: &str,
    what: &str,
) -> Result<()> {
    let snap = unique_snapshot(client, vm, name, what)
        .await?
        .ok_or_else(|| DriverError::new(format!("{what} has no snapshot named {name}")))?;
    snap.revert(client).await.map_err(|e| {
        DriverError::from(e).context(format!("cannot revert {what} to snapshot {name}"))
    })
}

/// Runs snapshot_revert with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (target, name) = vm_snapshot_args(
        "snapshot_revert",
        "<deploy_id> <hypervisor_snapshot_id> <vmid> <host>",
        args,
        valid_snapshot_name,
    )?;
    let what = describe(&target);
    Conn::with_vm(&target.host, &target.deploy_id, async |conn, vm| {
        revert_snapshot(&conn.session, &vm, &name, &what).await
    })
    .await?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vim_sdk::xml::ManagedObjectReference;

    fn tree(
        name: &str,
        id: &str,
        kids: Vec<VirtualMachineSnapshotTree>,
    ) -> VirtualMachineSnapshotTree {
        VirtualMachineSnapshotTree {
            snapshot: ManagedObjectReference::new("VirtualMachineSnapshot", id),
            name: name.into(),
            child_snapshot_list: kids,
            ..Default::default()
        }
    }

    #[test]
    fn exact_names_at_any_depth() {
        let trees = vec![
            tree(
                "one-1-0-10",
                "s1",
                vec![tree(
                    "one-1-1-20",
                    "s2",
                    vec![tree("one-1-10-30", "s3", vec![])],
                )],
            ),
            tree("one-1-1-20", "s4", vec![]),
        ];
        let ids = |name: &str| {
            let mut v = Vec::new();
            collect(&trees, name, &mut v);
            v.iter()
                .map(|s| s.reference().value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("one-1-10-30"), ["s3"]);
        assert_eq!(ids("one-1-1-20"), ["s2", "s4"]);
        assert!(ids("one-1-1").is_empty(), "no prefix match");
        assert!(ids("one-1-10-3").is_empty());
        assert!(valid_snapshot_name("1700000000"));
        assert!(!valid_snapshot_name(""));
        assert!(!valid_snapshot_name("a\nb"));
    }
}
