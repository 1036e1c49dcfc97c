//! detach_disk `<deploy_id> <disk_path> <target> <target_index> <vmid> <host>`: removes the
//! disk at the slot `<target>` names, which must be the file `<disk_path>` names; the file
//! is kept (no `fileOperation`); for a linked disk (TM `ln`) the file is the image its link
//! record names, which is kept the same way. An empty slot is success (already detached); another disk
//! there is an error and nothing is changed.

use driver_common::connect::Conn;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::attach_disk::check;
use super::disk;
use super::links;

const USAGE: &str = "<deploy_id> <disk_path> <target> <target_index> <vmid> <host>";

/// Runs detach_disk.
pub async fn run(args: &[String]) -> Result<String> {
    let [d, p, t, i, v, h] = args else {
        return Err(DriverError::usage("detach_disk", USAGE, args));
    };
    let a = check("detach_disk", USAGE, args, [d, p, t, i, v, h])?;
    let removed = Conn::with_vm(&a.host, &a.deploy_id, async |conn, vm| {
        let mut devices = vm.devices(&conn.session).await?;
        // The link record is read only when the slot holds a disk other than `<disk_path>`'s
        // own file: an empty slot (already detached) or that very file need no record; the
        // check that only the right disk is removed stays in `detach_among`.
        let file = match disk::file_at(&devices, &a.target) {
            Some(f) if f != a.file => links::hotplug_file(conn, &a.file, a.vmid).await?,
            _ => a.file.clone(),
        };
        disk::detach_among(&conn.session, &vm, &mut devices, &a.target, &file)
            .await
            .map_err(DriverError::new)
    })
    .await
    .map_err(|e| {
        e.context(format!(
            "could not detach {} ({t}) from {} on host {}",
            a.file, a.deploy_id, a.host
        ))
    })?;
    output::info(&if removed {
        format!("detached {} ({t}); the file is kept", a.file)
    } else {
        format!("nothing at {t}: already detached")
    });
    Ok(String::new())
}
