//! `mv <prev_host>:<path> <host>:<path> <vmid> <dsid>`: the system datastore is shared by the
//! hosts (`shared="yes"`), so a VM's files stay where they are when it changes host; both
//! paths are checked and must be the same. Moving between datastores is not built yet.

use driver_common::{output, DriverError, Result};

use crate::storage::expect_args;
use crate::storage::location::{parse_host_path, parse_id, parse_vm_path};

/// Runs mv with OpenNebula's arguments.
pub fn run_sync(args: &[String]) -> Result<String> {
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
    if from != to {
        return Err(DriverError::new(format!(
            "mv from {} to {}: moving files between datastores or paths is not implemented yet",
            from.vmfs(),
            to.vmfs()
        )));
    }
    output::info(&format!(
        "{} stays in place: shared datastore (from host {} to host {})",
        to.vmfs(),
        src.host,
        dst.host
    ));
    Ok(String::new())
}

/// Runs mv (async, as the dispatcher expects).
pub async fn run(args: &[String]) -> Result<String> {
    run_sync(args)
}
