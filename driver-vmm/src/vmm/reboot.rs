//! `reboot <deploy_id> <host> <vmid> <host>`: a guest OS reboot (`RebootGuest`, needs VMware
//! Tools). The VM must exist; a refusal names the method and the server's fault.

use vim_sdk::mo;
use vim_sdk::Client;

use crate::common::{DriverError, Result};

/// Asks the guest of `vm` to reboot. `what` names the VM and host in messages.
pub async fn reboot_vm(client: &Client, vm: &mo::VirtualMachine, what: &str) -> Result<()> {
    vm.reboot_guest(client)
        .await
        .map_err(|e| DriverError::from(e).context(format!("cannot reboot the guest OS of {what}")))
}
