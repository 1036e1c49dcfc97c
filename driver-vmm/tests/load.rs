//! Load: 64 driver processes started at once through the installed tree against one vCenter
//! simulator, sharing one session cache that starts empty: polls, probes, deploys of
//! different VMs and shutdowns. Every run must be right (checked through an independent
//! session), no session may be left on the server besides the cached one, and no file of the
//! cache directory may ever be open to group or others while they run.
//!
//! Prints the wall time of the 64 runs and the server's session count before and after
//! (`cargo test -p driver-vmm --all-features --test load -- --nocapture`).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use support::{sdk, OneEnv, Run};

/// What one process of the load does.
#[derive(Debug, Clone)]
enum Job {
    /// `vmm/vmware/deploy` of `one-<vmid>` on host index `host`.
    Deploy { vmid: u64, host: usize },
    /// `vmm/vmware/poll` of `one-<vmid>` (powered on) on its host.
    Poll { vmid: u64, host: String },
    /// `im/vmware.d/probe` of host index `host`.
    Probe { host: usize },
    /// `vmm/vmware/shutdown` of `one-<vmid>` on its host.
    Shutdown { vmid: u64, host: String },
}

const DEPLOYS: u64 = 16;
const POLLS: u64 = 29;
const PROBES: usize = 16;
const SHUTDOWNS: u64 = 3;
/// VM ids of the model VMs adopted for polls (`POLLED` of them) and shutdowns.
const POLLED: u64 = 3;
const ADOPTED_BASE: u64 = 200;
const DEPLOYED_BASE: u64 = 300;

/// The jobs, given the number of hosts and the host of each adopted VM (`one-200`...).
fn jobs(hosts: usize, adopted: &[String]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for i in 0..DEPLOYS {
        jobs.push(Job::Deploy {
            vmid: DEPLOYED_BASE + i,
            host: i as usize % hosts,
        });
    }
    for i in 0..POLLS {
        let k = i % POLLED;
        jobs.push(Job::Poll {
            vmid: ADOPTED_BASE + k,
            host: adopted[k as usize].clone(),
        });
    }
    for i in 0..PROBES {
        jobs.push(Job::Probe { host: i % hosts });
    }
    for i in 0..SHUTDOWNS {
        let k = POLLED + i;
        jobs.push(Job::Shutdown {
            vmid: ADOPTED_BASE + k,
            host: adopted[k as usize].clone(),
        });
    }
    // Interleaved, so that every kind meets every other at the start.
    jobs.sort_by_key(|j| match j {
        Job::Deploy { vmid, .. } => (vmid % 16) * 4,
        Job::Poll { vmid, .. } => (vmid % 16) * 4 + 1,
        Job::Probe { host } => *host as u64 * 4 + 2,
        Job::Shutdown { vmid, .. } => (vmid % 16) * 4 + 3,
    });
    jobs
}

/// The sessions on the server besides the checkers' (the test's own `s` and the one
/// counting).
async fn driver_sessions(env: &OneEnv) -> usize {
    sdk::driver_sessions(env).await - 1
}

fn mac(vmid: u64) -> String {
    format!("00:50:56:00:{:02x}:{:02x}", vmid / 256, vmid % 256)
}

fn run_job(env: &OneEnv, job: &Job) -> Run {
    match job {
        Job::Deploy { vmid, host } => {
            let dfile = env.var.join(format!("vms/{vmid}/deployment.0"));
            let (v, h) = (vmid.to_string(), env.host(*host));
            env.run(
                "vmm/vmware/deploy",
                &[dfile.to_str().expect("utf-8"), h, &v, h],
            )
        }
        Job::Poll { vmid, host: h } => {
            let v = vmid.to_string();
            env.run("vmm/vmware/poll", &[&format!("one-{vmid}"), h, &v, h])
        }
        Job::Probe { host } => env.run("im/vmware.d/probe", &["3", env.host(*host)]),
        Job::Shutdown { vmid, host: h } => {
            let v = vmid.to_string();
            env.run("vmm/vmware/shutdown", &[&format!("one-{vmid}"), h, &v, h])
        }
    }
}

/// Watches `dir` until `stop`: every file seen open to group or others, with its mode.
fn watch_modes(dir: &Path, stop: &AtomicBool) -> BTreeSet<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut open = BTreeSet::new();
    let mut scans = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if let Ok(dir_meta) = std::fs::metadata(dir) {
            if dir_meta.permissions().mode() & 0o077 != 0 {
                open.insert(format!(
                    "the directory: {:o}",
                    dir_meta.permissions().mode()
                ));
            }
        }
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            // Gone between the listing and the look: renamed or removed, fine.
            if let Ok(m) = entry.path().symlink_metadata() {
                if m.permissions().mode() & 0o077 != 0 {
                    open.insert(format!(
                        "{}: {:o}",
                        entry.file_name().to_string_lossy(),
                        m.permissions().mode()
                    ));
                }
            }
        }
        scans += 1;
        std::thread::sleep(Duration::from_micros(200));
    }
    eprintln!("load: cache directory scanned {scans} times");
    open
}

