//! Link records (TM `ln`, [`crate::storage::link`]) resolved where devices are built: deploy
//! and attach_disk.
//!
//! A disk whose source is `[<sysds>] <vmid>/disk.<N>/disk.vmdk`, or a CD-ROM whose source is
//! `[<sysds>] <vmid>/disk.<N>.iso`, uses the record's `SOURCE` (the persistent image itself)
//! when `[<sysds>] <vmid>/disk.<N>.link` exists. Round trips: one search of the VM's folder
//! for `disk.*.link` (with the files' sizes), then one download per record a device needs.
//! A record that is oversized, malformed or of the other kind fails the action before
//! anything is created.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use driver_common::connect::Conn;
use driver_common::{DriverError, Result};
use vim_sdk::datastore::{DatastoreFiles, DatastoreLocation};
use vim_sdk::mo;
use vim_sdk::ops::Managers;
use vim_sdk::types::{AnyFileQuery, FileQueryFlags, HostDatastoreBrowserSearchSpec};

use crate::storage::link::{record_path, LinkRecord, MAX_LEN};
use crate::storage::site::datacenter_path;

/// What a source path can be linked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The disk number `N`.
    pub n: u32,
    /// `disk.<N>/disk.vmdk` (`true`) or `disk.<N>.iso` (`false`).
    pub disk: bool,
}

/// The slot of `path` (inside the system datastore) when it is `<vmid>/disk.<N>/disk.vmdk`
/// or `<vmid>/disk.<N>.iso`, the only shapes a link record can stand for.
pub fn slot(path: &str, vmid: u64) -> Option<Slot> {
    let rest = path.strip_prefix(&format!("{vmid}/disk."))?;
    let (digits, disk) = if let Some(d) = rest.strip_suffix("/disk.vmdk") {
        (d, true)
    } else {
        (rest.strip_suffix(".iso")?, false)
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Slot {
        n: digits.parse().ok()?,
        disk,
    })
}

/// `N` of a `disk.<N>.link` file name.
fn record_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("disk.")?.strip_suffix(".link")?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Checks that `record` (for disk `n`) is of the kind the device needs.
pub fn check_kind(record: &LinkRecord, slot: Slot, where_: &str) -> Result<()> {
    if record.disk != slot.disk {
        return Err(DriverError::new(format!(
            "bad link record {where_}: KIND={} but the device is a {}",
            if record.disk { "disk" } else { "cdrom" },
            if slot.disk { "disk" } else { "CD-ROM" }
        )));
    }
    Ok(())
}

