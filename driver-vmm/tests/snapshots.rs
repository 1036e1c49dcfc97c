//! snapshot_create / snapshot_revert / snapshot_delete: their logic against vcsim (effects
//! read back through vim-sdk's own reads of the snapshot tree).
#![cfg(feature = "vcsim")]

mod support;

use driver_vmm::vmm::snapshot_create::{create_snapshot, snapshot_name};
use driver_vmm::vmm::snapshot_delete::{delete_snapshot, Delete};
use driver_vmm::vmm::snapshot_revert::{revert_snapshot, snapshots_named};
use support::model::{self, files_of, vm_named};
use vim_sdk::types::VirtualMachineSnapshotTree;

fn names(trees: &[VirtualMachineSnapshotTree], depth: usize, out: &mut Vec<(usize, String)>) {
    for t in trees {
        out.push((depth, t.name.clone()));
        names(&t.child_snapshot_list, depth + 1, out);
    }
}

#[tokio::test]
async fn create_nested_revert_delete() {
    let (_sim, c, m) = model::vpx().await;
    let (_, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    let files = files_of(&c, &vm).await;

    let s0 = snapshot_name(7, 0, 1_700_000_000);
    assert_eq!(s0, "one-7-0-1700000000");
    let s1 = snapshot_name(7, 1, 1_700_000_100);
    let s2 = snapshot_name(7, 2, 1_700_000_200);
    for s in [&s0, &s1, &s2] {
        let id = create_snapshot(&c, &vm, s, "OpenNebula snapshot", "x")
            .await
            .expect("create");
        assert_eq!(&id, s);
    }
    // Retried within the same second: no second snapshot of that name.
    create_snapshot(&c, &vm, &s2, "OpenNebula snapshot", "x")
        .await
        .expect("again");
    let (trees, current) = vm.snapshots(&c).await.expect("tree");
    let mut seen = Vec::new();
    names(&trees, 0, &mut seen);
    assert_eq!(seen, [(0, s0.clone()), (1, s1.clone()), (2, s2.clone())]);
    let nested = snapshots_named(&c, &vm, &s2).await.unwrap();
    assert_eq!(nested.len(), 1, "found at depth 2");
    assert_eq!(current.as_ref(), nested.first());

    // Revert to the middle one: it becomes current.
    revert_snapshot(&c, &vm, &s1, "x").await.expect("revert");
    let (_, current) = vm.snapshots(&c).await.unwrap();
    assert_eq!(
        current.as_ref(),
        snapshots_named(&c, &vm, &s1).await.unwrap().first()
    );

    // Unknown id: a failure naming it; nothing changed.
    let err = revert_snapshot(&c, &vm, "one-7-9-1", "VM one-7 on host h")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("VM one-7 on host h has no snapshot named one-7-9-1"),
        "{err}"
    );
    // A prefix is not a name.
    assert!(revert_snapshot(&c, &vm, "one-7-1", "x").await.is_err());

    let gone: Vec<_> = files.iter().filter(|f| !f.exists()).collect();
    assert!(gone.is_empty(), "create/revert deleted {gone:?}");

    // Delete the middle one: its child stays, moved up.
    assert_eq!(
        delete_snapshot(&c, &vm, &s1, "x").await.unwrap(),
        Delete::Removed
    );
    let (trees, _) = vm.snapshots(&c).await.unwrap();
    let mut seen = Vec::new();
    names(&trees, 0, &mut seen);
    assert_eq!(seen, [(0, s0.clone()), (1, s2.clone())]);
    // Again: already gone, a success.
    assert_eq!(
        delete_snapshot(&c, &vm, &s1, "x").await.unwrap(),
        Delete::Absent
    );
    // Delete the rest, the last one included (vcsim unsets `snapshot` then).
    assert_eq!(
        delete_snapshot(&c, &vm, &s2, "x").await.unwrap(),
        Delete::Removed
    );
    assert_eq!(
        delete_snapshot(&c, &vm, &s0, "x").await.unwrap(),
        Delete::Removed
    );
    let (trees, current) = vm.snapshots(&c).await.unwrap();
    assert!(trees.is_empty() && current.is_none());
    assert_eq!(
        delete_snapshot(&c, &vm, &s0, "x").await.unwrap(),
        Delete::Absent
    );
    // vcsim 0.24's RemoveSnapshot_Task deletes the layout files keyed like the snapshot's
    // data file when it was taken; its storage refresh renumbers those keys, so it may hit
    // the disk's `-flat.vmdk` (a simulator bug: the driver asks for removeChildren=false
    // and no consolidation). The descriptor and the VM's other files must survive.
    let gone: Vec<_> = files
        .iter()
        .filter(|f| !f.exists() && !f.to_string_lossy().ends_with("-flat.vmdk"))
        .collect();
    assert!(gone.is_empty(), "deleted: {gone:?} of {files:?}");
}

#[tokio::test]
async fn ambiguous_names_are_refused() {
    let (_sim, c, m) = model::vpx().await;
    let (_, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    // Two snapshots of one name, made behind the driver's back.
    vm.create_snapshot(&c, "twin", None, false, false)
        .await
        .unwrap();
    vm.create_snapshot(&c, "twin", None, false, false)
        .await
        .unwrap();
    let err = delete_snapshot(&c, &vm, "twin", "VM a on host b")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("2 snapshots of VM a on host b are named twin"),
        "{err}"
    );
    assert!(revert_snapshot(&c, &vm, "twin", "x").await.is_err());
    assert_eq!(
        snapshots_named(&c, &vm, "twin").await.unwrap().len(),
        2,
        "none removed"
    );
}
