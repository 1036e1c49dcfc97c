//! detach_disk `<deploy_id> <disk_path> <target> <target_index> <vmid> <host>`: removes the
//! disk at the slot `<target>` names, which must be the file `<disk_path>` names; the file
//! is kept (no `fileOperation`). An empty slot is success (already detached); another disk
//! there is an error and nothing is changed.

use driver_common::connect::Conn;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::attach_disk::check;
use super::disk;

const USAGE: &str = "<deploy_id> <disk_path> <target> <target_index> <vmid> <host>";

/// Runs detach_disk.
pub async fn run(args: &[String]) -> Result<String> {
    let [d, p, t, i, v, h] = args else {
        return Err(DriverError::usage("detach_disk", USAGE, args));
    };
    let a = check("detach_disk", USAGE, args, [d, p, t, i, v, h])?;
    let removed = Conn::with_vm(&a.host, &a.deploy_id, async |conn, vm| {
        disk::detach(&conn.session, &vm, &a.target, &a.file)
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
