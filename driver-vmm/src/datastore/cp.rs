//! `cp`: registers an image from the front-end path `IMAGE/PATH` into
//! `/vmfs/volumes/<ds>/<new name>` and prints that SOURCE.
//!
//! - a folder of `.vmdk` files: its descriptor (`disk.vmdk`, else the one `.vmdk` that is
//!   not an extent) is uploaded as `disk.vmdk` with the extents it names; a single extent becomes
//!   `disk-flat.vmdk` and the copy's descriptor says so. The user's folder is only read (legacy
//!   renamed the descriptor inside it, contract §12.14). Hosted sparse and streamOptimized
//!   disks are refused: ESX cannot run them as they are;
//! - one `.vmdk` descriptor of such a folder: that disk alone (its extents beside it), copied
//!   as above; a single-file (monolithic) disk is refused as above;
//! - a `.tar.gz` of such a folder (its files at the top or in one folder), unpacked while it
//!   streams: large files go straight to the datastore, descriptors are read in memory;
//! - a CD-ROM image (`TYPE` CDROM): the file itself becomes the image;
//! - an http(s) URL (redirects followed, see [`remote`]) of a CD-ROM image, of a `.tar.gz`
//!   as above, or of a `.vmdk` descriptor whose extents are fetched from beside it, streamed
//!   from the server to the datastore, its `MD5`/`SHA1` computed on the way (of the file the
//!   URL names) and checked at the end (a mismatch removes the new image). A file sent
//!   without `Content-Length` is spooled to the temporary directory first, at most the
//!   datastore's free space: the datastore's `/folder` PUT needs the length up front, and
//!   a server that omits it on GET rarely gives it on HEAD or to a Range probe. Other
//!   formats (qcow2, raw, bzip2, zip, OVA) are refused, saying what is accepted.
//!
//! The path is checked against `RESTRICTED_DIRS`/`SAFE_DIRS`. Uploads stream over the
//! datastore HTTP interface with the session cookie; a failure deletes the new folder or
//! file, so no half-written image is left, and a `cp` killed midway, failing once its image
//! is complete, or whose partial image a server still handling the cut upload makes again,
//! is cleaned up by the next `cp` or `monitor` (its upload was recorded, see
//! [`pending`](crate::storage::pending)). The
//! image's `MD5`/`SHA1` are checked for an ISO or a local `.tar.gz` before anything is
//! uploaded (a folder with one is refused).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use driver_common::{output, DriverError, Result};

use crate::storage::checksum::{verify, DigestReader, Digests};
use crate::storage::dirs::check_local_path;
use crate::storage::location::{plain_name, shown, VOLUMES};
use crate::storage::pending::{self, Pending};
use crate::storage::remote::UrlImage;
use crate::storage::site::{Site, Store};
use crate::storage::vmdk::{pick_descriptor, Descriptor, MAX_DESCRIPTOR};
use crate::storage::{new_image_name, not_implemented, remote, with_site};

/// What to upload: `(local file, name in the new image folder)`, plus the descriptor text.
struct FolderPlan {
    descriptor: String,
    files: Vec<(PathBuf, String)>,
}

/// Reads the folder and plans the copy (nothing is uploaded yet).
fn plan_folder(dir: &Path) -> Result<FolderPlan> {
    let io = |e: std::io::Error| DriverError::new(format!("cannot read {}: {e}", dir.display()));
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".vmdk") && std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
            names.push(name);
        }
    }
    names.sort();
    let desc_name = pick_descriptor(&names)?;
    plan_descriptor(dir, &desc_name)
}

