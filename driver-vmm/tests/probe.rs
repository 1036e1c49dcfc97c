//! The IM probe through the installed tree, run the way OpenNebula 4.4 runs it (`run_probes`
//! from `im/`, the probe with cwd `im/vmware.d`, stdout base64-encoded by the MAD), its output
//! parsed the way oned's template parser reads it and checked against the inventory read
//! independently through vim-sdk.

mod support;

use std::collections::BTreeMap;

use base64::Engine as _;
use support::{sdk, OneEnv, Run};
use vim_sdk::mo;
use vim_sdk::xml::ManagedObjectReference;

/// OpenNebula 4.4's `im/run_probes`, reduced to what the probe sees: it changes into `im/`,
/// then into `<hypervisor>.d`, runs every executable there with all of its own arguments,
/// and fails with "Error executing <probe>" when one fails.
const RUN_PROBES: &str = r#"#!/bin/bash
HYPERVISOR_DIR=$1.d
ARGUMENTS=$*
SCRIPTS_DIR=`dirname $0`
cd $SCRIPTS_DIR
function run_dir {
    (
    cd $1
    for i in `ls *`;do
        if [ -x "$i" ]; then
            ./$i $ARGUMENTS
            EXIT_CODE=$?
            if [ "x$EXIT_CODE" != "x0" ]; then
                echo "ERROR MESSAGE --8<------" >&2
                echo "Error executing $i" >&2
                echo "ERROR MESSAGE ------>8--" >&2
                exit $EXIT_CODE
            fi
        fi
    done
    )
}
data=$(
    if [ -d "$HYPERVISOR_DIR" ]; then
        run_dir "$HYPERVISOR_DIR"
    fi
)
EXIT_CODE=$?
echo "$data"
exit $EXIT_CODE
"#;

/// A template value: a single value or a vector of sub-attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Single(String),
    Vector(BTreeMap<String, String>),
}

/// Parses template attributes as oned 4.x does: `NAME = VALUE` separated by blanks and
/// newlines, a value being a bare word, a double-quoted string (to the next `"`, no escapes)
/// or a vector `[ NAME = VALUE, ... ]` of such. Panics on anything else.
fn parse_template(text: &str) -> Vec<(String, Value)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let name = |i: &mut usize| -> String {
        let start = *i;
        while *i < b.len() && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
            *i += 1;
        }
        assert!(
            *i > start,
            "attribute name expected at byte {start}: {text}"
        );
        text[start..*i].to_string()
    };
    let scalar = |i: &mut usize| -> String {
        if b[*i] == b'"' {
            let start = *i + 1;
            let end = text[start..]
                .find('"')
                .map(|e| start + e)
                .unwrap_or_else(|| panic!("unterminated string at byte {start}: {text}"));
            *i = end + 1;
            text[start..end].to_string()
        } else {
            let start = *i;
            while *i < b.len() && !b[*i].is_ascii_whitespace() && !b",]\"[=".contains(&b[*i]) {
                *i += 1;
            }
            assert!(*i > start, "value expected at byte {start}: {text}");
            text[start..*i].to_string()
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            break;
        }
        let n = name(&mut i);
        skip_ws(&mut i);
        assert_eq!(b.get(i), Some(&b'='), "'=' expected after {n}: {text}");
        i += 1;
        skip_ws(&mut i);
        if b.get(i) == Some(&b'[') {
            i += 1;
            let mut v = BTreeMap::new();
            loop {
                skip_ws(&mut i);
                let k = name(&mut i);
                skip_ws(&mut i);
                assert_eq!(b.get(i), Some(&b'='), "'=' expected after {n}/{k}: {text}");
                i += 1;
                skip_ws(&mut i);
                let val = scalar(&mut i);
                assert!(
                    v.insert(k.clone(), val).is_none(),
                    "{n} has {k} twice: {text}"
                );
                skip_ws(&mut i);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b']') => {
                        i += 1;
                        break;
                    }
                    other => panic!("',' or ']' expected in {n}, got {other:?}: {text}"),
                }
            }
            out.push((n, Value::Vector(v)));
        } else {
            let val = scalar(&mut i);
            out.push((n, Value::Single(val)));
        }
    }
    out
}

