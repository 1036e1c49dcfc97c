//! `mkimage <size MB> <format> <host>:<sysds path>/<vmid>/disk.<N> <vmid> <sysds>`: a volatile
//! disk. `vmdk_thin` → thin, `vmdk_zeroedthick` → preallocated, `vmdk_eagerzeroedthick` →
//! eagerZeroedThick (legacy silently made them all thin, contract §12.2), `raw` or no format →
//! the folder only. Also `mkswap <size MB> <host:dst> <vmid> <sysds>`: a blank thin disk
//! (legacy made none although the deployment file references it, §12.11; the guest formats
//! it as swap).

use driver_common::{output, Result};

use crate::storage::format::{parse_format, parse_size_mb, DiskFormat};
use crate::storage::location::{check_same_ds, parse_host_path, parse_id, parse_vm_path, VmPath};
use crate::storage::site::Site;
use crate::storage::{expect_args, with_site};

/// Makes the disk folder and, for a vmdk format, the disk.
pub async fn make_disk(
    site: &Site<'_>,
    target: &VmPath,
    size_mb: u64,
    format: DiskFormat,
) -> Result<String> {
    let sys = site.store(&target.ds)?;
    let dir = target.disk_dir().unwrap_or_default();
    match format {
        DiskFormat::Raw => {
            site.mkdir(sys, &dir).await?;
            output::info(&format!("made [{}] {dir} (raw: folder only)", sys.name));
        }
        DiskFormat::Vmdk(ty) => {
            // A retry finds what an earlier, interrupted run left: ours.
            if site.delete(sys, &dir).await? {
                output::info(&format!("removed the leftover [{}] {dir}", sys.name));
            }
            site.mkdir(sys, &dir).await?;
            let disk = format!("{dir}/disk.vmdk");
            if let Err(e) = site.create_disk(sys, &disk, size_mb, ty).await {
                let _ = site.delete(sys, &dir).await;
                return Err(e);
            }
            output::info(&format!(
                "created [{}] {disk}: {size_mb} MB, {ty}",
                sys.name
            ));
        }
    }
    Ok(String::new())
}

fn target(dst: &str, vmid: &str, dsid: &str) -> Result<(String, VmPath)> {
    let dst = parse_host_path(dst)?;
    let vmid = parse_id("VM id", vmid)?;
    let dsid = parse_id("datastore id", dsid)?;
    let t = parse_vm_path(&dst.path, vmid, false, true)?;
    check_same_ds(&format!("disk {}", t.vmfs()), &t.ds, dsid)?;
    Ok((dst.host, t))
}

/// Runs mkimage with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    expect_args(
        "mkimage",
        "<size MB> <format> <host>:<vm disk path> <vmid> <system datastore id>",
        args,
        5,
    )?;
    let size = parse_size_mb(&args[0])?;
    let format = parse_format(&args[1])?;
    let (host, t) = target(&args[2], &args[3], &args[4])?;
    with_site(&host, async |site| make_disk(site, &t, size, format).await).await
}

/// Runs mkswap with OpenNebula's arguments.
pub async fn run_mkswap(args: &[String]) -> Result<String> {
    expect_args(
        "mkswap",
        "<size MB> <host>:<vm disk path> <vmid> <system datastore id>",
        args,
        4,
    )?;
    let size = parse_size_mb(&args[0])?;
    let (host, t) = target(&args[1], &args[2], &args[3])?;
    with_site(&host, async |site| {
        make_disk(site, &t, size, DiskFormat::Vmdk("thin")).await
    })
    .await
}
