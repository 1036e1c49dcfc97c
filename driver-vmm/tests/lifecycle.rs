//! shutdown, cancel, reboot, reset: their logic against vcsim (effects read back through
//! vim-sdk), what vcsim cannot show (a guest that never powers off, a guest that reboots, an
//! unregister refused while the VM powers off) against a hand-written SOAP fixture, and the
//! actions through the installed tree as OpenNebula runs them (exit codes, error blocks,
//! sessions).
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
use support::Run;

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
    // Not before the timeout (no upper bound on the wall time, which a loaded machine
    // stretches: the bounded number of waits below shows it ended at the timeout).
    assert!(took >= Duration::from_secs(2), "{took:?}");
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

/// Three attempts with short pauses (20 ms, then 40 ms), to keep the tests fast.
const QUICK: Retry = Retry {
    attempts: 3,
    first_pause: Duration::from_millis(20),
};

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
    // One pause of 0.5 s (a lower bound only: a loaded machine stretches the wall time;
    // the two attempts above show there was no more).
    assert!(
        took >= Duration::from_millis(500),
        "one pause of 0.5 s: {took:?}"
    );

    // Another passing fault (the VM busy with another task): retried the same way.
    let fx = unregister_server("TaskInProgress", 2).await;
    let c = fx.client();
    assert_eq!(
        cancel_vm_with(&c, Some(&soap_fixture::vm("vm-1")), "x", QUICK)
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
    let started = Instant::now();
    let err = cancel_vm_with(
        &c,
        Some(&soap_fixture::vm("vm-1")),
        "VM one-1 on host esx1",
        QUICK,
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
    // Pauses of 20 and 40 ms (a lower bound only, as above).
    assert!(started.elapsed() >= Duration::from_millis(60));

    let fx = unregister_server("NoPermission", usize::MAX).await;
    let c = fx.client();
    let err = cancel_vm_with(
        &c,
        Some(&soap_fixture::vm("vm-1")),
        "VM one-1 on host esx1",
        QUICK,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("NoPermission"), "{err}");
    assert!(!err.contains("attempts"), "{err}");
    assert_eq!(fx.count("UnregisterVM"), 1, "not retried");
}

// ---------------------------------------------------------------------------------------
// The same actions through the installed tree, as OpenNebula runs them.

/// reboot, reset, shutdown and cancel through the installed scripts: exit codes, stdout,
/// error blocks (unknown VM, VM in the wrong state, bad arguments and settings), the VM's
/// state read back, no file deleted, and no session left behind (`sessionList` before and
/// after: the only driver session is the one the cache keeps).
#[tokio::test]
async fn lifecycle_actions_through_the_installed_tree() {
    use support::{sdk, OneEnv};
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    // The standalone host: the model puts two VMs on it.
    let host = "DC0_H0".to_string();
    assert!(env.hosts.contains(&host), "{:?}", env.hosts);
    let args = |vmid: u64| {
        let id = vmid.to_string();
        vec![format!("one-{vmid}"), host.clone(), id, host.clone()]
    };
    let run = |action: &str, vmid: u64| {
        let a = args(vmid);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        env.run(&format!("vmm/vmware/{action}"), &a)
    };
    // The test's own session `s` is there already.
    let before = sdk::driver_sessions(&env).await;
    let vm = sdk::adopt_vm(&s, &env, &host, 11).await;
    let files = model::files_of(&s, &vm).await;
    assert!(!files.is_empty());

    // reset: the VM is reset and still running.
    run("reset", 11).assert_ok();
    assert_eq!(run("reset", 11).stdout, "");
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");
    let sessions = sdk::driver_sessions(&env).await;
    assert_eq!(sessions, before + 1, "the cached session");

    // reboot: vcsim has no RebootGuest (covered on the fixture above); the failure names
    // the VM, the method and the fault, and the VM keeps running.
    let block = run("reboot", 11).assert_failed(&["one-11", "RebootGuest", "MethodNotFound"]);
    assert!(block.contains(&host), "{block}");
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");

    // Unknown VM: each action that needs the VM fails naming it; shutdown and cancel find
    // their goal reached (OpenNebula retries them) and succeed.
    let missing = format!("VM one-99 not found on host {host}");
    for action in ["reset", "reboot"] {
        let r = run(action, 99);
        r.assert_failed(&[&missing]);
        assert_eq!(r.stdout, "", "{r}");
    }
    run("shutdown", 99).assert_silent_ok("not registered: nothing to do");
    run("cancel", 99).assert_silent_ok("not registered: nothing to do");

    // Bad arguments: refused before anything is sent.
    for action in ["reset", "reboot", "shutdown", "cancel"] {
        env.run(
            &format!("vmm/vmware/{action}"),
            &["one-11", &host, "eleven", &host],
        )
        .assert_failed(&[action, "bad arguments"]);
        env.run(
            &format!("vmm/vmware/{action}"),
            &["one-11", &host, "11", "other"],
        )
        .assert_failed(&["bad arguments"]);
    }

    // The wrong state: reset of a powered-off VM and shutdown of a suspended one fail and
    // leave the VM as it was.
    let off = sdk::adopt_vm(&s, &env, &host, 12).await;
    off.power_off(&s).await.expect("power off");
    run("reset", 12).assert_failed(&["one-12", "ResetVM_Task", "InvalidPowerState"]);
    assert_eq!(sdk::power_state(&s, &off).await, "poweredOff");
    let suspended = sdk::deploy_small(&s, &env, 13, &host, "02:00:00:00:0d:01").await;
    suspended.suspend(&s).await.expect("suspend");
    run("shutdown", 13).assert_failed(&["one-13", "suspended", "powered on"]);
    assert_eq!(sdk::power_state(&s, &suspended).await, "suspended");
    assert!(sdk::registered(&s, "one-13").await);

    // shutdown: powered off (vcsim needs no Tools), unregistered, files kept; again: done.
    run("shutdown", 11).assert_silent_ok("shut down and unregistered");
    assert!(!sdk::registered(&s, "one-11").await);
    let gone: Vec<_> = files.iter().filter(|f| !f.exists()).collect();
    assert!(gone.is_empty(), "shutdown deleted {gone:?}");
    run("shutdown", 11).assert_silent_ok("nothing to do");
    // A VM already off is only unregistered.
    run("shutdown", 12).assert_silent_ok("was off: unregistered");
    assert!(!sdk::registered(&s, "one-12").await);

    // cancel: the suspended VM is powered off and unregistered, its files kept.
    let files13 = model::files_of(&s, &suspended).await;
    run("cancel", 13).assert_ok();
    assert!(!sdk::registered(&s, "one-13").await);
    assert!(files13.iter().all(|f| f.exists()), "cancel deleted a file");
    run("cancel", 13).assert_silent_ok("nothing to do");

    // Every run above reused the one cached session.
    assert_eq!(
        sdk::driver_sessions(&env).await,
        sessions,
        "no session leaked"
    );
}

/// shutdown's timeout: `:shutdown_timeout:` of vmwarerc, overridden by
/// `VMWARE_SHUTDOWN_TIMEOUT`; a bad value of either fails naming it, before any call.
#[tokio::test]
async fn shutdown_timeout_from_vmwarerc_and_environment() {
    use support::OneEnv;
    let env = OneEnv::vcenter().await;
    let host = env.host(0).to_string();
    let args = ["one-98", host.as_str(), "98", host.as_str()];
    let debug = ("VMWARE_DRIVER_DEBUG", "1");
    let said = |r: &Run, what: &str| {
        r.assert_ok();
        assert!(
            r.log_lines
                .iter()
                .any(|l| l.starts_with("DEBUG: shutdown: ") && l.contains(what)),
            "no debug line with {what:?}:\n{r}"
        );
    };
    // Neither: the default.
    let r = env.run_with_env("vmm/vmware/shutdown", &args, &[debug]);
    said(&r, "gets 300 s to power off (the default)");
    // vmwarerc.
    env.write_vmwarerc(&format!(
        "{}:shutdown_timeout: 42\n",
        env.default_vmwarerc()
    ));
    let r = env.run_with_env("vmm/vmware/shutdown", &args, &[debug]);
    said(
        &r,
        "gets 42 s to power off (:shutdown_timeout: of vmwarerc)",
    );
    // The environment wins.
    let r = env.run_with_env(
        "vmm/vmware/shutdown",
        &args,
        &[debug, ("VMWARE_SHUTDOWN_TIMEOUT", "7")],
    );
    said(&r, "gets 7 s to power off (VMWARE_SHUTDOWN_TIMEOUT)");
    // Bad values fail with a block naming the setting.
    env.run_with_env(
        "vmm/vmware/shutdown",
        &args,
        &[("VMWARE_SHUTDOWN_TIMEOUT", "soon")],
    )
    .assert_failed(&["VMWARE_SHUTDOWN_TIMEOUT", "soon"]);
    env.write_vmwarerc(&format!("{}:shutdown_timeout: 0\n", env.default_vmwarerc()));
    let rc = env.vmwarerc().display().to_string();
    env.run("vmm/vmware/shutdown", &args)
        .assert_failed(&[&rc, ":shutdown_timeout:"]);
}
