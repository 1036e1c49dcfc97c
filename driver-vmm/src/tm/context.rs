//! `context <context.sh> [<file>[:<name>] ...] <host>:<sysds path>/<vmid>/disk.<N> <vmid> <dsid>`:
//! the CONTEXT CD-ROM. Built on the front-end from the context files (ISO 9660 with Joliet,
//! volume label `CONTEXT`, [`crate::storage::iso`]; `file:name` puts `file` on the ISO as
//! `name`), in a temporary file that is removed afterwards, and uploaded over the datastore
//! HTTP interface to `[<sysds>] <vmid>/disk.<N>.iso`. An http(s) URL among the files is
//! downloaded first (legacy used wget) and goes on the ISO under the last component of its
//! path; everything lives in one temporary folder that is removed afterwards.

use std::path::{Path, PathBuf};

use driver_common::{output, DriverError, Result};

use crate::storage::iso::{check_name, write_iso, IsoFile};
use crate::storage::location::{check_same_ds, parse_host_path, parse_id, parse_vm_path, shown};
use crate::storage::{remote, with_site};

/// Largest context file fetched from a URL (bytes).
const MAX_URL_FILE: u64 = 256 * 1024 * 1024;

/// The files for the ISO from the arguments before the destination.
pub fn iso_files(args: &[String]) -> Result<Vec<IsoFile>> {
    let mut out = Vec::new();
    for a in args {
        // `file:name` (legacy's rename), else the file's own name.
        let (path, name) = match a.rsplit_once(':') {
            Some((p, n)) if p.starts_with('/') && !n.contains('/') => {
                (p.to_string(), n.to_string())
            }
            _ => {
                let n = a.rsplit('/').next().unwrap_or_default().to_string();
                (a.clone(), n)
            }
        };
        if !path.starts_with('/') {
            return Err(DriverError::new(format!(
                "context file {} is not an absolute path",
                shown(a)
            )));
        }
        check_name(&name)?;
        let md = std::fs::metadata(&path).map_err(|e| {
            DriverError::new(format!("cannot read context file {}: {e}", shown(&path)))
        })?;
        if !md.is_file() {
            return Err(DriverError::new(format!(
                "context file {} is not a regular file",
                shown(&path)
            )));
        }
        out.push(IsoFile {
            name,
            source: PathBuf::from(path),
            size: md.len(),
        });
    }
    Ok(out)
}

/// Downloads the files given as URLs into `dir`; returns the arguments with each URL
/// replaced by `<downloaded file>:<name>`.
async fn fetch_urls(args: &[String], dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        if !remote::is_url(a) {
            out.push(a.clone());
            continue;
        }
        let name = remote::file_name(a);
        if name.is_empty() {
            return Err(DriverError::new(format!(
                "context URL {} names no file",
                remote::shown_url(a)
            )));
        }
        check_name(name)?;
        let local = dir.join(format!("url-{i}"));
        let n = remote::fetch_to(a, &local, MAX_URL_FILE).await?;
        output::info(&format!(
            "fetched {} ({n} bytes) for the CONTEXT ISO",
            remote::shown_url(a)
        ));
        out.push(format!("{}:{name}", local.display()));
    }
    Ok(out)
}

/// A temporary folder, removed with its content when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs context with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    if args.len() < 4 {
        return Err(DriverError::usage(
            "context",
            "<context.sh> [<file>[:<name>] ...] <host>:<vm disk path> <vmid> <system datastore id>",
            args,
        ));
    }
    let n = args.len();
    let dst = parse_host_path(&args[n - 3])?;
    let vmid = parse_id("VM id", &args[n - 2])?;
    let dsid = parse_id("datastore id", &args[n - 1])?;
    let target = parse_vm_path(&dst.path, vmid, false, true)?;
    check_same_ds(&format!("disk {}", target.vmfs()), &target.ds, dsid)?;
    let tmp = TempDir(std::env::temp_dir().join(format!(
        "one-context-{vmid}-{}-{}",
        std::process::id(),
        crate::storage::new_image_name(vmid)
    )));
    std::fs::create_dir(&tmp.0)
        .map_err(|e| DriverError::new(format!("cannot create {}: {e}", tmp.0.display())))?;
    let sources = fetch_urls(&args[..n - 3], &tmp.0).await?;
    let files = iso_files(&sources)?;
    let iso = tmp.0.join("context.iso");
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&iso)
            .map_err(|e| DriverError::new(format!("cannot create {}: {e}", iso.display())))?;
        let mut w = std::io::BufWriter::new(f);
        write_iso(&mut w, "CONTEXT", &files)?;
    }
    let disk = target.disk.unwrap_or(0);
    let rel = format!("{vmid}/disk.{disk}.iso");
    with_site(&dst.host, async |site| {
        let sys = site.store(&target.ds)?;
        site.mkdir(sys, &vmid.to_string()).await?;
        if let Err(e) = site.upload_file(sys, &iso, &rel).await {
            let _ = site.delete(sys, &rel).await;
            return Err(e);
        }
        output::info(&format!(
            "uploaded the CONTEXT ISO ({} file(s)) to [{}] {rel}",
            files.len(),
            sys.name
        ));
        Ok(String::new())
    })
    .await
}
