//! Controllers: their kinds, and the unit numbers devices may take on them.

use crate::types::AnyVirtualDevice;

/// The kinds of storage controller a disk or CD-ROM attaches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerKind {
    /// SCSI (LSI Logic, LSI Logic SAS, BusLogic, paravirtual): units 0–15, 7 is the
    /// controller's own.
    Scsi,
    /// IDE: two units per channel.
    Ide,
    /// SATA (AHCI): units 0–29.
    Sata,
    /// NVMe: units 0–14.
    Nvme,
}

impl ControllerKind {
    /// The kind of `device`, when it is a storage controller.
    pub fn of(device: &AnyVirtualDevice) -> Option<Self> {
        use AnyVirtualDevice as D;
        Some(match device {
            D::VirtualSCSIController(_)
            | D::ParaVirtualSCSIController(_)
            | D::VirtualBusLogicController(_)
            | D::VirtualLsiLogicController(_)
            | D::VirtualLsiLogicSASController(_) => ControllerKind::Scsi,
            D::VirtualIDEController(_) => ControllerKind::Ide,
            D::VirtualSATAController(_) | D::VirtualAHCIController(_) => ControllerKind::Sata,
            D::VirtualNVMEController(_) => ControllerKind::Nvme,
            _ => return None,
        })
    }

    /// How many unit numbers the controller has (`0..units`).
    pub fn units(self) -> i32 {
        match self {
            ControllerKind::Scsi => 16,
            ControllerKind::Ide => 2,
            ControllerKind::Sata => 30,
            ControllerKind::Nvme => 15,
        }
    }
}

/// The unit number a SCSI controller itself occupies (7 unless it says otherwise).
pub(crate) fn reserved_unit(controller: &AnyVirtualDevice) -> Option<i32> {
    use AnyVirtualDevice as D;
    let own = match controller {
        D::VirtualSCSIController(c) => c.scsi_ctlr_unit_number,
        D::ParaVirtualSCSIController(c) => c.scsi_ctlr_unit_number,
        D::VirtualBusLogicController(c) => c.scsi_ctlr_unit_number,
        D::VirtualLsiLogicController(c) => c.scsi_ctlr_unit_number,
        D::VirtualLsiLogicSASController(c) => c.scsi_ctlr_unit_number,
        _ => return None,
    };
    Some(own.unwrap_or(7))
}
