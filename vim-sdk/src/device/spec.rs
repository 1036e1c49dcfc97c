//! `VirtualDeviceConfigSpec` builders: a new or existing disk, a CD-ROM with an ISO image, a
//! NIC on a standard or distributed port group, and the removal of a device.
//!
//! Devices being added get a negative temporary key (see [`DeviceList::new_key`]); pass
//! the keys already handed out in the same change set as `taken`.

use crate::types::{
    AnyVirtualDevice, AnyVirtualDeviceBackingInfo, DistributedVirtualSwitchPortConnection,
    VirtualCdrom, VirtualCdromIsoBackingInfo, VirtualDevice, VirtualDeviceConfigSpec,
    VirtualDeviceConfigSpecFileOperation, VirtualDeviceConfigSpecOperation,
    VirtualDeviceConnectInfo, VirtualDeviceDeviceBackingInfo, VirtualDeviceFileBackingInfo,
    VirtualDisk, VirtualDiskFlatVer2BackingInfo, VirtualE1000, VirtualE1000e, VirtualEthernetCard,
    VirtualEthernetCardDistributedVirtualPortBackingInfo, VirtualEthernetCardNetworkBackingInfo,
    VirtualVmxnet, VirtualVmxnet3,
};
use crate::xml::ManagedObjectReference;

use super::DeviceList;

/// A network adapter model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicModel {
    /// VMXNET 3 (paravirtual; needs VMware Tools drivers).
    Vmxnet3,
    /// Intel E1000.
    E1000,
    /// Intel E1000e.
    E1000e,
}

/// What a NIC connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NicBacking {
    /// A standard switch port group: its name, and its `Network` object.
    PortGroup {
        /// The port group's name (the network's `name`).
        name: String,
        /// The `Network` object.
        network: ManagedObjectReference,
    },
    /// A distributed port group: its switch's UUID and its key.
    DistributedPortGroup {
        /// `DistributedVirtualSwitch.uuid`.
        switch_uuid: String,
        /// `DistributedVirtualPortgroup.key`.
        portgroup_key: String,
    },
}

fn connected() -> Option<VirtualDeviceConnectInfo> {
    Some(VirtualDeviceConnectInfo {
        start_connected: true,
        allow_guest_control: true,
        connected: true,
        ..Default::default()
    })
}

fn add(
    device: AnyVirtualDevice,
    file: Option<VirtualDeviceConfigSpecFileOperation>,
) -> VirtualDeviceConfigSpec {
    VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        file_operation: file,
        device,
        ..Default::default()
    }
}

fn disk_backing(
    file_name: &str,
    datastore: Option<&ManagedObjectReference>,
    thin: Option<bool>,
) -> AnyVirtualDeviceBackingInfo {
    AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(Box::new(
        VirtualDiskFlatVer2BackingInfo {
            base: VirtualDeviceFileBackingInfo {
                file_name: file_name.to_string(),
                datastore: datastore.cloned(),
                ..Default::default()
            },
            disk_mode: "persistent".into(),
            thin_provisioned: thin,
            ..Default::default()
        },
    ))
}

/// Adds a new disk of `capacity_kb` KiB at `unit` of `controller`, creating its file
/// (`fileOperation=create`). `file_name` is `[ds] dir/name.vmdk`, or `[ds]` alone to let the
/// server name it beside the VM; `thin` asks for thin provisioning.
#[allow(clippy::too_many_arguments)]
pub fn new_disk(
    list: &DeviceList,
    taken: &[i32],
    controller: &AnyVirtualDevice,
    unit: i32,
    file_name: &str,
    datastore: Option<&ManagedObjectReference>,
    capacity_kb: i64,
    thin: bool,
) -> VirtualDeviceConfigSpec {
    let disk = VirtualDisk {
        base: VirtualDevice {
            key: list.new_key(taken),
            backing: Some(disk_backing(file_name, datastore, Some(thin))),
            controller_key: Some(controller.base().key),
            unit_number: Some(unit),
            ..Default::default()
        },
        capacity_in_kb: capacity_kb,
        capacity_in_bytes: Some(capacity_kb.saturating_mul(1024)),
        ..Default::default()
    };
    add(
        AnyVirtualDevice::VirtualDisk(Box::new(disk)),
        Some(VirtualDeviceConfigSpecFileOperation::Create),
    )
}

