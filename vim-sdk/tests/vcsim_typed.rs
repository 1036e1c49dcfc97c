//! Typed reads against vcsim: generated property sets for one VM, several, and every VM of a
//! container; enum conversion of property values; checked handle conversions; one error kind
//! for a missing manager; the VMs of a host after a relocation; performance counters.
#![cfg(feature = "vcsim")]

use vim_sdk::find::Finder;
use vim_sdk::managed::ManagedType;
use vim_sdk::mo;
use vim_sdk::perf::PerfCounters;
use vim_sdk::property::{typed_in_container, typed_many, typed_one, ViewGuard};
use vim_sdk::testing::Vcsim;
use vim_sdk::types::{
    Any, FromAny, ServiceContent, VirtualMachinePowerState, VirtualMachineRelocateSpec,
};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::ErrorKind;

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::{all_vms, connect, start};

#[tokio::test]
async fn property_sets_for_one_many_and_a_container() {
    let sim = start(Vcsim::builder().vpx());
    let (c, m) = connect(&sim).await;
    let vms = all_vms(&c, &m).await;
    assert!(vms.len() >= 2, "the vpx model has several VMs");
    let (name, vm) = &vms[0];

    // One object: the fields asked for are set, the others stay None.
    let one = typed_one(&c, vm, &["name", "runtime", "config.hardware.numCPU"])
        .await
        .expect("typed_one");
    assert_eq!(&one.obj, vm.reference());
    assert_eq!(one.props.name.as_deref(), Some(name.as_str()));
    let runtime = one.props.runtime.as_ref().expect("runtime asked for");
    assert_eq!(runtime.power_state, VirtualMachinePowerState::PoweredOn);
    assert!(one.props.config.is_none(), "config was not asked for");
    assert!(one.props.guest.is_none() && one.props.summary.is_none());
    // A nested path is not a field: it comes in `other`.
    let mut one = one;
    let cpus: Option<i32> = one.take_other("config.hardware.numCPU");
    assert!(cpus.unwrap_or(0) >= 1, "{:?}", one.other);

    // Several objects, in the order given.
    let handles: Vec<mo::VirtualMachine> = vms.iter().rev().map(|(_, v)| v.clone()).collect();
    let many = typed_many(&c, &handles, &["name"])
        .await
        .expect("typed_many");
    assert_eq!(many.len(), handles.len());
    for (h, o) in handles.iter().zip(&many) {
        assert_eq!(&o.obj, h.reference());
        assert!(o.props.name.is_some() && o.props.runtime.is_none());
    }

    // Every VM of the inventory in one retrieval through a container view.
    let all = typed_in_container::<mo::VirtualMachine>(
        &c,
        m.root_folder.reference(),
        true,
        &["name", "summary"],
    )
    .await
    .expect("typed_in_container");
    let mut names: Vec<String> = all.iter().filter_map(|o| o.props.name.clone()).collect();
    names.sort();
    let mut expected: Vec<String> = vms.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(names, expected);
    assert!(all
        .iter()
        .all(|o| o.props.summary.is_some() && o.props.config.is_none()));

    // Hosts too, through the same generic call.
    let hosts =
        typed_in_container::<mo::HostSystem>(&c, m.root_folder.reference(), true, &["name"])
            .await
            .expect("hosts");
    assert!(!hosts.is_empty() && hosts.iter().all(|h| h.obj.r#type == "HostSystem"));
}

#[tokio::test]
async fn power_state_is_an_enum() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let vms = all_vms(&c, &m).await;
    let vm = &vms[0].1;
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::PoweredOn
    );
    vm.power_off(&c).await.expect("power off");
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::PoweredOff
    );
    // Property values convert to the generated enum; another enum's value does not.
    let v = Any::Enum {
        wire_type: "VirtualMachinePowerState".into(),
        value: "suspended".into(),
    };
    assert_eq!(
        VirtualMachinePowerState::from_any(v).unwrap(),
        VirtualMachinePowerState::Suspended
    );
    let other = Any::Enum {
        wire_type: "HostSystemPowerState".into(),
        value: "poweredOn".into(),
    };
    assert!(VirtualMachinePowerState::from_any(other).is_err());
    let newer = Any::Enum {
        wire_type: "VirtualMachinePowerState".into(),
        value: "hibernated".into(),
    };
    assert_eq!(
        VirtualMachinePowerState::from_any(newer).unwrap(),
        VirtualMachinePowerState::Unrecognized("hibernated".into())
    );
}

