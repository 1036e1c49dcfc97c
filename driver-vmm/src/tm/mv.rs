//! `mv <prev_host>:<path> <host>:<path> <vmid> <dsid>`: a VM's directory
//! (`/vmfs/volumes/<ds>/<vmid>`) or one disk (`.../<vmid>/disk.<N>`) changes host and
//! perhaps datastore. On the same path nothing moves: the system datastore is shared by the
//! hosts (`shared="yes"`). Between datastores the files move through the new host's
//! connection with `MoveDatastoreFile_Task` (one server-side move each, never over an
//! existing destination): the VM's folder whole, or a disk's folder with its CD-ROM file
//! `disk.<N>.iso` and link record `disk.<N>.link` when present. Both paths must belong to the
//! VM and keep its id and disk number; the destination must not exist. A failed move leaves
//! the source where it was (what moved before the failure stays moved and is named). A run
//! killed midway is completed by the next: what is still at the source moves, and when
//! nothing is left there but the destination holds the folder, the move is done.

use driver_common::{output, DriverError, Result};

use crate::storage::location::{parse_host_path, parse_id, parse_vm_path, VmPath};
use crate::storage::site::Site;
use crate::storage::{expect_args, with_site};

/// Runs mv with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    expect_args(
        "mv",
        "<host>:<path> <host>:<path> <vmid> <datastore id>",
        args,
        4,
    )?;
    let src = parse_host_path(&args[0])?;
    let dst = parse_host_path(&args[1])?;
    let vmid = parse_id("VM id", &args[2])?;
    parse_id("datastore id", &args[3])?;
    let from = parse_vm_path(&src.path, vmid, true, true)?;
    let to = parse_vm_path(&dst.path, vmid, true, true)?;
    if from == to {
        output::info(&format!(
            "{} stays in place: shared datastore (from host {} to host {})",
            to.vmfs(),
            src.host,
            dst.host
        ));
        return Ok(String::new());
    }
    if from.disk != to.disk {
        return Err(DriverError::new(format!(
            "mv from {} to {}: a VM's directory or disk moves under the same name only",
            from.vmfs(),
            to.vmfs()
        )));
    }
    with_site(&dst.host, async |site| move_files(site, &from, &to).await).await?;
    Ok(String::new())
}

/// The files that make up `p`: the VM's folder, or a disk's folder, CD-ROM and link record.
fn members(p: &VmPath) -> Vec<String> {
    match p.disk {
        None => vec![p.vm_dir()],
        Some(n) => ["", ".iso", ".link"]
            .iter()
            .map(|ext| format!("{}/disk.{n}{ext}", p.vmid))
            .collect(),
    }
}

async fn move_files(site: &Site<'_>, from: &VmPath, to: &VmPath) -> Result<()> {
    let (src, dst) = (site.store(&from.ds)?, site.store(&to.ds)?);
    let mut present = Vec::new();
    for rel in members(from) {
        if site.entry(src, &rel).await?.is_some() {
            if site.entry(dst, &rel).await?.is_some() {
                return Err(DriverError::new(format!(
                    "mv to {}: [{}] {rel} already exists; nothing was moved",
                    to.vmfs(),
                    dst.name
                )));
            }
            present.push(rel);
        }
    }
    if present.is_empty() {
        // A run killed after its moves: the retry finds everything at the destination.
        let main = members(to).swap_remove(0);
        if site.entry(dst, &main).await?.is_some() {
            output::info(&format!(
                "{} is already at {}: nothing left to move",
                from.vmfs(),
                to.vmfs()
            ));
            return Ok(());
        }
        return Err(DriverError::new(format!(
            "mv from {}: nothing there to move",
            from.vmfs()
        )));
    }
    if from.disk.is_some() {
        site.mkdir(dst, &to.vm_dir()).await?;
    }
    for (i, rel) in present.iter().enumerate() {
        site.move_between(src, rel, dst, rel).await.map_err(|e| {
            if i == 0 {
                e
            } else {
                e.context(format!(
                    "already moved to [{}]: {}",
                    dst.name,
                    present[..i].join(", ")
                ))
            }
        })?;
        output::info(&format!(
            "moved [{}] {rel} to [{}] {rel}",
            src.name, dst.name
        ));
    }
    Ok(())
}
