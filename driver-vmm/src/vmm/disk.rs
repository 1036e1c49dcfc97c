//! Hot-plug of disks, over vim-sdk types: OpenNebula's `DISK_TARGET_PATH` turned into the
//! datastore path of the disk's descriptor, the controller and unit a target names (the same
//! numbering deploy uses: [`crate::disk_target`]), and the `ReconfigVM_Task` that adds or
//! removes the disk. Neither direction ever creates or deletes a file (no `fileOperation`).

use vim_sdk::device::{spec, ControllerKind, DeviceList};
use vim_sdk::mo;
use vim_sdk::types::{
    AnyVirtualDevice, AnyVirtualDeviceBackingInfo, VirtualController, VirtualDevice,
    VirtualDeviceConfigSpec, VirtualDeviceConfigSpecOperation, VirtualLsiLogicController,
    VirtualSCSIController, VirtualSCSISharing,
};
use vim_sdk::Client;

use crate::disk_target::{Bus, DiskTarget};

/// `<disk_path>` = `/vmfs/volumes/<ds>/<vmid>/disk.<N>` as the datastore path of its
/// descriptor, `[<ds>] <vmid>/disk.<N>/disk.vmdk`. The shape is exact: the VM directory must
/// be `vmid` (the VM the action is for), `<ds>` a plain name (no `/`, `[`, `]`, control
/// characters, not `.` or `..`, no surrounding blanks), `<N>` decimal digits.
pub fn datastore_path(disk_path: &str, vmid: u64) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "disk path {:?} is not /vmfs/volumes/<datastore>/{vmid}/disk.<N>: {why}",
            disk_path.chars().take(200).collect::<String>()
        )
    };
    let rest = disk_path
        .strip_prefix("/vmfs/volumes/")
        .ok_or_else(|| bad("it is not under /vmfs/volumes/"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [ds, dir, disk] = parts.as_slice() else {
        return Err(bad("wrong number of path components"));
    };
    if ds.is_empty()
        || *ds == "."
        || *ds == ".."
        || ds.trim() != *ds
        || ds.chars().any(|c| c == '[' || c == ']' || c.is_control())
    {
        return Err(bad("unusable datastore name"));
    }
    if *dir != vmid.to_string() {
        return Err(bad("the VM directory is not the VM's id"));
    }
    let n = disk
        .strip_prefix("disk.")
        .filter(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad("the last component is not disk.<N>"))?;
    Ok(format!("[{ds}] {vmid}/disk.{n}/disk.vmdk"))
}

/// The bus number of a storage controller.
pub fn bus_number(device: &AnyVirtualDevice) -> Option<i32> {
    use AnyVirtualDevice as D;
    let c: &VirtualController = match device {
        D::VirtualSCSIController(c) => &c.base,
        D::ParaVirtualSCSIController(c) => &c.base.base,
        D::VirtualBusLogicController(c) => &c.base.base,
        D::VirtualLsiLogicController(c) => &c.base.base,
        D::VirtualLsiLogicSASController(c) => &c.base.base,
        D::VirtualIDEController(c) => &c.base,
        _ => return None,
    };
    Some(c.bus_number)
}

/// The backing file of a disk (the file-backed disk kinds), if `device` is one.
pub fn disk_file(device: &AnyVirtualDevice) -> Option<&str> {
    use AnyVirtualDeviceBackingInfo as B;
    let AnyVirtualDevice::VirtualDisk(d) = device else {
        return None;
    };
    Some(match d.base.backing.as_ref()? {
        B::VirtualDiskFlatVer2BackingInfo(b) => b.base.file_name.as_str(),
        B::VirtualDiskSparseVer2BackingInfo(b) => b.base.file_name.as_str(),
        B::VirtualDiskSeSparseBackingInfo(b) => b.base.file_name.as_str(),
        B::VirtualDiskRawDiskMappingVer1BackingInfo(b) => b.base.file_name.as_str(),
        B::VirtualDiskFlatVer1BackingInfo(b) => b.base.file_name.as_str(),
        B::VirtualDiskSparseVer1BackingInfo(b) => b.base.file_name.as_str(),
        _ => return None,
    })
}

fn kind(bus: Bus) -> ControllerKind {
    match bus {
        Bus::Ide => ControllerKind::Ide,
        Bus::Scsi => ControllerKind::Scsi,
    }
}

fn slot_name(t: &DiskTarget) -> String {
    let bus = match t.bus {
        Bus::Ide => "IDE",
        Bus::Scsi => "SCSI",
    };
    format!("{bus} {}:{}", t.controller, t.unit)
}

/// The controller `target` names, if the VM has it.
pub fn controller<'a>(
    devices: &'a DeviceList,
    target: &DiskTarget,
) -> Option<&'a AnyVirtualDevice> {
    devices
        .controllers(kind(target.bus))
        .into_iter()
        .find(|c| bus_number(c) == i32::try_from(target.controller).ok())
}

