//! The `VirtualMachineConfigSpec` of `CreateVM_Task` built from a [`Deployment`].
//!
//! - name `one-<vmid>`, `memoryMB` (KiB rounded up), `numCPUs` (default 1), `guestId`
//!   (GUESTOS, else `otherGuest` / `otherGuest64` from the architecture);
//! - `files.vmPathName` is the full `.vmx` path `[<sysds>] <vmid>/one-<vmid>.vmx` (a folder-only
//!   path makes vcsim and ESX pick a new folder when `<vmid>/` exists, which the TM made);
//! - SCSI controllers 0-3 for the `sd*` targets (and those RAW declares), model from RAW, else
//!   the first SCSI disk's DRIVER, else `lsilogic`; IDE disks and CD-ROMs go on the two IDE
//!   controllers every new VM has (keys 200 and 201, as on ESX);
//! - disks: the existing files, `persistent`, with no `fileOperation` (never created nor
//!   destroyed); CD-ROMs with an ISO backing (the CONTEXT ISO among them);
//! - NICs on the port group by name with a static MAC; a MAC outside VMware's static range
//!   gets `ethernetN.checkMACAddress=FALSE`;
//! - extraConfig: `RemoteDisplay.vnc.*`, `pciBridgeN.present`, then the DATA_VMX pairs (which
//!   win over a key set above), each key once.

use std::collections::HashMap;

use vim_sdk::device::new_controller::{scsi_controller, ScsiModel};
use vim_sdk::device::{spec as dspec, DeviceList, NicBacking, NicModel};
use vim_sdk::types::{
    Any, AnyOptionValue, AnyVirtualDevice, AnyVirtualDeviceConfigSpec, OptionValue,
    VirtualController, VirtualDevice, VirtualDeviceConfigSpec, VirtualIDEController,
    VirtualMachineConfigSpec, VirtualMachineFileInfo, VirtualPCNet32, VirtualVmxnet,
    VirtualVmxnet2,
};
use vim_sdk::xml::ManagedObjectReference;

use super::{DatastorePath, Deployment, DeploymentError, DiskDevice};
use crate::disk_target::{Bus, IDE_CONTROLLERS};

/// The key of IDE controller `bus` on a new VM (ESX and vcsim create both).
pub const IDE_CONTROLLER_KEY_BASE: i32 = 200;

/// The VMware VM name (and OpenNebula deploy id) of VM `vmid`.
pub fn vm_name(vmid: u64) -> String {
    format!("one-{vmid}")
}

/// The `.vmx` path of VM `vmid`: `[<sysds>] <vmid>/one-<vmid>.vmx`, sysds from the first disk.
pub fn vmx_path(dep: &Deployment, vmid: u64) -> Result<DatastorePath, DeploymentError> {
    let ds = dep.system_datastore().ok_or_else(|| {
        DeploymentError(
            "no <disk>: the system datastore (the [ds] of the first disk) is unknown".into(),
        )
    })?;
    Ok(DatastorePath {
        datastore: ds.to_string(),
        path: format!("{vmid}/{}.vmx", vm_name(vmid)),
    })
}

/// The guest id: GUESTOS, else from the architecture (`x86_64` -> `otherGuest64`, anything
/// else, `i686` by default, -> `otherGuest`).
pub fn guest_id(dep: &Deployment) -> String {
    if let Some(g) = &dep.guest_os {
        return g.clone();
    }
    match dep.arch.as_deref() {
        Some("x86_64" | "amd64") => "otherGuest64".into(),
        _ => "otherGuest".into(),
    }
}

/// The NIC models OpenNebula's MODEL may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicKind {
    /// `e1000` (also the default).
    E1000,
    /// `e1000e`.
    E1000e,
    /// `vmxnet3`.
    Vmxnet3,
    /// `vmxnet2`.
    Vmxnet2,
    /// `vmxnet`.
    Vmxnet,
    /// `vlance` / `pcnet32`.
    PcNet32,
}

impl NicKind {
    /// The model named `model` (case-insensitive), `None` if unknown.
    pub fn from_model(model: &str) -> Option<NicKind> {
        Some(match model.to_ascii_lowercase().as_str() {
            "e1000" => NicKind::E1000,
            "e1000e" => NicKind::E1000e,
            "vmxnet3" => NicKind::Vmxnet3,
            "vmxnet2" => NicKind::Vmxnet2,
            "vmxnet" => NicKind::Vmxnet,
            "vlance" | "pcnet32" | "pcnet" => NicKind::PcNet32,
            _ => return None,
        })
    }
}

/// Whether `mac` (lower-case `xx:xx:xx:xx:xx:xx`) lies in VMware's static range
/// `00:50:56:00:00:00`-`00:50:56:3f:ff:ff`, the only one ESX accepts for a manual MAC
/// without `checkMACAddress=FALSE`.
pub fn in_vmware_static_range(mac: &str) -> bool {
    let Some(rest) = mac.strip_prefix("00:50:56:") else {
        return false;
    };
    u8::from_str_radix(rest.get(0..2).unwrap_or("zz"), 16).is_ok_and(|b| b <= 0x3f)
}