#[test]
fn checked_conversions_from_references() {
    let vm_ref = ManagedObjectReference::new("VirtualMachine", "vm-1");
    let host_ref = ManagedObjectReference::new("HostSystem", "host-1");
    let cluster = ManagedObjectReference::new("ClusterComputeResource", "domain-c1");

    let vm = mo::VirtualMachine::try_from_ref(vm_ref.clone()).expect("a VM");
    assert_eq!(vm.reference(), &vm_ref);
    let err = mo::VirtualMachine::try_from(host_ref.clone()).unwrap_err();
    assert_eq!(err.expected, "VirtualMachine");
    assert_eq!(err.found, host_ref);
    let e: vim_sdk::Error = err.into();
    assert!(matches!(e.kind, ErrorKind::WrongType(_)), "{e}");

    // Subtypes are accepted, supertypes are not.
    assert!(mo::ComputeResource::try_from_ref(cluster.clone()).is_ok());
    assert!(
        mo::ClusterComputeResource::try_from_ref(ManagedObjectReference::new(
            "ComputeResource",
            "domain-s1"
        ))
        .is_err()
    );
    assert!(mo::ManagedEntity::try_from_ref(cluster.clone()).is_ok());
    assert!(<mo::ManagedEntity as ManagedType>::try_from_reference(host_ref).is_ok());
    // A type the bindings do not know cannot be shown to be a VM.
    assert!(
        mo::ManagedEntity::try_from_ref(ManagedObjectReference::new("FutureThing", "x")).is_err()
    );
}

#[tokio::test]
async fn a_missing_manager_is_one_error_kind() {
    // A server offering no managers at all: each helper names the one it lacks.
    let c = vim_sdk::Client::new(
        vim_sdk::transport::Transport::new(vim_sdk::transport::TransportConfig::new(
            "http://127.0.0.1:9/sdk",
        ))
        .expect("transport"),
    );
    let content = ServiceContent::default();
    let root = ManagedObjectReference::new("Folder", "group-d1");
    let err = ViewGuard::container(&c, &content, &root, &["VirtualMachine"], true)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::MissingManager("ViewManager")),
        "{err}"
    );

    let m = vim_sdk::ops::Managers::from_content(&content);
    let finder = Finder::new(&m);
    let err = finder
        .vm_by_uuid(&c, None, "4206", vim_sdk::find::UuidKind::Bios)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::MissingManager("SearchIndex")),
        "{err}"
    );

    let files = vim_sdk::datastore::DatastoreFiles::new(
        &m,
        mo::Datacenter::from_ref(ManagedObjectReference::new("Datacenter", "dc-1")),
        vim_sdk::datastore::DatastoreLocation::new("dc", "ds"),
    );
    let err = files.make_directory(&c, "x", true).await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::MissingManager("FileManager")),
        "{err}"
    );
    assert!(
        err.to_string().contains("the server offers no FileManager"),
        "{err}"
    );
}

#[tokio::test]
async fn vms_of_a_host_follow_runtime_host_after_a_relocation() {
    let sim = start(Vcsim::builder().vpx());
    let (c, m) = connect(&sim).await;
    let vms = all_vms(&c, &m).await;
    let vm = vms[0].1.clone();
    let source = vm.host(&c).await.expect("host").expect("a host");
    let pool = vm.resource_pool(&c).await.expect("pool").expect("a pool");
    let cr = source
        .compute_resource(&c)
        .await
        .expect("cr")
        .expect("a cr");
    let target = cr
        .hosts(&c)
        .await
        .expect("hosts")
        .into_iter()
        .find(|h| *h != source)
        .expect("a cluster with several hosts");
    let dc: mo::Datacenter = Finder::new(&m)
        .by_inventory_path(&c, "DC0")
        .await
        .expect("find dc")
        .expect("DC0");

    let before = source
        .vms_with_properties(&c, dc.reference(), &["name"])
        .await
        .expect("vms of the source");
    assert!(before.iter().any(|o| o.obj == *vm.reference()));
    assert!(before
        .iter()
        .all(|o| o.props.name.is_some() && o.props.runtime.is_none()));
    assert!(
        before.iter().all(|o| o.other.is_empty()),
        "runtime.host was added, then dropped"
    );

    let spec = VirtualMachineRelocateSpec {
        host: Some(target.reference().clone()),
        pool: Some(pool.reference().clone()),
        ..Default::default()
    };
    vm.relocate_vm_task(&c, &spec, None)
        .await
        .expect("relocate")
        .wait(&c)
        .await
        .expect("relocated");

    let on_source = source
        .vms_with_properties(&c, dc.reference(), &["name", "runtime"])
        .await
        .expect("source after");
    let on_target = target
        .vms_with_properties(&c, dc.reference(), &["name", "runtime"])
        .await
        .expect("target after");
    assert!(!on_source.iter().any(|o| o.obj == *vm.reference()));
    let moved = on_target
        .iter()
        .find(|o| o.obj == *vm.reference())
        .expect("the VM is on the target");
    assert_eq!(
        moved.props.runtime.as_ref().and_then(|r| r.host.as_ref()),
        Some(target.reference())
    );
    // What the host's own `vm` list says (stale in vcsim) does not matter.
    let listed = source.vms(&c).await.expect("HostSystem.vm");
    let stale = listed.iter().any(|v| v == &vm);
    eprintln!("HostSystem.vm of the source still lists the VM: {stale}");
}

