//! Records of image uploads in progress, so that the leftover of a `cp` killed midway, or of
//! one that failed, is removed by a later run.
//!
//! Before `cp` makes its new image folder or file on a datastore, it writes a record
//! `~/.one/vmware-uploads/<name>.upload` (host, datastore, image name) and holds an
//! exclusive `flock` on it for as long as it runs. The record goes away only once the action
//! has reported its success (the SOURCE printed, just before exiting 0). A process killed
//! midway, or a `cp` that fails (after its image is complete, or with its upload cut off and
//! its partial copy deleted), leaves its record behind, unlocked (the kernel drops the lock
//! with the process). A failed upload keeps its record even once it has deleted its partial
//! copy because a server still handling the cut upload (a real ESX with the rest of the
//! request in its buffers) can make the folder or file again after that delete. The next
//! `cp` or datastore `monitor` through the same host and datastore ([`remove_leftovers`])
//! takes the lock, deletes what the record names (found or not, so the same name may be
//! deleted twice: harmless) and then the record. A record still locked belongs to a running
//! `cp` and is left alone; only names of the form [`new_image_name`](super::new_image_name)
//! gives (32 hex digits) are ever deleted, and such a name never reached OpenNebula while its
//! record exists: oned takes the SOURCE only from a run that exits 0, and such a run removed
//! the record after printing it (a run killed after printing it leaves the record, so its
//! image is removed by the next one). Every run draws a new name, so a later upload's image
//! is never one a record names.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};

use driver_common::{output, DriverError, Result};

use super::site::{Site, Store};

/// Records older than this that never got their final name (a `cp` killed while writing
/// one) are removed.
const STALE_TEMP_SECS: u64 = 600;

/// `~/.one/vmware-uploads`, where the records live (`None` without an absolute `$HOME`).
fn dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .map(|h| h.join(".one").join("vmware-uploads"))
}

/// Whether `name` is an image name `cp` generates.
fn generated(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Takes the exclusive lock on `f`, without waiting when `wait` is false.
fn lock(f: &File, wait: bool) -> bool {
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    // SAFETY: flock on a descriptor `f` owns; no memory is shared.
    unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
}

/// The record of one upload in progress, locked while it lives.
#[derive(Debug)]
pub struct Pending {
    path: PathBuf,
    _file: File,
}

impl Pending {
    /// Records that `name` is about to be made on datastore `ds` through `host`. When that
    /// cannot be done (no usable home directory, a file system error) the log says so and
    /// `None` comes back: the upload goes on unrecorded, and still deletes its partial copy
    /// on a failure it sees.
    pub fn begin(host: &str, ds: &str, name: &str) -> Option<Pending> {
        Pending::write(host, ds, name).unwrap_or_else(|e| {
            output::info(&format!(
                "{e}: a kill midway would leave [{ds}] {name} behind"
            ));
            None
        })
    }

    fn write(host: &str, ds: &str, name: &str) -> Result<Option<Pending>> {
        let Some(dir) = dir() else {
            output::info("no $HOME: the upload is not recorded for a later clean-up");
            return Ok(None);
        };
        if !generated(name) || [host, ds].iter().any(|s| s.contains(['\n', '\r'])) {
            return Err(DriverError::new(format!(
                "cannot record the upload of {name}: unusable host or datastore name"
            )));
        }
        let err = |p: &Path, e: std::io::Error| {
            DriverError::new(format!("cannot record the upload in {}: {e}", p.display()))
        };
        {
            use std::os::unix::fs::DirBuilderExt as _;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| err(&dir, e))?;
        }
        let temp = dir.join(format!("{name}.tmp"));
        let path = dir.join(format!("{name}.upload"));
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)
                .map_err(|e| err(&temp, e))?
        };
        let written = if lock(&file, true) {
            file.write_all(format!("{host}\n{ds}\n{name}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .and_then(|()| std::fs::rename(&temp, &path))
        } else {
            Err(std::io::Error::other("flock failed"))
        };
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(err(&path, e));
        }
        Ok(Some(Pending { path, _file: file }))
    }

    /// The upload is over, its image complete and reported: the record goes.
    pub fn finish(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The record of an upload whose process is gone, locked by this process.
#[derive(Debug)]
pub struct Leftover {
    /// The image name it made (or was about to make).
    pub name: String,
    path: PathBuf,
    _file: File,
}

impl Leftover {
    /// What the record named is gone from the datastore: the record goes too.
    pub fn cleaned(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a record: `(host, datastore, name)`.
fn parse(text: &str) -> Option<(&str, &str, &str)> {
    let mut lines = text.lines();
    let parts = (lines.next()?, lines.next()?, lines.next()?);
    (lines.next().is_none() && generated(parts.2)).then_some(parts)
}

/// The records of uploads through `host` to datastore `ds` whose process is gone (each
/// locked until dropped or [`cleaned`](Leftover::cleaned)); stale half-written records are
/// removed on the way.
pub fn leftovers(host: &str, ds: &str) -> Vec<Leftover> {
    let Some(dir) = dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let file_name = e.file_name().to_string_lossy().into_owned();
        if file_name.ends_with(".tmp") {
            let old = e
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > STALE_TEMP_SECS);
            if old {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if !file_name.ends_with(".upload") {
            continue;
        }
        let Ok(mut file) = File::open(&path) else {
            continue;
        };
        if !lock(&file, false) || !same_file(&file, &path) {
            continue;
        }
        let mut text = String::new();
        if std::io::Read::by_ref(&mut file)
            .take(4096)
            .read_to_string(&mut text)
            .is_err()
        {
            continue;
        }
        match parse(&text) {
            Some((h, d, name)) if h == host && d == ds => out.push(Leftover {
                name: name.to_string(),
                path,
                _file: file,
            }),
            Some(_) => {}
            None => {
                output::info(&format!(
                    "removing the unreadable record {}",
                    path.display()
                ));
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    out
}

/// Deletes from `store` what the records of uploads through `host` to that datastore whose
/// process is gone name (see [`leftovers`]), each record going once its name is deleted or
/// found gone; a delete that fails keeps its record for a later run. Logs what it removed
/// and what it could not; returns how many names it found and deleted.
pub async fn remove_leftovers(site: &Site<'_>, host: &str, store: &Store) -> usize {
    let ds = &store.name;
    let mut removed = 0;
    for left in leftovers(host, ds) {
        match site.delete(store, &left.name).await {
            Ok(found) => {
                if found {
                    output::info(&format!(
                        "removed [{ds}] {}, left by an image upload that was killed or failed",
                        left.name
                    ));
                    removed += 1;
                }
                left.cleaned();
            }
            Err(e) => output::info(&format!(
                "cannot remove [{ds}] {}, left by an upload that was killed or failed (kept for a later run): {e}",
                left.name
            )),
        }
    }
    removed
}

/// Whether `path` still names the file `f` is open on (its owner may have removed it
/// between our open and our lock).
fn same_file(f: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_only_generated_names() {
        let name = "0123456789abcdef0123456789abcdef";
        assert_eq!(parse(&format!("h\n1\n{name}\n")), Some(("h", "1", name)));
        assert_eq!(parse("h\n1\nmy-image\n"), None);
        assert_eq!(parse(&format!("h\n1\n{name}\nmore\n")), None);
        assert_eq!(parse("h\n1\n"), None);
    }
}