/// The NIC spec of `kind`: vim-sdk's builder, re-typed for the models it has no variant for.
fn nic_spec(
    list: &DeviceList,
    taken: &[i32],
    kind: NicKind,
    backing: &NicBacking,
    mac: Option<&str>,
) -> VirtualDeviceConfigSpec {
    let model = match kind {
        NicKind::E1000e => NicModel::E1000e,
        NicKind::Vmxnet3 => NicModel::Vmxnet3,
        _ => NicModel::E1000,
    };
    let mut spec = dspec::nic(list, taken, model, backing, mac);
    // The E1000 card is moved into the model asked for, not cloned: cloning a device links
    // the `Clone` of every device and backing type into the driver.
    spec.device = match (kind, std::mem::take(&mut spec.device)) {
        (NicKind::Vmxnet2, AnyVirtualDevice::VirtualE1000(c)) => {
            AnyVirtualDevice::VirtualVmxnet2(Box::new(VirtualVmxnet2 {
                base: VirtualVmxnet { base: c.base },
            }))
        }
        (NicKind::Vmxnet, AnyVirtualDevice::VirtualE1000(c)) => {
            AnyVirtualDevice::VirtualVmxnet(Box::new(VirtualVmxnet { base: c.base }))
        }
        (NicKind::PcNet32, AnyVirtualDevice::VirtualE1000(c)) => {
            AnyVirtualDevice::VirtualPCNet32(Box::new(VirtualPCNet32 { base: c.base }))
        }
        (_, device) => device,
    };
    spec
}

fn ide_controller(bus: u32) -> AnyVirtualDevice {
    AnyVirtualDevice::VirtualIDEController(Box::new(VirtualIDEController {
        base: VirtualController {
            base: VirtualDevice {
                key: IDE_CONTROLLER_KEY_BASE + bus as i32,
                ..Default::default()
            },
            bus_number: bus as i32,
            ..Default::default()
        },
    }))
}

/// Ordered extraConfig with each key once (a later `set` replaces the value in place).
#[derive(Default)]
struct ExtraConfig(Vec<(String, String)>);