#[tokio::test]
async fn latest_performance_values_for_many_entities_in_one_query() {
    let sim = start(Vcsim::builder().vpx());
    let (c, m) = connect(&sim).await;
    let vms = all_vms(&c, &m).await;
    let names = [
        "net.received.average",
        "net.transmitted.average",
        "net.packetsRx.summation",
        "cpu.usage.average",
    ];
    let counters = PerfCounters::resolve_default(&c, &names)
        .await
        .expect("resolve");
    for n in names {
        assert!(counters.id(n).is_some(), "{n}");
    }
    let err = PerfCounters::resolve_default(&c, &["no.such.counter"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no.such.counter"), "{err}");

    let host = vms[0].1.host(&c).await.expect("host").expect("a host");
    let rate = counters
        .refresh_rate(&c, vms[0].1.reference())
        .await
        .expect("provider summary")
        .expect("real-time statistics");
    assert_eq!(rate, 20);

    let mut entities: Vec<ManagedObjectReference> = vms
        .iter()
        .take(3)
        .map(|(_, v)| v.reference().clone())
        .collect();
    entities.push(host.reference().clone());
    let latest = counters
        .latest(&c, &entities, rate)
        .await
        .expect("QueryPerf");
    for e in &entities {
        for n in names {
            let s = latest.get(e, n).unwrap_or_else(|| panic!("{e} {n}"));
            assert!(s.value >= 0);
            assert_eq!(s.interval, 20);
            assert!(!s.timestamp.is_empty());
        }
    }
    assert_eq!(latest.entities().count(), entities.len());

    // The streamed QueryPerf hands over the very metrics the whole reply holds, in order
    // (vcsim derives its series from the time, so two replies are compared by shape).
    let specs: Vec<vim_sdk::types::PerfQuerySpec> = entities
        .iter()
        .map(|e| vim_sdk::types::PerfQuerySpec {
            entity: e.clone(),
            max_sample: Some(3),
            metric_id: vec![vim_sdk::types::PerfMetricId {
                counter_id: counters.id("net.received.average").unwrap(),
                instance: String::new(),
            }],
            interval_id: Some(rate),
            ..Default::default()
        })
        .collect();
    let whole = counters
        .manager()
        .query_perf(&c, &specs)
        .await
        .expect("QueryPerf");
    let mut streamed = Vec::new();
    let n = vim_sdk::perf::query_perf_each(&c, counters.manager(), &specs, |m| streamed.push(m))
        .await
        .expect("streamed QueryPerf");
    assert_eq!(n, whole.len());
    let shape = |v: &[vim_sdk::types::AnyPerfEntityMetricBase]| -> Vec<(String, usize)> {
        v.iter()
            .map(|m| match m {
                vim_sdk::types::AnyPerfEntityMetricBase::PerfEntityMetric(m) => {
                    (m.base.entity.to_string(), m.sample_info.len())
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    };
    assert_eq!(shape(&streamed), shape(&whole));
    assert_eq!(
        shape(&streamed)
            .iter()
            .map(|(e, _)| e.clone())
            .collect::<Vec<_>>(),
        entities.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    // Specs made one at a time and written as the request is sent, in many pieces (600
    // specs, about 150 KB): every one is answered, in order.
    let many = 150 * specs.len();
    let mut order = Vec::new();
    let n = vim_sdk::perf::query_perf_each_of(
        &c,
        counters.manager(),
        many,
        |i| specs[i % specs.len()].clone(),
        |m| order.push(shape(std::slice::from_ref(&m)).remove(0).0),
    )
    .await
    .expect("QueryPerf written as it is sent");
    assert_eq!(n, many);
    let expected: Vec<String> = (0..many)
        .map(|i| specs[i % specs.len()].entity.to_string())
        .collect();
    assert_eq!(order, expected);
    // A fault (vcsim has no statistics for a folder) is an error of QueryPerf, not a panic.
    let mut bad = specs.clone();
    bad.push(vim_sdk::types::PerfQuerySpec {
        entity: m.root_folder.reference().clone(),
        ..specs[0].clone()
    });
    let err = vim_sdk::perf::query_perf_each(&c, counters.manager(), &bad, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.fault_type(), Some("InvalidArgument"), "{err}");
}
