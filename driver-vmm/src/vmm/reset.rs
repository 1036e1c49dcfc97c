//! `reset <deploy_id> <host> <vmid> <host>`: a hard reset (`ResetVM_Task`) from the
//! front-end (legacy ran it on the ESX host, where it could not work).

use vim_sdk::mo;
use vim_sdk::Client;

use crate::common::{DriverError, Result};

/// Resets `vm` and waits for the task. `what` names the VM and host in messages.
pub async fn reset_vm(client: &Client, vm: &mo::VirtualMachine, what: &str) -> Result<()> {
    vm.reset(client, |_| {})
        .await
        .map_err(|e| DriverError::from(e).context(format!("cannot reset {what}")))
}
