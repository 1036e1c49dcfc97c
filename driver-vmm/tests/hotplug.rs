//! attach_disk, detach_disk, attach_nic and detach_nic through the installed tree, as
//! OpenNebula runs them, against the simulator: the VM's devices read back through an
//! independent vim-sdk session, the datastore listed through the server's datastore browser,
//! and every failure path checked for its exit code, error block and the absence of side
//! effects.
//!
//! What vcsim 0.24 cannot show is covered against the loopback SOAP fixture at the end: the
//! exact `ReconfigVM_Task` a detach sends (vcsim would keep the file even if the spec asked
//! for its destruction only when it implements `fileOperation`), and a reconfiguration that
//! the server refuses with a fault (vcsim accepts every device change the driver sends).
#![cfg(feature = "vcsim")]

mod soap_fixture;
mod support;

use std::sync::Arc;

use soap_fixture::{common, response, response_ref};
use support::{sdk, OneEnv, Run};
use vim_sdk::device::{ControllerKind, DeviceList};
use vim_sdk::mo;
use vim_sdk::session::Session;
use vim_sdk::types::{AnyVirtualDevice, AnyVirtualDeviceBackingInfo, VirtualEthernetCard};

/// Where a disk sits: controller kind, the controller's bus number, unit, backing file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DiskSlot {
    kind: ControllerKind,
    bus: i32,
    unit: i32,
    file: String,
}

/// A controller's bus number (the controller kinds a VM of the driver can carry).
fn bus_number(device: &AnyVirtualDevice) -> Option<i32> {
    use AnyVirtualDevice as D;
    Some(match device {
        D::VirtualLsiLogicController(c) => c.base.base.bus_number,
        D::VirtualLsiLogicSASController(c) => c.base.base.bus_number,
        D::ParaVirtualSCSIController(c) => c.base.base.bus_number,
        D::VirtualBusLogicController(c) => c.base.base.bus_number,
        D::VirtualSCSIController(c) => c.base.bus_number,
        D::VirtualIDEController(c) => c.base.bus_number,
        _ => return None,
    })
}

