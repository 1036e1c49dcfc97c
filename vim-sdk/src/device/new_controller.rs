//! `VirtualDeviceConfigSpec`s that add a storage controller (for a new VM's `deviceChange`
//! or a `ReconfigVM_Task`).

use crate::types::{
    AnyVirtualDevice, ParaVirtualSCSIController, VirtualBusLogicController, VirtualController,
    VirtualDevice, VirtualDeviceConfigSpec, VirtualDeviceConfigSpecOperation,
    VirtualLsiLogicController, VirtualLsiLogicSASController, VirtualSCSIController,
    VirtualSCSISharing,
};

use super::DeviceList;

/// A SCSI controller model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScsiModel {
    /// LSI Logic Parallel (`lsilogic`).
    LsiLogic,
    /// BusLogic Parallel (`buslogic`).
    BusLogic,
    /// LSI Logic SAS (`lsisas1068`).
    LsiLogicSas,
    /// VMware Paravirtual (`pvscsi`).
    ParaVirtual,
}

impl ScsiModel {
    /// The model named as in a VMX file's `scsiN.virtualDev` (`lsilogic`, `buslogic`,
    /// `lsisas1068`, `pvscsi`; libvirt's `vmpvscsi` too), case-insensitively.
    pub fn from_vmx_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "lsilogic" => ScsiModel::LsiLogic,
            "buslogic" => ScsiModel::BusLogic,
            "lsisas1068" => ScsiModel::LsiLogicSas,
            "pvscsi" | "vmpvscsi" => ScsiModel::ParaVirtual,
            _ => return None,
        })
    }
}

/// Adds a SCSI controller of `model` on bus `bus` (0-3), not shared, with a new temporary
/// key (use the spec's `device.base().key` as the `controllerKey` of the disks added with it).
pub fn scsi_controller(
    list: &DeviceList,
    taken: &[i32],
    model: ScsiModel,
    bus: i32,
) -> VirtualDeviceConfigSpec {
    let scsi = VirtualSCSIController {
        base: VirtualController {
            base: VirtualDevice {
                key: list.new_key(taken),
                ..Default::default()
            },
            bus_number: bus,
            ..Default::default()
        },
        shared_bus: VirtualSCSISharing::NoSharing,
        ..Default::default()
    };
    let device =
        match model {
            ScsiModel::LsiLogic => {
                AnyVirtualDevice::VirtualLsiLogicController(Box::new(VirtualLsiLogicController {
                    base: scsi,
                }))
            }
            ScsiModel::BusLogic => {
                AnyVirtualDevice::VirtualBusLogicController(Box::new(VirtualBusLogicController {
                    base: scsi,
                }))
            }
            ScsiModel::LsiLogicSas => AnyVirtualDevice::VirtualLsiLogicSASController(Box::new(
                VirtualLsiLogicSASController { base: scsi },
            )),
            ScsiModel::ParaVirtual => {
                AnyVirtualDevice::ParaVirtualSCSIController(Box::new(ParaVirtualSCSIController {
                    base: scsi,
                }))
            }
        };
    VirtualDeviceConfigSpec {
        operation: Some(VirtualDeviceConfigSpecOperation::Add),
        device,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::ControllerKind;

    #[test]
    fn models_by_vmx_name() {
        assert_eq!(
            ScsiModel::from_vmx_name("LSILogic"),
            Some(ScsiModel::LsiLogic)
        );
        assert_eq!(
            ScsiModel::from_vmx_name("buslogic"),
            Some(ScsiModel::BusLogic)
        );
        assert_eq!(
            ScsiModel::from_vmx_name("lsisas1068"),
            Some(ScsiModel::LsiLogicSas)
        );
        assert_eq!(
            ScsiModel::from_vmx_name("pvscsi"),
            Some(ScsiModel::ParaVirtual)
        );
        assert_eq!(
            ScsiModel::from_vmx_name("vmpvscsi"),
            Some(ScsiModel::ParaVirtual)
        );
        assert_eq!(ScsiModel::from_vmx_name("file"), None);
    }

    #[test]
    fn controller_specs_add_a_scsi_controller_on_the_bus() {
        let list = DeviceList::default();
        let a = scsi_controller(&list, &[], ScsiModel::ParaVirtual, 2);
        let b = scsi_controller(&list, &[a.device.base().key], ScsiModel::LsiLogicSas, 3);
        assert_eq!(a.operation, Some(VirtualDeviceConfigSpecOperation::Add));
        assert!(a.device.base().key < 0 && a.device.base().key != b.device.base().key);
        assert_eq!(ControllerKind::of(&a.device), Some(ControllerKind::Scsi));
        match &a.device {
            AnyVirtualDevice::ParaVirtualSCSIController(c) => {
                assert_eq!(c.base.base.bus_number, 2);
                assert_eq!(c.base.shared_bus, VirtualSCSISharing::NoSharing);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            b.device,
            AnyVirtualDevice::VirtualLsiLogicSASController(_)
        ));
        // A new controller offers unit 0 and never its own unit 7.
        let with = DeviceList::new(vec![a.device.clone()]);
        assert_eq!(with.next_unit_number(&a.device), Some(0));
    }
}
