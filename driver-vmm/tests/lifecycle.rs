//! shutdown, cancel, reboot, reset: their logic against vcsim (effects read back through
//! vim-sdk), and what vcsim cannot show (a guest that never powers off, a guest that
//! reboots) against a hand-written SOAP fixture.
#![cfg(feature = "vcsim")]

mod soap_fixture;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use driver_vmm::vmm::cancel::{cancel_vm, cancel_vm_with, Cancel};
use driver_vmm::vmm::lifecycle::Retry;
use driver_vmm::vmm::reboot::reboot_vm;
use driver_vmm::vmm::reset::reset_vm;
use driver_vmm::vmm::shutdown::{env_timeout, shutdown_vm, timeout, Shutdown, DEFAULT_TIMEOUT};
use soap_fixture::{common, fault, response};
use support::model::{self, files_of, state, vm_named};

#[tokio::test]
async fn cancel_powers_off_unregisters_keeps_files_and_is_idempotent() {
    let (_sim, c, m) = model::vpx().await;
    let (name, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    let files = files_of(&c, &vm).await;
    assert!(!files.is_empty(), "the VM has files on disk");
    assert_eq!(state(&c, &vm).await.as_deref(), Some("poweredOn"));

    let done = cancel_vm(&c, Some(&vm), "VM x on host y")
        .await
        .expect("cancel");
    assert_eq!(done, Cancel::PoweredOff);
    assert!(model::find(&c, &m, &name).await.is_none(), "unregistered");
    for f in &files {
        assert!(f.exists(), "{} kept", f.display());
    }
    // Retried by OpenNebula: the VM is gone, by lookup and by a stale reference alike.
    assert_eq!(cancel_vm(&c, None, "x").await.unwrap(), Cancel::Absent);
    assert_eq!(cancel_vm(&c, Some(&vm), "x").await.unwrap(), Cancel::Absent);

    // A suspended VM is powered off too; one already off is only unregistered.
    let (_, vm2) = vm_named(&c, &m, "DC0_H0_VM1").await;
    vm2.suspend(&c).await.expect("suspend");
    assert_eq!(
        cancel_vm(&c, Some(&vm2), "x").await.unwrap(),
        Cancel::PoweredOff
    );
    let (_, vm3) = vm_named(&c, &m, "DC0_C0_RP0_VM0").await;
    vm3.power_off(&c).await.expect("off");
    assert_eq!(
        cancel_vm(&c, Some(&vm3), "x").await.unwrap(),
        Cancel::WasOff
    );
    assert!(model::find(&c, &m, "DC0_C0_RP0_VM0").await.is_none());
}

#[tokio::test]
async fn shutdown_waits_for_power_off_then_unregisters() {
    let (_sim, c, m) = model::vpx().await;
    let (name, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    let files = files_of(&c, &vm).await;
    let done = shutdown_vm(&c, Some(&vm), "x", Duration::from_secs(30))
        .await
        .expect("shutdown");
    assert_eq!(done, Shutdown::ShutDown);
    assert!(model::find(&c, &m, &name).await.is_none(), "unregistered");
    assert!(files.iter().all(|f| f.exists()), "no file deleted");
    assert_eq!(
        shutdown_vm(&c, Some(&vm), "x", DEFAULT_TIMEOUT)
            .await
            .unwrap(),
        Shutdown::Absent
    );
    assert_eq!(
        shutdown_vm(&c, None, "x", DEFAULT_TIMEOUT).await.unwrap(),
        Shutdown::Absent
    );

    let (_, off) = vm_named(&c, &m, "DC0_H0_VM1").await;
    off.power_off(&c).await.expect("off");
    assert_eq!(
        shutdown_vm(&c, Some(&off), "x", DEFAULT_TIMEOUT)
            .await
            .unwrap(),
        Shutdown::WasOff
    );

    // A suspended VM cannot take a guest shutdown: a failure, the VM left registered.
    let (_, susp) = vm_named(&c, &m, "DC0_C0_RP0_VM0").await;
    susp.suspend(&c).await.expect("suspend");
    let err = shutdown_vm(&c, Some(&susp), "VM one-9 on host h", DEFAULT_TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("VM one-9 on host h"), "{err}");
    assert!(err.to_string().contains("suspended"), "{err}");
    assert_eq!(state(&c, &susp).await.as_deref(), Some("suspended"));
}

#[test]
fn shutdown_timeout_setting() {
    assert_eq!(env_timeout(None).unwrap(), None);
    assert_eq!(env_timeout(Some(" ")).unwrap(), None);
    assert_eq!(
        env_timeout(Some(" 42 ")).unwrap(),
        Some(Duration::from_secs(42))
    );
    for bad in ["0", "-1", "ten", "1e3", "86401"] {
        let e = env_timeout(Some(bad)).unwrap_err().to_string();
        assert!(e.contains("VMWARE_SHUTDOWN_TIMEOUT"), "{bad}: {e}");
    }
    let s = Duration::from_secs;
    // The environment wins over vmwarerc, which wins over the default.
    assert_eq!(timeout(Some(s(5)), Some(s(60))).0, s(5));
    assert_eq!(timeout(None, Some(s(60))).0, s(60));
    assert_eq!(timeout(None, None).0, DEFAULT_TIMEOUT);
}

#[tokio::test]
async fn reset_and_reboot_against_vcsim() {
    let (_sim, c, m) = model::vpx().await;
    let (_, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    reset_vm(&c, &vm, "x").await.expect("reset");
    assert_eq!(state(&c, &vm).await.as_deref(), Some("poweredOn"));

    // vcsim has no RebootGuest: the message names the method and the fault.
    let err = reboot_vm(&c, &vm, "VM one-5 on host h")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot reboot the guest OS of VM one-5 on host h"),
        "{err}"
    );
    assert!(err.contains("RebootGuest"), "{err}");
    assert!(err.contains("MethodNotFound"), "{err}");

    // vcsim resets by power off + on: a powered-off VM is refused, with the fault named.
    vm.power_off(&c).await.expect("off");
    let err = reset_vm(&c, &vm, "VM one-5 on host h")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot reset VM one-5 on host h"), "{err}");
    assert!(
        err.contains("ResetVM_Task") && err.contains("InvalidPowerState"),
        "{err}"
    );
}

const POWERED_ON: &str = "<objects><obj type=\"VirtualMachine\">vm-1</obj>\
<propSet><name>runtime.powerState</name><val xsi:type=\"VirtualMachinePowerState\">poweredOn</val></propSet></objects>";

const ENTER_ON: &str = "<version>1</version><filterSet><filter type=\"PropertyFilter\">f-1</filter>\
<objectSet><kind>enter</kind><obj type=\"VirtualMachine\">vm-1</obj><changeSet><name>runtime.powerState</name>\
<op>assign</op><val xsi:type=\"VirtualMachinePowerState\">poweredOn</val></changeSet></objectSet></filterSet>";

/// A server whose guest accepts the shutdown request and never powers off: the wait ends
/// at the timeout through `WaitForUpdatesEx` (held by the server, as a real one does), the
/// action fails, and the VM is not unregistered.
#[tokio::test]
async fn shutdown_times_out_when_the_guest_stays_on() {
    let waits = Arc::new(AtomicUsize::new(0));
    let w = waits.clone();
    let fx = soap_fixture::start(Arc::new(move |method: String, body: String| {
        let w = w.clone();
        Box::pin(async move {
            match method.as_str() {
                "RetrievePropertiesEx" => response("RetrievePropertiesEx", Some(POWERED_ON)),
                "ShutdownGuest" => response("ShutdownGuest", None),
                "WaitForUpdatesEx" => {
                    w.fetch_add(1, Ordering::SeqCst);
                    if !body.contains("<version>") {
                        return response("WaitForUpdatesEx", Some(ENTER_ON));
                    }
                    // Hold the call for maxWaitSeconds, then report no change.
                    let secs = body
                        .split("<maxWaitSeconds>")
                        .nth(1)
                        .and_then(|s| s.split('<').next())
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                    response("WaitForUpdatesEx", None)
                }
                other => common(other),
            }
        })
    }))
    .await;
    let c = fx.client();
    let vm = soap_fixture::vm("vm-1");
    let started = Instant::now();
    let err = shutdown_vm(
        &c,
        Some(&vm),
        "VM one-1 on host esx1",
        Duration::from_secs(2),
    )
    .await
    .unwrap_err()
    .to_string();
    let took = started.elapsed();
    assert!(
        err.contains("Timeout reached, VM one-1 on host esx1 is still alive"),
        "{err}"
    );
    assert!(err.contains("poweredOn"), "{err}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(fx.count("ShutdownGuest"), 1);
    assert_eq!(
        fx.count("UnregisterVM"),
        0,
        "left registered: {:?}",
        fx.calls()
    );
    // The initial state plus one or two held waits: no busy loop.
    let n = waits.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&n),
        "{n} WaitForUpdatesEx calls: {:?}",
        fx.calls()
    );
    assert_eq!(fx.count("DestroyPropertyCollector"), 1, "collector removed");
}

/// vcsim lacks RebootGuest; a server that has it: one call, success.
#[tokio::test]
async fn reboot_succeeds_where_the_server_has_reboot_guest() {
    let fx = soap_fixture::start(Arc::new(|method: String, _body: String| {
        Box::pin(async move {
            match method.as_str() {
                "RebootGuest" => response("RebootGuest", None),
                other => common(other),
            }
        })
    }))
    .await;
    let c = fx.client();
    let vm = soap_fixture::vm("vm-1");
    reboot_vm(&c, &vm, "x").await.expect("reboot");
    assert_eq!(fx.calls(), ["RebootGuest"]);

    // A guest without Tools: the fault named.
    let fx = soap_fixture::start(Arc::new(|_m: String, _b: String| {
        Box::pin(async move { fault("ToolsUnavailable", "VMware Tools are not running") })
    }))
    .await;
    let c = fx.client();
    let err = reboot_vm(&c, &vm, "VM one-1 on host h")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ToolsUnavailable") && err.contains("RebootGuest"),
        "{err}"
    );
}

