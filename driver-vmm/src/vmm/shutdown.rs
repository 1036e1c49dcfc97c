//! `shutdown <deploy_id> <host> <vmid> <host>`: a guest shutdown (`ShutdownGuest`, needs
//! VMware Tools), a bounded wait for `poweredOff`, then `UnregisterVM`. The VM's files stay
//! on the datastore. A VM already off is just unregistered; a VM that is not registered
//! any more is a success. Still running at the timeout: a failure, the VM left as it is.
//!
//! The timeout: `VMWARE_SHUTDOWN_TIMEOUT` from the environment (OpenNebula exports
//! `/etc/one/defaultrc` to its drivers) when set, else `:shutdown_timeout:` of vmwarerc,
//! else [`DEFAULT_TIMEOUT`]; whole seconds from 1 to 86400 either way.

use std::time::Duration;

use vim_sdk::mo;
use vim_sdk::types::VirtualMachinePowerState as Power;
use vim_sdk::Client;

use driver_common::config::parse_timeout;
use driver_common::connect::Conn;

use super::lifecycle::{
    describe, fault_is, is_gone, power_state, unregister, vm_host_args, wait_power_state, WaitEnd,
};
use driver_common::{DriverError, Result};

/// How long a guest gets to power off when the environment says nothing (legacy: 500 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Environment variable overriding vmwarerc's `:shutdown_timeout:` and [`DEFAULT_TIMEOUT`],
/// in whole seconds (OpenNebula exports `/etc/one/defaultrc` to its drivers).
pub const TIMEOUT_ENV: &str = "VMWARE_SHUTDOWN_TIMEOUT";

/// The timeout [`TIMEOUT_ENV`] sets, from its value (`None` when unset or empty); a value
/// that is not 1 to 86400 seconds is an error.
pub fn env_timeout(value: Option<&str>) -> Result<Option<Duration>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse_timeout(v)
            .map(Some)
            .map_err(|e| DriverError::new(format!("{TIMEOUT_ENV}: {e}"))),
    }
}

/// The timeout that applies, and where it comes from (for the debug line): the
/// environment's over vmwarerc's over [`DEFAULT_TIMEOUT`].
pub fn timeout(env: Option<Duration>, rc: Option<Duration>) -> (Duration, &'static str) {
    match (env, rc) {
        (Some(t), _) => (t, TIMEOUT_ENV),
        (None, Some(t)) => (t, ":shutdown_timeout: of vmwarerc"),
        (None, None) => (DEFAULT_TIMEOUT, "the default"),
    }
}

/// What [`shutdown_vm`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// The guest powered off and the VM was unregistered.
    ShutDown,
    /// The VM was already off: it was unregistered.
    WasOff,
    /// The VM is not registered (any more).
    Absent,
}

/// Shuts the guest of `vm` down and unregisters it, waiting at most `timeout` for it to
/// power off. `what` names the VM and host in messages.
pub async fn shutdown_vm(
    client: &Client,
    vm: Option<&mo::VirtualMachine>,
    what: &str,
    timeout: Duration,
) -> Result<Shutdown> {
    let Some(vm) = vm else {
        return Ok(Shutdown::Absent);
    };
    let outcome = match power_state(client, vm).await? {
        None => return Ok(Shutdown::Absent),
        Some(Power::PoweredOff) => Shutdown::WasOff,
        Some(Power::PoweredOn) => {
            match vm.shutdown_guest(client).await {
                Ok(()) => {}
                Err(e) if is_gone(&e) => return Ok(Shutdown::Absent),
                // Powered off meanwhile: the wait below sees it at once.
                Err(e) if fault_is(&e, "InvalidPowerState") => {}
                Err(e) => {
                    return Err(DriverError::from(e)
                        .context(format!("cannot shut down the guest OS of {what}")))
                }
            }
            match wait_power_state(client, vm, &Power::PoweredOff, timeout).await? {
                WaitEnd::Reached => Shutdown::ShutDown,
                WaitEnd::Gone => return Ok(Shutdown::Absent),
                WaitEnd::TimedOut(state) => {
                    let state = state.as_ref().map_or("unknown", |s| s.as_str()).to_string();
                    return Err(DriverError::new(format!(
                        "Timeout reached, {what} is still alive: not powered off {} s after \
                         the guest shutdown request (power state {state}); it stays registered",
                        timeout.as_secs()
                    )));
                }
            }
        }
        Some(other) => {
            return Err(DriverError::new(format!(
                "cannot shut down {what}: its power state is {}, a guest shutdown needs it \
                 powered on",
                other.as_str()
            )))
        }
    };
    unregister(client, vm, what).await?;
    Ok(outcome)
}

/// Runs shutdown with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    let target = vm_host_args("shutdown", args)?;
    let from_env = env_timeout(std::env::var(TIMEOUT_ENV).ok().as_deref())?;
    let what = describe(&target);
    let done = Conn::with_vm_if_any(&target.host, &target.deploy_id, async |conn, vm| {
        let (limit, from) = timeout(from_env, conn.rc.shutdown_timeout);
        driver_common::output::debug(&format!(
            "{what}: the guest gets {} s to power off ({from})",
            limit.as_secs()
        ));
        shutdown_vm(&conn.session, vm.as_ref(), &what, limit).await
    })
    .await?;
    match done {
        Shutdown::ShutDown => {
            driver_common::output::info(&format!("{what} shut down and unregistered"))
        }
        Shutdown::WasOff => driver_common::output::info(&format!("{what} was off: unregistered")),
        Shutdown::Absent => {
            driver_common::output::info(&format!("{what} is not registered: nothing to do"))
        }
    }
    Ok(String::new())
}
