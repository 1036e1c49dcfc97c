//! Unit tests of the deployment parser and the spec builder, on files shaped like the ones
//! OpenNebula 3.8-4.4 writes (contract §3) and on hostile ones.

use std::collections::HashMap;

use vim_sdk::types::{Any, AnyOptionValue, AnyVirtualDevice, AnyVirtualDeviceBackingInfo};
use vim_sdk::xml::ManagedObjectReference;

use super::*;
use crate::disk_target::Bus;

/// A 4.4-shaped file: SCSI system disk, IDE CD-ROM image, context ISO, two NICs, VNC,
/// GUESTOS, PCIBRIDGE, DATA_VMX with a repeated key, RAW data with a SAS controller.
pub const FULL_44: &str = r#"<domain type='vmware' xmlns:vmware='http://libvirt.org/schemas/domain/vmware/1.0'>
	<name>one-42</name>
	<vcpu>2</vcpu>
	<memory>524288</memory>
	<os>
		<type arch='x86_64'>hvm</type>
		<boot dev='hd'/>
		<boot dev='cdrom'/>
	</os>
	<devices>
		<disk type='file' device='disk'>
			<source file='[0] 42/disk.0/disk.vmdk'/>
			<target dev='sda'/>
			<driver name='lsilogic'/>
		</disk>
		<disk type='file' device='disk'>
			<source file='[0] 42/disk.1/disk.vmdk'/>
			<target dev='sdh'/>
		</disk>
		<disk type='file' device='cdrom'>
			<source file='[0] 42/disk.2.iso'/>
			<target dev='hda'/>
			<readonly/>
		</disk>
		<disk type='file' device='cdrom'>
			<source file='[0] 42/disk.3.iso'/>
			<target dev='hdd'/>
			<readonly/>
		</disk>
		<interface type='bridge'>
			<source bridge='one-pg-0'/>
			<mac address='02:00:C0:A8:00:0A'/>
			<model type='vmxnet3'/>
		</interface>
		<interface type='bridge'>
			<source bridge='VM Network'/>
			<mac address='00:50:56:00:00:0b'/>
			<target dev='one-42-1'/>
		</interface>
		<graphics type='vnc' listen='0.0.0.0' port='5942' passwd='s3cret' keymap='es'/>
	</devices>
	<metadata>
		<guestos>ubuntu64Guest</guestos>
		<pcibridge>2</pcibridge>
		<datavmx>ethernet0.pciSlotNumber = "33"\nsched.mem.min = "256"\nethernet0.pciSlotNumber = "34"\nRemoteDisplay.vnc.keymap = "fr"</datavmx>
	</metadata>
<devices><controller type='scsi' index='0' model='lsisas1068'/></devices>
</domain>
"#;

fn networks() -> HashMap<String, ManagedObjectReference> {
    let mut m = HashMap::new();
    m.insert(
        "one-pg-0".to_string(),
        ManagedObjectReference::new("Network", "network-7"),
    );
    m.insert(
        "VM Network".to_string(),
        ManagedObjectReference::new("Network", "network-8"),
    );
    m
}

