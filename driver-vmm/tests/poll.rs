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

#[tokio::test]
async fn warm_poll_takes_at_most_two_round_trips_and_survives_stale_caches() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let host = env.host(2).to_string();
    let vm = sdk::any_vm_on(&s, &env, &host).await;
    sdk::rename(&s, vm.reference(), "one-21").await;
    let debug = [("VMWARE_DRIVER_DEBUG", "1")];
    let args = ["one-21", host.as_str(), "21", host.as_str()];

    let cold = env.run_with_env("vmm/vmware/poll", &args, &debug);
    cold.assert_ok();
    let cold_rt = cold
        .round_trips()
        .unwrap_or_else(|| panic!("no round-trip line: {cold}"));
    eprintln!("cold poll: {cold_rt} SOAP round trips, {:?}", cold.elapsed);
    for _ in 0..3 {
        let warm = env.run_with_env("vmm/vmware/poll", &args, &debug);
        warm.assert_ok();
        assert!(warm.stdout.starts_with("STATE=a "), "{warm}");
        let rt = warm
            .round_trips()
            .unwrap_or_else(|| panic!("no round-trip line: {warm}"));
        assert!(
            rt <= 2,
            "warm poll took {rt} round trips (cold {cold_rt}): {warm}"
        );
    }
    // A missing VM: one round trip.
    let missing = env.run_with_env("vmm/vmware/poll", &["one-22", &host, "22", &host], &debug);
    assert_eq!(missing.stdout.trim(), "STATE=d", "{missing}");
    assert_eq!(missing.round_trips(), Some(1), "{missing}");
    // Without debug, no DEBUG lines.
    let quiet = env.run("vmm/vmware/poll", &args);
    assert!(quiet.stderr.is_empty(), "{quiet}");

    // The cached session ended on the server: the poll logs in again and succeeds.
    let sm = vim_sdk::mo::SessionManager::from_ref(s.content().session_manager.clone().unwrap());
    let mine = s.user_session().unwrap().key;
    let others: Vec<String> = s
        .session_list()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.key)
        .filter(|k| *k != mine)
        .collect();
    assert_eq!(others.len(), 1, "one cached driver session");
    sm.terminate_session(&s, &others).await.unwrap();
    let run = env.run("vmm/vmware/poll", &args);
    run.assert_ok();
    assert!(run.stdout.starts_with("STATE=a "), "{run}");

    // A placement naming an object that is gone: looked up again.
    for entry in std::fs::read_dir(env.session_cache()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("placement-")
        {
            let text = std::fs::read_to_string(&p).unwrap();
            let broken: String = text
                .lines()
                .map(|l| {
                    if l.starts_with("host\t") {
                        "host\tHostSystem\thost-does-not-exist".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(&p, broken).unwrap();
        }
    }
    let run = env.run("vmm/vmware/poll", &args);
    run.assert_ok();
    assert!(run.stdout.starts_with("STATE=a "), "{run}");
}