impl ExtraConfig {
    fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            Some(e) => e.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

/// The extraConfig pairs of `dep` (VNC, PCI bridges, checkMACAddress, DATA_VMX), each key once.
pub fn extra_config(dep: &Deployment) -> Vec<(String, String)> {
    let mut x = ExtraConfig::default();
    for (n, nic) in dep.interfaces.iter().enumerate() {
        if let Some(mac) = &nic.mac {
            if !in_vmware_static_range(mac) {
                x.set(format!("ethernet{n}.checkMACAddress"), "FALSE");
            }
        }
    }
    if let Some(vnc) = &dep.vnc {
        x.set("RemoteDisplay.vnc.enabled", "TRUE");
        if let Some(ip) = &vnc.listen {
            x.set("RemoteDisplay.vnc.ip", ip.as_str());
        }
        if let Some(port) = vnc.port {
            x.set("RemoteDisplay.vnc.port", port.to_string());
        }
        if let Some(pw) = &vnc.passwd {
            x.set("RemoteDisplay.vnc.password", pw.as_str());
        }
        if let Some(keymap) = &vnc.keymap {
            x.set("RemoteDisplay.vnc.keymap", keymap.as_str());
        }
    }
    for n in 0..dep.pci_bridge.unwrap_or(0) {
        x.set(format!("pciBridge{n}.present"), "TRUE");
    }
    for (k, v) in &dep.data_vmx {
        x.set(k.as_str(), v.as_str());
    }
    x.0
}

/// The SCSI controller models by bus number: RAW's `<controller>`, else the DRIVER of the
/// first disk on that bus naming a SCSI model, else `lsilogic`. Warnings for unknown models.
fn scsi_models(dep: &Deployment, warnings: &mut Vec<String>) -> Vec<(u32, ScsiModel)> {
    let mut buses: Vec<u32> = dep
        .disks
        .iter()
        .filter(|d| d.target.bus == Bus::Scsi)
        .map(|d| d.target.controller)
        .chain(dep.scsi_controllers.iter().map(|c| c.index))
        .collect();
    buses.sort_unstable();
    buses.dedup();
    buses
        .into_iter()
        .map(|bus| {
            let raw = dep
                .scsi_controllers
                .iter()
                .find(|c| c.index == bus)
                .and_then(|c| c.model.as_deref());
            let from_raw = raw.and_then(|m| {
                let model = ScsiModel::from_vmx_name(m);
                if model.is_none() {
                    warnings.push(format!(
                        "SCSI controller {bus}: model {m:?} unknown, lsilogic used"
                    ));
                }
                model
            });
            let from_driver = || {
                dep.disks
                    .iter()
                    .filter(|d| d.target.bus == Bus::Scsi && d.target.controller == bus)
                    .find_map(|d| d.driver.as_deref().and_then(ScsiModel::from_vmx_name))
            };
            (
                bus,
                from_raw.or_else(from_driver).unwrap_or(ScsiModel::LsiLogic),
            )
        })
        .collect()
}

/// Builds the `CreateVM_Task` spec of `dep` for VM `vmid`. `networks` maps each port-group
/// name to its `Network` (the deploy checks they all exist on the host first). Returns the
/// spec and what was ignored.
pub fn build(
    dep: &Deployment,
    vmid: u64,
    networks: &HashMap<String, ManagedObjectReference>,
) -> Result<(VirtualMachineConfigSpec, Vec<String>), DeploymentError> {
    let mut warnings = Vec::new();
    let vmx = vmx_path(dep, vmid)?;
    let memory_mb = dep.memory_kib.div_ceil(1024);
    let memory_mb = i64::try_from(memory_mb)
        .ok()
        .filter(|m| *m <= 16 * 1024 * 1024)
        .ok_or_else(|| DeploymentError(format!("<memory>: {} KiB is too large", dep.memory_kib)))?;
    let num_cpus = i32::try_from(dep.vcpu.unwrap_or(1))
        .ok()
        .filter(|n| *n <= 768)
        .ok_or_else(|| DeploymentError("<vcpu>: too many".into()))?;

    let list = DeviceList::default();
    let mut taken: Vec<i32> = Vec::new();
    let mut changes: Vec<VirtualDeviceConfigSpec> = Vec::new();

    // SCSI controllers.
    // Each bus's controller by its place in `changes` (borrowed from there, not cloned).
    let mut scsi: HashMap<u32, usize> = HashMap::new();
    for (bus, model) in scsi_models(dep, &mut warnings) {
        let c = scsi_controller(&list, &taken, model, bus as i32);
        taken.push(c.device.base().key);
        scsi.insert(bus, changes.len());
        changes.push(c);
    }
    let ide: Vec<AnyVirtualDevice> = (0..IDE_CONTROLLERS).map(ide_controller).collect();

    // Disks and CD-ROMs.
    for disk in &dep.disks {
        let controller = match disk.target.bus {
            Bus::Ide => &ide[disk.target.controller as usize],
            Bus::Scsi => &changes[scsi[&disk.target.controller]].device,
        };
        let file = disk.device_file().to_string();
        let unit = disk.target.unit as i32;
        let spec = match disk.device {
            DiskDevice::Disk => {
                if disk.readonly {
                    warnings.push(format!(
                        "disk {}: <readonly/> has no equivalent for a hard disk; attached read-write",
                        disk.target_dev
                    ));
                }
                dspec::existing_disk(&list, &taken, controller, unit, &file, None)
            }
            DiskDevice::Cdrom => {
                dspec::cdrom_with_iso(&list, &taken, controller, unit, &file, None)
            }
        };
        taken.push(spec.device.base().key);
        changes.push(spec);
    }

    // NICs.
    for (n, nic) in dep.interfaces.iter().enumerate() {
        let network = networks.get(&nic.bridge).ok_or_else(|| {
            DeploymentError(format!(
                "<interface> {n}: port group {:?} does not exist on the host",
                nic.bridge
            ))
        })?;
        let kind = match nic.model.as_deref() {
            None => NicKind::E1000,
            Some(m) => NicKind::from_model(m).unwrap_or_else(|| {
                warnings.push(format!("<interface> {n}: model {m:?} unknown, e1000 used"));
                NicKind::E1000
            }),
        };
        let backing = NicBacking::PortGroup {
            name: nic.bridge.clone(),
            network: network.clone(),
        };
        let spec = nic_spec(&list, &taken, kind, &backing, nic.mac.as_deref());
        taken.push(spec.device.base().key);
        changes.push(spec);
    }

    let extra = extra_config(dep)
        .into_iter()
        .map(|(key, value)| {
            AnyOptionValue::OptionValue(Box::new(OptionValue {
                key,
                value: Some(Any::String(value)),
            }))
        })
        .collect();

    let spec = VirtualMachineConfigSpec {
        name: Some(vm_name(vmid)),
        guest_id: Some(guest_id(dep)),
        memory_mb: Some(memory_mb),
        num_cp_us: Some(num_cpus),
        files: Some(VirtualMachineFileInfo {
            vm_path_name: Some(vmx.to_string()),
            ..Default::default()
        }),
        device_change: changes
            .into_iter()
            .map(|c| AnyVirtualDeviceConfigSpec::VirtualDeviceConfigSpec(Box::new(c)))
            .collect(),
        extra_config: extra,
        ..Default::default()
    };
    Ok((spec, warnings))
}
