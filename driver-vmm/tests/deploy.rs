//! deploy through the installed tree, against the simulator: the VM's configuration checked
//! property by property through an independent vim-sdk session, idempotent re-deploy,
//! recovery, and the failure paths (nothing left registered, nothing deleted).

mod support;

use support::{sdk, OneEnv};
use vim_sdk::session::Session;
use vim_sdk::types::{
    Any, AnyArray, AnyOptionValue, AnyVirtualDevice, AnyVirtualDeviceBackingInfo,
};

/// Writes a file into the datastore the way the TM would (ISO images, stale files).
async fn put_file(s: &Session, ds: &str, path: &str, content: &[u8]) {
    let p = sdk::datastore_dir(s, ds).await.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
}

async fn file_exists(s: &Session, ds: &str, path: &str) -> bool {
    sdk::datastore_dir(s, ds).await.join(path).exists()
}

fn deployment(vmid: u64, mac: &str, bridge: &str) -> String {
    format!(
        r#"<domain type='vmware' xmlns:vmware='http://libvirt.org/schemas/domain/vmware/1.0'>
	<name>one-{vmid}</name>
	<vcpu>2</vcpu>
	<memory>524288</memory>
	<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
	<devices>
		<disk type='file' device='disk'>
			<source file='[0] {vmid}/disk.0/disk.vmdk'/>
			<target dev='sda'/>
			<driver name='lsilogic'/>
		</disk>
		<disk type='file' device='disk'>
			<source file='[0] {vmid}/disk.1/disk.vmdk'/>
			<target dev='sdh'/>
		</disk>
		<disk type='file' device='cdrom'>
			<source file='[0] {vmid}/disk.2.iso'/>
			<target dev='hdc'/>
			<readonly/>
		</disk>
		<interface type='bridge'>
			<source bridge='{bridge}'/>
			<mac address='{mac}'/>
			<model type='vmxnet3'/>
		</interface>
		<graphics type='vnc' listen='0.0.0.0' port='5942' passwd='pw' keymap='es'/>
	</devices>
	<metadata>
		<guestos>ubuntu64Guest</guestos>
		<pcibridge>1</pcibridge>
		<datavmx>sched.mem.min = "256"\nfoo.bar = "1"\nfoo.bar = "2"</datavmx>
	</metadata>
<devices><controller type='scsi' index='0' model='lsisas1068'/></devices>
</domain>
"#
    )
}

/// Creates the files the TM would have made for `vmid`: two disks and the context ISO.
async fn prepare_files(s: &Session, env: &OneEnv, vmid: u64) {
    sdk::create_disk(s, env, "0", vmid, 0).await;
    sdk::create_disk(s, env, "0", vmid, 1).await;
    put_file(s, "0", &format!("{vmid}/disk.2.iso"), b"CONTEXT ISO").await;
}

fn extra_config(p: &vim_sdk::property::ObjectProps) -> Vec<(String, String)> {
    match p.get("config.extraConfig") {
        Some(Any::Array(AnyArray::OptionValue(values))) => values
            .iter()
            .filter_map(|v| match v {
                AnyOptionValue::OptionValue(o) => Some((
                    o.key.clone(),
                    match &o.value {
                        Some(Any::String(s)) => s.clone(),
                        other => format!("{other:?}"),
                    },
                )),
                _ => None,
            })
            .collect(),
        other => panic!("config.extraConfig: {other:?}"),
    }
}