/// Plans the copy of the disk whose descriptor is `dir/desc_name` with the extents it names
/// (which must lie beside it).
fn plan_descriptor(dir: &Path, desc_name: &str) -> Result<FolderPlan> {
    let io = |e: std::io::Error| DriverError::new(format!("cannot read {}: {e}", dir.display()));
    let desc_path = dir.join(desc_name);
    let d = Descriptor::read(
        std::fs::File::open(&desc_path).map_err(io)?,
        &desc_path.display().to_string(),
    )?;
    let (text, extents) = d.for_copy();
    let mut files = Vec::new();
    for (local, remote) in extents {
        let p = dir.join(&local);
        if !p.is_file() {
            return Err(DriverError::new(format!(
                "the descriptor {} names the extent {} which is not in the folder",
                desc_path.display(),
                shown(&local)
            )));
        }
        if !plain_name(&remote) || remote == "disk.vmdk" {
            return Err(DriverError::new(format!(
                "unusable extent name {}",
                shown(&remote)
            )));
        }
        files.push((p, remote));
    }
    Ok(FolderPlan {
        descriptor: text,
        files,
    })
}

/// Uploads the plan into `name/` of `store`.
async fn upload_folder(
    site: &Site<'_>,
    store: &Store,
    name: &str,
    plan: &FolderPlan,
) -> Result<()> {
    site.mkdir(store, name).await?;
    for (local, remote) in &plan.files {
        let n = site
            .upload_file(store, local, &format!("{name}/{remote}"))
            .await?;
        output::info(&format!(
            "uploaded {} as [{}] {name}/{remote} ({n} bytes)",
            local.display(),
            store.name
        ));
    }
    site.put_text(store, &format!("{name}/disk.vmdk"), &plan.descriptor)
        .await
}

/// Runs cp with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let (data, id) = super::image_args("cp", args)?;
    let image = data.image()?.clone();
    let path = image.path.trim().to_string();
    if remote::is_url(&path) {
        return run_url(&data, &image, id, &path).await;
    }
    let real = check_local_path(
        &path,
        &data.datastore.restricted_dirs,
        &data.datastore.safe_dirs,
    )?;
    let md = std::fs::metadata(&real)
        .map_err(|e| DriverError::new(format!("cannot read {}: {e}", shown(&path))))?;
    enum What {
        Folder(FolderPlan),
        Iso(PathBuf),
        Tarball(PathBuf),
    }
    let what = if md.is_dir() {
        What::Folder(plan_folder(&real)?)
    } else if image.cdrom && md.is_file() {
        What::Iso(real.clone())
    } else if md.is_file() && (path.ends_with(".tar.gz") || path.ends_with(".tgz")) {
        What::Tarball(real.clone())
    } else if md.is_file() && path.ends_with(".vmdk") {
        // One disk of a folder: its descriptor and the extents it names beside it.
        let (Some(dir), Some(file)) = (real.parent(), real.file_name()) else {
            return Err(DriverError::new(format!("cannot read {}", shown(&path))));
        };
        What::Folder(plan_descriptor(dir, &file.to_string_lossy())?)
    } else {
        return Err(not_implemented(
            "datastore/vmfs",
            "cp of a single file that is neither a CD-ROM image, a .vmdk nor a .tar.gz",
        ));
    };
    // The image's checksum, checked before anything is uploaded.
    let (md5, sha1) = (image.md5.trim(), image.sha1.trim());
    match &what {
        What::Iso(f) | What::Tarball(f) => verify(f, md5, sha1)?,
        What::Folder(_) if !md5.is_empty() || !sha1.is_empty() => {
            return Err(DriverError::new(format!(
                "{} is a folder: MD5/SHA1 can only be checked for a single file (an ISO or a .tar.gz)",
                shown(&path)
            )))
        }
        What::Folder(_) => {}
    }
    let ds = data.datastore.name.clone();
    register(&data, id, async |site, store, name| match &what {
        What::Folder(plan) => upload_folder(site, store, name, plan).await,
        What::Tarball(file) => upload_local_tarball(site, store, name, file).await,
        What::Iso(file) => site.upload_file(store, file, name).await.map(|n| {
            output::info(&format!(
                "uploaded {} as [{ds}] {name} ({n} bytes)",
                file.display()
            ));
        }),
    })
    .await
}