const POWERED_OFF: &str = "<objects><obj type=\"VirtualMachine\">vm-1</obj>\
<propSet><name>runtime.powerState</name><val xsi:type=\"VirtualMachinePowerState\">poweredOff</val></propSet></objects>";

/// A server whose VM is off and whose `UnregisterVM` answers the fault `fault` (a type) the
/// first `failures` times, then succeeds.
async fn unregister_server(fault_type: &'static str, failures: usize) -> soap_fixture::Fixture {
    let seen = Arc::new(AtomicUsize::new(0));
    soap_fixture::start(Arc::new(move |method: String, _body: String| {
        let seen = seen.clone();
        Box::pin(async move {
            match method.as_str() {
                "RetrievePropertiesEx" => response("RetrievePropertiesEx", Some(POWERED_OFF)),
                "UnregisterVM" if seen.fetch_add(1, Ordering::SeqCst) < failures => {
                    fault(fault_type, "The attempted operation cannot be performed in the current state (Powered on).")
                }
                "UnregisterVM" => response("UnregisterVM", None),
                other => common(other),
            }
        })
    }))
    .await
}

/// A VM still powering off when cancel unregisters it (vCenter may lag behind the host):
/// `UnregisterVM` is refused with `InvalidPowerState` once, retried after a short pause,
/// and the action succeeds. vcsim powers off synchronously, so only a fixture shows this.
#[tokio::test]
async fn cancel_retries_an_unregister_refused_while_powering_off() {
    let fx = unregister_server("InvalidPowerState", 1).await;
    let c = fx.client();
    let started = Instant::now();
    let done = cancel_vm(&c, Some(&soap_fixture::vm("vm-1")), "VM one-1 on host esx1")
        .await
        .expect("cancel after one retry");
    assert_eq!(done, Cancel::WasOff);
    assert_eq!(fx.count("UnregisterVM"), 2, "{:?}", fx.calls());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "one pause of 0.5 s: {took:?}"
    );

    // Another passing fault (the VM busy with another task): retried the same way.
    let fx = unregister_server("TaskInProgress", 2).await;
    let c = fx.client();
    let quick = Retry {
        attempts: 3,
        first_pause: Duration::from_millis(20),
    };
    assert_eq!(
        cancel_vm_with(&c, Some(&soap_fixture::vm("vm-1")), "x", quick)
            .await
            .unwrap(),
        Cancel::WasOff
    );
    assert_eq!(fx.count("UnregisterVM"), 3);
}

