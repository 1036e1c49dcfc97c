//! `ls` and `find` against the simulator's vCenter inventory, checked against what an
//! independent vim-sdk session reads.
#![cfg(feature = "vcsim")]

mod support;

use std::collections::BTreeMap;

use support::{example, sdk, sim};
use vim_sdk::mo;
use vim_sdk::ops::retrieve_properties;

const LS: &str = env!("CARGO_BIN_EXE_ls");
const FIND: &str = env!("CARGO_BIN_EXE_find");

/// Every VM's inventory path and power state, read independently.
fn vms_by_path() -> BTreeMap<String, String> {
    sdk(sim(), async |s| {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        let vms = finder
            .list::<mo::VirtualMachine>(s, &s.content().root_folder, true)
            .await
            .expect("list VMs");
        let refs: Vec<_> = vms.iter().map(|(_, v)| v.reference().clone()).collect();
        let states =
            retrieve_properties(s, &s.property_collector(), &refs, &["runtime.powerState"])
                .await
                .expect("power states");
        let mut out = BTreeMap::new();
        for p in states {
            let path = finder.inventory_path(s, p.object()).await.expect("path");
            let state = p
                .enum_value("runtime.powerState")
                .expect("state")
                .to_string();
            out.insert(path, state);
        }
        out
    })
}

#[test]
fn ls_lists_the_root_and_a_folder_with_types_and_states() {
    let sim = sim();
    let run = example(LS).against(sim).run();
    assert_eq!(run.ok().stdout, "DC0\n", "{run}");

    let vms = vms_by_path();
    assert!(vms.len() >= 4, "{vms:?}");
    let run = example(LS)
        .against(sim)
        .args(["-l", "DC0/vm", "--json"])
        .run();
    let json = run.ok().json();
    let listed: BTreeMap<String, String> = json
        .as_array()
        .expect("an array")
        .iter()
        .map(|i| {
            assert_eq!(i["type"], "VirtualMachine", "{i}");
            assert!(
                i["ref"].as_str().is_some_and(|r| r.starts_with("vm-")),
                "{i}"
            );
            (
                i["path"].as_str().expect("path").to_string(),
                i["state"].as_str().expect("state").to_string(),
            )
        })
        .collect();
    assert_eq!(listed, vms);

    // The table: a header, then one row per VM in path order.
    let run = example(LS).against(sim).args(["-l", "/DC0/vm/"]).run();
    let (header, rows) = run.ok().table();
    assert_eq!(header, ["Path", "Type", "State"]);
    let expected: Vec<Vec<String>> = vms
        .iter()
        .map(|(p, s)| vec![p.clone(), "VirtualMachine".into(), s.clone()])
        .collect();
    assert_eq!(rows, expected, "{run}");
}

#[test]
fn ls_recursive_and_of_a_leaf() {
    let sim = sim();
    let run = example(LS).against(sim).args(["-r", "DC0"]).run();
    let paths: Vec<&str> = run.ok().stdout.lines().collect();
    for expected in ["DC0/vm", "DC0/host", "DC0/datastore", "DC0/network"] {
        assert!(paths.contains(&expected), "{expected}: {run}");
    }
    for vm in vms_by_path().keys() {
        assert!(paths.contains(&vm.as_str()), "{vm}: {run}");
    }
    let hosts = sdk(sim, async |s| {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        let mut paths = Vec::new();
        for (_, h) in finder
            .list::<mo::HostSystem>(s, &s.content().root_folder, true)
            .await
            .expect("hosts")
        {
            paths.push(finder.inventory_path(s, h.reference()).await.expect("path"));
        }
        paths
    });
    for h in &hosts {
        assert!(paths.contains(&h.as_str()), "{h}: {run}");
    }
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "sorted by path");

    // A VM's path lists the VM itself.
    let (vm, state) = vms_by_path().into_iter().next().expect("a VM");
    let run = example(LS).against(sim).args(["-l", &vm]).run();
    assert_eq!(
        run.ok().table().1,
        vec![vec![vm.clone(), "VirtualMachine".into(), state]]
    );

    let run = example(LS).against(sim).arg("DC0/vm/no-such-vm").run();
    assert!(
        run.fails(1).ends_with("DC0/vm/no-such-vm: not found"),
        "{run}"
    );
}

#[test]
fn find_by_type_and_name() {
    let sim = sim();
    let vms = vms_by_path();
    let run = example(FIND).against(sim).args(["-t", "vm"]).run();
    let found: Vec<String> = run.ok().stdout.lines().map(String::from).collect();
    assert_eq!(found, vms.keys().cloned().collect::<Vec<_>>(), "{run}");

    // A glob on the name, within a path, with -l.
    let (first, state) = vms.iter().next().expect("a VM");
    let name = first.rsplit('/').next().expect("name");
    let pattern = format!("{}*", &name[..name.len() - 1]);
    let run = example(FIND)
        .against(sim)
        .args([
            "DC0/vm",
            "-t",
            "VirtualMachine",
            "-n",
            &pattern,
            "-l",
            "--json",
        ])
        .run();
    let json = run.ok().json();
    let items = json.as_array().expect("array");
    assert!(
        items
            .iter()
            .any(|i| i["path"] == first.as_str() && i["state"] == state.as_str()),
        "{run}"
    );
    for i in items {
        let n = i["name"].as_str().expect("name");
        assert!(n.starts_with(&pattern[..pattern.len() - 1]), "{run}");
    }

    // Hosts only.
    let run = example(FIND).against(sim).args(["-t", "host"]).run();
    assert!(
        run.ok().stdout.lines().all(|l| l.starts_with("DC0/host/")),
        "{run}"
    );
    assert!(!run.stdout.is_empty());

    let run = example(FIND).against(sim).args(["-t", "bogus"]).run();
    assert!(run.fails(2).contains("unknown type bogus"), "{run}");
}
