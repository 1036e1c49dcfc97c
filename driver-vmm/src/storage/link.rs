//! The link record: what replaces legacy's symlinks for persistent images (TM `ln`).
//!
//! The vSphere API has no symlinks, so `ln` copies nothing and writes a small text file next
//! to where the disk would be, in the VM's directory on the system datastore:
//!
//! ```text
//! [<sysds>] <vmid>/disk.<N>.link
//! ```
//!
//! ```text
//! # OpenNebula vmfs link record: disk 2 of VM 42 is a persistent image used in place
//! VERSION=1
//! KIND=disk
//! SOURCE=[1] 0a1b2c.../disk.vmdk
//! ```
//!
//! `KIND` is `disk` (`SOURCE` is the image's `disk.vmdk`) or `cdrom` (`SOURCE` is the ISO
//! file). Whoever turns `[<sysds>] <vmid>/disk.<N>/disk.vmdk` or `.../disk.<N>.iso` into a
//! device (deploy, attach_disk) looks for `disk.<N>.link` first and uses `SOURCE` instead, so
//! writes land in the image itself. `delete` of the VM's directory or of `disk.<N>` removes
//! the record only: the image lies in its own folder of the image datastore and is never
//! below `<vmid>/`, so no deletion of the VM's files can reach it. `mvds` of a linked disk
//! has nothing to copy back.

use driver_common::{DriverError, Result};

use super::location::{plain_name, shown};

/// The record format's version.
pub const VERSION: u32 = 1;

/// Largest record accepted when reading one back (bytes).
pub const MAX_LEN: usize = 4096;

/// What a link record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// A disk (`true`) or a CD-ROM ISO (`false`).
    pub disk: bool,
    /// The image datastore.
    pub ds: String,
    /// The path below its root (`<hash>/disk.vmdk` or `<hash>`).
    pub rel: String,
}

/// `<vmid>/disk.<N>.link`.
pub fn record_path(vmid: u64, disk: u32) -> String {
    format!("{vmid}/disk.{disk}.link")
}

impl LinkRecord {
    /// `[ds] rel`: the file the device uses.
    pub fn source(&self) -> String {
        format!("[{}] {}", self.ds, self.rel)
    }

    /// The record's text for disk `disk` of VM `vmid`.
    pub fn render(&self, vmid: u64, disk: u32) -> String {
        format!(
            "# OpenNebula vmfs link record: disk {disk} of VM {vmid} is a persistent image used in place\nVERSION={VERSION}\nKIND={}\nSOURCE={}\n",
            if self.disk { "disk" } else { "cdrom" },
            self.source()
        )
    }

    /// Parses a record (read back from a datastore: untrusted).
    pub fn parse(text: &str) -> Result<LinkRecord> {
        let bad = |why: &str| DriverError::new(format!("bad link record: {why}"));
        if text.len() > MAX_LEN {
            return Err(bad("too large"));
        }
        let (mut version, mut kind, mut source) = (None, None, None);
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('=') {
                Some(("VERSION", v)) => version = Some(v),
                Some(("KIND", v)) => kind = Some(v),
                Some(("SOURCE", v)) => source = Some(v),
                _ => {}
            }
        }
        if version != Some("1") {
            return Err(bad("unknown VERSION"));
        }
        let disk = match kind {
            Some("disk") => true,
            Some("cdrom") => false,
            _ => return Err(bad("KIND is neither disk nor cdrom")),
        };
        let source = source.ok_or_else(|| bad("no SOURCE"))?;
        let (ds, rel) = source
            .strip_prefix('[')
            .and_then(|s| s.split_once("] "))
            .ok_or_else(|| bad(&format!("SOURCE {} is not [ds] path", shown(source))))?;
        if !plain_name(ds) || vim_sdk::datastore::check_relative_path(rel).is_err() {
            return Err(bad(&format!(
                "SOURCE {} is not a usable path",
                shown(source)
            )));
        }
        Ok(LinkRecord {
            disk,
            ds: ds.to_string(),
            rel: rel.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let r = LinkRecord {
            disk: true,
            ds: "1".into(),
            rel: "abc/disk.vmdk".into(),
        };
        let text = r.render(42, 2);
        assert!(text.contains("SOURCE=[1] abc/disk.vmdk"));
        assert_eq!(LinkRecord::parse(&text).unwrap(), r);
        assert_eq!(record_path(42, 2), "42/disk.2.link");
        for bad in [
            "VERSION=2\nKIND=disk\nSOURCE=[1] a/disk.vmdk",
            "VERSION=1\nKIND=x\nSOURCE=[1] a/disk.vmdk",
            "VERSION=1\nKIND=disk",
            "VERSION=1\nKIND=disk\nSOURCE=[1] ../0/x",
            "VERSION=1\nKIND=disk\nSOURCE=/vmfs/volumes/1/a",
        ] {
            assert!(LinkRecord::parse(bad).is_err(), "{bad}");
        }
    }
}