/// Every disk of the list with its slot, sorted.
fn disks(list: &DeviceList) -> Vec<DiskSlot> {
    let mut out: Vec<DiskSlot> = list
        .disks()
        .map(|d| {
            let ctrl = list
                .by_key(d.base.controller_key.expect("disk on a controller"))
                .expect("the disk's controller is listed");
            let file = match d.base.backing.as_ref() {
                Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                    b.base.file_name.clone()
                }
                other => panic!("unexpected disk backing {other:?}"),
            };
            DiskSlot {
                kind: ControllerKind::of(ctrl).expect("a storage controller"),
                bus: bus_number(ctrl).expect("bus number"),
                unit: d.base.unit_number.expect("unit"),
                file,
            }
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

fn slot(kind: ControllerKind, bus: i32, unit: i32, file: &str) -> DiskSlot {
    DiskSlot {
        kind,
        bus,
        unit,
        file: file.to_string(),
    }
}

/// The Ethernet-card part of a device.
fn card(device: &AnyVirtualDevice) -> Option<&VirtualEthernetCard> {
    use AnyVirtualDevice as D;
    Some(match device {
        D::VirtualE1000(c) => &c.base,
        D::VirtualE1000e(c) => &c.base,
        D::VirtualPCNet32(c) => &c.base,
        D::VirtualVmxnet3(c) => &c.base.base,
        D::VirtualVmxnet2(c) => &c.base.base,
        D::VirtualVmxnet(c) => &c.base,
        _ => return None,
    })
}

/// One NIC as read back: (MAC, wire type, port group, device key).
type NicRow = (String, String, String, i32);

/// Every NIC of the list, sorted by MAC.
fn nics(list: &DeviceList) -> Vec<NicRow> {
    let mut out: Vec<NicRow> = list
        .all()
        .iter()
        .filter_map(|d| {
            let c = card(d)?;
            let pg = match c.base.backing.as_ref() {
                Some(AnyVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(b)) => {
                    b.base.device_name.clone()
                }
                other => format!("{other:?}"),
            };
            Some((
                c.mac_address.clone().unwrap_or_default(),
                d.type_name().to_string(),
                pg,
                c.base.key,
            ))
        })
        .collect();
    out.sort();
    out
}

async fn devices(s: &Session, vm: &mo::VirtualMachine) -> DeviceList {
    vm.devices(s).await.expect("config.hardware.device")
}

#[tokio::test]
async fn disks_attach_at_the_slot_the_target_names_and_detach_keeps_the_file() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::deploy_small(&s, &env, 60, &host, "02:00:00:00:3c:01").await;
    for n in 1..=5 {
        sdk::create_disk(&s, &env, "0", 60, n).await;
    }
    let sessions = sdk::driver_sessions(&env).await;
    let path = |n: u32| format!("/vmfs/volumes/0/60/disk.{n}");
    let file = |n: u32| format!("[0] 60/disk.{n}/disk.vmdk");
    // Every run counts its SOAP round trips (`DEBUG: ... N SOAP round trips` on stderr).
    let debug = [("VMWARE_DRIVER_DEBUG", "1")];
    let attach = |n: u32, target: &str, index: &str| {
        env.run_with_env(
            "vmm/vmware/attach_disk",
            &[
                "one-60",
                &path(n),
                target,
                index,
                "drv_message",
                "60",
                &host,
            ],
            &debug,
        )
    };
    let detach = |n: u32, target: &str, index: &str| {
        env.run_with_env(
            "vmm/vmware/detach_disk",
            &["one-60", &path(n), target, index, "60", &host],
            &debug,
        )
    };
    use ControllerKind::{Ide, Scsi};
    let before = disks(&devices(&s, &vm).await);
    assert_eq!(before, [slot(Scsi, 0, 0, &file(0))], "as deployed");

    // sdb: SCSI 0:1, the file asked for, the other disk untouched.
    Run::assert_silent_ok(
        &attach(1, "sdb", "1"),
        "attached [0] 60/disk.1/disk.vmdk as sdb",
    );
    assert_eq!(
        disks(&devices(&s, &vm).await),
        [slot(Scsi, 0, 0, &file(0)), slot(Scsi, 0, 1, &file(1))]
    );
    // sdh is the eighth SCSI target: unit 8, since unit 7 is the controller's.
    Run::assert_silent_ok(&attach(2, "sdh", "7"), "as sdh");
    // sdp is the sixteenth: the first unit of a second SCSI controller, added for it.
    Run::assert_silent_ok(&attach(3, "sdp", "15"), "on a new SCSI controller");
    // hdb: IDE 0:1.
    let hdb_attached = attach(4, "hdb", "1");
    Run::assert_silent_ok(&hdb_attached, "as hdb");
    let after = devices(&s, &vm).await;
    assert_eq!(
        disks(&after),
        [
            slot(Scsi, 0, 0, &file(0)),
            slot(Scsi, 0, 1, &file(1)),
            slot(Scsi, 0, 8, &file(2)),
            slot(Scsi, 1, 0, &file(3)),
            slot(Ide, 0, 1, &file(4)),
        ]
    );
    assert_eq!(after.controllers(Scsi).len(), 2, "one controller added");
    // No file was created or removed by the attaches.
    for n in 0..=5 {
        assert_eq!(
            sdk::datastore_files(&s, "0", &format!("60/disk.{n}")).await,
            ["disk-flat.vmdk", "disk.vmdk"],
            "disk.{n}"
        );
    }

    // A retry of a finished attach succeeds and adds nothing.
    let retried = attach(1, "sdb", "1");
    Run::assert_silent_ok(&retried, "already attached");
    assert_eq!(devices(&s, &vm).await.all().len(), after.all().len());

    // Failure paths: exit 1, an error block that names the problem, nothing changed.
    let unchanged = |run: &Run, needles: &[&str]| {
        run.assert_failed(needles);
        assert_eq!(run.stdout, "", "{run}");
    };
    // The slot holds another disk: never replaced.
    unchanged(&attach(5, "sdb", "1"), &["SCSI 0:1", "disk.1", "one-60"]);
    // A target the driver cannot map, refused before any call.
    unchanged(&attach(5, "vda", "0"), &["vda"]);
    unchanged(&attach(5, "sd", "0"), &["unsupported disk target"]);
    // A disk path of another VM, or not a disk path at all.
    let run = env.run(
        "vmm/vmware/attach_disk",
        &[
            "one-60",
            "/vmfs/volumes/0/61/disk.5",
            "sdc",
            "2",
            "drv_message",
            "60",
            &host,
        ],
    );
    unchanged(&run, &["/vmfs/volumes/0/61/disk.5", "not the VM's id"]);
    let run = env.run(
        "vmm/vmware/attach_disk",
        &[
            "one-60",
            "/vmfs/volumes/0/60/../61/disk.5",
            "sdc",
            "2",
            "drv_message",
            "60",
            &host,
        ],
    );
    unchanged(&run, &["disk path"]);
    // An unknown VM.
    let run = env.run(
        "vmm/vmware/attach_disk",
        &[
            "one-999",
            "/vmfs/volumes/0/999/disk.1",
            "sdc",
            "2",
            "drv_message",
            "999",
            &host,
        ],
    );
    unchanged(&run, &["one-999"]);
    // Missing arguments.
    unchanged(
        &env.run("vmm/vmware/attach_disk", &["one-60", &path(5), "sdc"]),
        &["bad arguments"],
    );
    assert_eq!(
        disks(&devices(&s, &vm).await),
        disks(&after),
        "the failures changed nothing"
    );

    // detach: the device goes, the file stays on the datastore, the rest is untouched.
    Run::assert_silent_ok(&detach(2, "sdh", "7"), "the file is kept");
    assert_eq!(
        disks(&devices(&s, &vm).await),
        [
            slot(Scsi, 0, 0, &file(0)),
            slot(Scsi, 0, 1, &file(1)),
            slot(Scsi, 1, 0, &file(3)),
            slot(Ide, 0, 1, &file(4)),
        ]
    );
    assert_eq!(
        sdk::datastore_files(&s, "0", "60/disk.2").await,
        ["disk-flat.vmdk", "disk.vmdk"],
        "detach must keep the file"
    );
    // Again: already detached, a success.
    Run::assert_silent_ok(&detach(2, "sdh", "7"), "already detached");
    // The slot holds another file than the one named: refused, kept.
    unchanged(
        &detach(5, "sdb", "1"),
        &["SCSI 0:1", "disk.1", "nothing was detached"],
    );
    // An unknown VM.
    let run = env.run(
        "vmm/vmware/detach_disk",
        &[
            "one-999",
            "/vmfs/volumes/0/999/disk.1",
            "sdb",
            "1",
            "999",
            &host,
        ],
    );
    unchanged(&run, &["one-999"]);
    unchanged(&detach(1, "xvda", "0"), &["xvda"]);
    // IDE and the added controller's disk detach the same way.
    let hdb_detached = detach(4, "hdb", "1");
    Run::assert_silent_ok(&hdb_detached, "detached");
    // Round trips: an attach to an empty slot looks for the disk's link record (the host's
    // datastores and their properties, the search of the VM's folder and its task: 4); a
    // detach of the very file the slot holds, and a retry finding the file in place, look
    // for none (the retry sends no reconfiguration and its task read either: 2 fewer).
    let trips = |run: &Run| run.round_trips().expect("round trips logged");
    eprintln!(
        "SOAP round trips: attach {}, detach {}, attach retry {}",
        trips(&hdb_attached),
        trips(&hdb_detached),
        trips(&retried)
    );
    assert_eq!(
        trips(&hdb_attached),
        trips(&hdb_detached) + 4,
        "attach {hdb_attached}\ndetach {hdb_detached}"
    );
    assert_eq!(trips(&retried) + 2, trips(&hdb_detached), "{retried}");
    Run::assert_silent_ok(&detach(3, "sdp", "15"), "detached");
    assert_eq!(
        disks(&devices(&s, &vm).await),
        [slot(Scsi, 0, 0, &file(0)), slot(Scsi, 0, 1, &file(1))]
    );
    for n in 0..=5 {
        assert_eq!(
            sdk::datastore_files(&s, "0", &format!("60/disk.{n}")).await,
            ["disk-flat.vmdk", "disk.vmdk"],
            "disk.{n} kept"
        );
    }
    // Every run reused the cached session: none leaked.
    assert_eq!(sdk::driver_sessions(&env).await, sessions);
}

#[tokio::test]
async fn nics_attach_with_model_mac_and_port_group_and_detach_by_mac() {
    use support::{NicDoc, VmDoc};
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::deploy_small(&s, &env, 70, &host, "02:00:00:00:46:01").await;
    let deployed = nics(&devices(&s, &vm).await);
    assert_eq!(deployed.len(), 1, "{deployed:?}");

    // OpenNebula runs vnm pre with the NICs to attach before attach_nic: it makes
    // one-pg-5 on vSwitch0 and records each MAC's port group for attach_nic.
    let macs = [
        ("02:00:00:00:46:0a", "e1000", "VirtualE1000"),
        ("02:00:00:00:46:0b", "e1000e", "VirtualE1000e"),
        ("02:00:00:00:46:0c", "vmxnet3", "VirtualVmxnet3"),
        ("02:00:00:00:46:0d", "pcnet32", "VirtualPCNet32"),
    ];
    let mut doc = VmDoc::new(70, &host);
    for (mac, model, _) in macs {
        doc = doc.nic(NicDoc {
            network_id: 5,
            bridge: "vSwitch0".into(),
            mac: Some(mac.into()),
            model: Some(model.into()),
            attach: true,
            ..Default::default()
        });
    }
    env.run("vnm/vmware/pre", &[&doc.base64()]).assert_ok();
    let sessions = sdk::driver_sessions(&env).await;

    let attach = |mac: &str, model: &str| {
        env.run(
            "vmm/vmware/attach_nic",
            &["one-70", mac, "vSwitch0", model, "vmware", "70", &host],
        )
    };
    for (mac, model, _) in macs {
        Run::assert_silent_ok(&attach(mac, model), "on port group one-pg-5");
    }
    let all = nics(&devices(&s, &vm).await);
    assert_eq!(all.len(), 5, "{all:?}");
    for (mac, _, wire) in macs {
        let row = all
            .iter()
            .find(|r| r.0 == mac)
            .unwrap_or_else(|| panic!("no NIC {mac}: {all:?}"));
        assert_eq!(
            (row.1.as_str(), row.2.as_str()),
            (wire, "one-pg-5"),
            "{mac}"
        );
    }
    assert!(all.contains(&deployed[0]), "the deployed NIC is untouched");
    // Each card is connected, with the static MAC asked for.
    for d in devices(&s, &vm).await.all() {
        let Some(c) = card(d) else { continue };
        if c.mac_address.as_deref() == Some(macs[0].0) {
            assert_eq!(c.address_type.as_deref(), Some("manual"));
            let conn = c.base.connectable.as_ref().expect("connectable");
            assert!(conn.start_connected, "connected at power on");
        }
    }

    // A retry of a finished attach adds no second card; upper-case MACs are the same MAC.
    Run::assert_silent_ok(
        &attach(&macs[2].0.to_ascii_uppercase(), "vmxnet3"),
        "already on port group one-pg-5",
    );
    assert_eq!(nics(&devices(&s, &vm).await), all);

    // Failure paths: exit 1, a block naming the problem, no card added.
    let refused = |run: &Run, needles: &[&str]| {
        run.assert_failed(needles);
        assert_eq!(run.stdout, "", "{run}");
    };
    refused(
        &attach("02:00:00:00:46:0e", "virtio"),
        &["virtio", "unknown NIC model"],
    );
    refused(&attach("02:00:00:00:46", "e1000"), &["malformed MAC"]);
    refused(
        &env.run(
            "vmm/vmware/attach_nic",
            &[
                "one-999",
                "02:00:00:00:46:0e",
                "vSwitch0",
                "e1000",
                "vmware",
                "999",
                &host,
            ],
        ),
        &["one-999"],
    );
    // A port group the host lacks (4.4's form without dynamic networking: BRIDGE is the
    // port group): refused before the VM is changed.
    refused(
        &env.run(
            "vmm/vmware/attach_nic",
            &[
                "one-70",
                "02:00:00:00:46:0e",
                "no-such-pg",
                "e1000",
                "dummy",
                "70",
                &host,
            ],
        ),
        &[
            "no-such-pg",
            "does not exist on the host",
            "nothing was changed",
        ],
    );
    // The MAC is already a card on another port group.
    refused(
        &env.run(
            "vmm/vmware/attach_nic",
            &[
                "one-70",
                macs[0].0,
                "VM Network",
                "e1000",
                "dummy",
                "70",
                &host,
            ],
        ),
        &["already has a card with MAC", "one-pg-5"],
    );
    refused(
        &env.run("vmm/vmware/attach_nic", &["one-70", macs[0].0]),
        &["bad arguments"],
    );
    assert_eq!(
        nics(&devices(&s, &vm).await),
        all,
        "the failures changed nothing"
    );

    // detach by MAC: that card goes, every other card stays as it was.
    let detach = |mac: &str| env.run("vmm/vmware/detach_nic", &["one-70", mac, "70", &host]);
    Run::assert_silent_ok(&detach(macs[2].0), "removed NIC 02:00:00:00:46:0c");
    let left = nics(&devices(&s, &vm).await);
    let expected: Vec<NicRow> = all.iter().filter(|r| r.0 != macs[2].0).cloned().collect();
    assert_eq!(left, expected);
    // A MAC the VM has no card for: success with nothing changed (OpenNebula retries, and
    // detaches after a failed post), as legacy exited 0 for it.
    Run::assert_silent_ok(&detach(macs[2].0), "nothing to detach");
    Run::assert_silent_ok(&detach("02:00:00:00:46:ff"), "nothing to detach");
    assert_eq!(nics(&devices(&s, &vm).await), expected);
    // Failures: malformed MAC, unknown VM, bad arguments.
    refused(&detach("02-00-00-00-46-0a"), &["malformed MAC"]);
    refused(
        &env.run(
            "vmm/vmware/detach_nic",
            &["one-999", macs[0].0, "999", &host],
        ),
        &["one-999"],
    );
    refused(
        &env.run("vmm/vmware/detach_nic", &["one-70", macs[0].0, "x", &host]),
        &["bad arguments"],
    );
    assert_eq!(nics(&devices(&s, &vm).await), expected);
    // The deployed card detaches as well (it was sent back exactly as read).
    Run::assert_silent_ok(&detach(&deployed[0].0), "removed NIC");
    assert_eq!(nics(&devices(&s, &vm).await).len(), 3);
    assert_eq!(
        sdk::driver_sessions(&env).await,
        sessions,
        "no session leaked"
    );
}

#[tokio::test]
async fn hot_plug_direct_to_esx() {
    let env = OneEnv::esx().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::deploy_small(&s, &env, 80, &host, "02:00:00:00:50:01").await;
    sdk::create_disk(&s, &env, "0", 80, 1).await;
    env.run(
        "vmm/vmware/attach_disk",
        &[
            "one-80",
            "/vmfs/volumes/0/80/disk.1",
            "sdc",
            "2",
            "drv_message",
            "80",
            &host,
        ],
    )
    .assert_ok();
    assert!(disks(&devices(&s, &vm).await).contains(&slot(
        ControllerKind::Scsi,
        0,
        2,
        "[0] 80/disk.1/disk.vmdk"
    )));
    // 4.2's argv (no net_drv): BRIDGE is the port group.
    env.run(
        "vmm/vmware/attach_nic",
        &[
            "one-80",
            "02:00:00:00:50:02",
            "VM Network",
            "vmxnet3",
            "80",
            &host,
        ],
    )
    .assert_ok();
    assert!(nics(&devices(&s, &vm).await)
        .iter()
        .any(|r| r.0 == "02:00:00:00:50:02" && r.1 == "VirtualVmxnet3" && r.2 == "VM Network"));
    env.run(
        "vmm/vmware/detach_nic",
        &["one-80", "02:00:00:00:50:02", "80", &host],
    )
    .assert_ok();
    env.run(
        "vmm/vmware/detach_disk",
        &[
            "one-80",
            "/vmfs/volumes/0/80/disk.1",
            "sdc",
            "2",
            "80",
            &host,
        ],
    )
    .assert_ok();
    assert_eq!(
        disks(&devices(&s, &vm).await),
        [slot(ControllerKind::Scsi, 0, 0, "[0] 80/disk.0/disk.vmdk")]
    );
    assert_eq!(nics(&devices(&s, &vm).await).len(), 1);
    assert_eq!(
        sdk::datastore_files(&s, "0", "80/disk.1").await,
        ["disk-flat.vmdk", "disk.vmdk"]
    );
}

// ---------------------------------------------------------------------------------------
// What vcsim cannot show, against the loopback SOAP fixture.

/// A VM with an LSI Logic controller (key 1000, bus 0) and the disk `[0] 9/disk.1/disk.vmdk`
/// at unit 1.
const DEVICES: &str = "<objects><obj type=\"VirtualMachine\">vm-9</obj><propSet>\
<name>config.hardware.device</name><val xsi:type=\"ArrayOfVirtualDevice\">\
<VirtualDevice xsi:type=\"VirtualLsiLogicController\"><key>1000</key><busNumber>0</busNumber>\
<sharedBus>noSharing</sharedBus></VirtualDevice>\
<VirtualDevice xsi:type=\"VirtualDisk\"><key>2001</key>\
<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\"><fileName>[0] 9/disk.1/disk.vmdk</fileName>\
<diskMode>persistent</diskMode></backing><controllerKey>1000</controllerKey><unitNumber>1</unitNumber>\
<capacityInKB>1024</capacityInKB></VirtualDevice></val></propSet></objects>";

/// `task-1` ended with `fault` (type) and `msg`.
fn task_failed(fault: &str, msg: &str) -> String {
    format!(
        "<version>1</version><filterSet><filter type=\"PropertyFilter\">f-1</filter>\
<objectSet><kind>enter</kind><obj type=\"Task\">task-1</obj><changeSet><name>info</name><op>assign</op>\
<val xsi:type=\"TaskInfo\"><key>task-1</key><task type=\"Task\">task-1</task>\
<descriptionId>VirtualMachine.reconfigure</descriptionId>\
<state>error</state><cancelled>false</cancelled><cancelable>false</cancelable>\
<error><fault xsi:type=\"{fault}\"></fault><localizedMessage>{msg}</localizedMessage></error>\
<reason xsi:type=\"TaskReasonUser\"><userName>u</userName></reason>\
<queueTime>2026-01-01T00:00:00Z</queueTime><eventChainId>1</eventChainId></val></changeSet></objectSet></filterSet>"
    )
}

const TASK_DONE: &str = "<version>1</version><filterSet><filter type=\"PropertyFilter\">f-1</filter>\
<objectSet><kind>enter</kind><obj type=\"Task\">task-1</obj><changeSet><name>info</name><op>assign</op>\
<val xsi:type=\"TaskInfo\"><key>task-1</key><task type=\"Task\">task-1</task>\
<descriptionId>VirtualMachine.reconfigure</descriptionId>\
<state>success</state><cancelled>false</cancelled><cancelable>false</cancelable>\
<reason xsi:type=\"TaskReasonUser\"><userName>u</userName></reason>\
<queueTime>2026-01-01T00:00:00Z</queueTime><eventChainId>1</eventChainId></val></changeSet></objectSet></filterSet>";

/// A server holding [`DEVICES`] whose reconfiguration task ends as `outcome` says.
async fn reconfig_server(outcome: String) -> soap_fixture::Fixture {
    soap_fixture::start(Arc::new(move |method: String, _body: String| {
        let outcome = outcome.clone();
        Box::pin(async move {
            match method.as_str() {
                "RetrievePropertiesEx" => response("RetrievePropertiesEx", Some(DEVICES)),
                "ReconfigVM_Task" => response_ref("ReconfigVM_Task", "Task", "task-1"),
                "WaitForUpdatesEx" => response("WaitForUpdatesEx", Some(&outcome)),
                other => common(other),
            }
        })
    }))
    .await
}

/// The detach sends one `remove` of the disk exactly at that slot and no `fileOperation`
/// (vcsim would show a destroyed file only if it honoured one).
#[tokio::test]
async fn detach_sends_a_remove_without_file_operation() {
    use driver_vmm::disk_target::parse;
    use driver_vmm::vmm::disk;
    let fx = reconfig_server(TASK_DONE.to_string()).await;
    let c = fx.client();
    let removed = disk::detach(
        &c,
        &soap_fixture::vm("vm-9"),
        &parse("sdb").unwrap(),
        "[0] 9/disk.1/disk.vmdk",
    )
    .await
    .expect("detach");
    assert!(removed);
    let bodies = fx.bodies();
    let reconfig: Vec<&String> = bodies
        .iter()
        .filter(|b| b.contains("<ReconfigVM_Task"))
        .collect();
    assert_eq!(reconfig.len(), 1, "{:?}", fx.calls());
    let body = reconfig[0];
    assert!(body.contains("<operation>remove</operation>"), "{body}");
    assert!(body.contains("<key>2001</key>"), "{body}");
    assert!(
        !body.contains("fileOperation"),
        "the file must be kept: {body}"
    );
    assert!(!body.contains("<operation>add</operation>"), "{body}");
}

/// A reconfiguration the server refuses (here a hot-add the guest does not support) fails
/// with the fault's type and message in the error.
#[tokio::test]
async fn a_refused_reconfiguration_names_the_fault() {
    use driver_vmm::disk_target::parse;
    use driver_vmm::vmm::{disk, nic};
    let fx = reconfig_server(task_failed(
        "DeviceHotPlugNotSupported",
        "Hot-plug of this device is not supported",
    ))
    .await;
    let c = fx.client();
    let err = disk::attach(
        &c,
        &soap_fixture::vm("vm-9"),
        &parse("sdc").unwrap(),
        "[0] 9/disk.2/disk.vmdk",
    )
    .await
    .unwrap_err();
    assert!(err.contains("DeviceHotPlugNotSupported"), "{err}");
    assert!(err.contains("ReconfigVM_Task"), "{err}");
    let body = fx
        .bodies()
        .into_iter()
        .find(|b| b.contains("<ReconfigVM_Task"))
        .expect("sent");
    assert!(body.contains("<unitNumber>2</unitNumber>"), "{body}");
    assert!(
        body.contains("<controllerKey>1000</controllerKey>"),
        "{body}"
    );
    assert!(!body.contains("fileOperation"), "no file created: {body}");

    // vm-9 has no card with that MAC: nothing to remove, no reconfiguration sent.
    let fx = reconfig_server(TASK_DONE.to_string()).await;
    let c = fx.client();
    assert!(
        !nic::detach(&c, &soap_fixture::vm("vm-9"), "02:00:00:00:00:01")
            .await
            .unwrap()
    );
    assert_eq!(fx.count("ReconfigVM_Task"), 0, "{:?}", fx.calls());
}
