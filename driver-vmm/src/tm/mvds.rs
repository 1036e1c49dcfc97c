//! `mvds <host>:<sysds path>/<vmid>/disk.<N> <SOURCE> <vmid> <imgds>` (and `cpds`, the same
//! in 4.4): saves a VM's disk back into the image at `SOURCE` (`/vmfs/volumes/<imgds>/<name>`)
//! as a thin copy `<name>/disk.vmdk`.
//!
//! Nothing is copied for a disk that is linked (a persistent image used in place: its writes
//! are already in the image) or a CD-ROM. An image that already holds a disk keeps it until
//! the new copy is complete (copied beside it as `saving.vmdk`, then swapped in), so a failed
//! save never leaves the image half-written.

use driver_common::{output, DriverError, Result};

use crate::storage::link::record_path;
use crate::storage::location::{
    check_same_ds, parse_host_path, parse_id, parse_image, parse_vm_path, ImagePath, VmPath,
};
use crate::storage::site::Site;
use crate::storage::{expect_args, with_site};

/// Copies the disk into the image.
pub async fn save_disk(site: &Site<'_>, disk: &VmPath, image: &ImagePath) -> Result<String> {
    let sys = site.store(&disk.ds)?;
    let img = site.store(&image.ds)?;
    let n = disk.disk.unwrap_or(0);
    if site.entry(sys, &record_path(disk.vmid, n)).await?.is_some() {
        output::info(&format!(
            "disk {n} of VM {} is linked to its image: nothing to copy",
            disk.vmid
        ));
        return Ok(String::new());
    }
    let dir = disk.disk_dir().unwrap_or_default();
    let src_rel = format!("{dir}/disk.vmdk");
    if site.entry(sys, &src_rel).await?.is_none() {
        if site
            .entry(sys, &format!("{}/disk.{n}.iso", disk.vmid))
            .await?
            .is_some()
        {
            output::info(&format!(
                "disk {n} of VM {} is a CD-ROM: nothing to copy",
                disk.vmid
            ));
            return Ok(String::new());
        }
        return Err(DriverError::new(format!(
            "disk {} of VM {} not found: no [{}] {src_rel}",
            n, disk.vmid, sys.name
        )));
    }
    let src = sys.path(&src_rel)?;
    site.mkdir(img, &image.name).await?;
    let target = format!("{}/disk.vmdk", image.name);
    let had_disk = site.entry(img, &target).await?.is_some();
    let staging = if had_disk {
        format!("{}/saving.vmdk", image.name)
    } else {
        target.clone()
    };
    // A leftover of an interrupted save.
    if had_disk {
        site.delete_disk(img, &staging).await?;
    }
    if let Err(e) = site.copy_disk(&src, img, &staging).await {
        let _ = site.delete_disk(img, &staging).await;
        return Err(e);
    }
    if had_disk {
        site.delete_disk(img, &target).await?;
        site.move_disk(img, &staging, &target).await?;
    }
    output::info(&format!(
        "saved {src} to [{}] {target} (thin){}",
        img.name,
        if had_disk {
            ", replacing the image's disk"
        } else {
            ""
        }
    ));
    Ok(String::new())
}

/// Runs mvds (or cpds, `action`) with OpenNebula's arguments.
pub async fn run(action: &str, args: &[String]) -> Result<String> {
    expect_args(
        action,
        "<host>:<vm disk path> <image source> <vmid> <image datastore id>",
        args,
        4,
    )?;
    let src = parse_host_path(&args[0])?;
    let vmid = parse_id("VM id", &args[2])?;
    let dsid = parse_id("datastore id", &args[3])?;
    let disk = parse_vm_path(&src.path, vmid, false, true)?;
    // SOURCE is a plain path; a `host:` prefix is tolerated.
    let source = if args[1].starts_with('/') {
        args[1].clone()
    } else {
        parse_host_path(&args[1])?.path
    };
    let image = parse_image(&source)?;
    check_same_ds(&format!("image {}", image.vmfs()), &image.ds, dsid)?;
    with_site(&src.host, async |site| save_disk(site, &disk, &image).await).await
}
