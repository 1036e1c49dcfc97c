//! The examples that change VMs: `snapshot`, `annotate`, `extraconfig`, `create_vm` and
//! `clone_vm`, each run against the simulator and checked through an independent vim-sdk
//! session (the snapshot tree, `config.annotation`, `config.extraConfig`, the new VM's
//! hardware), with their `--json` and error lines. Each test works on its own VM.
#![cfg(feature = "vcsim")]

mod support;

use support::{example, find_vm, on_vm, sdk, sim, temp_dir};
use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::types::{
    Any, AnyArray, AnyVirtualDevice, AnyVirtualDeviceBackingInfo, VirtualMachineSnapshotTree,
};

const SNAPSHOT: &str = env!("CARGO_BIN_EXE_snapshot");
const ANNOTATE: &str = env!("CARGO_BIN_EXE_annotate");
const EXTRACONFIG: &str = env!("CARGO_BIN_EXE_extraconfig");
const CREATE_VM: &str = env!("CARGO_BIN_EXE_create_vm");
const CLONE_VM: &str = env!("CARGO_BIN_EXE_clone_vm");

/// The snapshot trees and current snapshot's name of VM `name`, through the SDK.
fn snapshots(name: &str) -> (Vec<VirtualMachineSnapshotTree>, Option<String>) {
    on_vm(name, async |s, vm| {
        let (trees, current) = vm.snapshots(s).await.expect("snapshots");
        fn named(
            t: &[VirtualMachineSnapshotTree],
            r: &mo::VirtualMachineSnapshot,
        ) -> Option<String> {
            t.iter().find_map(|t| {
                if &t.snapshot == r.reference() {
                    Some(t.name.clone())
                } else {
                    named(&t.child_snapshot_list, r)
                }
            })
        }
        let current = current.as_ref().and_then(|c| named(&trees, c));
        (trees, current)
    })
}

/// Property `path` of VM `name`, through the SDK.
fn vm_property(name: &str, path: &str) -> Option<Any> {
    on_vm(name, async |s, vm| {
        vm.properties(s, &[path]).await.expect("read").take(path)
    })
}

#[test]
fn snapshot_create_tree_revert_delete() {
    let sim = sim();
    const VM: &str = "DC0_H0_VM0";
    let run = example(SNAPSHOT)
        .against(sim)
        .args(["--json", "create", VM, "s1", "-d", "first one"])
        .run();
    let json = run.ok().json();
    assert_eq!(
        json,
        serde_json::json!({"vm": VM, "snapshot": "s1", "action": "created"})
    );
    example(SNAPSHOT)
        .against(sim)
        .args(["create", VM, "s2"])
        .run()
        .ok();
    let (trees, current) = snapshots(VM);
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0].name, "s1");
    assert_eq!(trees[0].description, "first one");
    assert_eq!(trees[0].child_snapshot_list[0].name, "s2");
    assert_eq!(current.as_deref(), Some("s2"));

    // The tree as JSON and as a table, against the SDK's tree.
    let run = example(SNAPSHOT)
        .against(sim)
        .args(["--json", "tree", VM])
        .run();
    let json = run.ok().json();
    assert_eq!(json["current"], "s2");
    let s1 = &json["snapshots"][0];
    assert_eq!(s1["name"], "s1");
    assert_eq!(s1["description"], "first one");
    assert_eq!(s1["created"], trees[0].create_time.as_str());
    assert_eq!(s1["current"], false);
    assert_eq!(s1["children"][0]["name"], "s2");
    assert_eq!(s1["children"][0]["current"], true);
    let run = example(SNAPSHOT).against(sim).args(["tree", VM]).run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["NAME", "CREATED", "STATE", "DESCRIPTION"]);
    assert_eq!(rows[0][0], "s1", "{run}");
    assert_eq!(rows[1][0], "s2 *", "{run}");

    // Revert to s1, delete s2: the SDK sees both.
    example(SNAPSHOT)
        .against(sim)
        .args(["revert", VM, "s1"])
        .run()
        .ok();
    assert_eq!(snapshots(VM).1.as_deref(), Some("s1"));
    let run = example(SNAPSHOT)
        .against(sim)
        .args(["delete", VM, "s2"])
        .run();
    assert_eq!(run.ok().stdout, format!("snapshot s2 of {VM} deleted\n"));
    let (trees, _) = snapshots(VM);
    assert!(trees[0].child_snapshot_list.is_empty(), "{trees:?}");

    // Unknown snapshot, unknown VM: one line, exit 1.
    let run = example(SNAPSHOT)
        .against(sim)
        .args(["revert", VM, "nosuch"])
        .run();
    assert!(
        run.fails(1)
            .ends_with("VM DC0_H0_VM0 has no snapshot named nosuch"),
        "{run}"
    );
    let run = example(SNAPSHOT)
        .against(sim)
        .args(["tree", "NoSuchVM"])
        .run();
    assert!(run.fails(1).contains("VM NoSuchVM not found"), "{run}");
}

