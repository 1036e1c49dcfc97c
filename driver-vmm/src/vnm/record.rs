//! What `pre` tells a later `attach_nic` of the same VM: the port group each NIC (by MAC)
//! was given. OpenNebula's `ATTACHNIC` runs `pre` with the whole VM (the new NIC included),
//! then `attach_nic <deploy_id> <mac> <bridge> <model> <net_drv>`, whose arguments carry no
//! network id; in dynamic mode the card must go on `one-pg-<NETWORK_ID>`, not on `<bridge>`
//! (the vSwitch). So `pre` writes `vnm-vmware-nics` in the VM's front-end directory
//! (`$ONE_LOCATION/var/vms/<vmid>/`, else `<cwd>/vms/<vmid>/`, cwd being `/var/lib/one` for
//! OpenNebula's drivers), one line per NIC: `<mac> <port group> <vswitch>`.
//!
//! The file is replaced atomically (temporary file + rename), so a reader sees the old or
//! the new record, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The record's file name inside the VM's directory.
pub const FILE_NAME: &str = "vnm-vmware-nics";

/// One NIC's port group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The MAC, lower case.
    pub mac: String,
    /// The port group (`one-pg-<id>`).
    pub portgroup: String,
    /// Its vSwitch.
    pub vswitch: String,
}

/// The VM's front-end directory: `$ONE_LOCATION/var/vms/<vmid>` when `ONE_LOCATION` is set,
/// else `vms/<vmid>` under the current directory.
pub fn vm_dir(vmid: u64) -> PathBuf {
    match std::env::var_os("ONE_LOCATION") {
        Some(loc) if !loc.is_empty() => Path::new(&loc)
            .join("var")
            .join("vms")
            .join(vmid.to_string()),
        _ => Path::new("vms").join(vmid.to_string()),
    }
}

/// The record file of VM `vmid`.
pub fn path(vmid: u64) -> PathBuf {
    vm_dir(vmid).join(FILE_NAME)
}

/// Writes `entries` as the record in `dir` (created if missing).
pub fn write(dir: &Path, entries: &[Entry]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut text = String::new();
    for e in entries {
        text.push_str(&format!("{} {} {}\n", e.mac, e.portgroup, e.vswitch));
    }
    let tmp = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(FILE_NAME)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Parses a record; lines that are not three words are skipped (the file is ours, but a
/// hand-edited one must not make a driver panic).
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (mac, pg, vs) = (w.next()?, w.next()?, w.next()?);
            if w.next().is_some() {
                return None;
            }
            Some(Entry {
                mac: mac.to_ascii_lowercase(),
                portgroup: pg.to_string(),
                vswitch: vs.to_string(),
            })
        })
        .collect()
}

/// The entry for `mac` in the record at `file`; `Ok(None)` when the file or the MAC is
/// absent.
pub fn lookup(file: &Path, mac: &str) -> std::io::Result<Option<Entry>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mac = mac.to_ascii_lowercase();
    Ok(parse(&text).into_iter().find(|e| e.mac == mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_lookup() {
        let dir = std::env::temp_dir().join(format!("vnm-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let entries = vec![
            Entry {
                mac: "02:00:0a:00:00:01".into(),
                portgroup: "one-pg-1".into(),
                vswitch: "vSwitch0".into(),
            },
            Entry {
                mac: "02:00:0a:00:00:10".into(),
                portgroup: "one-pg-10".into(),
                vswitch: "vSwitch1".into(),
            },
        ];
        write(&dir, &entries).unwrap();
        let file = dir.join(FILE_NAME);
        assert_eq!(
            lookup(&file, "02:00:0A:00:00:10").unwrap(),
            Some(entries[1].clone())
        );
        assert_eq!(lookup(&file, "02:00:0a:00:00:02").unwrap(), None);
        assert_eq!(lookup(&dir.join("nothing"), "x").unwrap(), None);
        // Rewriting replaces the record.
        write(&dir, &entries[..1]).unwrap();
        assert_eq!(lookup(&file, "02:00:0a:00:00:10").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let got = parse("a b c\nonly two\nx y z w\n\nd e f\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].portgroup, "e");
    }
}