/// Connects to the bridge host, removes what `cp` runs killed midway (or failed) left on the
/// datastore (see [`pending`](crate::storage::pending)), runs `upload` into a new image name
/// recorded as in progress, and returns its SOURCE. A failed upload removes what it left and
/// keeps its record, so that a later run deletes the name again should the server make it
/// anew; the record of a successful one goes once the action has reported its success.
async fn register(
    data: &crate::storage::ds_data::DsData,
    id: u64,
    upload: impl AsyncFnOnce(&Site<'_>, &Store, &str) -> Result<()>,
) -> Result<String> {
    let bridge = data.bridge(id)?.to_string();
    let ds = data.datastore.name.clone();
    let name = new_image_name(id);
    with_site(&bridge, async |site| {
        let store = site.store(&ds)?;
        pending::remove_leftovers(site, &bridge, store).await;
        let record = Pending::begin(&bridge, &ds, &name);
        let uploaded = upload(site, store, &name).await;
        match (&uploaded, record) {
            // The record stays until the SOURCE is on stdout and the action ends in success:
            // a process killed before, or an action failing after this point, gives oned
            // nothing, and the next cp removes the image it made.
            (Ok(()), Some(record)) => output::after_success(move || record.finish()),
            (Ok(()), None) => {}
            // The record stays (unlocked once this process is gone): a server still handling
            // the cut upload can make the name again after this delete.
            (Err(_), record) => {
                let later = if record.is_some() {
                    "the next cp or monitor deletes it again"
                } else {
                    "not recorded: nothing deletes it again"
                };
                match site.delete(store, &name).await {
                    Ok(true) => output::info(&format!(
                        "removed the partial image [{ds}] {name} ({later})"
                    )),
                    Ok(false) => {}
                    Err(d) => output::info(&format!(
                        "cannot remove the partial image [{ds}] {name} ({later}): {d}"
                    )),
                }
            }
        }
        uploaded.map(|()| format!("{VOLUMES}/{ds}/{name}"))
    })
    .await
}

/// cp of an http(s) URL (see [`remote::url_image`]), streamed to the datastore with its
/// checksums computed on the way.
async fn run_url(
    data: &crate::storage::ds_data::DsData,
    image: &crate::storage::ds_data::ImageInfo,
    id: u64,
    url: &str,
) -> Result<String> {
    let kind = remote::url_image(url, image.cdrom)?;
    let digests = Arc::new(Mutex::new(Digests::new(&image.md5, &image.sha1)));
    let dl = remote::open(url).await?;
    let shown = remote::shown_url(url);
    let source = DigestReader {
        inner: dl.body,
        digests: digests.clone(),
    };
    let (from, length) = (dl.url, dl.length);
    register(data, id, async |site, store, name| {
        match kind {
            UrlImage::Tarball => {
                upload_tarball(site, store, name, Box::new(source), &shown).await?;
            }
            UrlImage::File => {
                upload_download(site, store, name, source, length, &shown).await?;
            }
            UrlImage::Vmdk => {
                upload_url_vmdk(site, store, name, source, &from, &shown).await?;
            }
        }
        let d = std::mem::replace(
            &mut *digests
                .lock()
                .map_err(|_| DriverError::new("checksum state lost"))?,
            Digests::new("", ""),
        );
        d.check(&shown)
    })
    .await
}

/// Uploads one downloaded file to `rel`: streamed when its size is known, else spooled
/// first to a file in the temporary directory (the datastore's `/folder` PUT needs the
/// length up front), at most as large as the datastore's free space.
async fn upload_download(
    site: &Site<'_>,
    store: &Store,
    rel: &str,
    source: impl std::io::Read + Send + 'static,
    length: Option<u64>,
    shown: &str,
) -> Result<()> {
    let ds = &store.name;
    let Some(length) = length else {
        let limit = u64::try_from(store.free).unwrap_or(0);
        let tmp = remote::TempFile(std::env::temp_dir().join(format!(
            "one-cp-{}-{}",
            std::process::id(),
            new_image_name(0)
        )));
        let n = remote::spool(source, &tmp.0, limit, shown.to_string())
            .await
            .map_err(|e| e.context(format!("spooling for datastore {ds} ({limit} bytes free)")))?;
        output::info(&format!(
            "{shown} did not announce its size: spooled to {} first ({n} bytes)",
            tmp.0.display()
        ));
        site.upload_file(store, &tmp.0, rel).await?;
        output::info(&format!("uploaded {shown} as [{ds}] {rel} ({n} bytes)"));
        return Ok(());
    };
    let (reader, pump) = pump(source, shown.to_string());
    let sent = site.upload_stream(store, rel, reader, length).await;
    let _ = pump.await;
    sent?;
    output::info(&format!(
        "uploaded {shown} as [{ds}] {rel} ({length} bytes)"
    ));
    Ok(())
}

/// Uploads the `.vmdk` descriptor read from `source` (fetched from `from`, shown as
/// `shown`) into `name/` as `disk.vmdk`, with the extents it names downloaded from beside
/// it on the same server.
async fn upload_url_vmdk(
    site: &Site<'_>,
    store: &Store,
    name: &str,
    source: impl std::io::Read + Send + 'static,
    from: &str,
    shown: &str,
) -> Result<()> {
    let label = shown.to_string();
    let d = tokio::task::spawn_blocking(move || Descriptor::read(source, &label))
        .await
        .map_err(|e| DriverError::new(format!("download thread failed: {e}")))??;
    let (text, extents) = d.for_copy();
    site.mkdir(store, name).await?;
    for (url, to) in remote::extent_urls(from, &extents) {
        let dl = remote::open(&url).await?;
        let label = remote::shown_url(&url);
        upload_download(
            site,
            store,
            &format!("{name}/{to}"),
            dl.body,
            dl.length,
            &label,
        )
        .await?;
    }
    site.put_text(store, &format!("{name}/disk.vmdk"), &text)
        .await
}

/// Reads `source` (named `label` in its errors) on a blocking thread and hands its bytes
/// over as an `AsyncRead`.
fn pump(
    mut source: impl std::io::Read + Send + 'static,
    label: String,
) -> (ChunkReader, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let handle = tokio::task::spawn_blocking(move || loop {
        let mut buf = vec![0u8; 256 * 1024];
        let item = match source.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(std::io::Error::new(
                e.kind(),
                format!("reading {label}: {e}"),
            )),
        };
        let failed = item.is_err();
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    });
    let reader = ChunkReader {
        rx,
        cur: Vec::new(),
        at: 0,
    };
    (reader, handle)
}