#[tokio::test]
async fn deploy_builds_the_vm_attribute_by_attribute_and_is_idempotent() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    prepare_files(&s, &env, 42).await;
    let dfile = env.write_deployment(42, 0, &deployment(42, "02:00:c0:a8:00:0a", "VM Network"));
    let dfile = dfile.to_str().unwrap();

    let run = env.run("vmm/vmware/deploy", &[dfile, &host, "42", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "one-42", "{run}");

    let vm = sdk::find_vm(&s, "one-42").await.expect("one-42 registered");
    let p = sdk::props(
        &s,
        vm.reference(),
        &[
            "config.hardware.memoryMB",
            "config.hardware.numCPU",
            "config.guestId",
            "config.files.vmPathName",
            "config.hardware.device",
            "config.extraConfig",
            "runtime.powerState",
            "runtime.host",
        ],
    )
    .await;
    assert_eq!(p.int("config.hardware.memoryMB"), Some(512));
    assert_eq!(p.int("config.hardware.numCPU"), Some(2));
    assert_eq!(p.str("config.guestId"), Some("ubuntu64Guest"));
    assert_eq!(p.str("config.files.vmPathName"), Some("[0] 42/one-42.vmx"));
    assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
    let h = sdk::host(&s, &host).await;
    assert_eq!(p.reference("runtime.host"), Some(h.reference()));

    let devices = match p.get("config.hardware.device") {
        Some(Any::Array(AnyArray::VirtualDevice(d))) => d.clone(),
        other => panic!("{other:?}"),
    };
    let by_key = |k: i32| devices.iter().find(|d| d.base().key == k);
    let bus_of = |k: i32| match by_key(k) {
        Some(AnyVirtualDevice::VirtualLsiLogicSASController(c)) => ("sas", c.base.base.bus_number),
        Some(AnyVirtualDevice::VirtualIDEController(c)) => ("ide", c.base.bus_number),
        other => panic!("controller {k}: {other:?}"),
    };
    let mut disks: Vec<(String, (&str, i32), i32)> = devices
        .iter()
        .filter_map(|d| match d {
            AnyVirtualDevice::VirtualDisk(disk) => {
                let file = match &disk.base.backing {
                    Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                        assert_eq!(b.disk_mode, "persistent");
                        b.base.file_name.clone()
                    }
                    other => panic!("{other:?}"),
                };
                Some((
                    file,
                    bus_of(disk.base.controller_key.unwrap()),
                    disk.base.unit_number.unwrap(),
                ))
            }
            _ => None,
        })
        .collect();
    disks.sort();
    assert_eq!(
        disks,
        vec![
            ("[0] 42/disk.0/disk.vmdk".to_string(), ("sas", 0), 0),
            ("[0] 42/disk.1/disk.vmdk".to_string(), ("sas", 0), 8),
        ]
    );
    let cdroms: Vec<_> = devices
        .iter()
        .filter_map(|d| match d {
            AnyVirtualDevice::VirtualCdrom(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(cdroms.len(), 1);
    assert_eq!(bus_of(cdroms[0].base.controller_key.unwrap()), ("ide", 1));
    assert_eq!(cdroms[0].base.unit_number, Some(0));
    match &cdroms[0].base.backing {
        Some(AnyVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) => {
            assert_eq!(b.base.file_name, "[0] 42/disk.2.iso")
        }
        other => panic!("{other:?}"),
    }
    let nics: Vec<_> = devices
        .iter()
        .filter_map(|d| match d {
            AnyVirtualDevice::VirtualVmxnet3(n) => Some(n),
            AnyVirtualDevice::VirtualE1000(_) | AnyVirtualDevice::VirtualPCNet32(_) => {
                panic!("wrong NIC model: {d:?}")
            }
            _ => None,
        })
        .collect();
    assert_eq!(nics.len(), 1);
    let card = &nics[0].base.base;
    assert_eq!(card.mac_address.as_deref(), Some("02:00:c0:a8:00:0a"));
    match &card.base.backing {
        Some(AnyVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(b)) => {
            assert_eq!(b.base.device_name, "VM Network")
        }
        other => panic!("{other:?}"),
    }

    let extra = extra_config(&p);
    let get = |k: &str| {
        let hits: Vec<&(String, String)> = extra.iter().filter(|(key, _)| key == k).collect();
        assert!(hits.len() <= 1, "{k} set {} times: {extra:?}", hits.len());
        hits.first().map(|(_, v)| v.clone())
    };
    assert_eq!(get("ethernet0.checkMACAddress").as_deref(), Some("FALSE"));
    assert_eq!(get("RemoteDisplay.vnc.enabled").as_deref(), Some("TRUE"));
    assert_eq!(get("RemoteDisplay.vnc.port").as_deref(), Some("5942"));
    assert_eq!(get("RemoteDisplay.vnc.ip").as_deref(), Some("0.0.0.0"));
    assert_eq!(get("RemoteDisplay.vnc.keymap").as_deref(), Some("es"));
    assert_eq!(get("RemoteDisplay.vnc.password").as_deref(), Some("pw"));
    assert_eq!(get("pciBridge0.present").as_deref(), Some("TRUE"));
    assert_eq!(get("pciBridge1.present"), None);
    assert_eq!(get("sched.mem.min").as_deref(), Some("256"));
    assert_eq!(get("foo.bar").as_deref(), Some("2"));

    // Re-deploy: the same VM, no duplicate.
    let run = env.run("vmm/vmware/deploy", &[dfile, &host, "42", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "one-42");
    assert_eq!(sdk::vms_named(&s, "one-42").await.len(), 1);

    // Recovery of a registered, powered-off VM: powered on again, still one.
    vm.power_off_vm_task(&s)
        .await
        .unwrap()
        .wait(&s)
        .await
        .unwrap();
    let run = env.run("vmm/vmware/deploy", &[dfile, &host, "42", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "one-42");
    let again = sdk::vms_named(&s, "one-42").await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].reference(), vm.reference());
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");
}

#[tokio::test]
async fn deploy_failures_leave_nothing_registered_and_delete_nothing() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    prepare_files(&s, &env, 43).await;
    let good = deployment(43, "00:50:56:00:00:2b", "VM Network");

    // Missing deployment file.
    let missing = env.var.join("vms/43/deployment.9");
    let run = env.run(
        "vmm/vmware/deploy",
        &[missing.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_failed(&["deployment.9"]);

    // Malformed deployment file.
    let bad = env.write_deployment(43, 1, &good[..good.len() / 2]);
    let run = env.run(
        "vmm/vmware/deploy",
        &[bad.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_failed(&["deployment file"]);

    // Missing MEMORY.
    let no_mem = env.write_deployment(43, 2, &good.replace("<memory>524288</memory>", ""));
    let run = env.run(
        "vmm/vmware/deploy",
        &[no_mem.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_failed(&["<memory>"]);

    // Unknown port group: refused before anything is created.
    let pg = env.write_deployment(43, 3, &good.replace("VM Network", "one-pg-404"));
    let run = env.run(
        "vmm/vmware/deploy",
        &[pg.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_failed(&["one-pg-404"]);

    // Missing disk file.
    let nodisk = env.write_deployment(
        43,
        4,
        &good.replace("43/disk.1/disk.vmdk", "43/disk.7/disk.vmdk"),
    );
    let run = env.run(
        "vmm/vmware/deploy",
        &[nodisk.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_failed(&["[0] 43/disk.7/disk.vmdk"]);

    // Unknown host.
    let ok = env.write_deployment(43, 5, &good);
    let run = env.run(
        "vmm/vmware/deploy",
        &[ok.to_str().unwrap(), "no-such-host", "43", "no-such-host"],
    );
    run.assert_failed(&["no-such-host"]);

    // Nothing registered, nothing deleted, no VMX written.
    assert!(sdk::vms_named(&s, "one-43").await.is_empty());
    for f in [
        "43/disk.0/disk.vmdk",
        "43/disk.1/disk.vmdk",
        "43/disk.2.iso",
    ] {
        assert!(file_exists(&s, "0", f).await, "{f} was deleted");
    }
    assert!(!file_exists(&s, "0", "43/one-43.vmx").await);

    // Stale files of an earlier failed run are moved aside, not deleted; deploy succeeds.
    put_file(&s, "0", "43/one-43.vmx", b"stale").await;
    put_file(&s, "0", "43/one-43.nvram", b"stale").await;
    put_file(&s, "0", "43/vmware.log", b"stale").await;
    let run = env.run(
        "vmm/vmware/deploy",
        &[ok.to_str().unwrap(), &host, "43", &host],
    );
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "one-43");
    let dir = sdk::datastore_dir(&s, "0").await.join("43");
    let moved: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".stale-"))
        .collect();
    assert_eq!(moved.len(), 3, "{moved:?}");
    let vm = sdk::find_vm(&s, "one-43").await.expect("one-43");
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");
}

#[tokio::test]
async fn deploy_direct_to_esx() {
    let env = OneEnv::esx().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    prepare_files(&s, &env, 60).await;
    let dfile = env.write_deployment(60, 0, &deployment(60, "00:50:56:00:00:3c", "VM Network"));
    let run = env.run(
        "vmm/vmware/deploy",
        &[dfile.to_str().unwrap(), &host, "60", &host],
    );
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "one-60");
    let vm = sdk::find_vm(&s, "one-60").await.expect("one-60");
    let p = sdk::props(
        &s,
        vm.reference(),
        &[
            "config.files.vmPathName",
            "runtime.powerState",
            "config.extraConfig",
        ],
    )
    .await;
    assert_eq!(p.str("config.files.vmPathName"), Some("[0] 60/one-60.vmx"));
    assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
    // A MAC in VMware's static range needs no checkMACAddress key.
    assert!(!extra_config(&p)
        .iter()
        .any(|(k, _)| k == "ethernet0.checkMACAddress"));
}
