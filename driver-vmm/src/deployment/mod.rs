//! The libvirt deployment file OpenNebula writes for a VMware VM (contract §3), parsed into
//! a [`Deployment`] ([`parse`]), and the `VirtualMachineConfigSpec` built from it ([`spec`]).
//!
//! The file is untrusted input: parsing never panics, refuses DOCTYPE declarations (so no
//! entity expansion at all), bounds the size and nesting depth, and names the offending
//! element in its errors. Elements this driver does not use are tolerated and reported as
//! warnings.

mod datavmx;
mod parse;
pub mod spec;

pub use datavmx::parse_data_vmx;
pub use parse::{parse, MAX_DEPLOYMENT_BYTES};

use crate::disk_target::DiskTarget;

/// A deployment file that cannot be used; the message names the element at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentError(pub String);

impl std::fmt::Display for DeploymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "deployment file: {}", self.0)
    }
}

impl std::error::Error for DeploymentError {}

/// What a `<disk>` is backed by (`type` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskType {
    /// `type='file'`: a VMDK or ISO file on a datastore.
    File,
    /// `type='block'`.
    Block,
}

/// What a `<disk>` is to the guest (`device` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskDevice {
    /// `device='disk'`: a hard disk.
    Disk,
    /// `device='cdrom'`: a CD-ROM with an ISO image (also the CONTEXT ISO).
    Cdrom,
}

/// One `<disk>` of `<devices>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// `type`.
    pub kind: DiskType,
    /// `device`.
    pub device: DiskDevice,
    /// `<source file>`: a datastore path, `[<ds>] <path>`.
    pub source: DatastorePath,
    /// `<target dev>` as written (`sda`, `hdc`, ...).
    pub target_dev: String,
    /// The controller and unit `target_dev` maps to.
    pub target: DiskTarget,
    /// `<driver name>`: for SCSI disks, the controller model.
    pub driver: Option<String>,
    /// `<readonly/>` present.
    pub readonly: bool,
    /// The image a link record (TM `ln`) puts in place of `source`, once deploy has read it
    /// ([`crate::vmm::links`]); never set by the parser.
    pub linked: Option<DatastorePath>,
}

impl Disk {
    /// The file the device uses: the linked image if any, else `source`.
    pub fn device_file(&self) -> &DatastorePath {
        self.linked.as_ref().unwrap_or(&self.source)
    }
}

/// One `<interface>` of `<devices>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `<source bridge>`: the port group name.
    pub bridge: String,
    /// `<mac address>`, lower-cased.
    pub mac: Option<String>,
    /// `<model type>`.
    pub model: Option<String>,
}

/// `<graphics type='vnc'>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vnc {
    /// `listen`.
    pub listen: Option<String>,
    /// `port`.
    pub port: Option<u16>,
    /// `passwd` (a secret: never logged).
    pub passwd: Option<String>,
    /// `keymap`.
    pub keymap: Option<String>,
}

/// A SCSI controller declared in RAW data: `<controller type='scsi' index='N' model='M'/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawScsiController {
    /// `index` (the controller's bus number).
    pub index: u32,
    /// `model`.
    pub model: Option<String>,
}

/// The parsed deployment file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Deployment {
    /// `<name>` (`one-<vmid>`).
    pub name: String,
    /// `<memory>` in KiB.
    pub memory_kib: u64,
    /// `<vcpu>`, when given.
    pub vcpu: Option<u32>,
    /// `<os><type arch>`.
    pub arch: Option<String>,
    /// `<os><boot dev>` in order (no VMX equivalent; kept for completeness).
    pub boot: Vec<String>,
    /// `<disk>` elements, in file order.
    pub disks: Vec<Disk>,
    /// `<interface>` elements, in file order.
    pub interfaces: Vec<Interface>,
    /// `<graphics type='vnc'>`.
    pub vnc: Option<Vnc>,
    /// SCSI controllers declared by RAW data.
    pub scsi_controllers: Vec<RawScsiController>,
    /// `<metadata><guestos>`.
    pub guest_os: Option<String>,
    /// `<metadata><pcibridge>`.
    pub pci_bridge: Option<u32>,
    /// DATA_VMX pairs (`<metadata><datavmx>`, or the 3.8/4.0 raw metadata text), each key
    /// once, in first-appearance order, the last value winning.
    pub data_vmx: Vec<(String, String)>,
    /// What was ignored (unknown elements, device kinds, graphics types...).
    pub warnings: Vec<String>,
}

/// A datastore path `[<datastore>] <path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastorePath {
    /// The datastore name (an OpenNebula datastore id such as `0`).
    pub datastore: String,
    /// The path inside it (`42/disk.0/disk.vmdk`).
    pub path: String,
}

impl DatastorePath {
    /// Parses `[ds] path`; the path must be non-empty and relative.
    pub fn parse(s: &str) -> Option<DatastorePath> {
        let rest = s.trim().strip_prefix('[')?;
        let (ds, path) = rest.split_once(']')?;
        let path = path.trim_start();
        if ds.is_empty() || path.is_empty() || path.starts_with('/') {
            return None;
        }
        Some(DatastorePath {
            datastore: ds.to_string(),
            path: path.to_string(),
        })
    }

    /// The folder part of the path (`42/disk.0` for `42/disk.0/disk.vmdk`; empty at the
    /// datastore's root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
}

impl std::fmt::Display for DatastorePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.datastore, self.path)
    }
}

impl Deployment {
    /// The OpenNebula VM id in the name `one-<vmid>`, if the name has that shape.
    pub fn vmid(&self) -> Option<u64> {
        let digits = self.name.strip_prefix("one-")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The system datastore: the `[ds]` of the first disk's source.
    pub fn system_datastore(&self) -> Option<&str> {
        self.disks.first().map(|d| d.source.datastore.as_str())
    }
}

#[cfg(test)]
mod tests;
