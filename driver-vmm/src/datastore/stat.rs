//! `stat`: the size in MB (rounded up) of what `cp` would register from `IMAGE/PATH` on the
//! front-end: a file's size, or the total of a folder's files. The path is checked against
//! `RESTRICTED_DIRS`/`SAFE_DIRS` as cp checks it. A `.tar.gz` counts the size of the `.vmdk`
//! files it holds (the unpacked disk cp registers), read through the whole archive. An
//! http(s) URL (the kinds cp accepts, redirects followed): its `Content-Length` (else its
//! bytes counted as they stream), for a `.tar.gz` the size of what it holds, streamed
//! through, for a `.vmdk` descriptor the size of its extents. Runs on the front-end only
//! (no vSphere connection).

use std::path::Path;

use driver_common::{DriverError, Result};

use crate::storage::dirs::check_local_path;
use crate::storage::location::shown;
use crate::storage::remote::{self, UrlImage};
use crate::storage::tarball::unpacked_size;
use crate::storage::vmdk::Descriptor;

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

/// Whether `path` names a `.tar.gz` (its query left aside for a URL).
fn is_tarball(path: &str) -> bool {
    let name = remote::file_name(path);
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

/// The size of what `url` holds (`cdrom`: a CD-ROM image): a file's `Content-Length` (its
/// bytes counted as they stream when the server does not say), the unpacked disk of a
/// `.tar.gz`, or a `.vmdk` descriptor with its extents.
async fn url_size(url: &str, cdrom: bool) -> Result<u64> {
    let kind = remote::url_image(url, cdrom)?;
    let dl = remote::open(url).await?;
    let shown = remote::shown_url(url);
    match kind {
        UrlImage::File => remote::size_of(dl).await,
        UrlImage::Tarball => {
            let body = dl.body;
            tokio::task::spawn_blocking(move || unpacked_size(body))
                .await
                .map_err(|e| DriverError::new(format!("reading {shown} failed: {e}")))?
                .map_err(|e| e.context(shown))
        }
        UrlImage::Vmdk => {
            let (from, body) = (dl.url, dl.body);
            let label = shown.clone();
            let d = tokio::task::spawn_blocking(move || Descriptor::read(body, &label))
                .await
                .map_err(|e| DriverError::new(format!("reading {shown} failed: {e}")))??;
            let (text, extents) = d.for_copy();
            let mut total = text.len() as u64;
            for (url, _) in remote::extent_urls(&from, &extents) {
                total = total.saturating_add(remote::size_of(remote::open(&url).await?).await?);
            }
            Ok(total)
        }
    }
}

/// Runs stat with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, _) = super::image_args("stat", args)?;
    let image = data.image()?;
    let path = image.path.trim().to_string();
    let bytes = if remote::is_url(&path) {
        url_size(&path, image.cdrom).await?
    } else {
        let real = check_local_path(
            &path,
            &data.datastore.restricted_dirs,
            &data.datastore.safe_dirs,
        )?;
        let io = |e: std::io::Error| DriverError::new(format!("cannot read {}: {e}", shown(&path)));
        if is_tarball(&path) && real.is_file() {
            let f = std::fs::File::open(&real).map_err(io)?;
            unpacked_size(f).map_err(|e| e.context(shown(&path)))?
        } else {
            local_size(&real, 0).map_err(io)?
        }
    };
    if bytes == 0 {
        let shown = if remote::is_url(&path) {
            remote::shown_url(&path)
        } else {
            shown(&path)
        };
        return Err(DriverError::new(format!(
            "image path {shown} is empty (0 bytes)"
        )));
    }
    Ok(bytes.div_ceil(1024 * 1024).to_string())
}