#[test]
fn full_44_file_parses_attribute_by_attribute() {
    let d = parse(FULL_44).unwrap();
    assert_eq!(d.name, "one-42");
    assert_eq!(d.vmid(), Some(42));
    assert_eq!(d.memory_kib, 512 * 1024);
    assert_eq!(d.vcpu, Some(2));
    assert_eq!(d.arch.as_deref(), Some("x86_64"));
    assert_eq!(d.boot, vec!["hd", "cdrom"]);
    assert_eq!(d.disks.len(), 4);
    let d0 = &d.disks[0];
    assert_eq!(d0.source.to_string(), "[0] 42/disk.0/disk.vmdk");
    assert_eq!(d0.source.dir(), "42/disk.0");
    assert_eq!(
        (d0.target.bus, d0.target.controller, d0.target.unit),
        (Bus::Scsi, 0, 0)
    );
    assert_eq!(d0.driver.as_deref(), Some("lsilogic"));
    assert_eq!(d.disks[1].target.unit, 8);
    assert_eq!(d.disks[2].device, DiskDevice::Cdrom);
    assert!(d.disks[2].readonly);
    assert_eq!(
        (d.disks[3].target.controller, d.disks[3].target.unit),
        (1, 1)
    );
    assert_eq!(d.interfaces.len(), 2);
    assert_eq!(d.interfaces[0].bridge, "one-pg-0");
    assert_eq!(d.interfaces[0].mac.as_deref(), Some("02:00:c0:a8:00:0a"));
    assert_eq!(d.interfaces[0].model.as_deref(), Some("vmxnet3"));
    assert_eq!(d.interfaces[1].bridge, "VM Network");
    assert_eq!(d.interfaces[1].model, None);
    let vnc = d.vnc.as_ref().unwrap();
    assert_eq!(vnc.listen.as_deref(), Some("0.0.0.0"));
    assert_eq!(vnc.port, Some(5942));
    assert_eq!(vnc.passwd.as_deref(), Some("s3cret"));
    assert_eq!(vnc.keymap.as_deref(), Some("es"));
    assert_eq!(d.guest_os.as_deref(), Some("ubuntu64Guest"));
    assert_eq!(d.pci_bridge, Some(2));
    assert_eq!(
        d.data_vmx,
        vec![
            ("ethernet0.pciSlotNumber".to_string(), "34".to_string()),
            ("sched.mem.min".to_string(), "256".to_string()),
            ("RemoteDisplay.vnc.keymap".to_string(), "fr".to_string()),
        ]
    );
    assert_eq!(
        d.scsi_controllers,
        vec![RawScsiController {
            index: 0,
            model: Some("lsisas1068".into())
        }]
    );
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.system_datastore(), Some("0"));
}

#[test]
fn old_38_raw_metadata_text_is_data_vmx() {
    let xml = "<domain type='vmware'><name>one-7</name><memory>262144</memory>\
        <os><type arch='i686'>hvm</type></os>\
        <devices><disk type='file' device='disk'><source file='[100] 7/disk.0/disk.vmdk'/>\
        <target dev='hda'/></disk></devices>\
        <metadata>guestOS = \"winxppro\"\\nfoo = \"1\"</metadata></domain>";
    let d = parse(xml).unwrap();
    assert_eq!(
        d.data_vmx,
        vec![
            ("guestOS".to_string(), "winxppro".to_string()),
            ("foo".to_string(), "1".to_string())
        ]
    );
    assert_eq!(d.vcpu, None);
    assert_eq!(d.system_datastore(), Some("100"));
}

