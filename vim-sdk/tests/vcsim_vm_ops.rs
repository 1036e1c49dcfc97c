//! VM conveniences against vcsim: reading properties, following references, power and
//! snapshot operations that wait, and device editing with `ReconfigVM_Task`.
#![cfg(feature = "vcsim")]

use vim_sdk::device::{spec, ControllerKind, NicBacking, NicModel};
use vim_sdk::find::Finder;
use vim_sdk::mo;
use vim_sdk::testing::Vcsim;
use vim_sdk::types::{
    AnyVirtualDevice, AnyVirtualDeviceBackingInfo, AnyVirtualDiskSpec, FileBackedVirtualDiskSpec,
    TaskInfoState, VirtualDiskSpec, VirtualMachinePowerState,
};

#[path = "support/vcsim.rs"]
mod vcsim;
use vcsim::{all_vms, connect, start};

#[tokio::test]
async fn properties_references_power_and_snapshots() {
    let sim = start(Vcsim::builder().vpx());
    let (c, m) = connect(&sim).await;
    let vms = all_vms(&c, &m).await;
    let (name, vm) = &vms[0];

    let p = vm
        .properties(
            &c,
            &["name", "runtime.powerState", "config.hardware.numCPU"],
        )
        .await
        .expect("props");
    assert_eq!(p.str("name"), Some(name.as_str()));
    assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
    assert!(p.int("config.hardware.numCPU").unwrap_or(0) >= 1);
    let many = m
        .properties_of(
            &c,
            &vms.iter()
                .map(|(_, v)| v.reference().clone())
                .collect::<Vec<_>>(),
            &["name"],
        )
        .await
        .expect("batch");
    assert_eq!(many.len(), vms.len());
    for ((n, v), props) in vms.iter().zip(&many) {
        assert_eq!(props.object(), v.reference());
        assert_eq!(props.str("name"), Some(n.as_str()));
    }

    let host = vm.host(&c).await.expect("host").expect("a VM has a host");
    let host_ds = host.datastores(&c).await.expect("host datastores");
    let vm_ds = vm.datastores(&c).await.expect("vm datastores");
    assert!(!vm_ds.is_empty() && vm_ds.iter().all(|d| host_ds.contains(d)));
    let browser = vm_ds[0].browser(&c).await.expect("browser");
    assert_eq!(browser.reference().r#type, "HostDatastoreBrowser");
    // vcsim lists only one host in `Datastore.host` even when several mount it.
    let mounts = vm_ds[0].hosts(&c).await.expect("mounts");
    assert!(!mounts.is_empty() && mounts.iter().all(|h| h.reference().r#type == "HostSystem"));
    assert!(host.compute_resource(&c).await.expect("parent").is_some());

    // Power: each step waits for its task and reports progress.
    let mut seen = Vec::new();
    vm.power_off_with_progress(&c, |p| seen.push(p))
        .await
        .expect("power off");
    assert_eq!(seen.last().map(|p| &p.state), Some(&TaskInfoState::Success));
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::PoweredOff
    );
    let err = vm.power_off(&c).await.expect_err("already off");
    assert_eq!(err.fault_type(), Some("InvalidPowerState"), "{err}");
    assert!(
        err.to_string()
            .starts_with("PowerOffVM_Task on VirtualMachine:"),
        "{err}"
    );
    vm.power_on(&c).await.expect("power on");
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::PoweredOn
    );
    vm.suspend(&c).await.expect("suspend");
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::Suspended
    );
    vm.power_on(&c).await.expect("resume");
    vm.reset(&c).await.expect("reset");
    assert_eq!(
        vm.power_state(&c).await.expect("state"),
        VirtualMachinePowerState::PoweredOn
    );

    // Snapshots.
    assert!(vm.snapshots(&c).await.expect("none yet").0.is_empty());
    let s1 = vm
        .create_snapshot(&c, "before", Some("test"), false, false)
        .await
        .expect("snapshot");
    let s2 = vm
        .create_snapshot(&c, "after", None, false, false)
        .await
        .expect("snapshot 2");
    let (trees, current) = vm.snapshots(&c).await.expect("tree");
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0].name, "before");
    assert_eq!(trees[0].child_snapshot_list[0].name, "after");
    assert_eq!(current.as_ref(), Some(&s2));
    assert_eq!(
        vm.find_snapshot(&c, "before").await.expect("find"),
        Some(s1.clone())
    );
    assert_eq!(vm.find_snapshot(&c, "missing").await.expect("find"), None);
    s1.revert(&c).await.expect("revert");
    assert_eq!(vm.snapshots(&c).await.expect("tree").1, Some(s1.clone()));
    s1.remove(&c, true).await.expect("remove with children");
    assert!(vm.snapshots(&c).await.expect("gone").0.is_empty());
}

