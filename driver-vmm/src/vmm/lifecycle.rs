//! What the lifecycle actions (shutdown, cancel, reboot, reset, migrate, snapshots) share:
//! their argument checks, reading and awaiting a VM's power state, unregistering.

use std::time::{Duration, Instant};

use vim_sdk::mo;
use vim_sdk::property::{objects_spec, Paths, UpdateCollector, WaitOutcome};
use vim_sdk::types::{Any, ObjectUpdateKind, VirtualMachinePowerState};
use vim_sdk::Client;

use driver_common::{DriverError, Result};

/// The longest VM name vSphere accepts.
const MAX_NAME: usize = 80;

/// The VM an action is about: `<deploy_id>`, `<vmid>` and the host OpenNebula named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmTarget {
    /// The deploy id, i.e. the VM's name (`one-42`).
    pub deploy_id: String,
    /// OpenNebula's VM id.
    pub vmid: u64,
    /// The OpenNebula host.
    pub host: String,
}

/// Whether `s` can be a deploy id: a VM name of 1 to 80 characters, no control characters,
/// no surrounding blanks.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= MAX_NAME
        && !s.chars().any(char::is_control)
        && s.trim() == s
}

/// Whether `s` can be a host name, address or `host:port`: no blanks or control characters.
fn valid_host(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) && s.len() <= 255
}

/// Checks the common shape `<deploy_id> <x> <vmid> <host>`: the deploy id, the vmid as a
/// number, the host; `x` is handed back unchecked.
fn vm_and_extra(action: &str, expected: &str, args: &[String]) -> Result<(VmTarget, String)> {
    let bad = || DriverError::usage(action, expected, args);
    let [deploy_id, extra, vmid, host] = args else {
        return Err(bad());
    };
    if !valid_name(deploy_id) || !valid_host(host) {
        return Err(bad());
    }
    let vmid: u64 = vmid.parse().map_err(|_| bad())?;
    Ok((
        VmTarget {
            deploy_id: deploy_id.clone(),
            vmid,
            host: host.clone(),
        },
        extra.clone(),
    ))
}

/// `<deploy_id> <host> <vmid> <host>` (shutdown, cancel, reboot, reset): the two host
/// arguments must agree.
pub fn vm_host_args(action: &str, args: &[String]) -> Result<VmTarget> {
    const EXPECTED: &str = "<deploy_id> <host> <vmid> <host>";
    let (target, host) = vm_and_extra(action, EXPECTED, args)?;
    if host != target.host {
        return Err(DriverError::usage(action, EXPECTED, args));
    }
    Ok(target)
}

/// `<deploy_id> <snapshot> <vmid> <host>` (snapshot actions): the target and the snapshot
/// argument, which `check` must accept.
pub fn vm_snapshot_args(
    action: &str,
    expected: &str,
    args: &[String],
    check: impl Fn(&str) -> bool,
) -> Result<(VmTarget, String)> {
    let (target, snap) = vm_and_extra(action, expected, args)?;
    if !check(&snap) {
        return Err(DriverError::usage(action, expected, args));
    }
    Ok((target, snap))
}

/// `<deploy_id> <dst_host> <src_host> <vmid> <src_host>` (migrate): the target (on the source
/// host) and the destination host.
pub fn migrate_args(action: &str, args: &[String]) -> Result<(VmTarget, String)> {
    const EXPECTED: &str = "<deploy_id> <dst_host> <src_host> <vmid> <src_host>";
    let bad = || DriverError::usage(action, EXPECTED, args);
    let [deploy_id, dst, src, vmid, src_again] = args else {
        return Err(bad());
    };
    if !valid_host(dst) || src != src_again {
        return Err(bad());
    }
    let (target, _) = vm_and_extra(
        action,
        EXPECTED,
        &[deploy_id.clone(), String::new(), vmid.clone(), src.clone()],
    )
    .map_err(|_| bad())?;
    Ok((target, dst.clone()))
}

/// Whether `e` is (or, for a failed task, carries) a fault of type `name` or one derived
/// from it.
pub fn fault_is(e: &vim_sdk::Error, name: &str) -> bool {
    e.find_fault(name).is_some()
        || e.fault_type()
            .is_some_and(|t| vim_sdk::fault::is_a(t, name))
}