/// The device at `target`'s controller and unit, if any.
pub fn at_slot<'a>(devices: &'a DeviceList, target: &DiskTarget) -> Option<&'a AnyVirtualDevice> {
    let c = controller(devices, target)?;
    let unit = i32::try_from(target.unit).ok()?;
    devices
        .on_controller(c.base().key)
        .find(|d| d.base().unit_number == Some(unit))
}

/// What an attach found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attached {
    /// The disk was added (with a new SCSI controller when `controller_added`).
    Added {
        /// Whether an LSI Logic controller was added for it.
        controller_added: bool,
    },
    /// That file already sat at that slot (a retry).
    AlreadyThere,
}

/// The specs attaching `file` at `target`: a new LSI Logic controller at the target's bus
/// number when the VM has no SCSI controller there, then the disk. Errors when the slot
/// holds anything else, when the file is attached elsewhere in the VM, or when an IDE
/// controller is missing (IDE controllers are not hot-added).
pub fn attach_specs(
    devices: &DeviceList,
    target: &DiskTarget,
    file: &str,
) -> Result<Option<Vec<VirtualDeviceConfigSpec>>, String> {
    let slot = slot_name(target);
    if let Some(d) = at_slot(devices, target) {
        return match disk_file(d) {
            Some(f) if f == file => Ok(None),
            Some(f) => Err(format!(
                "{slot} already holds another disk ({f}); {file} was not attached"
            )),
            None => Err(format!(
                "{slot} is taken by a {}; {file} was not attached",
                d.type_name()
            )),
        };
    }
    if let Some(d) = devices.all().iter().find(|d| disk_file(d) == Some(file)) {
        return Err(format!(
            "{file} is already attached to the VM at controller key {} unit {}, not at {slot}",
            d.base().controller_key.unwrap_or_default(),
            d.base().unit_number.unwrap_or_default()
        ));
    }
    let unit = i32::try_from(target.unit).map_err(|_| format!("bad unit for {slot}"))?;
    let mut specs = Vec::new();
    let disk = match controller(devices, target) {
        Some(c) => spec::existing_disk(devices, &[], c, unit, file, None),
        None if target.bus == Bus::Scsi => {
            let bus =
                i32::try_from(target.controller).map_err(|_| format!("bad bus for {slot}"))?;
            let new_controller =
                AnyVirtualDevice::VirtualLsiLogicController(Box::new(VirtualLsiLogicController {
                    base: VirtualSCSIController {
                        base: VirtualController {
                            base: VirtualDevice {
                                key: devices.new_key(&[]),
                                ..Default::default()
                            },
                            bus_number: bus,
                            ..Default::default()
                        },
                        shared_bus: VirtualSCSISharing::NoSharing,
                        ..Default::default()
                    },
                }));
            let taken = [new_controller.base().key];
            let disk = spec::existing_disk(devices, &taken, &new_controller, unit, file, None);
            // Moved, not cloned: see `detach_spec`.
            specs.push(VirtualDeviceConfigSpec {
                operation: Some(VirtualDeviceConfigSpecOperation::Add),
                device: new_controller,
                ..Default::default()
            });
            disk
        }
        None => {
            return Err(format!(
                "the VM has no IDE controller {}; {file} was not attached",
                target.controller
            ))
        }
    };
    specs.push(disk);
    Ok(Some(specs))
}

/// The file of the disk at `target`, if the slot holds a disk.
pub fn file_at<'a>(devices: &'a DeviceList, target: &DiskTarget) -> Option<&'a str> {
    at_slot(devices, target).and_then(disk_file)
}

/// Attaches the existing disk `file` (`[ds] path.vmdk`) to `vm` at `target`; idempotent.
pub async fn attach(
    client: &Client,
    vm: &mo::VirtualMachine,
    target: &DiskTarget,
    file: &str,
) -> Result<Attached, String> {
    let devices = vm.devices(client).await.map_err(|e| e.to_string())?;
    attach_among(client, vm, &devices, target, file).await
}