/// The probe's output as oned gets it: stdout base64-encoded by the MAD (one line), decoded,
/// parsed.
fn as_oned_reads_it(run: &Run) -> Probe {
    let b64 = base64::engine::general_purpose::STANDARD.encode(run.stdout.trim());
    assert!(!b64.contains('\n'));
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64"),
    )
    .expect("utf-8");
    Probe::new(parse_template(&text))
}

/// The parsed attributes.
#[derive(Debug)]
struct Probe {
    attrs: Vec<(String, Value)>,
}

impl Probe {
    fn new(attrs: Vec<(String, Value)>) -> Self {
        Probe { attrs }
    }

    fn single(&self, name: &str) -> &str {
        let found: Vec<&str> = self
            .attrs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| match v {
                Value::Single(s) => s.as_str(),
                Value::Vector(_) => panic!("{name} is a vector"),
            })
            .collect();
        assert_eq!(found.len(), 1, "{name} once: {:?}", self.attrs);
        found[0]
    }

    fn int(&self, name: &str) -> i64 {
        let v = self.single(name);
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not an integer"))
    }

    fn vectors(&self, name: &str) -> Vec<&BTreeMap<String, String>> {
        self.attrs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| match v {
                Value::Vector(m) => m,
                Value::Single(s) => panic!("{name}={s} is not a vector"),
            })
            .collect()
    }

    /// `VM` vectors by DEPLOY_ID: (ID, POLL).
    fn vms(&self) -> BTreeMap<String, (i64, String)> {
        let mut out = BTreeMap::new();
        for v in self.vectors("VM") {
            let keys: Vec<&str> = v.keys().map(String::as_str).collect();
            assert_eq!(keys, ["DEPLOY_ID", "ID", "POLL"], "{v:?}");
            let id = v["ID"].parse().expect("VM ID is an integer");
            assert!(
                out.insert(v["DEPLOY_ID"].clone(), (id, v["POLL"].clone()))
                    .is_none(),
                "{} twice",
                v["DEPLOY_ID"]
            );
        }
        out
    }
}