#[test]
fn spec_has_every_attribute() {
    let d = parse(FULL_44).unwrap();
    let (spec, warnings) = spec::build(&d, 42, &networks()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(spec.name.as_deref(), Some("one-42"));
    assert_eq!(spec.memory_mb, Some(512));
    assert_eq!(spec.num_cp_us, Some(2));
    assert_eq!(spec.guest_id.as_deref(), Some("ubuntu64Guest"));
    assert_eq!(
        spec.files.as_ref().unwrap().vm_path_name.as_deref(),
        Some("[0] 42/one-42.vmx")
    );
    let devices: Vec<_> = spec
        .device_change
        .iter()
        .map(|c| match c {
            vim_sdk::types::AnyVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(devices.iter().all(|s| s.file_operation.is_none()));
    // One SAS controller (RAW wins over the disk's DRIVER), 2 disks, 2 CD-ROMs, 2 NICs.
    assert_eq!(devices.len(), 7);
    let sas_key = match &devices[0].device {
        AnyVirtualDevice::VirtualLsiLogicSASController(c) => {
            assert_eq!(c.base.base.bus_number, 0);
            c.base.base.base.key
        }
        other => panic!("{other:?}"),
    };
    match &devices[1].device {
        AnyVirtualDevice::VirtualDisk(disk) => {
            assert_eq!(disk.base.controller_key, Some(sas_key));
            assert_eq!(disk.base.unit_number, Some(0));
            match &disk.base.backing {
                Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                    assert_eq!(b.base.file_name, "[0] 42/disk.0/disk.vmdk");
                    assert_eq!(b.disk_mode, "persistent");
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    match &devices[2].device {
        AnyVirtualDevice::VirtualDisk(disk) => assert_eq!(disk.base.unit_number, Some(8)),
        other => panic!("{other:?}"),
    }
    match &devices[4].device {
        AnyVirtualDevice::VirtualCdrom(cd) => {
            assert_eq!(cd.base.controller_key, Some(201));
            assert_eq!(cd.base.unit_number, Some(1));
            match &cd.base.backing {
                Some(AnyVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(b)) => {
                    assert_eq!(b.base.file_name, "[0] 42/disk.3.iso")
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    match &devices[5].device {
        AnyVirtualDevice::VirtualVmxnet3(n) => {
            assert_eq!(
                n.base.base.mac_address.as_deref(),
                Some("02:00:c0:a8:00:0a")
            );
            assert_eq!(n.base.base.address_type.as_deref(), Some("manual"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        devices[6].device,
        AnyVirtualDevice::VirtualE1000(_)
    ));
    let extra: Vec<(String, String)> = spec
        .extra_config
        .iter()
        .map(|o| match o {
            AnyOptionValue::OptionValue(o) => match &o.value {
                Some(Any::String(s)) => (o.key.clone(), s.clone()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    let get = |k: &str| {
        let hits: Vec<_> = extra.iter().filter(|(key, _)| key == k).collect();
        assert!(hits.len() <= 1, "{k} set {} times", hits.len());
        hits.first().map(|(_, v)| v.clone())
    };
    assert_eq!(get("ethernet0.checkMACAddress").as_deref(), Some("FALSE"));
    assert_eq!(get("ethernet1.checkMACAddress"), None);
    assert_eq!(get("RemoteDisplay.vnc.enabled").as_deref(), Some("TRUE"));
    assert_eq!(get("RemoteDisplay.vnc.port").as_deref(), Some("5942"));
    assert_eq!(get("RemoteDisplay.vnc.ip").as_deref(), Some("0.0.0.0"));
    assert_eq!(get("RemoteDisplay.vnc.password").as_deref(), Some("s3cret"));
    // DATA_VMX wins over the generated key, and appears once.
    assert_eq!(get("RemoteDisplay.vnc.keymap").as_deref(), Some("fr"));
    assert_eq!(get("pciBridge0.present").as_deref(), Some("TRUE"));
    assert_eq!(get("pciBridge1.present").as_deref(), Some("TRUE"));
    assert_eq!(get("pciBridge2.present"), None);
    assert_eq!(get("ethernet0.pciSlotNumber").as_deref(), Some("34"));
    assert_eq!(get("sched.mem.min").as_deref(), Some("256"));
}

#[test]
fn guest_id_from_arch_and_driver_models() {
    let mk = |arch: &str, driver: &str, model: &str| {
        format!(
            "<domain type='vmware'><name>one-1</name><memory>1000</memory>\
             <os><type arch='{arch}'>hvm</type></os><devices>\
             <disk type='file' device='disk'><source file='[0] 1/disk.0/disk.vmdk'/>\
             <target dev='sdp'/><driver name='{driver}'/></disk>\
             <interface type='bridge'><source bridge='one-pg-0'/><model type='{model}'/>\
             </interface></devices></domain>"
        )
    };
    let d = parse(&mk("i686", "pvscsi", "vlance")).unwrap();
    let (spec, w) = spec::build(&d, 1, &networks()).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(spec.guest_id.as_deref(), Some("otherGuest"));
    assert_eq!(spec.memory_mb, Some(1), "1000 KiB rounds up to 1 MB");
    assert_eq!(spec.num_cp_us, Some(1));
    let kinds: Vec<String> = spec
        .device_change
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    assert!(
        kinds[0].contains("device: ParaVirtualSCSIController"),
        "{kinds:?}"
    );
    assert!(kinds[1].contains("device: VirtualDisk"), "{kinds:?}");
    assert!(kinds[2].contains("device: VirtualPCNet32"), "{kinds:?}");

    let d = parse(&mk("x86_64", "file", "vmxnet2")).unwrap();
    let (spec, _) = spec::build(&d, 1, &networks()).unwrap();
    assert_eq!(spec.guest_id.as_deref(), Some("otherGuest64"));
    let dbg = format!("{:?}", spec.device_change);
    assert!(dbg.contains("VirtualLsiLogicController"), "default model");
    assert!(dbg.contains("bus_number: 1"), "sdp is on SCSI 1");
    assert!(dbg.contains("VirtualVmxnet2"));

    let d = parse(&mk("x86_64", "buslogic", "mystery")).unwrap();
    let (spec, w) = spec::build(&d, 1, &networks()).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    let dbg = format!("{:?}", spec.device_change);
    assert!(dbg.contains("VirtualBusLogicController") && dbg.contains("VirtualE1000"));
}

#[test]
fn unknown_port_group_is_an_error_naming_it() {
    let d = parse(FULL_44).unwrap();
    let mut nets = networks();
    nets.remove("VM Network");
    let e = spec::build(&d, 42, &nets).unwrap_err();
    assert!(e.to_string().contains("\"VM Network\""), "{e}");
}

#[test]
fn missing_memory_and_other_required_parts() {
    let cases = [
        (
            "<domain type='vmware'><name>one-1</name></domain>",
            "<memory>",
        ),
        (
            "<domain type='vmware'><memory>1024</memory></domain>",
            "<name>",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>x</memory></domain>",
            "<memory>",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>0</memory></domain>",
            "<memory>",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><vcpu>0</vcpu></domain>",
            "<vcpu>",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <disk type='file' device='disk'><target dev='sda'/></disk></devices></domain>",
            "<source",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <disk type='file' device='disk'><source file='/var/lib/x'/><target dev='sda'/>\
             </disk></devices></domain>",
            "datastore path",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <disk type='file' device='disk'><source file='[0] 1/d'/><target dev='vda'/>\
             </disk></devices></domain>",
            "vda",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <disk><source file='[0] 1/a'/><target dev='sda'/></disk>\
             <disk><source file='[0] 1/b'/><target dev='sda'/></disk></devices></domain>",
            "also used",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <interface type='bridge'><mac address='02:00:00:00:00:01'/></interface>\
             </devices></domain>",
            "<interface> 0",
        ),
        (
            "<domain type='vmware'><name>one-1</name><memory>1</memory><devices>\
             <interface type='bridge'><source bridge='x'/><mac address='zz'/></interface>\
             </devices></domain>",
            "MAC",
        ),
        ("<vm><name>one-1</name></vm>", "<domain>"),
        ("", "no <domain>"),
        ("just text", "no <domain>"),
    ];
    for (xml, needle) in cases {
        let e = parse(xml).expect_err(xml);
        assert!(e.to_string().contains(needle), "{xml}: {e}");
    }
}

#[test]
fn hostile_files_are_refused_without_panicking() {
    // Entity bomb: refused at the DOCTYPE.
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><domain type='vmware'><name>&c;</name><memory>1</memory></domain>"#;
    let e = parse(bomb).unwrap_err();
    assert!(e.to_string().contains("DOCTYPE"), "{e}");
    // An undefined entity.
    let e = parse("<domain><name>&x;</name><memory>1</memory></domain>").unwrap_err();
    assert!(e.to_string().contains("<domain><name>"), "{e}");
    // Truncated anywhere: an error, never a panic, never a half-read success.
    let full = FULL_44.trim_end();
    for cut in (0..full.len()).step_by(7) {
        if !full.is_char_boundary(cut) {
            continue;
        }
        assert!(parse(&full[..cut]).is_err(), "cut at {cut} accepted");
    }
    // Mismatched tags.
    assert!(parse("<domain><name>one-1</nom><memory>1</memory></domain>").is_err());
    // Huge.
    let huge = format!(
        "<domain type='vmware'><name>one-1</name><memory>1</memory><x>{}</x></domain>",
        "a".repeat(MAX_DEPLOYMENT_BYTES)
    );
    assert!(parse(&huge).unwrap_err().to_string().contains("bytes"));
    // Deep.
    let deep = format!(
        "<domain><name>one-1</name><memory>1</memory>{}{}</domain>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert!(parse(&deep).unwrap_err().to_string().contains("deeper"));
    // Two roots.
    assert!(parse("<domain><name>a</name><memory>1</memory></domain><domain/>").is_err());
    // Garbage bytes and numbers out of range.
    for xml in [
        "<domain><name>one-1</name><memory>99999999999999999999999</memory></domain>",
        "<domain><name>one-1</name><memory>1</memory><devices><graphics type='vnc' port='99999'/></devices></domain>",
        "<domain><name>one-1</name><memory>1</memory><metadata><pcibridge>-1</pcibridge></metadata></domain>",
        "<domain><name>one-1</name><memory>1</memory><devices><controller type='scsi' index='9'/></devices></domain>",
        "<domain \u{0}><name>",
    ] {
        assert!(parse(xml).is_err(), "{xml}");
    }
}

#[test]
fn unknown_elements_and_devices_are_tolerated_with_warnings() {
    let xml = "<domain type='kvm'><name>one-3</name><memory unit='MiB'>64</memory>\
        <features><acpi/></features>\
        <devices><disk type='file' device='disk'><source file='[0] 3/disk.0/disk.vmdk'/>\
        <target dev='hda'/></disk><disk type='file' device='floppy'>\
        <source file='[0] 3/f'/><target dev='fda'/></disk>\
        <sound model='es1370'/><graphics type='sdl'/>\
        <interface type='bridge'><source bridge='pg'/><script path='/x'/></interface>\
        <controller type='usb'/></devices>\
        <metadata><unknown>1</unknown></metadata></domain>";
    let d = parse(xml).unwrap();
    assert_eq!(d.disks.len(), 1, "the floppy is skipped");
    assert_eq!(d.memory_kib, 64 * 1024);
    assert_eq!(d.interfaces[0].bridge, "pg");
    let w = d.warnings.join("\n");
    for needle in [
        "type=\"kvm\"",
        "<features>",
        "floppy",
        "<sound>",
        "sdl",
        "usb",
        "<unknown>",
    ] {
        assert!(w.contains(needle), "{needle} not in {w}");
    }
    assert_eq!(d.warnings.len(), 7, "{w}");
}

#[test]
fn vmware_static_mac_range() {
    assert!(spec::in_vmware_static_range("00:50:56:00:00:01"));
    assert!(spec::in_vmware_static_range("00:50:56:3f:ff:ff"));
    assert!(!spec::in_vmware_static_range("00:50:56:40:00:00"));
    assert!(!spec::in_vmware_static_range("00:0c:29:00:00:01"));
    assert!(!spec::in_vmware_static_range("02:00:c0:a8:00:01"));
}

#[test]
fn datastore_paths() {
    let p = DatastorePath::parse("[0] 42/disk.0/disk.vmdk").unwrap();
    assert_eq!(
        (p.datastore.as_str(), p.path.as_str()),
        ("0", "42/disk.0/disk.vmdk")
    );
    assert_eq!(
        DatastorePath::parse("[my ds]   a.iso").unwrap().datastore,
        "my ds"
    );
    for bad in ["", "[]", "[0]", "[0] ", "0 a", "[0 a", "[0] /abs"] {
        assert!(DatastorePath::parse(bad).is_none(), "{bad:?}");
    }
}