/// Attaches the existing disk file `file_name` (`[ds] dir/name.vmdk`) at `unit` of
/// `controller`; the server reads its capacity from the file.
pub fn existing_disk(
    list: &DeviceList,
    taken: &[i32],
    controller: &AnyVirtualDevice,
    unit: i32,
    file_name: &str,
    datastore: Option<&ManagedObjectReference>,
) -> VirtualDeviceConfigSpec {
    let disk = VirtualDisk {
        base: VirtualDevice {
            key: list.new_key(taken),
            backing: Some(disk_backing(file_name, datastore, None)),
            controller_key: Some(controller.base().key),
            unit_number: Some(unit),
            ..Default::default()
        },
        ..Default::default()
    };
    add(AnyVirtualDevice::VirtualDisk(Box::new(disk)), None)
}

/// Adds a CD-ROM drive at `unit` of `controller` (IDE or SATA) with the ISO image
/// `iso_path` (`[ds] iso/image.iso`) inserted and connected at power on.
pub fn cdrom_with_iso(
    list: &DeviceList,
    taken: &[i32],
    controller: &AnyVirtualDevice,
    unit: i32,
    iso_path: &str,
    datastore: Option<&ManagedObjectReference>,
) -> VirtualDeviceConfigSpec {
    let cdrom = VirtualCdrom {
        base: VirtualDevice {
            key: list.new_key(taken),
            backing: Some(AnyVirtualDeviceBackingInfo::VirtualCdromIsoBackingInfo(
                Box::new(VirtualCdromIsoBackingInfo {
                    base: VirtualDeviceFileBackingInfo {
                        file_name: iso_path.to_string(),
                        datastore: datastore.cloned(),
                        ..Default::default()
                    },
                }),
            )),
            connectable: connected(),
            controller_key: Some(controller.base().key),
            unit_number: Some(unit),
            ..Default::default()
        },
    };
    add(AnyVirtualDevice::VirtualCdrom(Box::new(cdrom)), None)
}

/// Adds a NIC of `model` on `backing`, connected at power on, with the static MAC `mac`
/// (`00:50:56:xx:xx:xx`) or a generated one when `None`.
pub fn nic(
    list: &DeviceList,
    taken: &[i32],
    model: NicModel,
    backing: &NicBacking,
    mac: Option<&str>,
) -> VirtualDeviceConfigSpec {
    let backing = match backing {
        NicBacking::PortGroup { name, network } => {
            AnyVirtualDeviceBackingInfo::VirtualEthernetCardNetworkBackingInfo(Box::new(
                VirtualEthernetCardNetworkBackingInfo {
                    base: VirtualDeviceDeviceBackingInfo {
                        device_name: name.clone(),
                        ..Default::default()
                    },
                    network: Some(network.clone()),
                    ..Default::default()
                },
            ))
        }
        NicBacking::DistributedPortGroup {
            switch_uuid,
            portgroup_key,
        } => AnyVirtualDeviceBackingInfo::VirtualEthernetCardDistributedVirtualPortBackingInfo(
            Box::new(VirtualEthernetCardDistributedVirtualPortBackingInfo {
                port: DistributedVirtualSwitchPortConnection {
                    switch_uuid: switch_uuid.clone(),
                    portgroup_key: Some(portgroup_key.clone()),
                    ..Default::default()
                },
            }),
        ),
    };
    let card = VirtualEthernetCard {
        base: VirtualDevice {
            key: list.new_key(taken),
            backing: Some(backing),
            connectable: connected(),
            ..Default::default()
        },
        address_type: Some(if mac.is_some() { "manual" } else { "generated" }.into()),
        mac_address: mac.map(str::to_string),
        ..Default::default()
    };
    let device = match model {
        NicModel::Vmxnet3 => AnyVirtualDevice::VirtualVmxnet3(Box::new(VirtualVmxnet3 {
            base: VirtualVmxnet { base: card },
        })),
        NicModel::E1000 => AnyVirtualDevice::VirtualE1000(Box::new(VirtualE1000 { base: card })),
        NicModel::E1000e => AnyVirtualDevice::VirtualE1000e(Box::new(VirtualE1000e { base: card })),
    };
    add(device, None)
}