/// [`attach`] with the VM's `devices` already read.
pub async fn attach_among(
    client: &Client,
    vm: &mo::VirtualMachine,
    devices: &DeviceList,
    target: &DiskTarget,
    file: &str,
) -> Result<Attached, String> {
    let Some(specs) = attach_specs(devices, target, file)? else {
        return Ok(Attached::AlreadyThere);
    };
    let controller_added = specs.len() > 1;
    vm.change_devices(client, specs)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Attached::Added { controller_added })
}

/// The spec detaching the disk at `target`, which must be `file`: `Ok(None)` when the slot
/// is empty (already detached), an error when it holds anything else. The file is kept.
///
/// The disk is taken out of `devices` and moved into the spec: cloning a device (its
/// `deviceInfo` may hold `anyType` values) would link the `Clone` of every generated type
/// into the driver.
pub fn detach_spec(
    devices: &mut DeviceList,
    target: &DiskTarget,
    file: &str,
) -> Result<Option<VirtualDeviceConfigSpec>, String> {
    let slot = slot_name(target);
    match at_slot(devices, target) {
        None => Ok(None),
        Some(d) => match disk_file(d) {
            Some(f) if f == file => {
                let key = d.base().key;
                Ok(devices.take(key).map(|d| spec::remove(d, false)))
            }
            Some(f) => Err(format!(
                "{slot} holds another disk ({f}), not {file}; nothing was detached"
            )),
            None => Err(format!(
                "{slot} holds a {}, not the disk {file}; nothing was detached",
                d.type_name()
            )),
        },
    }
}

/// Detaches `file` from `target` of `vm`, keeping the file; `Ok(false)` when the slot was
/// already empty.
pub async fn detach(
    client: &Client,
    vm: &mo::VirtualMachine,
    target: &DiskTarget,
    file: &str,
) -> Result<bool, String> {
    let mut devices = vm.devices(client).await.map_err(|e| e.to_string())?;
    detach_among(client, vm, &mut devices, target, file).await
}

