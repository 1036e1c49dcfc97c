//! poll through the installed tree, against the simulator.

mod support;

use support::{sdk, OneEnv};

/// `KEY=VALUE` tokens of a poll line.
fn tokens(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .map(|t| {
            let (k, v) = t
                .split_once('=')
                .unwrap_or_else(|| panic!("token without '=': {t}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[tokio::test]
async fn poll_running_and_missing_vm_through_vcenter() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::any_vm_on(&s, &env, &host).await;
    sdk::rename(&s, vm.reference(), "one-7").await;
    assert_eq!(sdk::power_state(&s, &vm).await, "poweredOn");

    let run = env.run("vmm/vmware/poll", &["one-7", &host, "7", &host]);
    run.assert_ok();
    let line = run.stdout.trim();
    assert_eq!(run.stdout.lines().count(), 1, "{run}");
    let t = tokens(line);
    let keys: Vec<&str> = t.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["STATE", "USEDCPU", "USEDMEMORY", "NETRX", "NETTX"],
        "{run}"
    );
    assert_eq!(t[0].1, "a", "{run}");
    for (k, v) in &t[1..] {
        v.parse::<u64>()
            .unwrap_or_else(|_| panic!("{k}={v} is not an integer: {run}"));
    }

    // A VM that is not there: STATE=d, exit 0.
    let run = env.run("vmm/vmware/poll", &["one-999", &host, "999", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "STATE=d", "{run}");
    // A name that only contains ours is not ours.
    let run = env.run("vmm/vmware/poll", &["one-", &host, "7", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "STATE=d", "{run}");

    // Powered off: STATE=d.
    vm.power_off_vm_task(&s)
        .await
        .unwrap()
        .wait(&s)
        .await
        .unwrap();
    let run = env.run("vmm/vmware/poll", &["one-7", &host, "7", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "STATE=d", "{run}");
}

#[tokio::test]
async fn poll_direct_to_esx() {
    let env = OneEnv::esx().await;
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let vm = sdk::any_vm_on(&s, &env, &host).await;
    sdk::rename(&s, vm.reference(), "one-3").await;
    // The harness's datastores are there, named like OpenNebula ids.
    let names: Vec<String> = sdk::list::<vim_sdk::mo::Datastore>(&s, &s.content().root_folder)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(
        names.contains(&"0".to_string()) && names.contains(&"1".to_string()),
        "{names:?}"
    );

    let run = env.run("vmm/vmware/poll", &["one-3", &host, "3", &host]);
    run.assert_ok();
    assert!(run.stdout.starts_with("STATE=a USEDCPU="), "{run}");
    let run = env.run("vmm/vmware/poll", &["one-4", &host, "4", &host]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "STATE=d", "{run}");
}
