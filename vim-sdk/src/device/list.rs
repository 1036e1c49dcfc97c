//! [`DeviceList`]: a VM's devices, with lookups by kind, key and controller.

use crate::types::{Any, AnyArray, AnyVirtualDevice};

use super::controller::{reserved_unit, ControllerKind};

/// The devices of a VM, as read from `config.hardware.device`.
#[derive(Debug, Clone, Default)]
pub struct DeviceList {
    devices: Vec<AnyVirtualDevice>,
}

impl DeviceList {
    /// A list holding `devices`.
    pub fn new(devices: Vec<AnyVirtualDevice>) -> Self {
        DeviceList { devices }
    }

    /// The list in a `config.hardware.device` value (empty when absent or of another type).
    pub fn from_property(value: Option<Any>) -> Self {
        match value {
            Some(Any::Array(AnyArray::VirtualDevice(devices))) => DeviceList { devices },
            _ => DeviceList::default(),
        }
    }

    /// All devices.
    pub fn all(&self) -> &[AnyVirtualDevice] {
        &self.devices
    }

    /// The device with `key`.
    pub fn by_key(&self, key: i32) -> Option<&AnyVirtualDevice> {
        self.devices.iter().find(|d| d.base().key == key)
    }

    /// Removes the device with `key` from the list and returns it (to send it back in a
    /// [`remove`](super::spec::remove) spec without cloning it).
    pub fn take(&mut self, key: i32) -> Option<AnyVirtualDevice> {
        let i = self.devices.iter().position(|d| d.base().key == key)?;
        Some(self.devices.remove(i))
    }

    /// The storage controllers of `kind`, in bus order.
    pub fn controllers(&self, kind: ControllerKind) -> Vec<&AnyVirtualDevice> {
        let mut found: Vec<&AnyVirtualDevice> = self
            .devices
            .iter()
            .filter(|d| ControllerKind::of(d) == Some(kind))
            .collect();
        found.sort_by_key(|d| d.base().key);
        found
    }

    /// The devices attached to the controller with key `controller`.
    pub fn on_controller(&self, controller: i32) -> impl Iterator<Item = &AnyVirtualDevice> {
        self.devices
            .iter()
            .filter(move |d| d.base().controller_key == Some(controller))
    }

    /// The virtual disks.
    pub fn disks(&self) -> impl Iterator<Item = &crate::types::VirtualDisk> {
        self.devices.iter().filter_map(|d| match d {
            AnyVirtualDevice::VirtualDisk(disk) => Some(&**disk),
            _ => None,
        })
    }

    /// The CD-ROM drives.
    pub fn cdroms(&self) -> impl Iterator<Item = &AnyVirtualDevice> {
        self.devices
            .iter()
            .filter(|d| matches!(d, AnyVirtualDevice::VirtualCdrom(_)))
    }

    /// The network adapters (any Ethernet card model).
    pub fn nics(&self) -> impl Iterator<Item = &AnyVirtualDevice> {
        self.devices.iter().filter(|d| is_nic(d))
    }

    /// The lowest free unit number on `controller` (a storage controller of this list);
    /// `None` when it is full or not a storage controller. On SCSI the controller's own unit
    /// (7) is never offered.
    pub fn next_unit_number(&self, controller: &AnyVirtualDevice) -> Option<i32> {
        let kind = ControllerKind::of(controller)?;
        let key = controller.base().key;
        let reserved = reserved_unit(controller);
        let used: Vec<i32> = self
            .on_controller(key)
            .filter_map(|d| d.base().unit_number)
            .collect();
        (0..kind.units()).find(|u| Some(*u) != reserved && !used.contains(u))
    }

    /// The first controller of `kind` with a free unit, and that unit.
    pub fn free_slot(&self, kind: ControllerKind) -> Option<(&AnyVirtualDevice, i32)> {
        self.controllers(kind)
            .into_iter()
            .find_map(|c| Some((c, self.next_unit_number(c)?)))
    }

    /// A negative key no device in the list uses, for a device being added (the server
    /// assigns the real key); successive calls with `taken` growing give distinct keys.
    pub fn new_key(&self, taken: &[i32]) -> i32 {
        let mut key = -100;
        while self.by_key(key).is_some() || taken.contains(&key) {
            key -= 1;
        }
        key
    }
}

/// Whether `device` is an Ethernet card.
pub(crate) fn is_nic(device: &AnyVirtualDevice) -> bool {
    use AnyVirtualDevice as D;
    matches!(
        device,
        D::VirtualEthernetCard(_)
            | D::VirtualE1000(_)
            | D::VirtualE1000e(_)
            | D::VirtualPCNet32(_)
            | D::VirtualVmxnet(_)
            | D::VirtualVmxnet2(_)
            | D::VirtualVmxnet3(_)
            | D::VirtualVmxnet3Vrdma(_)
            | D::VirtualSriovEthernetCard(_)
    )
}