/// Whether `e` says the object is gone (`ManagedObjectNotFound`): the VM was unregistered
/// meanwhile.
pub fn is_gone(e: &vim_sdk::Error) -> bool {
    fault_is(e, "ManagedObjectNotFound")
}

/// The VM's `runtime.powerState` (one `RetrievePropertiesEx`); `None` when the VM no longer
/// exists.
pub async fn power_state(
    client: &Client,
    vm: &mo::VirtualMachine,
) -> std::result::Result<Option<VirtualMachinePowerState>, vim_sdk::Error> {
    let collector = client.service_content().await?.property_collector.clone();
    let found = vim_sdk::ops::retrieve_properties(
        client,
        &mo::PropertyCollector::from_ref(collector),
        std::slice::from_ref(vm.reference()),
        &["runtime.powerState"],
    )
    .await;
    match found {
        Ok(mut props) => Ok(props.pop().map(|p| {
            VirtualMachinePowerState::from_wire(p.str("runtime.powerState").unwrap_or(""))
        })),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How [`wait_power_state`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd {
    /// The VM reached the state.
    Reached,
    /// The time ran out; the last state seen.
    TimedOut(Option<VirtualMachinePowerState>),
    /// The VM disappeared from the inventory.
    Gone,
}

/// Waits until the VM's `runtime.powerState` is `wanted`, at most `timeout`: a private
/// property collector followed with `WaitForUpdatesEx` (the server holds each call until a
/// change or the time left, so nothing is polled), destroyed at the end.
pub async fn wait_power_state(
    client: &Client,
    vm: &mo::VirtualMachine,
    wanted: &VirtualMachinePowerState,
    timeout: Duration,
) -> std::result::Result<WaitEnd, vim_sdk::Error> {
    let deadline = Instant::now() + timeout;
    let content = client.service_content().await?;
    let mut collector = UpdateCollector::new(client, &content).await?;
    let spec = objects_spec(
        std::slice::from_ref(vm.reference()),
        &Paths::only(&["runtime.powerState"]),
    );
    let mut last = None;
    let res = async {
        collector.add_filter(&spec).await?;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(WaitEnd::TimedOut(last.clone()));
            }
            // Whole seconds, at least one: the server's unit; within the call timeout.
            let secs = i32::try_from(left.as_millis().div_ceil(1000)).unwrap_or(i32::MAX);
            let secs = secs.clamp(1, client.longest_server_wait());
            let set = match collector.wait(Some(secs), None).await? {
                WaitOutcome::Updates(set) => set,
                WaitOutcome::Timeout => continue,
                WaitOutcome::Cancelled => return Ok(WaitEnd::TimedOut(last.clone())),
            };
            for update in set.filter_set.into_iter().flat_map(|f| f.object_set) {
                if update.kind == ObjectUpdateKind::Leave {
                    return Ok(WaitEnd::Gone);
                }
                for change in update.change_set {
                    if change.name != "runtime.powerState" {
                        continue;
                    }
                    if let Some(Any::Enum { value, .. }) = change.val {
                        last = Some(VirtualMachinePowerState::from_wire(&value));
                    }
                }
            }
            if last.as_ref() == Some(wanted) {
                return Ok(WaitEnd::Reached);
            }
        }
    }
    .await;
    let destroyed = collector.destroy().await;
    // A collector left behind dies with the session; its failure changes nothing here.
    drop(destroyed);
    match res {
        Err(e) if is_gone(&e) => Ok(WaitEnd::Gone),
        other => other,
    }
}

/// How [`unregister_with`] retries: how many attempts in all, and the pause before the
/// first retry (doubled before each further one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// The pause before the second attempt.
    pub first_pause: Duration,
}

/// [`unregister`]'s retries: 5 attempts, with pauses of 0.5, 1, 2 and 4 s between them
/// (7.5 s at most, well inside OpenNebula's action timeout).
pub const UNREGISTER_RETRY: Retry = Retry {
    attempts: 5,
    first_pause: Duration::from_millis(500),
};

/// Whether an `UnregisterVM` failure may pass by itself: the VM still powering off
/// (`InvalidPowerState` and the other `InvalidState` faults), another task holding the VM
/// (`TaskInProgress`), the host briefly out of reach of vCenter (`HostCommunication`), or a
/// connection that could not be made or timed out.
pub fn is_transient(e: &vim_sdk::Error) -> bool {
    ["InvalidState", "TaskInProgress", "HostCommunication"]
        .iter()
        .any(|f| fault_is(e, f))
        || matches!(&e.kind, vim_sdk::ErrorKind::Transport(t) if t.is_transient())
}

