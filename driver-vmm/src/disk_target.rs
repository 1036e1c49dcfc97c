//! Mapping of a libvirt disk target name (`hda`, `sdb`, ...) to the virtual controller and
//! unit the disk occupies on a VMware VM (contract §3, TARGET).
//!
//! IDE: `hd<x>`, index = bus * 2 + unit, four slots (`hda` = IDE 0:0 ... `hdd` = IDE 1:1).
//! SCSI: `sd<x>`, fifteen usable units per controller (0-6 and 8-15: unit 7 is the
//! controller's own), so `sdh` is SCSI 0:8 and `sdp` is SCSI 1:0; at most four controllers.
//! Anything else (`vda`, `sd`, `sdaa`, `hde`, the empty string) is refused.

use std::fmt;

/// The kind of controller a disk target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bus {
    /// An IDE controller (`hd*`): two controllers of two units each.
    Ide,
    /// A SCSI controller (`sd*`): up to four controllers of fifteen units each.
    Scsi,
}

/// Where a disk target places the disk: controller (bus number) and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiskTarget {
    /// IDE or SCSI.
    pub bus: Bus,
    /// The controller's bus number (IDE 0-1, SCSI 0-3).
    pub controller: u32,
    /// The unit on that controller (IDE 0-1, SCSI 0-6 and 8-15).
    pub unit: u32,
}

/// Number of IDE controllers and units per IDE controller.
pub const IDE_CONTROLLERS: u32 = 2;
/// Units per IDE controller.
pub const IDE_UNITS: u32 = 2;
/// Number of SCSI controllers a VM may have.
pub const SCSI_CONTROLLERS: u32 = 4;
/// Usable units per SCSI controller (16 minus the controller's own unit 7).
pub const SCSI_UNITS: u32 = 15;
/// The unit a SCSI controller itself occupies.
pub const SCSI_CONTROLLER_UNIT: u32 = 7;

/// A disk target that names no slot this driver can map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    target: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unsupported disk target {:?}: expected hda-hdd (IDE) or sda-sdz (SCSI)",
            self.target
        )
    }
}

impl std::error::Error for TargetError {}

impl DiskTarget {
    /// The position of this slot among the slots of its bus kind (the target letter), the
    /// inverse of [`parse`] (`hdd` -> 3, `sdh` -> 7).
    pub fn index(&self) -> u32 {
        match self.bus {
            Bus::Ide => self.controller * IDE_UNITS + self.unit,
            Bus::Scsi => {
                let u = if self.unit > SCSI_CONTROLLER_UNIT {
                    self.unit - 1
                } else {
                    self.unit
                };
                self.controller * SCSI_UNITS + u
            }
        }
    }
}

/// Maps a libvirt target name to its controller and unit; see the module documentation.
pub fn parse(target: &str) -> Result<DiskTarget, TargetError> {
    let err = || TargetError {
        // Keep the error short even for a hostile, huge target.
        target: target.chars().take(32).collect(),
    };
    let (bus, letter) = match target.as_bytes() {
        [b'h', b'd', l] => (Bus::Ide, *l),
        [b's', b'd', l] => (Bus::Scsi, *l),
        _ => return Err(err()),
    };
    if !letter.is_ascii_lowercase() {
        return Err(err());
    }
    let index = u32::from(letter - b'a');
    match bus {
        Bus::Ide => {
            if index >= IDE_CONTROLLERS * IDE_UNITS {
                return Err(err());
            }
            Ok(DiskTarget {
                bus,
                controller: index / IDE_UNITS,
                unit: index % IDE_UNITS,
            })
        }
        Bus::Scsi => {
            let controller = index / SCSI_UNITS;
            if controller >= SCSI_CONTROLLERS {
                return Err(err());
            }
            let u = index % SCSI_UNITS;
            let unit = if u >= SCSI_CONTROLLER_UNIT { u + 1 } else { u };
            Ok(DiskTarget {
                bus,
                controller,
                unit,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bus: Bus, controller: u32, unit: u32) -> DiskTarget {
        DiskTarget {
            bus,
            controller,
            unit,
        }
    }

    #[test]
    fn ide_targets() {
        assert_eq!(parse("hda").unwrap(), t(Bus::Ide, 0, 0));
        assert_eq!(parse("hdb").unwrap(), t(Bus::Ide, 0, 1));
        assert_eq!(parse("hdc").unwrap(), t(Bus::Ide, 1, 0));
        assert_eq!(parse("hdd").unwrap(), t(Bus::Ide, 1, 1));
        assert!(parse("hde").is_err());
        assert!(parse("hdz").is_err());
    }

    #[test]
    fn scsi_targets_skip_the_controller_unit() {
        assert_eq!(parse("sda").unwrap(), t(Bus::Scsi, 0, 0));
        assert_eq!(parse("sdg").unwrap(), t(Bus::Scsi, 0, 6));
        assert_eq!(parse("sdh").unwrap(), t(Bus::Scsi, 0, 8));
        assert_eq!(parse("sdo").unwrap(), t(Bus::Scsi, 0, 15));
        assert_eq!(parse("sdp").unwrap(), t(Bus::Scsi, 1, 0));
        assert_eq!(parse("sdz").unwrap(), t(Bus::Scsi, 1, 11));
        // No target ever lands on unit 7.
        for l in b'a'..=b'z' {
            let name = format!("sd{}", l as char);
            let d = parse(&name).unwrap();
            assert_ne!(d.unit, SCSI_CONTROLLER_UNIT, "{name}");
            assert!(d.unit <= 15 && d.controller < SCSI_CONTROLLERS, "{name}");
        }
    }

    #[test]
    fn index_inverts_parse() {
        for l in b'a'..=b'z' {
            let d = parse(&format!("sd{}", l as char)).unwrap();
            assert_eq!(d.index(), u32::from(l - b'a'));
        }
        for l in b'a'..=b'd' {
            let d = parse(&format!("hd{}", l as char)).unwrap();
            assert_eq!(d.index(), u32::from(l - b'a'));
        }
    }

    #[test]
    fn other_names_are_refused() {
        for bad in [
            "", "vda", "sd", "hd", "sdaa", "hdaa", "sdA", "SDA", "sd1", "xda", "s", "sdé", "sd\0",
            "fd0", " sda", "sda ",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn error_names_the_target_and_stays_short() {
        let e = parse("vda").unwrap_err();
        assert!(e.to_string().contains("\"vda\""), "{e}");
        let huge = "x".repeat(100_000);
        assert!(parse(&huge).unwrap_err().to_string().len() < 200);
    }
}
