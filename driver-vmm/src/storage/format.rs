//! Disk formats: OpenNebula's `FORMAT`/`FSTYPE` values and the vSphere disk types they ask
//! for. Legacy (4.2–4.4) silently made every disk thin (contract §12.2); here each format
//! gets the type it names, and a format VMFS cannot hold is refused with a message.

use driver_common::{DriverError, Result};

use super::location::shown;

/// What to make for a requested format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFormat {
    /// A virtual disk of this vSphere `diskType` (`thin`, `preallocated`,
    /// `eagerZeroedThick`).
    Vmdk(&'static str),
    /// `raw` or no format: TM mkimage makes the directory only (as legacy did).
    Raw,
}

/// Largest disk accepted, in MB (62 TB, VMFS-5/6's limit).
pub const MAX_SIZE_MB: u64 = 62 * 1024 * 1024;

/// Maps a `FORMAT`/`FSTYPE` value: `vmdk_thin` → thin, `vmdk_zeroedthick` → preallocated
/// (ESX's zeroed thick), `vmdk_eagerzeroedthick` → eagerZeroedThick, `raw` or empty → raw.
/// Anything else (ext3, qcow2, ...) cannot be made on a VMFS datastore and is refused.
pub fn parse_format(v: &str) -> Result<DiskFormat> {
    match v.trim().to_ascii_lowercase().as_str() {
        "vmdk_thin" => Ok(DiskFormat::Vmdk("thin")),
        "vmdk_zeroedthick" => Ok(DiskFormat::Vmdk("preallocated")),
        "vmdk_eagerzeroedthick" => Ok(DiskFormat::Vmdk("eagerZeroedThick")),
        "" | "raw" => Ok(DiskFormat::Raw),
        _ => Err(DriverError::new(format!(
            "format {} cannot be made on a VMFS datastore: use vmdk_thin, vmdk_zeroedthick, vmdk_eagerzeroedthick or raw",
            shown(v)
        ))),
    }
}

/// Parses a size in MB: a positive integer up to [`MAX_SIZE_MB`].
pub fn parse_size_mb(v: &str) -> Result<u64> {
    let t = v.trim();
    let n: u64 = if !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().unwrap_or(0)
    } else {
        0
    };
    if n == 0 || n > MAX_SIZE_MB {
        return Err(DriverError::new(format!(
            "size {} is not a number of MB between 1 and {MAX_SIZE_MB}",
            shown(v)
        )));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_gets_its_own_type() {
        assert_eq!(parse_format("vmdk_thin").unwrap(), DiskFormat::Vmdk("thin"));
        assert_eq!(
            parse_format("vmdk_zeroedthick").unwrap(),
            DiskFormat::Vmdk("preallocated")
        );
        assert_eq!(
            parse_format("VMDK_EAGERZEROEDTHICK").unwrap(),
            DiskFormat::Vmdk("eagerZeroedThick")
        );
        assert_eq!(parse_format("raw").unwrap(), DiskFormat::Raw);
        assert_eq!(parse_format("").unwrap(), DiskFormat::Raw);
        for bad in ["ext3", "qcow2", "vmdk_zeroedthic", "vmdk_"] {
            assert!(parse_format(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size_mb("1024").unwrap(), 1024);
        for bad in ["0", "-1", "1.5", "", "x", "99999999999999"] {
            assert!(parse_size_mb(bad).is_err(), "{bad}");
        }
    }
}