/// Unregisters the VM (`UnregisterVM`; its files stay on the datastore), retrying
/// [`is_transient`] failures as [`UNREGISTER_RETRY`] says. A VM already gone counts as
/// unregistered (so a retry after an attempt that did go through is a success). `what`
/// names the VM and host in the error.
pub async fn unregister(client: &Client, vm: &mo::VirtualMachine, what: &str) -> Result<()> {
    unregister_with(client, vm, what, UNREGISTER_RETRY).await
}

/// [`unregister`] with the retries `retry` allows.
pub async fn unregister_with(
    client: &Client,
    vm: &mo::VirtualMachine,
    what: &str,
    retry: Retry,
) -> Result<()> {
    let mut pause = retry.first_pause;
    let mut attempt = 1;
    loop {
        match vm.unregister_vm(client).await {
            Ok(()) => return Ok(()),
            Err(e) if is_gone(&e) => return Ok(()),
            Err(e) if attempt < retry.attempts && is_transient(&e) => {
                driver_common::output::debug(&format!(
                    "unregistering {what}, attempt {attempt} of {}: {e}; again in {} ms",
                    retry.attempts,
                    pause.as_millis()
                ));
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
                attempt += 1;
            }
            Err(e) => {
                let tries = if attempt > 1 {
                    format!(" ({attempt} attempts)")
                } else {
                    String::new()
                };
                return Err(
                    DriverError::from(e).context(format!("cannot unregister {what}{tries}"))
                );
            }
        }
    }
}

/// "VM one-42 on host esx1", for messages.
pub fn describe(target: &VmTarget) -> String {
    format!("VM {} on host {}", target.deploy_id, target.host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn vm_host_arguments() {
        let t = vm_host_args("cancel", &argv(&["one-7", "esx1", "7", "esx1"])).unwrap();
        assert_eq!(
            t,
            VmTarget {
                deploy_id: "one-7".into(),
                vmid: 7,
                host: "esx1".into()
            }
        );
        for bad in [
            &["one-7", "esx1", "7"][..],
            &["one-7", "esx1", "7", "esx1", "x"],
            &["one-7", "esx1", "seven", "esx1"],
            &["one-7", "esx1", "-7", "esx1"],
            &["one-7", "esx1", "7", "esx2"],
            &["", "esx1", "7", "esx1"],
            &[" one-7", "esx1", "7", "esx1"],
            &["one-\n7", "esx1", "7", "esx1"],
            &["one-7", "es x1", "7", "es x1"],
            &["one-7", "", "7", ""],
        ] {
            let err = vm_host_args("cancel", &argv(bad)).unwrap_err();
            assert!(err.to_string().contains("bad arguments"), "{bad:?}: {err}");
        }
        let long = "x".repeat(81);
        assert!(vm_host_args("cancel", &argv(&[&long, "h", "1", "h"])).is_err());
    }

    #[test]
    fn migrate_arguments() {
        let (t, dst) =
            migrate_args("migrate", &argv(&["one-3", "esx2", "esx1", "3", "esx1"])).unwrap();
        assert_eq!(
            (t.deploy_id.as_str(), t.vmid, t.host.as_str()),
            ("one-3", 3, "esx1")
        );
        assert_eq!(dst, "esx2");
        for bad in [
            &["one-3", "esx2", "esx1", "3"][..],
            &["one-3", "esx2", "esx1", "3", "esx3"],
            &["one-3", "", "esx1", "3", "esx1"],
            &["one-3", "esx2", "esx1", "x", "esx1"],
        ] {
            assert!(migrate_args("migrate", &argv(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn snapshot_arguments() {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (t, s) = vm_snapshot_args(
            "snapshot_create",
            "x",
            &argv(&["one-3", "0", "3", "h"]),
            digits,
        )
        .unwrap();
        assert_eq!((t.vmid, s.as_str()), (3, "0"));
        assert!(vm_snapshot_args(
            "snapshot_create",
            "x",
            &argv(&["one-3", "a", "3", "h"]),
            digits
        )
        .is_err());
    }
}