#[tokio::test]
async fn sixty_four_processes_at_once() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let hosts = env.hosts.len();

    // VMs to poll and shut down: model VMs renamed one-200...
    let model: Vec<_> = sdk::all_vms(&s).await;
    assert!(
        model.len() as u64 >= POLLED + SHUTDOWNS,
        "the model has {} VMs",
        model.len()
    );
    let mut adopted = Vec::new();
    for (i, (_, vm)) in model.iter().take((POLLED + SHUTDOWNS) as usize).enumerate() {
        sdk::rename(
            &s,
            vm.reference(),
            &format!("one-{}", ADOPTED_BASE + i as u64),
        )
        .await;
        assert_eq!(sdk::power_state(&s, vm).await, "poweredOn");
        let on = sdk::props(&s, vm.reference(), &["runtime.host"]).await;
        let host = on.reference("runtime.host").expect("runtime.host").clone();
        let name = sdk::props(&s, &host, &["name"]).await;
        adopted.push(name.str("name").expect("host name").to_string());
    }
    // Disks and deployment files for the deploys, as the TM and oned would leave them.
    for i in 0..DEPLOYS {
        let vmid = DEPLOYED_BASE + i;
        sdk::create_disk(&s, &env, "0", vmid, 0).await;
        env.write_deployment(vmid, 0, &sdk::small_deployment(vmid, &mac(vmid)));
    }
    let sessions_before = driver_sessions(&env).await;
    let cache = env.session_cache();
    assert!(!cache.exists(), "the cache starts empty");

    let jobs = jobs(hosts, &adopted);
    assert_eq!(jobs.len(), 64);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(Job, Run)>> = Mutex::new(Vec::new());
    let start = Barrier::new(jobs.len());
    let (wall, open_files) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_modes(&cache, &stop));
        let began = Instant::now();
        let runners: Vec<_> = jobs
            .iter()
            .map(|job| {
                let (env, start, results) = (&env, &start, &results);
                scope.spawn(move || {
                    start.wait();
                    let run = run_job(env, job);
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((job.clone(), run));
                })
            })
            .collect();
        for r in runners {
            r.join().expect("runner");
        }
        let wall = began.elapsed();
        stop.store(true, Ordering::Relaxed);
        (wall, watcher.join().expect("watcher"))
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    assert_eq!(results.len(), 64);

    // Every run right, by its output.
    for (job, run) in &results {
        run.assert_ok();
        match job {
            Job::Deploy { vmid, .. } => {
                assert_eq!(run.stdout.trim(), format!("one-{vmid}"), "{run}")
            }
            Job::Poll { .. } => assert!(run.stdout.starts_with("STATE=a"), "{run}"),
            Job::Probe { host } => {
                assert!(run.stdout.contains("HYPERVISOR=vmware"), "{run}");
                assert!(run.stdout.contains(env.host(*host)), "{run}");
            }
            Job::Shutdown { .. } => assert_eq!(run.stdout, "", "{run}"),
        }
    }
    // ... and by the server's inventory.
    for i in 0..DEPLOYS {
        let vmid = DEPLOYED_BASE + i;
        let name = format!("one-{vmid}");
        let found = sdk::vms_named(&s, &name).await;
        assert_eq!(found.len(), 1, "{name} registered once");
        assert_eq!(sdk::power_state(&s, &found[0]).await, "poweredOn", "{name}");
        let on = sdk::props(&s, found[0].reference(), &["runtime.host"]).await;
        let want = sdk::host(&s, env.host(i as usize % hosts)).await;
        assert_eq!(
            on.reference("runtime.host"),
            Some(want.reference()),
            "{name}"
        );
    }
    for i in 0..SHUTDOWNS {
        let name = format!("one-{}", ADOPTED_BASE + POLLED + i);
        assert!(!sdk::registered(&s, &name).await, "{name} shut down");
    }
    for i in 0..POLLED {
        let name = format!("one-{}", ADOPTED_BASE + i);
        assert_eq!(sdk::vms_named(&s, &name).await.len(), 1, "{name} untouched");
    }

    // Sessions: at most the cached one is left, and the cache holds a live one.
    let sessions_after = driver_sessions(&env).await;
    let names: Vec<String> = std::fs::read_dir(&cache)
        .expect("cache dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let sessions_cached = names.iter().filter(|n| n.ends_with(".session")).count();
    assert_eq!(sessions_cached, 1, "one cached session: {names:?}");
    assert!(
        !names.iter().any(|n| n.contains(".tmp")),
        "no temporary file left: {names:?}"
    );
    assert!(
        sessions_after <= 1,
        "{sessions_after} driver sessions left on the server (before: {sessions_before})"
    );
    assert!(
        open_files.is_empty(),
        "files open to others: {open_files:?}"
    );
    let again = run_job(
        &env,
        &Job::Poll {
            vmid: ADOPTED_BASE,
            host: adopted[0].clone(),
        },
    );
    again.assert_ok();
    assert_eq!(
        driver_sessions(&env).await,
        sessions_after,
        "the next run reuses the cached session"
    );
    eprintln!(
        "load: 64 processes ({DEPLOYS} deploy, {POLLS} poll, {PROBES} probe, {SHUTDOWNS} shutdown) in {:.2} s wall; driver sessions on the server before {sessions_before}, after {sessions_after}",
        wall.as_secs_f64()
    );
    let _ = s.logout().await;
}
