//! `context <context.sh> [<file>[:<name>] ...] <host>:<sysds path>/<vmid>/disk.<N> <vmid> <dsid>`:
//! the CONTEXT CD-ROM. Built on the front-end from the context files (ISO 9660 with Joliet,
//! volume label `CONTEXT`, [`crate::storage::iso`]; `file:name` puts `file` on the ISO as
//! `name`), in a temporary file that is removed afterwards, and uploaded over the datastore
//! HTTP interface to `[<sysds>] <vmid>/disk.<N>.iso`. Not built yet: http(s) URLs among the
//! files (legacy fetched them with wget).

use std::path::PathBuf;

use driver_common::{output, DriverError, Result};

use crate::storage::iso::{check_name, write_iso, IsoFile};
use crate::storage::location::{check_same_ds, parse_host_path, parse_id, parse_vm_path, shown};
use crate::storage::{not_implemented, with_site};

/// The files for the ISO from the arguments before the destination.
pub fn iso_files(args: &[String]) -> Result<Vec<IsoFile>> {
    let mut out = Vec::new();
    for a in args {
        if a.starts_with("http://") || a.starts_with("https://") {
            return Err(not_implemented("tm/vmfs", "context with an http(s) URL"));
        }
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

/// Removes the temporary ISO when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
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
    let files = iso_files(&args[..n - 3])?;
    let tmp = TempFile(std::env::temp_dir().join(format!(
        "one-context-{vmid}-{}-{}.iso",
        std::process::id(),
        crate::storage::new_image_name(vmid)
    )));
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp.0)
            .map_err(|e| DriverError::new(format!("cannot create {}: {e}", tmp.0.display())))?;
        let mut w = std::io::BufWriter::new(f);
        write_iso(&mut w, "CONTEXT", &files)?;
    }
    let disk = target.disk.unwrap_or(0);
    let rel = format!("{vmid}/disk.{disk}.iso");
    with_site(&dst.host, async |site| {
        let sys = site.store(&target.ds)?;
        site.mkdir(sys, &vmid.to_string()).await?;
        if let Err(e) = site.upload_file(sys, &tmp.0, &rel).await {
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