/// `annotate --clear` sends `<annotation></annotation>` (an empty string, which clears the
/// notes on ESX and vCenter). vcsim 0.24 copies only non-empty strings of a config spec
/// (`VirtualMachine.apply`), so on the simulator the old text stays: the test checks the
/// request the example sent (its wire dump) and the example's report, not the simulator's
/// stored value after the clear; "no annotation" is checked on the VM before it has one.
#[test]
fn annotate_sets_reads_and_clears() {
    let sim = sim();
    const VM: &str = "DC0_H0_VM1";
    let run = example(ANNOTATE).against(sim).arg(VM).run();
    assert_eq!(run.ok().stdout, format!("VM {VM} has no annotation\n"));
    let run = example(ANNOTATE)
        .against(sim)
        .args(["--json", VM, "owner: ops\nticket 42"])
        .run();
    assert_eq!(run.ok().json()["annotation"], "owner: ops\nticket 42");
    match vm_property(VM, "config.annotation") {
        Some(Any::String(s)) => assert_eq!(s, "owner: ops\nticket 42"),
        other => panic!("annotation: {other:?}"),
    }
    let run = example(ANNOTATE).against(sim).arg(VM).run();
    assert_eq!(run.ok().stdout, "owner: ops\nticket 42\n");

    let dump = temp_dir("annotate-dump");
    let run = example(ANNOTATE)
        .against(sim)
        .env("VIM_SDK_WIRE_DUMP", dump.to_string_lossy())
        .args(["--json", VM, "--clear"])
        .run();
    assert_eq!(
        run.ok().json(),
        serde_json::json!({"vm": VM, "annotation": ""})
    );
    let requests: Vec<String> = std::fs::read_dir(&dump)
        .expect("the wire dump")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.to_string();
            name.ends_with("-ReconfigVM_Task.request.xml")
                .then(|| std::fs::read_to_string(&path).expect("read the dump"))
        })
        .collect();
    assert_eq!(requests.len(), 1, "one ReconfigVM_Task: {requests:?}");
    let spec = &requests[0];
    assert!(
        spec.contains("<annotation></annotation>") || spec.contains("<annotation/>"),
        "an empty annotation in the spec: {spec}"
    );
    let _ = std::fs::remove_dir_all(&dump);
}

#[test]
fn extraconfig_sets_and_lists_keys() {
    let sim = sim();
    const VM: &str = "DC0_C0_RP0_VM1";
    example(EXTRACONFIG)
        .against(sim)
        .args([VM, "set", "guestinfo.role=web", "guestinfo.tier=2"])
        .run()
        .ok();
    let options = match vm_property(VM, "config.extraConfig") {
        Some(Any::Array(AnyArray::OptionValue(list))) => list,
        other => panic!("extraConfig: {other:?}"),
    };
    let value = |k: &str| {
        options
            .iter()
            .map(|o| o.base())
            .rev()
            .find(|o| o.key == k)
            .and_then(|o| match &o.value {
                Some(Any::String(s)) => Some(s.clone()),
                _ => None,
            })
    };
    assert_eq!(value("guestinfo.role").as_deref(), Some("web"));
    assert_eq!(value("guestinfo.tier").as_deref(), Some("2"));

    let run = example(EXTRACONFIG)
        .against(sim)
        .args(["--json", VM, "list", "guestinfo."])
        .run();
    let json = run.ok().json();
    let listed = json["options"].as_array().expect("options");
    assert_eq!(listed.len(), 2, "{run}");
    assert_eq!(
        listed[0],
        serde_json::json!({"key": "guestinfo.role", "value": "web"})
    );
    assert_eq!(
        listed[1],
        serde_json::json!({"key": "guestinfo.tier", "value": "2"})
    );
    let run = example(EXTRACONFIG)
        .against(sim)
        .args([VM, "list", "guestinfo.r"])
        .run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["KEY", "VALUE"]);
    assert_eq!(rows, [["guestinfo.role", "web"]]);

    // Not KEY=VALUE: a usage error (exit 2), nothing sent.
    let run = example(EXTRACONFIG)
        .against(sim)
        .args([VM, "set", "novalue"])
        .run();
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("is not KEY=VALUE"), "{run}");
}