/// The retries are bounded: a VM that stays refused fails the action after the last
/// attempt, naming the fault and the attempts; a fault that will not pass is not retried.
#[tokio::test]
async fn cancel_gives_up_after_bounded_retries() {
    let fx = unregister_server("InvalidPowerState", usize::MAX).await;
    let c = fx.client();
    let quick = Retry {
        attempts: 3,
        first_pause: Duration::from_millis(20),
    };
    let started = Instant::now();
    let err = cancel_vm_with(
        &c,
        Some(&soap_fixture::vm("vm-1")),
        "VM one-1 on host esx1",
        quick,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot unregister VM one-1 on host esx1 (3 attempts)"),
        "{err}"
    );
    assert!(err.contains("InvalidPowerState"), "{err}");
    assert_eq!(fx.count("UnregisterVM"), 3, "{:?}", fx.calls());
    // Pauses of 20 and 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert!(started.elapsed() < Duration::from_secs(2));

    let fx = unregister_server("NoPermission", usize::MAX).await;
    let c = fx.client();
    let err = cancel_vm_with(
        &c,
        Some(&soap_fixture::vm("vm-1")),
        "VM one-1 on host esx1",
        quick,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("NoPermission"), "{err}");
    assert!(!err.contains("attempts"), "{err}");
    assert_eq!(fx.count("UnregisterVM"), 1, "not retried");
}
