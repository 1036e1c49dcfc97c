//! Property retrieval, views, update waits and tasks against govmomi's simulator.
#![cfg(feature = "vcsim")]

use std::time::Duration;

use vim_sdk::mo;
use vim_sdk::property::{
    objects_spec, retrieve, view_spec, ObjectProps, Paths, UpdateCollector, ViewGuard, WaitOutcome,
};
use vim_sdk::task::{wait_all, TaskProgress};
use vim_sdk::testing::Vcsim;
use vim_sdk::types::{
    Any, AnyArray, ServiceContent, TaskInfoState, VirtualMachineCloneSpec, VirtualMachineConfigSpec,
};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::{Client, ErrorKind};

#[path = "support/vcsim.rs"]
mod vcsim;

struct Session {
    client: Client,
    content: ServiceContent,
}

impl Session {
    fn collector(&self) -> mo::PropertyCollector {
        mo::PropertyCollector::from_ref(self.content.property_collector.clone())
    }

    async fn props(&self, objs: &[ManagedObjectReference], paths: &[&str]) -> Vec<ObjectProps> {
        let spec = objects_spec(objs, &Paths::only(paths));
        retrieve(&self.client, &self.collector(), &[spec], None)
            .await
            .expect("retrieve")
            .into_iter()
            .map(ObjectProps::from)
            .collect()
    }

    async fn all_of(&self, ty: &str) -> Vec<ManagedObjectReference> {
        let view = ViewGuard::container(
            &self.client,
            &self.content,
            &self.content.root_folder,
            &[ty],
            true,
        )
        .await
        .expect("container view");
        let spec = view_spec(view.reference(), &[ty], &Paths::parse_list("name"));
        let objs = retrieve(&self.client, &self.collector(), &[spec], None)
            .await
            .expect("retrieve through the view");
        view.destroy().await.expect("destroy view");
        let mut refs: Vec<_> = objs.into_iter().map(|o| o.obj).collect();
        refs.sort();
        refs
    }

    async fn power_state(&self, vm: &ManagedObjectReference) -> String {
        let p = self
            .props(std::slice::from_ref(vm), &["runtime.powerState"])
            .await;
        p[0].enum_value("runtime.powerState")
            .expect("a power state")
            .to_string()
    }
}

async fn login(sim: &Vcsim) -> Session {
    let (client, content) = vcsim::login(sim).await;
    Session { client, content }
}

fn start(vpx: bool) -> Vcsim {
    let b = Vcsim::builder();
    vcsim::start(if vpx { b.vpx() } else { b.esx() })
}

