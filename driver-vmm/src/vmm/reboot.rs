//! `reboot <deploy_id> <host> <vmid> <host>`: a guest OS reboot (`RebootGuest`, needs VMware
//! Tools). The VM must exist; a refusal names the method and the server's fault.

use vim_sdk::mo;
use vim_sdk::Client;

use driver_common::connect::Conn;
use driver_common::{DriverError, Result};

use super::lifecycle::{describe, vm_host_args};

/// Asks the guest of `vm` to reboot. `what` names the VM and host in messages.
pub async fn reboot_vm(client: &Client, vm: &mo::VirtualMachine, what: &str) -> Result<()> {
    vm.reboot_guest(client)
        .await
        .map_err(|e| DriverError::from(e).context(format!("cannot reboot the guest OS of {what}")))
}

/// Runs reboot with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let target = vm_host_args("reboot", args)?;
    let what = describe(&target);
    Conn::with_vm(&target.host, &target.deploy_id, async |conn, vm| {
        reboot_vm(&conn.session, &vm, &what).await
    })
    .await?;
    Ok(String::new())
}
