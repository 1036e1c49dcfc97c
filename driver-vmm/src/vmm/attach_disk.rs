//! attach_disk `<deploy_id> <disk_path> <target> <target_index> <drv_message> <vmid> <host>`:
//! attaches the existing `[<ds>] <vmid>/disk.<N>/disk.vmdk` (from `<disk_path>` =
//! `/vmfs/volumes/<ds>/<vmid>/disk.<N>`, checked to be exactly that shape), or the image its
//! link record `<vmid>/disk.<N>.link` names (TM `ln`, [`super::links`]), at the controller
//! and unit `<target>` names, the same numbering deploy uses (SCSI units skip 7), adding an
//! LSI Logic controller when the VM has no SCSI controller of that number. No file is
//! created. The same file already at that slot is success; anything else there is an error.

use driver_common::connect::Conn;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::disk::{self, Attached};
use super::links;
use crate::disk_target::{self, DiskTarget};

const USAGE: &str = "<deploy_id> <disk_path> <target> <target_index> <drv_message> <vmid> <host>";

/// The checked arguments common to attach_disk and detach_disk: deploy id, target, the
/// disk's datastore path, host.
pub struct DiskArgs {
    /// The VM's name.
    pub deploy_id: String,
    /// The slot.
    pub target: DiskTarget,
    /// `[<ds>] <vmid>/disk.<N>/disk.vmdk`.
    pub file: String,
    /// The OpenNebula host.
    pub host: String,
    /// The OpenNebula VM id.
    pub vmid: u64,
}

/// Checks `deploy_id disk_path target target_index vmid host` (before any call).
pub fn check(
    action: &str,
    usage: &str,
    all: &[String],
    [deploy_id, disk_path, target, target_index, vmid, host]: [&String; 6],
) -> Result<DiskArgs> {
    let bad_usage = || DriverError::usage(action, usage, all);
    if deploy_id.is_empty() || host.is_empty() || target_index.parse::<u32>().is_err() {
        return Err(bad_usage());
    }
    let vmid: u64 = vmid.parse().map_err(|_| bad_usage())?;
    let target =
        disk_target::parse(target).map_err(|e| DriverError::new(format!("{action}: {e}")))?;
    let file = disk::datastore_path(disk_path, vmid)
        .map_err(|e| DriverError::new(format!("{action}: {e}")))?;
    Ok(DiskArgs {
        deploy_id: deploy_id.clone(),
        target,
        file,
        host: host.clone(),
        vmid,
    })
}

/// Runs attach_disk.
pub async fn run(args: &[String]) -> Result<String> {
    let [d, p, t, i, _drv_message, v, h] = args else {
        return Err(DriverError::usage("attach_disk", USAGE, args));
    };
    let a = check("attach_disk", USAGE, args, [d, p, t, i, v, h])?;
    let done = Conn::with_vm(&a.host, &a.deploy_id, async |conn, vm| {
        let devices = vm.devices(&conn.session).await?;
        // A slot already holding the file needs no link record to say so.
        let file = if disk::file_at(&devices, &a.target) == Some(a.file.as_str()) {
            a.file.clone()
        } else {
            links::hotplug_file(conn, &a.file, a.vmid).await?
        };
        if file != a.file {
            output::info(&format!("{} uses {file} in place (link record)", a.file));
        }
        disk::attach_among(&conn.session, &vm, &devices, &a.target, &file)
            .await
            .map_err(DriverError::new)
    })
    .await
    .map_err(|e| {
        e.context(format!(
            "could not attach {} ({t}) to {} on host {}",
            a.file, a.deploy_id, a.host
        ))
    })?;
    output::info(&match done {
        Attached::Added { controller_added } => format!(
            "attached {} as {t}{}",
            a.file,
            if controller_added {
                " on a new SCSI controller"
            } else {
                ""
            }
        ),
        Attached::AlreadyThere => format!("{} is already attached as {t}", a.file),
    });
    Ok(String::new())
}