/// Retrieves `all=true` of every object a recursive view over all types shows; returns how
/// many objects were read. Top-level values of unknown types are reported on stderr.
async fn every_object_decodes(vpx: bool) -> usize {
    let sim = start(vpx);
    let s = login(&sim).await;
    let view = ViewGuard::container(&s.client, &s.content, &s.content.root_folder, &[], true)
        .await
        .expect("container view of all types");
    let listed = s
        .props(std::slice::from_ref(view.reference()), &["view"])
        .await;
    let mut objs: Vec<ManagedObjectReference> = match listed[0].get("view") {
        Some(Any::Array(AnyArray::ManagedObjectReference(v))) => v.clone(),
        other => panic!("view holds {other:?}"),
    };
    objs.push(s.content.root_folder.clone());
    assert!(objs.len() > 5, "{objs:?}");
    let mut types: Vec<&str> = objs.iter().map(|o| o.r#type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    for want in [
        "Datacenter",
        "Datastore",
        "HostSystem",
        "ResourcePool",
        "VirtualMachine",
        "Folder",
    ] {
        assert!(types.contains(&want), "{want} missing from {types:?}");
    }

    let spec = objects_spec(&objs, &Paths::All);
    let contents = retrieve(&s.client, &s.collector(), &[spec], None)
        .await
        .expect("every property of every object decodes");
    assert_eq!(contents.len(), objs.len());
    let mut unknown = Vec::new();
    for c in &contents {
        assert!(!c.prop_set.is_empty(), "{} has no properties", c.obj);
        for p in &c.prop_set {
            if let Any::Unknown { wire_type, .. } = &p.val {
                unknown.push(format!("{}.{}: {wire_type}", c.obj, p.name));
            }
        }
    }
    eprintln!("types: {types:?}; unknown top-level values: {unknown:?}");
    assert!(unknown.is_empty(), "values of unknown types: {unknown:?}");
    view.destroy().await.expect("destroy view");
    contents.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_decodes_esx() {
    assert!(every_object_decodes(false).await > 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_decodes_vpx() {
    assert!(every_object_decodes(true).await > 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_created_and_destroyed() {
    let sim = start(true);
    let s = login(&sim).await;
    let vms = s.all_of("VirtualMachine").await;
    assert_eq!(vms.len(), 4, "{vms:?}");

    let list = ViewGuard::list(&s.client, &s.content, &vms[..3])
        .await
        .expect("list view");
    let spec = view_spec(
        list.reference(),
        &["VirtualMachine"],
        &Paths::parse_list("name"),
    );
    let seen = retrieve(&s.client, &s.collector(), std::slice::from_ref(&spec), None)
        .await
        .unwrap();
    let mut seen: Vec<_> = seen.into_iter().map(|o| o.obj).collect();
    seen.sort();
    assert_eq!(seen, vms[..3]);
    list.destroy().await.expect("destroy list view");
    let gone = retrieve(&s.client, &s.collector(), &[spec], None).await;
    assert!(gone.is_err(), "a destroyed view still answers: {gone:?}");

    // Dropping the guard destroys the view in the background.
    let dropped = ViewGuard::container(
        &s.client,
        &s.content,
        &s.content.root_folder,
        &["HostSystem"],
        true,
    )
    .await
    .unwrap();
    let spec = view_spec(
        dropped.reference(),
        &["HostSystem"],
        &Paths::parse_list("name"),
    );
    assert_eq!(
        retrieve(&s.client, &s.collector(), std::slice::from_ref(&spec), None)
            .await
            .unwrap()
            .len(),
        4
    );
    drop(dropped);
    let mut destroyed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if retrieve(&s.client, &s.collector(), std::slice::from_ref(&spec), None)
            .await
            .is_err()
        {
            destroyed = true;
            break;
        }
    }
    assert!(destroyed, "the dropped view was not destroyed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_updates_sees_a_power_change_and_can_be_cancelled() {
    let sim = start(false);
    let s = login(&sim).await;
    let vm = s.all_of("VirtualMachine").await.remove(0);
    assert_eq!(s.power_state(&vm).await, "poweredOn");

    let mut updates = UpdateCollector::new(&s.client, &s.content)
        .await
        .expect("collector");
    assert_ne!(
        updates.collector().reference(),
        &s.content.property_collector
    );
    updates
        .add_filter(&objects_spec(
            std::slice::from_ref(&vm),
            &Paths::parse_list("runtime.powerState"),
        ))
        .await
        .expect("filter");
    let first = match updates.wait(Some(0), None).await.expect("initial values") {
        WaitOutcome::Updates(set) => set,
        other => panic!("expected the initial values, got {other:?}"),
    };
    let initial = &first.filter_set[0].object_set[0];
    assert_eq!(initial.obj, vm);
    assert!(
        matches!(&initial.change_set[0].val, Some(Any::Enum { value, .. }) if value == "poweredOn")
    );
    assert!(!updates.version().is_empty());

    assert!(matches!(
        updates.wait(Some(1), None).await.unwrap(),
        WaitOutcome::Timeout
    ));

    let task = mo::VirtualMachine::from_ref(vm.clone())
        .power_off_vm_task(&s.client)
        .await
        .unwrap();
    let mut saw_off = false;
    for _ in 0..10 {
        if let WaitOutcome::Updates(set) = updates.wait(Some(5), None).await.unwrap() {
            saw_off |= set.filter_set.iter().flat_map(|f| &f.object_set).any(|o| {
                o.obj == vm && o.change_set.iter().any(|c| {
                    c.name == "runtime.powerState"
                        && matches!(&c.val, Some(Any::Enum { value, .. }) if value == "poweredOff")
                })
            });
        }
        if saw_off {
            break;
        }
    }
    assert!(saw_off, "no poweredOff update");
    task.wait(&s.client).await.unwrap();

    let canceller = updates.canceller();
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        canceller.cancel().await
    });
    let started = std::time::Instant::now();
    let outcome = updates.wait(Some(30), None).await.expect("cancelled wait");
    assert!(matches!(outcome, WaitOutcome::Cancelled), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    cancel.await.unwrap().expect("CancelWaitForUpdates");

    let pc = updates.collector().clone();
    updates.destroy().await.expect("destroy collector");
    let err = pc
        .wait_for_updates_ex(&s.client, None, None)
        .await
        .unwrap_err();
    assert_eq!(err.fault_type(), Some("ManagedObjectNotFound"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_tasks_report_progress_and_typed_faults() {
    let sim = start(false);
    let s = login(&sim).await;
    let vms = s.all_of("VirtualMachine").await;
    let vm = mo::VirtualMachine::from_ref(vms[0].clone());

    let mut seen: Vec<TaskProgress> = Vec::new();
    vm.power_off_vm_task(&s.client)
        .await
        .unwrap()
        .wait_with_progress(&s.client, |p| seen.push(p))
        .await
        .expect("power off");
    assert!(!seen.is_empty(), "the progress callback was never called");
    assert_eq!(seen.last().unwrap().state, TaskInfoState::Success);
    assert_eq!(s.power_state(&vms[0]).await, "poweredOff");

    let err = vm
        .power_off_vm_task(&s.client)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .unwrap_err();
    assert_eq!(err.fault_type(), Some("InvalidPowerState"), "{err}");
    let ErrorKind::Task(fault) = &err.kind else {
        panic!("not a task fault: {err:?}");
    };
    assert!(matches!(
        fault.fault.fault,
        vim_sdk::types::AnyMethodFault::InvalidPowerState(_)
    ));
    assert_eq!(fault.entity.as_ref(), Some(&vms[0]));
    assert_eq!(err.object.as_deref(), Some(vms[0].to_string().as_str()));
    assert!(err.to_string().contains("InvalidPowerState"), "{err}");

    vm.power_on_vm_task(&s.client, None)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("power on");
    assert_eq!(s.power_state(&vms[0]).await, "poweredOn");

    // Both VMs at once: one collector, one outcome each.
    let tasks = vec![
        vm.power_off_vm_task(&s.client).await.unwrap(),
        mo::VirtualMachine::from_ref(vms[1].clone())
            .power_off_vm_task(&s.client)
            .await
            .unwrap(),
    ];
    let outcomes = wait_all(&s.client, &tasks).await.expect("wait for both");
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o.is_ok()), "{outcomes:?}");
    assert_eq!(s.power_state(&vms[1]).await, "poweredOff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconfigure_snapshot_and_clone_tasks() {
    let sim = start(false);
    let s = login(&sim).await;
    let vm_ref = s.all_of("VirtualMachine").await.remove(0);
    let vm = mo::VirtualMachine::from_ref(vm_ref.clone());

    let spec = VirtualMachineConfigSpec {
        annotation: Some("set by vim-sdk".into()),
        ..Default::default()
    };
    vm.reconfig_vm_task(&s.client, &spec)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("reconfigure");
    let p = s
        .props(
            std::slice::from_ref(&vm_ref),
            &["config.annotation", "parent"],
        )
        .await;
    assert_eq!(
        p[0].value::<String>("config.annotation")
            .unwrap()
            .as_deref(),
        Some("set by vim-sdk")
    );
    let folder: ManagedObjectReference = p[0].value("parent").unwrap().expect("a parent folder");

    let snap: mo::VirtualMachineSnapshot = vm
        .create_snapshot_task(&s.client, "before", Some("first"), false, false)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("create snapshot");
    assert_eq!(snap.reference().r#type, "VirtualMachineSnapshot");
    let p = s
        .props(std::slice::from_ref(&vm_ref), &["snapshot.currentSnapshot"])
        .await;
    assert_eq!(
        p[0].value::<ManagedObjectReference>("snapshot.currentSnapshot")
            .unwrap()
            .as_ref(),
        Some(snap.reference())
    );

    snap.revert_to_snapshot_task(&s.client, None, None)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("revert");
    snap.remove_snapshot_task(&s.client, false, None)
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("remove");
    let p = s.props(std::slice::from_ref(&vm_ref), &["snapshot"]).await;
    assert!(
        p[0].get("snapshot").is_none(),
        "snapshot still set: {:?}",
        p[0].get("snapshot")
    );

    let clone: mo::VirtualMachine = vm
        .clone_vm_task(
            &s.client,
            &folder,
            "copy-of-vm",
            &VirtualMachineCloneSpec::default(),
        )
        .await
        .unwrap()
        .wait(&s.client)
        .await
        .expect("clone");
    assert_ne!(clone.reference(), &vm_ref);
    let p = s
        .props(std::slice::from_ref(clone.reference()), &["name"])
        .await;
    assert_eq!(
        p[0].value::<String>("name").unwrap().as_deref(),
        Some("copy-of-vm")
    );
}