/// Removes `device` (send it back exactly as read from `config.hardware.device`, e.g. taken
/// out with [`DeviceList::take`]); with `destroy_file`, a disk's file is deleted too.
///
/// The device is moved in rather than cloned: a device's `deviceInfo` can hold `anyType`
/// values, and cloning one links the `Clone` of every generated type into the program.
pub fn remove(device: AnyVirtualDevice, destroy_file: bool) -> VirtualDeviceConfigSpec {
    VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Remove),
        file_operation: destroy_file.then_some(VirtualDeviceConfigSpecFileOperation::Destroy),
        device,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::ControllerKind;
    use crate::types::{
        VirtualController, VirtualIDEController, VirtualLsiLogicController, VirtualSCSIController,
    };

    fn scsi(key: i32) -> AnyVirtualDevice {
        AnyVirtualDevice::VirtualLsiLogicController(Box::new(VirtualLsiLogicController {
            base: VirtualSCSIController {
                base: VirtualController {
                    base: VirtualDevice {
                        key,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                ..Default::default()
            },
        }))
    }

    fn ide(key: i32) -> AnyVirtualDevice {
        AnyVirtualDevice::VirtualIDEController(Box::new(VirtualIDEController {
            base: VirtualController {
                base: VirtualDevice {
                    key,
                    ..Default::default()
                },
                ..Default::default()
            },
        }))
    }

    fn disk_at(key: i32, controller: i32, unit: i32) -> AnyVirtualDevice {
        AnyVirtualDevice::VirtualDisk(Box::new(VirtualDisk {
            base: VirtualDevice {
                key,
                controller_key: Some(controller),
                unit_number: Some(unit),
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    #[test]
    fn scsi_unit_seven_is_skipped() {
        let mut devices = vec![scsi(1000)];
        for u in 0..7 {
            devices.push(disk_at(2000 + u, 1000, u));
        }
        let list = DeviceList::new(devices);
        let c = list.controllers(ControllerKind::Scsi)[0];
        assert_eq!(list.next_unit_number(c), Some(8));
    }

    #[test]
    fn full_controllers_offer_nothing_and_free_slot_moves_on() {
        let list = DeviceList::new(vec![
            ide(200),
            ide(201),
            disk_at(3000, 200, 0),
            disk_at(3001, 200, 1),
        ]);
        let c = list.controllers(ControllerKind::Ide)[0];
        assert_eq!(list.next_unit_number(c), None);
        let (c, unit) = list.free_slot(ControllerKind::Ide).unwrap();
        assert_eq!((c.base().key, unit), (201, 0));
        assert!(list.free_slot(ControllerKind::Nvme).is_none());
        assert_eq!(list.next_unit_number(&disk_at(1, 2, 3)), None);
    }

    #[test]
    fn new_keys_are_negative_and_distinct() {
        let list = DeviceList::new(vec![disk_at(-100, 1, 0)]);
        let a = list.new_key(&[]);
        let b = list.new_key(&[a]);
        assert!(a < 0 && b < 0 && a != b && a != -100);
    }

    #[test]
    fn specs_have_the_right_shape() {
        let list = DeviceList::new(vec![scsi(1000)]);
        let c = list.controllers(ControllerKind::Scsi)[0];
        let s = new_disk(&list, &[], c, 0, "[ds] vm/d.vmdk", None, 1024, true);
        assert_eq!(s.operation, Some(VirtualDeviceConfigSpecOperation::Add));
        assert_eq!(
            s.file_operation,
            Some(VirtualDeviceConfigSpecFileOperation::Create)
        );
        match &s.device {
            AnyVirtualDevice::VirtualDisk(d) => {
                assert_eq!(d.capacity_in_kb, 1024);
                assert_eq!(d.base.controller_key, Some(1000));
                match &d.base.backing {
                    Some(AnyVirtualDeviceBackingInfo::VirtualDiskFlatVer2BackingInfo(b)) => {
                        assert_eq!(b.thin_provisioned, Some(true));
                        assert_eq!(b.base.file_name, "[ds] vm/d.vmdk");
                    }
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
        let n = nic(
            &list,
            &[],
            NicModel::E1000,
            &NicBacking::DistributedPortGroup {
                switch_uuid: "u".into(),
                portgroup_key: "dvportgroup-1".into(),
            },
            Some("00:50:56:00:00:01"),
        );
        match &n.device {
            AnyVirtualDevice::VirtualE1000(card) => {
                assert_eq!(card.base.address_type.as_deref(), Some("manual"));
                assert!(card.base.base.connectable.as_ref().unwrap().start_connected);
            }
            other => panic!("{other:?}"),
        }
        let r = remove(s.device, true);
        assert_eq!(r.operation, Some(VirtualDeviceConfigSpecOperation::Remove));
        assert_eq!(
            r.file_operation,
            Some(VirtualDeviceConfigSpecFileOperation::Destroy)
        );
    }
}