/// What the archive-reading thread hands over.
enum TarMsg {
    /// A small `.vmdk` (a descriptor, or a tiny extent), read whole.
    Small(String, Vec<u8>),
    /// A large file: its name, size and its bytes as they are read.
    Large(
        String,
        u64,
        tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    ),
}

/// An `AsyncRead` over the chunks of one archive entry.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    at: usize,
}

impl tokio::io::AsyncRead for ChunkReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        loop {
            if self.at < self.cur.len() {
                let n = buf.remaining().min(self.cur.len() - self.at);
                let at = self.at;
                buf.put_slice(&self.cur[at..at + n]);
                self.at += n;
                return Poll::Ready(Ok(()));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.cur = chunk;
                    self.at = 0;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Reads the archive on a blocking thread and sends its `.vmdk` files (other files are
/// skipped); an error ends the stream with it. The source is read to its end (for its
/// checksums).
fn read_archive(
    source: Box<dyn std::io::Read + Send>,
    tx: tokio::sync::mpsc::Sender<Result<TarMsg>>,
) {
    use crate::storage::tarball::TarReader;
    let run = || -> Result<()> {
        let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(source));
        let mut tar = TarReader::new(gz);
        while let Some(entry) = tar.next_entry()? {
            if !entry.name.ends_with(".vmdk") {
                continue;
            }
            if entry.size <= MAX_DESCRIPTOR {
                let mut data = vec![0u8; entry.size as usize];
                let mut got = 0;
                while got < data.len() {
                    got += tar.read_data(&mut data[got..])?;
                }
                if tx
                    .blocking_send(Ok(TarMsg::Small(entry.name, data)))
                    .is_err()
                {
                    return Ok(());
                }
                continue;
            }
            let (ctx, crx) = tokio::sync::mpsc::channel(4);
            if tx
                .blocking_send(Ok(TarMsg::Large(entry.name, entry.size, crx)))
                .is_err()
            {
                return Ok(());
            }
            loop {
                let mut buf = vec![0u8; 256 * 1024];
                match tar.read_data(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        if ctx.blocking_send(Ok(buf)).is_err() {
                            return Ok(());
                        }
                    }
                    Err(e) => {
                        let _ = ctx.blocking_send(Err(std::io::Error::other(e.to_string())));
                        return Err(e);
                    }
                }
            }
        }
        let mut rest = tar.into_inner().into_inner();
        std::io::copy(&mut rest, &mut std::io::sink())
            .map_err(|e| DriverError::new(format!("reading the image archive: {e}")))?;
        Ok(())
    };
    if let Err(e) = run() {
        let _ = tx.blocking_send(Err(e));
    }
}

/// Unpacks the local `.tar.gz` at `file` into `name/` of `store` as it streams.
async fn upload_local_tarball(
    site: &Site<'_>,
    store: &Store,
    name: &str,
    file: &Path,
) -> Result<()> {
    let f = std::fs::File::open(file)
        .map_err(|e| DriverError::new(format!("cannot read {}: {e}", file.display())))?;
    upload_tarball(site, store, name, Box::new(f), &file.display().to_string()).await
}

/// Unpacks the `.tar.gz` stream `source` (named `label` in messages) into `name/` of
/// `store` as it streams.
async fn upload_tarball(
    site: &Site<'_>,
    store: &Store,
    name: &str,
    source: Box<dyn std::io::Read + Send>,
    label: &str,
) -> Result<()> {
    site.mkdir(store, name).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let reader = tokio::task::spawn_blocking(move || read_archive(source, tx));
    let mut small: Vec<(String, Vec<u8>)> = Vec::new();
    let mut large: Vec<String> = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg? {
            TarMsg::Small(n, data) => small.push((n, data)),
            TarMsg::Large(n, size, crx) => {
                let src = ChunkReader {
                    rx: crx,
                    cur: Vec::new(),
                    at: 0,
                };
                site.upload_stream(store, &format!("{name}/{n}"), src, size)
                    .await?;
                output::info(&format!(
                    "unpacked {n} ({size} bytes) into [{}] {name}",
                    store.name
                ));
                large.push(n);
            }
        }
    }
    let _ = reader.await;
    let mut names: Vec<String> = small.iter().map(|(n, _)| n.clone()).collect();
    names.extend(large.iter().cloned());
    let desc_name = pick_descriptor(&names)?;
    let desc = small.iter().find(|(n, _)| *n == desc_name).ok_or_else(|| {
        DriverError::new(format!(
            "{} is too large for a VMDK descriptor",
            shown(&desc_name)
        ))
    })?;
    let d =
        Descriptor::parse(&desc.1).map_err(|e| e.context(format!("image {label}/{desc_name}")))?;
    let (text, extents) = d.for_copy();
    for (from, to) in &extents {
        if let Some((_, data)) = small.iter().find(|(n, _)| n == from) {
            let bytes = data.clone();
            site.upload_stream(
                store,
                &format!("{name}/{to}"),
                std::io::Cursor::new(bytes),
                data.len() as u64,
            )
            .await?;
        } else if large.contains(from) {
            if from != to {
                site.move_file(store, &format!("{name}/{from}"), &format!("{name}/{to}"))
                    .await?;
            }
        } else {
            return Err(DriverError::new(format!(
                "the descriptor {desc_name} names the extent {} which is not in the archive",
                shown(from)
            )));
        }
    }
    site.put_text(store, &format!("{name}/disk.vmdk"), &text)
        .await
}
