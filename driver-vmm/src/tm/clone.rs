//! `clone <fe:SOURCE> <host>:<sysds path>/<vmid>/disk.<N> <vmid> <imgds>`: a non-persistent
//! image copied for one VM. A disk image (a folder holding `disk.vmdk`) becomes a thin copy
//! `[<sysds>] <vmid>/disk.<N>/disk.vmdk`; a CD-ROM image (an ISO file) is copied to
//! `[<sysds>] <vmid>/disk.<N>.iso`. A failed copy leaves nothing half-written behind.

use driver_common::{output, DriverError, Result};

use crate::storage::location::{
    check_same_ds, parse_host_path, parse_id, parse_image, parse_vm_path, ImagePath, VmPath,
};
use crate::storage::site::{Entry, Site};
use crate::storage::{expect_args, with_site};

/// What clone and ln are given: the image, the VM disk it becomes, on which host.
pub struct DiskTransfer {
    /// The host that does the work.
    pub host: String,
    /// The image (`fe:` part ignored).
    pub image: ImagePath,
    /// The VM disk `disk.<N>`.
    pub target: VmPath,
}

/// Parses `<fe:SOURCE> <host:dst> <vmid> <imgds>` (clone and ln).
pub fn parse_transfer(action: &str, args: &[String]) -> Result<DiskTransfer> {
    expect_args(
        action,
        "<fe>:<image source> <host>:<vm disk path> <vmid> <image datastore id>",
        args,
        4,
    )?;
    let src = parse_host_path(&args[0])?;
    let dst = parse_host_path(&args[1])?;
    let vmid = parse_id("VM id", &args[2])?;
    let dsid = parse_id("datastore id", &args[3])?;
    let image = parse_image(&src.path)?;
    check_same_ds(&format!("image {}", image.vmfs()), &image.ds, dsid)?;
    let target = parse_vm_path(&dst.path, vmid, false, true)?;
    Ok(DiskTransfer {
        host: dst.host,
        image,
        target,
    })
}

/// Copies the image to the VM disk.
pub async fn clone_image(site: &Site<'_>, t: &DiskTransfer) -> Result<String> {
    let img = site.store(&t.image.ds)?;
    let sys = site.store(&t.target.ds)?;
    let n = t.target.disk.unwrap_or(0);
    let vm_dir = t.target.vm_dir();
    match site.entry(img, &t.image.name).await? {
        None => Err(DriverError::new(format!(
            "image {} not found on datastore {} (host {})",
            t.image.vmfs(),
            img.name,
            site.conn.host_name
        ))),
        Some(Entry::Folder) => {
            let dir = format!("{vm_dir}/disk.{n}");
            // A retry finds what an earlier, interrupted run of this clone left: ours.
            if site.delete(sys, &dir).await? {
                output::info(&format!("removed the leftover [{}] {dir}", sys.name));
            }
            site.mkdir(sys, &dir).await?;
            let src = img.path(&format!("{}/disk.vmdk", t.image.name))?;
            let dst = format!("{dir}/disk.vmdk");
            if let Err(e) = site.copy_disk(&src, sys, &dst).await {
                let _ = site.delete(sys, &dir).await;
                return Err(e);
            }
            output::info(&format!("copied {src} to [{}] {dst} (thin)", sys.name));
            Ok(String::new())
        }
        Some(Entry::File(_)) => {
            site.mkdir(sys, &vm_dir).await?;
            let src = img.path(&t.image.name)?;
            let dst = format!("{vm_dir}/disk.{n}.iso");
            if let Err(e) = site.copy_file(&src, sys, &dst).await {
                let _ = site.delete(sys, &dst).await;
                return Err(e);
            }
            output::info(&format!("copied the ISO {src} to [{}] {dst}", sys.name));
            Ok(String::new())
        }
    }
}

/// Runs clone with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let t = parse_transfer("clone", args)?;
    with_site(&t.host, async |site| clone_image(site, &t).await).await
}
