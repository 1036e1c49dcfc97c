//! save and restore through the installed tree, against the simulator.
//!
//! vcsim's `RegisterVM_Task` registers a hollow VM (no devices, no snapshot tree), so what
//! can be shown here is: save snapshots, suspends and unregisters with the files kept; restore
//! registers `[0] <vmid>/one-<vmid>.vmx` again under the same name on the same host, finds no
//! `checkpoint` (vcsim lost it) and powers the VM on; both argv forms (4.4 and 4.2).

mod support;

use support::{sdk, OneEnv};
use vim_sdk::session::Session;

/// The files of folder `dir` of datastore `ds`.
async fn files(s: &Session, ds: &str, dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sdk::datastore_dir(s, ds).await.join(dir))
        .expect("VM folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    v.sort();
    v
}

fn deployment(vmid: u64) -> String {
    format!(
        "<domain type='vmware'><name>one-{vmid}</name><memory>262144</memory>\
         <os><type arch='i686'>hvm</type></os><devices>\
         <disk type='file' device='disk'><source file='[0] {vmid}/disk.0/disk.vmdk'/>\
         <target dev='sda'/></disk>\
         <interface type='bridge'><source bridge='VM Network'/>\
         <mac address='00:50:56:00:01:02'/></interface></devices></domain>"
    )
}

#[tokio::test]
async fn save_then_restore_in_both_argv_forms() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    sdk::create_disk(&s, &env, "0", 50, 0).await;
    env.write_deployment(50, 9, "not even xml");
    let dfile = env.write_deployment(50, 10, &deployment(50));
    let dfile = dfile.to_str().unwrap();
    env.run("vmm/vmware/deploy", &[dfile, &host, "50", &host])
        .assert_ok();
    let sessions = sdk::driver_sessions(&env).await;
    let vm = sdk::find_vm(&s, "one-50").await.expect("deployed");

    // save: a checkpoint snapshot, then suspended, then unregistered.
    let ckpt = "/vmfs/volumes/0/50/checkpoint";
    let run = env.run("vmm/vmware/save", &["one-50", ckpt, &host, "50", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "");
    assert!(
        sdk::vms_named(&s, "one-50").await.is_empty(),
        "still registered"
    );
    drop(vm);
    // The snapshot was taken (vcsim writes its .vmsn) and no file was deleted.
    let kept = files(&s, "0", "50").await;
    assert!(
        kept.iter()
            .any(|f| f.starts_with("one-50-Snapshot") && f.ends_with(".vmsn")),
        "{kept:?}"
    );
    for f in ["one-50.vmx", "one-50.nvram", "vmware.log", "disk.0"] {
        assert!(kept.iter().any(|k| k == f), "{f} missing: {kept:?}");
    }

    // restore, 4.4 argv: registered again from the .vmx (deployment.10, not .9, by number).
    let run = env.run("vmm/vmware/restore", &[ckpt, &host, "one-50", "50", &host]);
    run.assert_ok();
    let vm = sdk::find_vm(&s, "one-50").await.expect("restored");
    let p = sdk::props(
        &s,
        vm.reference(),
        &[
            "config.files.vmPathName",
            "runtime.host",
            "runtime.powerState",
        ],
    )
    .await;
    assert_eq!(p.str("config.files.vmPathName"), Some("[0] 50/one-50.vmx"));
    assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
    let h = sdk::host(&s, &host).await;
    assert_eq!(p.reference("runtime.host"), Some(h.reference()));
    assert!(run.stderr.contains("no checkpoint snapshot"), "{run}");

    // A retried restore uses the registered VM.
    let run = env.run("vmm/vmware/restore", &[ckpt, &host, "one-50", "50", &host]);
    run.assert_ok();
    assert_eq!(sdk::vms_named(&s, "one-50").await.len(), 1);

    // save again, then restore with the 4.2 argv (no deploy id).
    env.run("vmm/vmware/save", &["one-50", ckpt, &host, "50", &host])
        .assert_ok();
    assert!(sdk::vms_named(&s, "one-50").await.is_empty());
    let run = env.run("vmm/vmware/restore", &[ckpt, &host, "50", &host]);
    run.assert_ok();
    let vm = sdk::find_vm(&s, "one-50")
        .await
        .expect("restored (4.2 argv)");
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");

    // save of a VM that is not there fails with a block naming it.
    let run = env.run("vmm/vmware/save", &["one-51", ckpt, &host, "51", &host]);
    run.assert_failed(&["one-51"]);
    // restore with a foreign deploy id is refused.
    let run = env.run("vmm/vmware/restore", &[ckpt, &host, "one-49", "50", &host]);
    run.assert_failed(&["one-49"]);
    // Every run, failed or not, reused the session the cache keeps.
    assert_eq!(
        sdk::driver_sessions(&env).await,
        sessions,
        "no session leaked"
    );
}