/// [`detach`] with the VM's `devices` already read (the disk is taken out of them).
pub async fn detach_among(
    client: &Client,
    vm: &mo::VirtualMachine,
    devices: &mut DeviceList,
    target: &DiskTarget,
    file: &str,
) -> Result<bool, String> {
    let Some(spec) = detach_spec(devices, target, file)? else {
        return Ok(false);
    };
    vm.change_devices(client, vec![spec])
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk_target::parse;
    use vim_sdk::types::{VirtualDisk, VirtualIDEController};

    #[test]
    fn disk_paths() {
        assert_eq!(
            datastore_path("/vmfs/volumes/0/42/disk.1", 42).unwrap(),
            "[0] 42/disk.1/disk.vmdk"
        );
        assert_eq!(
            datastore_path("/vmfs/volumes/ds one/7/disk.12", 7).unwrap(),
            "[ds one] 7/disk.12/disk.vmdk"
        );
        for bad in [
            "/vmfs/volumes/0/43/disk.1",
            "/vmfs/volumes/0/42/disk.",
            "/vmfs/volumes/0/42/disk.1a",
            "/vmfs/volumes/0/42/disk.-1",
            "/vmfs/volumes/../42/disk.1",
            "/vmfs/volumes/0/../42/disk.1",
            "/vmfs/volumes/0/42/../42/disk.1",
            "/vmfs/volumes/0/42/disk.1/",
            "/vmfs/volumes/0/42/disk.1/disk.vmdk",
            "/vmfs/volumes//42/disk.1",
            "/vmfs/volumes/[x]/42/disk.1",
            "/vmfs/volumes/ 0/42/disk.1",
            "/tmp/0/42/disk.1",
            "vmfs/volumes/0/42/disk.1",
            "",
        ] {
            assert!(datastore_path(bad, 42).is_err(), "{bad}");
        }
    }

    fn scsi(key: i32, bus: i32) -> AnyVirtualDevice {
        AnyVirtualDevice::VirtualLsiLogicController(Box::new(VirtualLsiLogicController {
            base: VirtualSCSIController {
                base: VirtualController {
                    base: VirtualDevice {
                        key,
                        ..Default::default()
                    },
                    bus_number: bus,
                    ..Default::default()
                },
                ..Default::default()
            },
        }))
    }

    fn ide(key: i32, bus: i32) -> AnyVirtualDevice {
        AnyVirtualDevice::VirtualIDEController(Box::new(VirtualIDEController {
            base: VirtualController {
                base: VirtualDevice {
                    key,
                    ..Default::default()
                },
                bus_number: bus,
                ..Default::default()
            },
        }))
    }

    fn disk(controller: i32, unit: i32, file: &str) -> AnyVirtualDevice {
        let s = spec::existing_disk(
            &DeviceList::default(),
            &[],
            &scsi(controller, 0),
            unit,
            file,
            None,
        );
        let AnyVirtualDevice::VirtualDisk(mut d) = s.device else {
            unreachable!()
        };
        d.base.key = 2000 + unit;
        AnyVirtualDevice::VirtualDisk(Box::new(VirtualDisk { ..*d }))
    }

    #[test]
    fn attach_plans() {
        let list = DeviceList::new(vec![
            ide(200, 0),
            ide(201, 1),
            scsi(1000, 0),
            disk(1000, 0, "[0] 1/disk.0/disk.vmdk"),
            disk(1000, 8, "[0] 1/disk.7/disk.vmdk"),
        ]);
        // sda holds that file: a retry.
        assert!(
            attach_specs(&list, &parse("sda").unwrap(), "[0] 1/disk.0/disk.vmdk")
                .unwrap()
                .is_none()
        );
        // sdh is unit 8 (7 skipped), and holds another file: never replaced.
        let e = attach_specs(&list, &parse("sdh").unwrap(), "[0] 1/disk.9/disk.vmdk").unwrap_err();
        assert!(e.contains("SCSI 0:8") && e.contains("disk.7"), "{e}");
        // The same file elsewhere is refused.
        assert!(attach_specs(&list, &parse("sdb").unwrap(), "[0] 1/disk.0/disk.vmdk").is_err());
        // A free unit on the existing controller.
        let specs = attach_specs(&list, &parse("sdb").unwrap(), "[0] 1/disk.2/disk.vmdk")
            .unwrap()
            .unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].file_operation, None);
        assert_eq!(specs[0].device.base().controller_key, Some(1000));
        assert_eq!(specs[0].device.base().unit_number, Some(1));
        assert_eq!(disk_file(&specs[0].device), Some("[0] 1/disk.2/disk.vmdk"));
        // sdp is SCSI 1:0: a new controller at bus 1, the disk on its temporary key.
        let specs = attach_specs(&list, &parse("sdp").unwrap(), "[0] 1/disk.3/disk.vmdk")
            .unwrap()
            .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(bus_number(&specs[0].device), Some(1));
        assert!(specs[0].device.base().key < 0);
        assert_eq!(
            specs[1].device.base().controller_key,
            Some(specs[0].device.base().key)
        );
        assert_ne!(specs[1].device.base().key, specs[0].device.base().key);
        // IDE: hdc is IDE 1:0, on the existing controller.
        let specs = attach_specs(&list, &parse("hdc").unwrap(), "[0] 1/disk.4/disk.vmdk")
            .unwrap()
            .unwrap();
        assert_eq!(specs[0].device.base().controller_key, Some(201));
        // No IDE controller: refused.
        let bare = DeviceList::new(vec![]);
        assert!(attach_specs(&bare, &parse("hda").unwrap(), "[0] 1/disk.4/disk.vmdk").is_err());
    }

    #[test]
    fn detach_plans() {
        let mut list =
            DeviceList::new(vec![scsi(1000, 0), disk(1000, 8, "[0] 1/disk.7/disk.vmdk")]);
        let t = parse("sdh").unwrap();
        assert!(detach_spec(&mut list, &t, "[0] 1/disk.8/disk.vmdk").is_err());
        assert!(detach_spec(&mut list, &parse("sda").unwrap(), "x")
            .unwrap()
            .is_none());
        assert!(detach_spec(&mut list, &parse("sdp").unwrap(), "x")
            .unwrap()
            .is_none());
        let s = detach_spec(&mut list, &t, "[0] 1/disk.7/disk.vmdk")
            .unwrap()
            .unwrap();
        assert_eq!(s.operation, Some(VirtualDeviceConfigSpecOperation::Remove));
        assert_eq!(s.file_operation, None);
        assert_eq!(disk_file(&s.device), Some("[0] 1/disk.7/disk.vmdk"));
        // The disk left the list with the spec: the slot reads empty now.
        assert!(detach_spec(&mut list, &t, "[0] 1/disk.7/disk.vmdk")
            .unwrap()
            .is_none());
    }
}