/// The `KEY=VALUE` tokens of a poll string, as oned splits it.
fn poll_tokens(poll: &str) -> BTreeMap<String, String> {
    poll.split_whitespace()
        .map(|t| {
            let (k, v) = t.split_once('=').unwrap_or_else(|| panic!("bad token {t}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Installs the `run_probes` replica beside the probe.
fn install_run_probes(env: &OneEnv) {
    let path = env.remotes.join("im/run_probes");
    std::fs::write(&path, RUN_PROBES).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the probes of `host` as oned 4.4 does.
fn monitor(env: &OneEnv, host: &str, env_vars: &[(&str, &str)]) -> Run {
    env.run_with_env(
        "im/run_probes",
        &["vmware", "/vmfs/volumes", "4124", "20", "0", host],
        env_vars,
    )
}

/// What the inventory says about a host, read independently.
struct Expected {
    host_props: vim_sdk::property::ObjectProps,
    /// Datastore name → (capacity, free), bytes.
    datastores: BTreeMap<String, (i64, i64)>,
    /// Name → power state of the VMs whose runtime.host is the host.
    vms: BTreeMap<String, String>,
}

async fn expected(s: &vim_sdk::session::Session, host: &mo::HostSystem) -> Expected {
    let host_props = sdk::props(
        s,
        host.reference(),
        &[
            "name",
            "summary.hardware.cpuMhz",
            "summary.hardware.numCpuCores",
            "summary.hardware.memorySize",
            "summary.hardware.cpuModel",
            "summary.quickStats.overallCpuUsage",
            "summary.quickStats.overallMemoryUsage",
            "summary.config.product.version",
            "datastore",
        ],
    )
    .await;
    let mut datastores = BTreeMap::new();
    for ds in host_props.references("datastore") {
        let p = sdk::props(
            s,
            ds,
            &["summary.name", "summary.capacity", "summary.freeSpace"],
        )
        .await;
        datastores.insert(
            p.str("summary.name").unwrap().to_string(),
            (
                p.int("summary.capacity").unwrap(),
                p.int("summary.freeSpace").unwrap(),
            ),
        );
    }
    let mut vms = BTreeMap::new();
    for (name, vm) in sdk::all_vms(s).await {
        let p = sdk::props(s, vm.reference(), &["runtime.host", "runtime.powerState"]).await;
        if p.reference("runtime.host") == Some(host.reference()) {
            vms.insert(name, p.str("runtime.powerState").unwrap().to_string());
        }
    }
    Expected {
        host_props,
        datastores,
        vms,
    }
}

/// The quoting rule of the probe, restated: `"` → `'`, `\` → `/`, control → space.
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Checks a probe's output against the inventory.
fn check(p: &Probe, e: &Expected) {
    let h = &e.host_props;
    assert_eq!(p.single("HYPERVISOR"), "vmware");
    assert_eq!(p.single("HOSTNAME"), h.str("name").unwrap());
    assert_eq!(
        p.single("MODELNAME"),
        shown(h.str("summary.hardware.cpuModel").unwrap())
    );
    let mhz = h.int("summary.hardware.cpuMhz").unwrap();
    assert_eq!(p.int("CPUSPEED"), mhz);
    let total_cpu = h.int("summary.hardware.numCpuCores").unwrap() * 100;
    assert_eq!(p.int("TOTALCPU"), total_cpu);
    let used_cpu = ((h.int("summary.quickStats.overallCpuUsage").unwrap() * 100 + mhz / 2) / mhz)
        .min(total_cpu);
    assert_eq!(p.int("USEDCPU"), used_cpu);
    assert_eq!(p.int("FREECPU"), total_cpu - used_cpu);
    let total_mem = h.int("summary.hardware.memorySize").unwrap() / 1024;
    assert_eq!(p.int("TOTALMEMORY"), total_mem);
    let used_mem = (h.int("summary.quickStats.overallMemoryUsage").unwrap() * 1024).min(total_mem);
    assert_eq!(p.int("USEDMEMORY"), used_mem);
    assert_eq!(p.int("FREEMEMORY"), total_mem - used_mem);
    assert!(p.int("NETRX") >= 0 && p.int("NETTX") >= 0);
    assert!(
        p.single("VERSION")
            .starts_with(h.str("summary.config.product.version").unwrap()),
        "{}",
        p.single("VERSION")
    );
    // Every datastore of the host, with its figures in MB.
    let mut ds: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for v in p.vectors("DS") {
        let keys: Vec<&str> = v.keys().map(String::as_str).collect();
        assert_eq!(keys, ["FREE_MB", "ID", "TOTAL_MB", "USED_MB"], "{v:?}");
        let n = |k: &str| v[k].parse::<i64>().unwrap();
        ds.insert(v["ID"].clone(), (n("USED_MB"), n("TOTAL_MB"), n("FREE_MB")));
    }
    let mib = 1024 * 1024;
    let want: BTreeMap<String, (i64, i64, i64)> = e
        .datastores
        .iter()
        .map(|(n, (cap, free))| (shown(n), ((cap - free) / mib, cap / mib, free / mib)))
        .collect();
    assert_eq!(ds, want);
    assert!(ds.contains_key("0") && ds.contains_key("1"), "{ds:?}");
    assert_eq!(p.single("VM_POLL"), "YES");
    // The VMs whose runtime.host is the host, each once, with id and state.
    let vms = p.vms();
    let names: std::collections::BTreeSet<String> = e.vms.keys().map(|n| shown(n)).collect();
    assert_eq!(
        vms.keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        names
    );
    for (name, state) in &e.vms {
        let (id, poll) = &vms[&shown(name)];
        let want_id = name
            .strip_prefix("one-")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<i64>().ok())
            .unwrap_or(-1);
        assert_eq!(*id, want_id, "{name}");
        let t = poll_tokens(poll);
        let letter = match state.as_str() {
            "poweredOn" => "a",
            "suspended" => "p",
            _ => "d",
        };
        assert_eq!(t["STATE"], letter, "{name}: {poll}");
        if letter == "d" {
            assert_eq!(t.len(), 1, "{poll}");
        } else {
            let keys: Vec<&str> = t.keys().map(String::as_str).collect();
            assert_eq!(keys, ["NETRX", "NETTX", "STATE", "USEDCPU", "USEDMEMORY"]);
            for k in ["NETRX", "NETTX", "USEDCPU", "USEDMEMORY"] {
                t[k].parse::<u64>().unwrap();
            }
        }
    }
}

async fn wait(s: &vim_sdk::session::Session, t: vim_sdk::managed::TaskOf<()>) {
    t.wait(s).await.expect("task");
}

#[tokio::test]
async fn probe_of_an_esx_host_with_running_suspended_off_and_hostile_vms() {
    let env = OneEnv::esx().await;
    install_run_probes(&env);
    let s = env.sdk().await;
    let host = env.host(0).to_string();
    let esx = sdk::list::<mo::HostSystem>(&s, &s.content().root_folder)
        .await
        .pop()
        .expect("one host")
        .1;
    let vms = sdk::all_vms(&s).await;
    assert!(vms.len() >= 2, "the ESX model has 2 VMs");
    let (a, b) = (vms[0].1.clone(), vms[1].1.clone());
    sdk::rename(&s, a.reference(), "one-3").await;
    let hostile = "evil\",ID=9,X=\"[1]\\";
    sdk::rename(&s, b.reference(), hostile).await;
    wait(&s, b.suspend_vm_task(&s).await.unwrap()).await;

    let run = monitor(&env, &host, &[]);
    run.assert_ok();
    assert!(run.stderr.is_empty(), "{run}");
    let p = as_oned_reads_it(&run);
    check(&p, &expected(&s, &esx).await);
    let vm = p.vms();
    assert_eq!(vm["one-3"].0, 3);
    assert!(vm["one-3"].1.starts_with("STATE=a "), "{run}");
    assert_eq!(vm[&shown(hostile)].0, -1, "{run}");
    assert!(vm[&shown(hostile)].1.starts_with("STATE=p "), "{run}");
    assert_eq!(p.vectors("VM").len(), 2, "{run}");

    // Powered off: STATE=d, still listed.
    wait(&s, a.power_off_vm_task(&s).await.unwrap()).await;
    let run = monitor(&env, &host, &[]);
    run.assert_ok();
    let p = as_oned_reads_it(&run);
    check(&p, &expected(&s, &esx).await);
    assert_eq!(p.vms()["one-3"].1, "STATE=d", "{run}");

    // The older argument lists, straight from im/vmware.d.
    for args in [vec!["3", host.as_str()], vec!["vmware", "3", host.as_str()]] {
        let run = env.run("im/vmware.d/probe", &args);
        run.assert_ok();
        check(&as_oned_reads_it(&run), &expected(&s, &esx).await);
    }
    // Bad arguments: refused before any call.
    let run = env.run("im/vmware.d/probe", &["esx1"]);
    run.assert_failed(&["probe: bad arguments"]);
    let run = env.run("im/vmware.d/probe", &["x", "esx1"]);
    run.assert_failed(&["probe: bad arguments"]);
}

/// Hosts of `env` as (name, handle).
async fn hosts(s: &vim_sdk::session::Session) -> BTreeMap<String, mo::HostSystem> {
    sdk::list::<mo::HostSystem>(s, &s.content().root_folder)
        .await
        .into_iter()
        .collect()
}

#[tokio::test]
async fn probe_through_vcenter_lists_each_vm_on_its_host_after_moves() {
    let env = OneEnv::vcenter().await;
    install_run_probes(&env);
    let s = env.sdk().await;
    let all = hosts(&s).await;
    // Name one VM like an OpenNebula VM.
    let (_, first) = sdk::all_vms(&s).await.into_iter().next().unwrap();
    sdk::rename(&s, first.reference(), "one-12").await;

    // Every host: the VMs whose runtime.host is that host, nothing else.
    let mut seen = 0;
    for (name, h) in &all {
        let run = monitor(&env, name, &[]);
        run.assert_ok();
        let p = as_oned_reads_it(&run);
        check(&p, &expected(&s, h).await);
        seen += p.vectors("VM").len();
    }
    assert_eq!(
        seen,
        sdk::all_vms(&s).await.len(),
        "each VM on exactly one host"
    );

    // Empty one host of cluster C0 by moving its VMs to the other host of the cluster (as
    // migrate does: host and the cluster's pool). vcsim keeps them in the source host's
    // HostSystem.vm; the probe goes by runtime.host.
    let (src, dst) = ("DC0_C0_H0", "DC0_C0_H1");
    let (src_h, dst_h) = (all[src].clone(), all[dst].clone());
    let pool = sdk::props(&s, dst_h.reference(), &["parent"]).await;
    let cr = pool.reference("parent").unwrap().clone();
    let pool = sdk::props(&s, &cr, &["resourcePool"])
        .await
        .reference("resourcePool")
        .unwrap()
        .clone();
    let mut before = expected(&s, &src_h).await.vms;
    assert!(!before.is_empty(), "{src} carries VMs in the model");
    // One of them named like an OpenNebula VM, for the VMM poll below.
    let first_name = before.keys().next().unwrap().clone();
    let (_, vm44) = sdk::all_vms(&s)
        .await
        .into_iter()
        .find(|(n, _)| *n == first_name)
        .unwrap();
    sdk::rename(&s, vm44.reference(), "one-44").await;
    let state = before.remove(&first_name).unwrap();
    before.insert("one-44".into(), state);
    let mut moved = Vec::new();
    for (name, vm) in sdk::all_vms(&s).await {
        let p = sdk::props(&s, vm.reference(), &["runtime.host"]).await;
        if p.reference("runtime.host") == Some(src_h.reference()) {
            let spec = vim_sdk::types::VirtualMachineRelocateSpec {
                host: Some(dst_h.reference().clone()),
                pool: Some(pool.clone()),
                ..Default::default()
            };
            wait(&s, vm.relocate_vm_task(&s, &spec, None).await.unwrap()).await;
            moved.push(name);
        }
    }
    assert_eq!(moved.len(), before.len());
    let stale = sdk::props(&s, src_h.reference(), &["vm"]).await;
    let stale: Vec<ManagedObjectReference> = stale.references("vm").to_vec();
    eprintln!(
        "{src} HostSystem.vm after the moves: {} entries",
        stale.len()
    );

    let run = monitor(&env, src, &[]);
    run.assert_ok();
    let p = as_oned_reads_it(&run);
    check(&p, &expected(&s, &src_h).await);
    assert!(p.vectors("VM").is_empty(), "a host with no VMs: {run}");
    assert_eq!(p.single("VM_POLL"), "YES", "always, even without VMs");

    let run = monitor(&env, dst, &[]);
    run.assert_ok();
    let p = as_oned_reads_it(&run);
    check(&p, &expected(&s, &dst_h).await);
    let listed = p.vms();
    for name in &moved {
        assert!(
            listed.contains_key(&shown(name)),
            "{name} moved to {dst}: {run}"
        );
    }
    assert_eq!(listed["one-44"].0, 44, "{run}");

    // The VMM poll finds the moved VM on its new host, and not on the old one.
    let run = env.run("vmm/vmware/poll", &["one-44", dst, "44", dst]);
    run.assert_ok();
    assert!(run.stdout.starts_with("STATE=a "), "{run}");
    let run = env.run("vmm/vmware/poll", &["one-44", src, "44", src]);
    run.assert_ok();
    assert_eq!(run.stdout.trim(), "STATE=d", "{run}");
}

#[tokio::test]
async fn probe_round_trips_are_fixed() {
    let env = OneEnv::vcenter().await;
    let s = env.sdk().await;
    let debug = [("VMWARE_DRIVER_DEBUG", "1")];
    let all = hosts(&s).await;
    let mut warm = Vec::new();
    for name in all.keys() {
        let args = ["3", name.as_str()];
        let cold = env.run_with_env("im/vmware.d/probe", &args, &debug);
        cold.assert_ok();
        let vms = as_oned_reads_it(&cold).vectors("VM").len();
        for _ in 0..2 {
            let run = env.run_with_env("im/vmware.d/probe", &args, &debug);
            run.assert_ok();
            let rt = run
                .round_trips()
                .unwrap_or_else(|| panic!("no round-trip line: {run}"));
            warm.push((name.clone(), vms, rt));
        }
    }
    eprintln!("(host, VMs, warm round trips): {warm:?}");
    for (name, vms, rt) in &warm {
        assert_eq!(
            *rt, 2,
            "{name} with {vms} VMs: one property collector pass and one QueryPerf"
        );
    }

    // Stale caches: the cached session ended on the server, then a cached placement naming
    // a host that is gone. The probe opens again and succeeds, with the same output shape.
    let host = all.keys().next().unwrap().clone();
    let args = ["3", host.as_str()];
    let sm = mo::SessionManager::from_ref(s.content().session_manager.clone().unwrap());
    let mine = s.user_session().unwrap().key;
    let others: Vec<String> = s
        .session_list()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.key)
        .filter(|k| *k != mine)
        .collect();
    assert!(!others.is_empty(), "a cached probe session");
    sm.terminate_session(&s, &others).await.unwrap();
    let run = env.run("im/vmware.d/probe", &args);
    run.assert_ok();
    check(&as_oned_reads_it(&run), &expected(&s, &all[&host]).await);
    for entry in std::fs::read_dir(env.session_cache()).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("placement-") {
            let text = std::fs::read_to_string(&p).unwrap();
            let broken: Vec<String> = text
                .lines()
                .map(|l| {
                    if l.starts_with("host\t") {
                        "host\tHostSystem\thost-does-not-exist".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            std::fs::write(&p, broken.join("\n")).unwrap();
        }
    }
    let run = env.run("im/vmware.d/probe", &args);
    run.assert_ok();
    check(&as_oned_reads_it(&run), &expected(&s, &all[&host]).await);
}

#[tokio::test]
async fn unreachable_or_unknown_hosts_fail_with_the_host_named() {
    let env = OneEnv::esx().await;
    install_run_probes(&env);
    // Nothing listens on port 1 of loopback.
    let secret = "S3cret-of-the-probe-test";
    env.write_vmwarerc(&format!(
        ":libvirt_uri: \"esx://@HOST@:1/?no_verify=1\"\n:username: \"user\"\n:password: \"{secret}\"\n"
    ));
    let run = monitor(&env, "127.0.0.1", &[]);
    assert_ne!(run.code, 0, "{run}");
    let block = run.error_block.clone().expect("error block");
    assert!(block.contains("cannot monitor host 127.0.0.1"), "{run}");
    assert!(block.contains("Error executing probe"), "{run}");
    assert!(run.stdout.trim().is_empty(), "{run}");
    assert!(
        !run.stderr.contains(secret),
        "no password in messages: {run}"
    );

    // Through vCenter, a host the datacenter does not have.
    let env = OneEnv::vcenter().await;
    let run = env.run("im/vmware.d/probe", &["3", "no-such-host"]);
    run.assert_failed(&[
        "cannot monitor host no-such-host",
        "no host named no-such-host",
    ]);
}

/// What the relay does with the first `QueryPerf` after destroying the victim.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnQueryPerf {
    /// Forwards it to the simulator (vcsim answers for entities it no longer has).
    Forward,
    /// Answers it with the `ManagedObjectNotFound` fault naming the victim, as vCenter does.
    Fault,
}

/// The next victim of a [`vanishing_relay`]: a session to destroy it with, the VM, and what
/// to do with the `QueryPerf` after.
type Victim = (vim_sdk::session::Session, mo::VirtualMachine, OnQueryPerf);

/// A plain-HTTP relay on loopback to the simulator at `target`. While `slot` holds a
/// victim, the first request whose body holds `<QueryPerf` (the probe's second call, after
/// its property read) waits until the victim has been powered off and destroyed, then goes
/// on as the victim's mode says. Every other byte passes through untouched.
async fn vanishing_relay(
    target: std::net::SocketAddr,
    slot: std::sync::Arc<tokio::sync::Mutex<Option<Victim>>>,
) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let slot = slot.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut tail: Vec<u8> = Vec::new();
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return None,
                            Ok(n) => n,
                        };
                        let mut seen = std::mem::take(&mut tail);
                        seen.extend_from_slice(&buf[..n]);
                        let hit = seen.windows(10).any(|w| w == b"<QueryPerf");
                        tail = seen[seen.len().saturating_sub(16)..].to_vec();
                        if hit {
                            if let Some((s, vm, mode)) = slot.lock().await.take() {
                                wait(&s, vm.power_off_vm_task(&s).await.unwrap()).await;
                                wait(&s, vm.destroy_task(&s).await.unwrap()).await;
                                if mode == OnQueryPerf::Fault {
                                    return Some(vm);
                                }
                            }
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return None;
                        }
                    }
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                let answered = tokio::select! {
                    v = up => v,
                    _ = down => None,
                };
                if let Some(vm) = answered {
                    // vCenter's answer for a vanished entity; the connection closes after it.
                    let body = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
                         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>\
                         <soapenv:Fault><faultcode>ServerFaultCode</faultcode>\
                         <faultstring>The object has already been deleted or has not been completely created</faultstring>\
                         <detail><ManagedObjectNotFoundFault xmlns=\"urn:vim25\" xsi:type=\"ManagedObjectNotFound\">\
                         <obj type=\"VirtualMachine\">{}</obj></ManagedObjectNotFoundFault></detail>\
                         </soapenv:Fault></soapenv:Body></soapenv:Envelope>",
                        vm.reference().value
                    );
                    let head = format!(
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = cw.write_all(head.as_bytes()).await;
                    let _ = cw.write_all(body.as_bytes()).await;
                    let _ = cw.shutdown().await;
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_destroyed_during_the_probe_never_hides_the_others() {
    let env = OneEnv::vcenter_plain().await;
    install_run_probes(&env);
    let s = env.sdk().await;
    let all = hosts(&s).await;
    // A host carrying at least three running VMs (deployed through the tree if the model
    // puts fewer there).
    let (host, h) = all
        .iter()
        .next()
        .map(|(n, h)| (n.clone(), h.clone()))
        .unwrap();
    let running = |e: &Expected| -> Vec<String> {
        e.vms
            .iter()
            .filter(|(_, st)| *st == "poweredOn")
            .map(|(n, _)| n.clone())
            .collect()
    };
    let mut vmid = 900;
    while running(&expected(&s, &h).await).len() < 3 {
        vmid += 1;
        sdk::deploy_small(
            &s,
            &env,
            vmid,
            &host,
            &format!("02:00:00:00:09:{:02x}", vmid % 256),
        )
        .await;
    }
    let on = running(&expected(&s, &h).await);
    // The probe talks to the simulator through the relay only.
    let slot = std::sync::Arc::new(tokio::sync::Mutex::new(None));
    let relay = vanishing_relay(env.vcsim.addr(), slot.clone()).await;
    let rc = env
        .default_vmwarerc()
        .replace(&env.vcsim.addr().to_string(), &relay.to_string());
    assert!(rc.contains(&relay.to_string()), "{rc}");
    env.write_vmwarerc(&rc);
    let debug = [("VMWARE_DRIVER_DEBUG", "1")];
    // A first probe for the session cache and the counter ids: later runs make only the
    // property read and the QueryPerf.
    monitor(&env, &host, &debug).assert_ok();

    for (victim_name, mode) in [(&on[0], OnQueryPerf::Forward), (&on[1], OnQueryPerf::Fault)] {
        let victim = sdk::find_vm(&s, victim_name).await.expect("victim");
        *slot.lock().await = Some((env.sdk().await, victim, mode));
        // The datastores as the probe reads them, before the victim's files are deleted.
        let datastores = expected(&s, &h).await.datastores;
        let run = monitor(&env, &host, &debug);
        run.assert_ok();
        assert!(
            slot.lock().await.is_none(),
            "the relay saw no QueryPerf: {run}"
        );
        assert!(sdk::find_vm(&s, victim_name).await.is_none(), "destroyed");
        // Every other VM as the inventory has it now; the victim as the probe could know it.
        let mut want = expected(&s, &h).await;
        want.datastores = datastores;
        let (state, trips) = match mode {
            // vcsim answers QueryPerf for the vanished VM: it stays as it was read.
            OnQueryPerf::Forward => ("poweredOn", 2),
            // The fault names it: STATE=d, and the others' statistics are asked for again.
            OnQueryPerf::Fault => ("poweredOff", 3),
        };
        want.vms.insert(victim_name.clone(), state.to_string());
        check(&as_oned_reads_it(&run), &want);
        assert_eq!(run.round_trips(), Some(trips), "{run}");
        if mode == OnQueryPerf::Fault {
            assert!(run.stderr.contains("is gone"), "{run}");
        }
        // The next probe no longer lists it.
        let run = monitor(&env, &host, &[]);
        run.assert_ok();
        let p = as_oned_reads_it(&run);
        check(&p, &expected(&s, &h).await);
        assert!(!p.vms().contains_key(victim_name.as_str()), "{run}");
    }
}
