//! `stat`: the size in MB (rounded up) of what `cp` would register from `IMAGE/PATH` on the
//! front-end: a file's size, or the total of a folder's files. The path is checked against
//! `RESTRICTED_DIRS`/`SAFE_DIRS` as cp checks it. Runs on the front-end only (no connection).
//! Not built yet: http(s) URLs and the uncompressed size of compressed files.

use std::path::Path;

use driver_common::{DriverError, Result};

use crate::storage::dirs::check_local_path;
use crate::storage::location::shown;
use crate::storage::not_implemented;

/// Largest folder depth walked.
const MAX_DEPTH: usize = 16;

/// Total size of the regular files below `p` (symlinks to files count with their target's
/// size; symlinked folders are not followed).
pub fn local_size(p: &Path, depth: usize) -> std::io::Result<u64> {
    let md = std::fs::metadata(p)?;
    if md.is_file() {
        return Ok(md.len());
    }
    if !md.is_dir() || depth > MAX_DEPTH {
        return Ok(0);
    }
    let mut total = 0u64;
    for e in std::fs::read_dir(p)? {
        let e = e?;
        let lmd = std::fs::symlink_metadata(e.path())?;
        if lmd.file_type().is_symlink() {
            if let Ok(t) = std::fs::metadata(e.path()) {
                if t.is_file() {
                    total = total.saturating_add(t.len());
                }
            }
        } else {
            total = total.saturating_add(local_size(&e.path(), depth + 1)?);
        }
    }
    Ok(total)
}

/// Runs stat with OpenNebula's arguments.
pub fn run(args: &[String]) -> Result<String> {
    let (data, _) = super::image_args("stat", args)?;
    let path = data.image()?.path.clone();
    if path.starts_with("http://") || path.starts_with("https://") {
        return Err(not_implemented("datastore/vmfs", "stat of an http(s) URL"));
    }
    let real = check_local_path(
        &path,
        &data.datastore.restricted_dirs,
        &data.datastore.safe_dirs,
    )?;
    let bytes = local_size(&real, 0)
        .map_err(|e| DriverError::new(format!("cannot read {}: {e}", shown(&path))))?;
    if bytes == 0 {
        return Err(DriverError::new(format!(
            "image path {} is empty (0 bytes)",
            shown(&path)
        )));
    }
    Ok(bytes.div_ceil(1024 * 1024).to_string())
}
