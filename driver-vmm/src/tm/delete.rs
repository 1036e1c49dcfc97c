//! `delete <host>:<sysds path>/<vmid>[/disk.<N>] <vmid> <dsid>`: a VM's directory, or one of
//! its disks (the folder `disk.<N>`, the ISO `disk.<N>.iso`, the link record
//! `disk.<N>.link`). Only paths below the VM's own directory are ever deleted, so a
//! persistent image a disk links to (which lies in its image datastore) survives; what is
//! already gone is no error (OpenNebula retries).

use driver_common::{output, Result};

use crate::storage::location::{check_same_ds, parse_host_path, parse_id, parse_vm_path, VmPath};
use crate::storage::site::Site;
use crate::storage::{expect_args, with_site};

/// Deletes the VM directory or the disk's files.
pub async fn delete_path(site: &Site<'_>, target: &VmPath) -> Result<String> {
    let sys = site.store(&target.ds)?;
    let paths: Vec<String> = match target.disk {
        None => vec![target.vm_dir()],
        Some(n) => vec![
            format!("{}/disk.{n}", target.vmid),
            format!("{}/disk.{n}.iso", target.vmid),
            crate::storage::link::record_path(target.vmid, n),
        ],
    };
    let mut deleted = Vec::new();
    for p in &paths {
        if site.delete(sys, p).await? {
            deleted.push(format!("[{}] {p}", sys.name));
        }
    }
    if deleted.is_empty() {
        output::info(&format!("{} is already gone", target.vmfs()));
    } else {
        output::info(&format!("deleted {}", deleted.join(", ")));
    }
    Ok(String::new())
}

/// Runs delete with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    expect_args(
        "delete",
        "<host>:<vm directory or disk path> <vmid> <datastore id>",
        args,
        3,
    )?;
    let dst = parse_host_path(&args[0])?;
    let vmid = parse_id("VM id", &args[1])?;
    let dsid = parse_id("datastore id", &args[2])?;
    let target = parse_vm_path(&dst.path, vmid, true, true)?;
    if target.disk.is_none() {
        check_same_ds(&format!("VM directory {}", target.vmfs()), &target.ds, dsid)?;
    }
    with_site(&dst.host, async |site| delete_path(site, &target).await).await
}