/// A sink refusing more than [`MAX_LEN`] bytes.
struct Bounded {
    bytes: Vec<u8>,
    over: bool,
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.bytes.len() + buf.len() > MAX_LEN {
            self.over = true;
            return Poll::Ready(Err(std::io::Error::other("link record too large")));
        }
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Reads the link records of VM `vmid` on system datastore `ds_name` (searched with
/// `browser`, the datastore's) for the disk numbers in `wanted` (nothing at all when
/// `wanted` is empty): one search of `<vmid>/`, one download per wanted record found. A
/// missing folder means no records.
pub async fn read_records(
    conn: &Conn,
    browser: &mo::HostDatastoreBrowser,
    ds_name: &str,
    vmid: u64,
    wanted: &[u32],
) -> Result<BTreeMap<u32, LinkRecord>> {
    let mut out = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let folder = format!("[{ds_name}] {vmid}");
    let spec = HostDatastoreBrowserSearchSpec {
        query: vec![AnyFileQuery::FileQuery(Box::default())],
        details: Some(FileQueryFlags {
            file_type: true,
            file_size: true,
            modification: false,
            file_owner: Some(false),
        }),
        match_pattern: vec!["disk.*.link".to_string()],
        ..Default::default()
    };
    let found = browser
        .search_datastore_task(&conn.session, &folder, Some(&spec))
        .await?
        .wait(&conn.session)
        .await;
    let files = match found {
        Ok(r) => r.file,
        Err(e) if matches!(e.fault_type(), Some("FileNotFound" | "NotFound")) => return Ok(out),
        Err(e) => return Err(DriverError::from(e).context(format!("searching {folder}"))),
    };
    let mut todo = Vec::new();
    for f in &files {
        let info = f.base();
        let Some(n) = record_number(&info.path) else {
            continue;
        };
        if !wanted.contains(&n) {
            continue;
        }
        if info.file_size.unwrap_or(0) > MAX_LEN as i64 {
            return Err(DriverError::new(format!(
                "bad link record [{ds_name}] {}: {} bytes, more than the {MAX_LEN} accepted: \
                 nothing was created",
                record_path(vmid, n),
                info.file_size.unwrap_or(0)
            )));
        }
        todo.push(n);
    }
    if todo.is_empty() {
        return Ok(out);
    }
    let managers = Managers::from_content(conn.session.content());
    let files = DatastoreFiles::new(
        &managers,
        conn.datacenter.clone(),
        DatastoreLocation::new(datacenter_path(conn).await?, ds_name.to_string()),
    );
    for n in todo {
        let rel = record_path(vmid, n);
        let shown = format!("[{ds_name}] {rel}");
        let mut sink = Bounded {
            bytes: Vec::new(),
            over: false,
        };
        let got = files.download(&conn.session, &rel, &mut sink, |_| {}).await;
        if sink.over {
            return Err(DriverError::new(format!(
                "bad link record {shown}: more than {MAX_LEN} bytes: nothing was created"
            )));
        }
        got.map_err(|e| DriverError::from(e).context(format!("cannot read {shown}")))?;
        let text = String::from_utf8(sink.bytes).map_err(|_| {
            DriverError::new(format!(
                "bad link record {shown}: not UTF-8: nothing was created"
            ))
        })?;
        let record = LinkRecord::parse(&text)
            .map_err(|e| e.context(format!("{shown}: nothing was created")))?;
        out.insert(n, record);
    }
    Ok(out)
}

/// The file a hot-plugged disk `file` (`[<sysds>] <vmid>/disk.<N>/disk.vmdk`) stands for: the
/// image of its link record when `disk.<N>.link` exists beside it, else `file` itself.
/// Round trips: the host's datastores (two, [`Site::open`](crate::storage::site::Site::open),
/// which reads each one's browser too), the search and its task read (two), one download
/// when there is a record.
pub async fn hotplug_file(conn: &Conn, file: &str, vmid: u64) -> Result<String> {
    let Some(path) = crate::deployment::DatastorePath::parse(file) else {
        return Ok(file.to_string());
    };
    let Some(slot) = slot(&path.path, vmid) else {
        return Ok(file.to_string());
    };
    let site = crate::storage::site::Site::open(conn).await?;
    let store = site.store(&path.datastore)?;
    let browser = match &store.browser {
        Some(b) => b.clone(),
        None => store.ds.browser(&conn.session).await?,
    };
    let records = read_records(conn, &browser, &store.name, vmid, &[slot.n]).await?;
    match records.get(&slot.n) {
        None => Ok(file.to_string()),
        Some(record) => {
            let shown = format!("[{}] {}", store.name, record_path(vmid, slot.n));
            check_kind(record, slot, &shown)?;
            Ok(record.source())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_record_names() {
        assert_eq!(
            slot("42/disk.2/disk.vmdk", 42),
            Some(Slot { n: 2, disk: true })
        );
        assert_eq!(
            slot("42/disk.10.iso", 42),
            Some(Slot { n: 10, disk: false })
        );
        for bad in [
            "43/disk.2/disk.vmdk",
            "42/disk.2/other.vmdk",
            "42/disk./disk.vmdk",
            "42/disk.x.iso",
            "42/disk.2.vmdk",
            "42/disk.1234567890.iso",
            "42/sub/disk.2.iso",
            "img/disk.vmdk",
        ] {
            assert_eq!(slot(bad, 42), None, "{bad}");
        }
        assert_eq!(record_number("disk.3.link"), Some(3));
        assert_eq!(record_number("disk..link"), None);
        assert_eq!(record_number("disk.3.link.bak"), None);
        let rec = LinkRecord {
            disk: false,
            ds: "1".into(),
            rel: "iso".into(),
        };
        assert!(check_kind(&rec, Slot { n: 1, disk: false }, "x").is_ok());
        assert!(check_kind(&rec, Slot { n: 1, disk: true }, "x").is_err());
    }
}
