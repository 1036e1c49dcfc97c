//! migrate: its logic against vcsim's vCenter model (RelocateVM_Task with host and pool;
//! the VM's host read back from `runtime.host`, since vcsim leaves `HostSystem.vm` stale), a
//! refusing provisioning check on the SOAP fixture, and the action through the installed
//! tree as OpenNebula runs it.
#![cfg(feature = "vcsim")]

mod soap_fixture;
mod support;

use std::sync::Arc;

use driver_vmm::vmm::migrate::{check_relocate, migrate_vm, Destination, Migrate};
use soap_fixture::{common, response, response_ref, SERVICE_CONTENT};
use support::model::{self, files_of, host_named, state, vm_named};
use vim_sdk::mo;

async fn pool_of(c: &vim_sdk::Client, h: &mo::HostSystem) -> mo::ResourcePool {
    h.compute_resource(c)
        .await
        .unwrap()
        .expect("parent")
        .root_pool(c)
        .await
        .unwrap()
        .expect("pool")
}

#[tokio::test]
async fn live_migration_to_another_host_and_pool() {
    let (_sim, c, m) = model::vpx().await;
    // From the standalone host to a host of the cluster: another host and another pool.
    let (_, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    let files = files_of(&c, &vm).await;
    let dst = host_named(&c, &m, "DC0_C0_H1").await;
    let pool = pool_of(&c, &dst).await;
    let src_pool = vm.resource_pool(&c).await.unwrap().expect("pool");
    assert_ne!(src_pool, pool);
    let to = Destination {
        host: &dst,
        pool: &pool,
        name: "DC0_C0_H1",
    };

    // vcsim names a provisioning checker but does not implement it: the check is skipped.
    let spec = vim_sdk::types::VirtualMachineRelocateSpec {
        host: Some(dst.reference().clone()),
        pool: Some(pool.reference().clone()),
        ..Default::default()
    };
    assert!(!check_relocate(&c, &vm, &spec, "x")
        .await
        .expect("tolerated"));

    assert_eq!(
        migrate_vm(&c, &vm, &to, "x").await.expect("migrate"),
        Migrate::Moved
    );
    assert_eq!(vm.host(&c).await.unwrap().as_ref(), Some(&dst));
    assert_eq!(vm.resource_pool(&c).await.unwrap().as_ref(), Some(&pool));
    assert_eq!(
        state(&c, &vm).await.as_deref(),
        Some("poweredOn"),
        "live: still running"
    );
    assert!(files.iter().all(|f| f.exists()));
    // Re-run: already there.
    assert_eq!(
        migrate_vm(&c, &vm, &to, "x").await.unwrap(),
        Migrate::AlreadyThere
    );
}

#[tokio::test]
async fn refused_migration_is_a_failure_naming_the_fault() {
    let (_sim, c, m) = model::vpx().await;
    let (_, vm) = vm_named(&c, &m, "DC0_H0_VM0").await;
    let dst = host_named(&c, &m, "DC0_C0_H1").await;
    // A pool that is not a pool: the server refuses the relocation.
    let bogus = mo::ResourcePool::from_ref(vim_sdk::xml::ManagedObjectReference::new(
        "ResourcePool",
        "resgroup-none",
    ));
    let to = Destination {
        host: &dst,
        pool: &bogus,
        name: "DC0_C0_H1",
    };
    let err = migrate_vm(&c, &vm, &to, "VM one-4 on host a")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("VM one-4 on host a") && err.contains("DC0_C0_H1"),
        "{err}"
    );
    assert!(err.contains("RelocateVM_Task"), "{err}");
    assert_ne!(vm.host(&c).await.unwrap().as_ref(), Some(&dst), "not moved");
}

const VM_ON_HOST_1: &str = "<objects><obj type=\"VirtualMachine\">vm-1</obj>\
<propSet><name>runtime.host</name><val type=\"HostSystem\" xsi:type=\"ManagedObjectReference\">host-1</val></propSet></objects>";

const CHECK_REFUSED: &str = "<version>1</version><filterSet><filter type=\"PropertyFilter\">f-1</filter>\
<objectSet><kind>enter</kind><obj type=\"Task\">task-1</obj><changeSet><name>info</name><op>assign</op>\
<val xsi:type=\"TaskInfo\"><key>task-1</key><task type=\"Task\">task-1</task>\
<descriptionId>VirtualMachineProvisioningChecker.checkRelocate</descriptionId>\
<state>success</state><cancelled>false</cancelled><cancelable>false</cancelable>\
<result xsi:type=\"ArrayOfCheckResult\"><CheckResult xsi:type=\"CheckResult\"><vm type=\"VirtualMachine\">vm-1</vm>\
<host type=\"HostSystem\">host-2</host><error><fault xsi:type=\"MigrationDisabled\"></fault>\
<localizedMessage>Migration is disabled on the destination host</localizedMessage></error></CheckResult></result>\
<reason xsi:type=\"TaskReasonUser\"><userName>u</userName></reason>\
<queueTime>2026-01-01T00:00:00Z</queueTime><eventChainId>1</eventChainId></val></changeSet></objectSet></filterSet>";