#[test]
fn create_vm_builds_the_hardware_asked_for() {
    let sim = sim();
    let run = example(CREATE_VM)
        .against(sim)
        .args([
            "--json",
            "exvm1",
            "--cpus",
            "2",
            "--memory",
            "64",
            "--disk",
            "1",
            "--network",
            "VM Network",
        ])
        .run();
    let json = run.ok().json();
    assert_eq!(json["name"], "exvm1");
    assert_eq!(json["path"], "DC0/vm/exvm1");
    assert_eq!(json["vmx"], "[LocalDS_0] exvm1/exvm1.vmx");
    let (cpus, memory, devices, vm_id) = sdk(sim, async |s| {
        let vm = find_vm(s, "exvm1").await.expect("the new VM");
        let mut p = vm
            .properties(
                s,
                &[
                    "config.hardware.numCPU",
                    "config.hardware.memoryMB",
                    "config.hardware.device",
                ],
            )
            .await
            .expect("read");
        (
            p.take("config.hardware.numCPU"),
            p.take("config.hardware.memoryMB"),
            p.take("config.hardware.device"),
            vm.reference().value.clone(),
        )
    });
    assert_eq!(json["vm"], vm_id.as_str());
    assert!(matches!(cpus, Some(Any::Int(2))), "{cpus:?}");
    assert!(matches!(memory, Some(Any::Int(64))), "{memory:?}");
    let Some(Any::Array(AnyArray::VirtualDevice(devices))) = devices else {
        panic!("devices: {devices:?}")
    };
    let disks: Vec<i64> = devices
        .iter()
        .filter_map(|d| match d {
            AnyVirtualDevice::VirtualDisk(d) => Some(d.capacity_in_kb),
            _ => None,
        })
        .collect();
    assert_eq!(disks, [1024 * 1024], "one 1 GiB disk");
    assert_eq!(
        devices
            .iter()
            .filter(|d| matches!(d, AnyVirtualDevice::VirtualVmxnet3(_)))
            .count(),
        1,
        "one vmxnet3 card"
    );

    // The same name again: the server refuses, one line, exit 1.
    let run = example(CREATE_VM)
        .against(sim)
        .args(["exvm1", "--memory", "64"])
        .run();
    assert!(
        run.fails(1)
            .starts_with("create_vm: cannot create VM exvm1: "),
        "{run}"
    );
    // A distributed port group: the card is backed by the group's key and its switch's uuid,
    // as the SDK reads them.
    let run = example(CREATE_VM)
        .against(sim)
        .args(["--json", "exvm2", "--disk", "0", "--network", "DC0_DVPG0"])
        .run();
    assert_eq!(run.ok().json()["network"], "DC0_DVPG0");
    let (backings, expected) = sdk(sim, async |s| {
        let m = Managers::from_content(s.content());
        let (_, pg) = Finder::new(&m)
            .list::<mo::DistributedVirtualPortgroup>(s, m.root_folder.reference(), true)
            .await
            .expect("list port groups")
            .into_iter()
            .find(|(n, _)| n == "DC0_DVPG0")
            .expect("DC0_DVPG0");
        let mut p = pg
            .reference()
            .properties(s, &["key", "config.distributedVirtualSwitch"])
            .await
            .expect("read the port group");
        let switch = p
            .take_as::<vim_sdk::xml::ManagedObjectReference>("config.distributedVirtualSwitch")
            .expect("its switch");
        let uuid = switch
            .properties(s, &["uuid"])
            .await
            .expect("read the switch")
            .str("uuid")
            .expect("uuid")
            .to_string();
        let key = p.str("key").expect("key").to_string();
        let vm = find_vm(s, "exvm2").await.expect("the new VM");
        let devices = vm
            .properties(s, &["config.hardware.device"])
            .await
            .expect("read")
            .take("config.hardware.device");
        let Some(Any::Array(AnyArray::VirtualDevice(devices))) = devices else {
            panic!("devices: {devices:?}")
        };
        let backings: Vec<(String, Option<String>)> = devices
            .iter()
            .filter_map(|d| match &d.base().backing {
                Some(AnyVirtualDeviceBackingInfo::VirtualEthernetCardDistributedVirtualPortBackingInfo(b)) => {
                    Some((b.port.switch_uuid.clone(), b.port.portgroup_key.clone()))
                }
                _ => None,
            })
            .collect();
        (backings, (uuid, Some(key)))
    });
    assert_eq!(
        backings,
        [expected],
        "one card on the distributed port group"
    );

    // An unknown network: one line, nothing created.
    let run = example(CREATE_VM)
        .against(sim)
        .args(["exvm3", "--network", "NoSuchNet"])
        .run();
    assert!(
        run.fails(1).contains("network NoSuchNet not found"),
        "{run}"
    );
    assert!(sdk(sim, async |s| find_vm(s, "exvm3").await).is_none());
}

#[test]
fn clone_vm_copies_into_the_source_folder() {
    let sim = sim();
    let run = example(CLONE_VM)
        .against(sim)
        .args(["--json", "DC0_C0_RP0_VM0", "exclone1", "--template"])
        .run();
    let json = run.ok().json();
    assert_eq!(json["path"], "DC0/vm/exclone1");
    assert_eq!(json["template"], true);
    let (id, template) = sdk(sim, async |s| {
        let vm = find_vm(s, "exclone1").await.expect("the clone");
        let mut p = vm.properties(s, &["config.template"]).await.expect("read");
        (vm.reference().value.clone(), p.take("config.template"))
    });
    assert_eq!(json["vm"], id.as_str());
    assert!(matches!(template, Some(Any::Boolean(true))), "{template:?}");

    let run = example(CLONE_VM)
        .against(sim)
        .args(["DC0_C0_RP0_VM0", "exclone2", "--linked", "nosnap"])
        .run();
    assert!(
        run.fails(1)
            .ends_with("VM DC0_C0_RP0_VM0 has no snapshot named nosnap"),
        "{run}"
    );
    assert!(sdk(sim, async |s| find_vm(s, "exclone2").await).is_none());
}
