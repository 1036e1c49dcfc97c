//! `cancel <deploy_id> <host> <vmid> <host>`: a hard power-off when the VM is on or
//! suspended, then `UnregisterVM` (through vCenter when it is configured). Files stay on the
//! datastore. A VM that is not registered is a success. An unregister refused because the
//! VM is still powering off, or failing for a passing reason, is retried a few times within
//! a few seconds ([`super::lifecycle::UNREGISTER_RETRY`]); a failure after that, or any
//! other failure, fails the action.

use vim_sdk::mo;
use vim_sdk::types::VirtualMachinePowerState as Power;
use vim_sdk::Client;

use driver_common::connect::Conn;

use super::lifecycle::{
    describe, fault_is, is_gone, power_state, unregister_with, vm_host_args, Retry,
    UNREGISTER_RETRY,
};
use driver_common::{DriverError, Result};

/// What [`cancel_vm`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// The VM was powered off and unregistered.
    PoweredOff,
    /// The VM was off already: it was unregistered.
    WasOff,
    /// The VM is not registered (any more).
    Absent,
}

/// Powers `vm` off if needed and unregisters it. `what` names the VM and host in messages.
pub async fn cancel_vm(
    client: &Client,
    vm: Option<&mo::VirtualMachine>,
    what: &str,
) -> Result<Cancel> {
    cancel_vm_with(client, vm, what, UNREGISTER_RETRY).await
}

/// [`cancel_vm`] with the unregister retries `retry` allows.
pub async fn cancel_vm_with(
    client: &Client,
    vm: Option<&mo::VirtualMachine>,
    what: &str,
    retry: Retry,
) -> Result<Cancel> {
    let Some(vm) = vm else {
        return Ok(Cancel::Absent);
    };
    let outcome = match power_state(client, vm).await? {
        None => return Ok(Cancel::Absent),
        Some(Power::PoweredOff) => Cancel::WasOff,
        Some(_) => match vm.power_off(client).await {
            Ok(()) => Cancel::PoweredOff,
            Err(e) if is_gone(&e) => return Ok(Cancel::Absent),
            Err(e) if fault_is(&e, "InvalidPowerState") => {
                // Powered off by someone else meanwhile, or really refused.
                match power_state(client, vm).await? {
                    None => return Ok(Cancel::Absent),
                    Some(Power::PoweredOff) => Cancel::WasOff,
                    Some(_) => {
                        return Err(DriverError::from(e).context(format!("cannot power off {what}")))
                    }
                }
            }
            Err(e) => return Err(DriverError::from(e).context(format!("cannot power off {what}"))),
        },
    };
    unregister_with(client, vm, what, retry).await?;
    Ok(outcome)
}

/// Runs cancel with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let target = vm_host_args("cancel", args)?;
    let what = describe(&target);
    let done = Conn::with_vm_if_any(&target.host, &target.deploy_id, async |conn, vm| {
        cancel_vm(&conn.session, vm.as_ref(), &what).await
    })
    .await?;
    if done == Cancel::Absent {
        driver_common::output::info(&format!("{what} is not registered: nothing to do"));
    }
    Ok(String::new())
}
