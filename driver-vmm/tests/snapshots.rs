//! snapshot_create / snapshot_revert / snapshot_delete: their logic against vcsim (effects
//! read back through vim-sdk's own reads of the snapshot tree), and the actions through the
//! installed tree as OpenNebula runs them.
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

/// snapshot_create, snapshot_revert and snapshot_delete through the installed tree: the id
/// create prints is what revert and delete accept, nested snapshots are found, failures
/// (unknown VM or snapshot, bad arguments) give an error block and change nothing, and no
/// session is left behind.
#[tokio::test]
async fn snapshot_actions_through_the_installed_tree() {
    use support::{sdk, OneEnv};
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::adopt_vm(&s, &env, &host, 21).await;
    let before = sdk::driver_sessions(&env).await;
    let snap = |action: &str, vmid: &str, id: &str| {
        env.run(
            &format!("vmm/vmware/{action}"),
            &[&format!("one-{vmid}"), id, vmid, &host],
        )
    };
    let tree = async || {
        let (trees, current) = vm.snapshots(&s).await.expect("snapshot tree");
        let mut seen = Vec::new();
        names(&trees, 0, &mut seen);
        (seen, current)
    };

    // create prints the hypervisor id: one-<vmid>-<snapshot id>-<unix time>.
    let mut ids = Vec::new();
    for one_id in ["0", "1", "2"] {
        let run = snap("snapshot_create", "21", one_id);
        run.assert_ok();
        let id = run.stdout.trim().to_string();
        assert_eq!(run.stdout, format!("{id}\n"), "one line: {run}");
        assert!(id.starts_with(&format!("one-21-{one_id}-")), "{run}");
        ids.push(id);
    }
    let (seen, _) = tree().await;
    assert_eq!(
        seen,
        [
            (0, ids[0].clone()),
            (1, ids[1].clone()),
            (2, ids[2].clone())
        ],
        "nested, in order"
    );

    // revert to the middle one (depth 1): it becomes current.
    snap("snapshot_revert", "21", &ids[1]).assert_ok();
    let (_, current) = tree().await;
    let (trees, _) = vm.snapshots(&s).await.unwrap();
    assert_eq!(
        current.as_ref().map(|c| c.reference()),
        Some(&trees[0].child_snapshot_list[0].snapshot)
    );

    // Failures: an unknown snapshot, a prefix of an id, an unknown VM, bad arguments.
    snap("snapshot_revert", "21", "one-21-9-1")
        .assert_failed(&["one-21", "has no snapshot named one-21-9-1"]);
    snap("snapshot_revert", "21", "one-21-1").assert_failed(&["has no snapshot named"]);
    snap("snapshot_revert", "22", &ids[0]).assert_failed(&["VM one-22 not found"]);
    snap("snapshot_delete", "22", &ids[0]).assert_failed(&["VM one-22 not found"]);
    snap("snapshot_create", "22", "3").assert_failed(&["VM one-22 not found"]);
    snap("snapshot_create", "21", "three").assert_failed(&["snapshot_create", "bad arguments"]);
    env.run("vmm/vmware/snapshot_delete", &["one-21", &ids[0], "21"])
        .assert_failed(&["bad arguments"]);
    assert_eq!(tree().await.0.len(), 3, "the failures changed nothing");

    // delete the middle one: its child moves up; again: nothing to delete, a success.
    snap("snapshot_delete", "21", &ids[1]).assert_ok();
    assert_eq!(tree().await.0, [(0, ids[0].clone()), (1, ids[2].clone())]);
    snap("snapshot_delete", "21", &ids[1]).assert_silent_ok("nothing to delete");
    // The nested one is found at depth 1 and removed; then the root.
    snap("snapshot_delete", "21", &ids[2]).assert_ok();
    snap("snapshot_delete", "21", &ids[0]).assert_ok();
    assert!(tree().await.0.is_empty());
    assert!(sdk::registered(&s, "one-21").await);
    // Two snapshots of one name (made behind the driver's back): neither is picked.
    for _ in 0..2 {
        vm.create_snapshot(&s, "twin", None, false, false)
            .await
            .expect("snapshot");
    }
    snap("snapshot_delete", "21", "twin").assert_failed(&["2 snapshots of VM one-21", "twin"]);
    snap("snapshot_revert", "21", "twin").assert_failed(&["2 snapshots of VM one-21"]);
    assert_eq!(tree().await.0.len(), 2, "none removed");
    assert_eq!(
        sdk::driver_sessions(&env).await,
        before + 1,
        "one cached session, none leaked"
    );
}