/// A vCenter whose provisioning checker refuses the move: the migration fails with the
/// check's fault, and no relocation is started.
#[tokio::test]
async fn a_refusing_check_stops_the_migration() {
    let content = format!(
        "{SERVICE_CONTENT}<vmProvisioningChecker type=\"VirtualMachineProvisioningChecker\">ProvChecker</vmProvisioningChecker>"
    );
    let fx = soap_fixture::start(Arc::new(move |method: String, _body: String| {
        let content = content.clone();
        Box::pin(async move {
            match method.as_str() {
                "RetrieveServiceContent" => response("RetrieveServiceContent", Some(&content)),
                "RetrievePropertiesEx" => response("RetrievePropertiesEx", Some(VM_ON_HOST_1)),
                "CheckRelocate_Task" => response_ref("CheckRelocate_Task", "Task", "task-1"),
                "WaitForUpdatesEx" => response("WaitForUpdatesEx", Some(CHECK_REFUSED)),
                other => common(other),
            }
        })
    }))
    .await;
    let c = fx.client();
    let r = |t: &str, v: &str| vim_sdk::xml::ManagedObjectReference::new(t, v);
    let vm = mo::VirtualMachine::from_ref(r("VirtualMachine", "vm-1"));
    let dst = mo::HostSystem::from_ref(r("HostSystem", "host-2"));
    let pool = mo::ResourcePool::from_ref(r("ResourcePool", "resgroup-2"));
    let to = Destination {
        host: &dst,
        pool: &pool,
        name: "esx2",
    };
    let err = migrate_vm(&c, &vm, &to, "VM one-1 on host esx1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the migration of VM one-1 on host esx1 was refused"),
        "{err}"
    );
    assert!(
        err.contains("MigrationDisabled: Migration is disabled on the destination host"),
        "{err}"
    );
    assert_eq!(fx.count("CheckRelocate_Task"), 1, "{:?}", fx.calls());
    assert_eq!(fx.count("RelocateVM_Task"), 0, "{:?}", fx.calls());
}

/// migrate through the installed tree: the VM moves to the destination host and its pool
/// (read back from `runtime.host` and `resourcePool`), a re-run is a success, an unknown
/// destination or VM fails with nothing moved, and no session is left behind.
#[tokio::test]
async fn migrate_through_the_installed_tree() {
    use support::{sdk, OneEnv};
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let (src, dst) = ("DC0_H0", "DC0_C0_H1");
    let vm = sdk::adopt_vm(&s, &env, src, 31).await;
    let before = sdk::driver_sessions(&env).await;
    let migrate = |vm: &str, to: &str| {
        let vmid = vm.trim_start_matches("one-");
        env.run("vmm/vmware/migrate", &[vm, to, src, vmid, src])
    };
    let dst_host = sdk::host(&s, dst).await;
    let dst_pool = pool_of(&s, &dst_host).await;

    let run = migrate("one-31", dst);
    run.assert_ok();
    assert_eq!(run.stdout, "", "{run}");
    let p = sdk::props(
        &s,
        vm.reference(),
        &["runtime.host", "resourcePool", "runtime.powerState"],
    )
    .await;
    assert_eq!(p.reference("runtime.host"), Some(dst_host.reference()));
    assert_eq!(p.reference("resourcePool"), Some(dst_pool.reference()));
    assert_eq!(p.str("runtime.powerState"), Some("poweredOn"), "live");
    // OpenNebula retries: already there, a success.
    migrate("one-31", dst).assert_silent_ok(&format!("already runs on host {dst}"));

    // An unknown destination or VM: an error block, the VM where it was.
    migrate("one-31", "no-such-host").assert_failed(&["one-31", "no-such-host", "no host named"]);
    migrate("one-39", dst).assert_failed(&["VM one-39 not found"]);
    env.run(
        "vmm/vmware/migrate",
        &["one-31", dst, src, "31", "DC0_C1_H0"],
    )
    .assert_failed(&["bad arguments"]);
    let p = sdk::props(&s, vm.reference(), &["runtime.host"]).await;
    assert_eq!(p.reference("runtime.host"), Some(dst_host.reference()));
    assert_eq!(
        sdk::driver_sessions(&env).await,
        before + 1,
        "one cached session"
    );
}

/// Without `:vcenter:` live migration is impossible: refused with a block naming the
/// setting, before any login.
#[tokio::test]
async fn migrate_without_vcenter_is_refused() {
    use support::{sdk, OneEnv};
    let env = OneEnv::esx().await;
    let host = env.host(0).to_string();
    let run = env.run("vmm/vmware/migrate", &["one-3", "esx2", &host, "3", &host]);
    let rc = env.vmwarerc().display().to_string();
    run.assert_failed(&["cannot migrate VM one-3", "esx2", ":vcenter:", &rc]);
    assert_eq!(run.stdout, "");
    assert_eq!(sdk::driver_sessions(&env).await, 0, "nothing logged in");
}
