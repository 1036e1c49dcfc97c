//! `reset <deploy_id> <host> <vmid> <host>`: a hard reset (`ResetVM_Task`) from the
//! front-end (legacy ran it on the ESX host, where it could not work).

use vim_sdk::mo;
use vim_sdk::Client;

use driver_common::connect::Conn;
use driver_common::{DriverError, Result};

use super::lifecycle::{describe, vm_host_args};

/// Resets `vm` and waits for the task. `what` names the VM and host in messages.
pub async fn reset_vm(client: &Client, vm: &mo::VirtualMachine, what: &str) -> Result<()> {
    vm.reset(client)
        .await
        .map_err(|e| DriverError::from(e).context(format!("cannot reset {what}")))
}

/// Runs reset with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let target = vm_host_args("reset", args)?;
    let what = describe(&target);
    Conn::with_vm(&target.host, &target.deploy_id, async |conn, vm| {
        reset_vm(&conn.session, &vm, &what).await
    })
    .await?;
    Ok(String::new())
}