#[tokio::test]
async fn add_disk_cdrom_and_nic_then_remove_them() {
    let sim = start(Vcsim::builder().esx());
    let (c, m) = connect(&sim).await;
    let f = Finder::new(&m);
    let root = m.root_folder.reference().clone();
    let (vm_name, vm) = all_vms(&c, &m).await.remove(0);
    let dc: mo::Datacenter = f
        .by_inventory_path(&c, "ha-datacenter")
        .await
        .expect("dc")
        .expect("dc");
    let ds: mo::Datastore = f
        .by_name(&c, &root, "LocalDS_0", true)
        .await
        .expect("ds")
        .expect("LocalDS_0");
    let net: mo::Network = f
        .by_name(&c, &root, "VM Network", true)
        .await
        .expect("net")
        .expect("VM Network");
    vm.power_off(&c).await.expect("power off");

    // vcsim only attaches disk files that exist: create one first.
    let disk_path = format!("[LocalDS_0] {vm_name}/extra.vmdk");
    let vdm = m
        .virtual_disk_manager
        .as_ref()
        .expect("virtual disk manager");
    let spec = AnyVirtualDiskSpec::FileBackedVirtualDiskSpec(Box::new(FileBackedVirtualDiskSpec {
        base: VirtualDiskSpec {
            disk_type: "thin".into(),
            adapter_type: "lsiLogic".into(),
        },
        capacity_kb: 1024,
        ..Default::default()
    }));
    let task = vdm
        .create_virtual_disk_task(&c, &disk_path, Some(dc.reference()), &spec)
        .await
        .expect("create disk");
    m.wait(&c, &task, "CreateVirtualDisk_Task", Some(vdm.reference()))
        .await
        .expect("disk task");

    let before = vm.devices(&c).await.expect("devices");
    let (scsi, scsi_unit) = before
        .free_slot(ControllerKind::Scsi)
        .expect("a free SCSI unit");
    assert_ne!(scsi_unit, 7);
    let (ide, ide_unit) = before
        .free_slot(ControllerKind::Ide)
        .expect("a free IDE unit");
    let nics_before = before.nics().count();
    let disks_before = before.disks().count();

    let mut changes = Vec::new();
    let mut taken = Vec::new();
    changes.push(spec::existing_disk(
        &before,
        &taken,
        scsi,
        scsi_unit,
        &disk_path,
        Some(ds.reference()),
    ));
    taken.push(changes[0].device.base().key);
    changes.push(spec::cdrom_with_iso(
        &before,
        &taken,
        ide,
        ide_unit,
        "[LocalDS_0] iso/boot.iso",
        Some(ds.reference()),
    ));
    taken.push(changes[1].device.base().key);
    let backing = NicBacking::PortGroup {
        name: "VM Network".into(),
        network: net.reference().clone(),
    };
    changes.push(spec::nic(
        &before,
        &taken,
        NicModel::Vmxnet3,
        &backing,
        Some("00:50:56:3f:00:01"),
    ));
    vm.change_devices(&c, changes).await.expect("reconfigure");

    let after = vm.devices(&c).await.expect("devices again");
    assert_eq!(after.disks().count(), disks_before + 1);
    let disk = after
        .disks()
        .find(|d| matches!(&d.backing, Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) if b.base.file_name == disk_path))
        .expect("the new disk");
    assert_eq!(disk.controller_key, Some(scsi.base().key));
    assert_eq!(disk.unit_number, Some(scsi_unit));
    let cd = after
        .cdroms()
        .find(|d| matches!(&d.base().backing, Some(AnyVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) if b.base.file_name == "[LocalDS_0] iso/boot.iso"))
        .expect("the new CD-ROM");
    assert_eq!(cd.base().controller_key, Some(ide.base().key));
    assert_eq!(after.nics().count(), nics_before + 1);
    let nic = after
        .nics()
        .find(|n| matches!(n, AnyVirtualDevice::VirtualVmxnet3(v) if v.mac_address.as_deref() == Some("00:50:56:3f:00:01")))
        .expect("the new NIC");
    assert!(after.by_key(nic.base().key).is_some());

    // A unit now taken is not offered again.
    let next = after.next_unit_number(after.by_key(scsi.base().key).expect("controller"));
    assert_ne!(next, Some(scsi_unit));

    // Remove what was added (devices sent back as read, taken out of the list).
    let keys = [disk.key, cd.base().key, nic.base().key];
    let mut after = after;
    let removals = keys
        .into_iter()
        .map(|k| spec::remove(after.take(k).expect("an added device"), false))
        .collect();
    vm.change_devices(&c, removals)
        .await
        .expect("remove devices");
    let last = vm.devices(&c).await.expect("devices at the end");
    assert_eq!(last.disks().count(), disks_before);
    assert_eq!(last.nics().count(), nics_before);
    assert_eq!(last.all().len(), before.all().len());
}

#[tokio::test]
async fn a_session_reads_the_service_content_once() {
    let sim = start(Vcsim::builder().vpx());
    let dump = std::env::temp_dir().join(format!("vim-sdk-content-once-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dump);
    let s = vim_sdk::Client::connect(
        sim.url(),
        vim_sdk::session::ConnectOptions::new()
            .credentials(sim.username(), sim.password())
            .wire_dump(&dump),
    )
    .await
    .expect("connect");
    let m = vim_sdk::ops::Managers::retrieve(&s)
        .await
        .expect("managers");
    let vms = all_vms(&s, &m).await;
    let vm = &vms[0].1;
    vm.properties(&s, &["name"]).await.expect("props");
    vm.power_off(&s).await.expect("power off");
    vm.power_on(&s).await.expect("power on");
    s.close().await.expect("logout");

    let mut names: Vec<String> = std::fs::read_dir(&dump)
        .expect("dump dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".request.xml"))
        .collect();
    names.sort();
    let content_reads = names
        .iter()
        .filter(|n| n.ends_with("-RetrieveServiceContent.request.xml"))
        .count();
    assert_eq!(content_reads, 1, "{names:?}");
    assert!(names
        .iter()
        .any(|n| n.ends_with("-PowerOffVM_Task.request.xml")));
    let _ = std::fs::remove_dir_all(&dump);
}
