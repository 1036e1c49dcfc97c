//! `vdf`, `vm_info` and `host_info` against the simulator's vCenter, checked against what an
//! independent vim-sdk session reads.
#![cfg(feature = "vcsim")]

mod support;

use examples::output;
use support::{example, sdk, sim};
use vim_sdk::mo;
use vim_sdk::property::{typed_in_container, typed_one};

const VDF: &str = env!("CARGO_BIN_EXE_vdf");
const VM_INFO: &str = env!("CARGO_BIN_EXE_vm_info");
const HOST_INFO: &str = env!("CARGO_BIN_EXE_host_info");

#[test]
fn vdf_shows_each_datastores_space() {
    let sim = sim();
    let summaries = sdk(sim, async |s| {
        let mut all: Vec<_> =
            typed_in_container::<mo::Datastore>(s, &s.content().root_folder, true, &["summary"])
                .await
                .expect("datastores")
                .into_iter()
                .filter_map(|d| d.props.summary)
                .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    });
    assert!(!summaries.is_empty());
    let run = example(VDF).against(sim).arg("--json").run();
    let json = run.ok().json();
    let rows = json.as_array().expect("array");
    assert_eq!(rows.len(), summaries.len(), "{run}");
    for (row, s) in rows.iter().zip(&summaries) {
        let uncommitted = s.uncommitted.unwrap_or(0);
        assert_eq!(row["name"], s.name.as_str());
        assert_eq!(row["type"], s.r#type.as_str());
        assert_eq!(row["capacity"], s.capacity);
        assert_eq!(row["free"], s.free_space);
        assert_eq!(row["uncommitted"], uncommitted);
        assert_eq!(row["provisioned"], s.capacity - s.free_space + uncommitted);
        assert_eq!(row["accessible"], s.accessible);
    }

    let run = example(VDF)
        .against(sim)
        .env("GOVC_DATACENTER", "DC0")
        .run();
    let (header, rows) = run.ok().table();
    assert_eq!(
        header,
        [
            "Name",
            "Type",
            "Capacity",
            "Free",
            "Provisioned",
            "Used",
            "Prov"
        ]
    );
    for (row, s) in rows.iter().zip(&summaries) {
        assert_eq!(row[0], s.name);
        assert_eq!(row[2], output::bytes(s.capacity), "{run}");
        assert_eq!(row[3], output::bytes(s.free_space), "{run}");
        assert_eq!(
            row[5],
            output::percent(s.capacity - s.free_space, s.capacity),
            "{run}"
        );
    }

    let run = example(VDF).against(sim).args(["--dc", "nope"]).run();
    assert!(run.fails(1).contains("datacenter nope not found"), "{run}");
    let run = example(VDF).against(sim).arg("no-such-ds").run();
    assert!(
        run.fails(1).contains("datastore no-such-ds not found"),
        "{run}"
    );
}

#[test]
fn vm_info_by_name_and_path() {
    let sim = sim();
    let (name, summary, host, path) = sdk(sim, async |s| {
        let finder = vim_sdk::find::Finder::new(&vim_sdk::ops::Managers::from_content(s.content()));
        let (name, vm) = finder
            .list::<mo::VirtualMachine>(s, &s.content().root_folder, true)
            .await
            .expect("VMs")
            .into_iter()
            .next()
            .expect("a VM");
        let summary = typed_one(s, &vm, &["summary"])
            .await
            .expect("summary")
            .props
            .summary
            .expect("summary");
        let host = summary.runtime.host.clone().expect("host");
        let host = host
            .properties(s, &["name"])
            .await
            .expect("host name")
            .str("name")
            .map(String::from);
        let path = finder
            .inventory_path(s, vm.reference())
            .await
            .expect("path");
        (name, summary, host, path)
    });
    for arg in [name.as_str(), path.as_str()] {
        let run = example(VM_INFO).against(sim).args([arg, "--json"]).run();
        let json = run.ok().json();
        let vm = &json[0];
        assert_eq!(vm["name"], name.as_str(), "{run}");
        assert_eq!(vm["path"], path.as_str(), "{run}");
        assert_eq!(vm["powerState"], summary.runtime.power_state.as_str());
        assert_eq!(vm["cpus"], summary.config.num_cpu.expect("cpus"));
        assert_eq!(
            vm["memoryMB"],
            summary.config.memory_size_mb.expect("memory")
        );
        assert_eq!(vm["host"], host.as_deref().expect("host"));
        assert_eq!(vm["uuid"], summary.config.uuid.as_deref().expect("uuid"));
    }
    let run = example(VM_INFO).against(sim).arg(&name).run();
    let (_, rows) = run.ok().table();
    let field = |f: &str| rows.iter().find(|r| r[0] == f).map(|r| r[1].clone());
    assert_eq!(field("Path"), Some(path.clone()), "{run}");
    assert_eq!(
        field("Power state").as_deref(),
        Some(summary.runtime.power_state.as_str())
    );
    assert_eq!(
        field("Memory"),
        Some(output::bytes(
            i64::from(summary.config.memory_size_mb.unwrap_or(0)) << 20
        ))
    );

    let run = example(VM_INFO).against(sim).arg("no-such-vm").run();
    assert!(run.fails(1).ends_with("VM no-such-vm not found"), "{run}");
}

#[test]
fn host_info_shows_hardware_usage_and_vms() {
    let sim = sim();
    let hosts = sdk(sim, async |s| {
        let mut hosts = typed_in_container::<mo::HostSystem>(
            s,
            &s.content().root_folder,
            true,
            &["name", "summary", "vm"],
        )
        .await
        .expect("hosts");
        hosts.sort_by(|a, b| a.props.name.cmp(&b.props.name));
        let mut out = Vec::new();
        for h in hosts {
            let mut vms = Vec::new();
            for vm in h.props.vm.clone().unwrap_or_default() {
                let p = vm
                    .reference()
                    .properties(s, &["name"])
                    .await
                    .expect("VM name");
                vms.push(p.str("name").expect("name").to_string());
            }
            vms.sort();
            out.push((
                h.props.name.clone().expect("name"),
                h.props.summary.clone().expect("summary"),
                vms,
            ));
        }
        out
    });
    let run = example(HOST_INFO).against(sim).arg("--json").run();
    let json = run.ok().json();
    let rows = json.as_array().expect("array");
    assert_eq!(rows.len(), hosts.len(), "{run}");
    for (row, (name, summary, vms)) in rows.iter().zip(&hosts) {
        let hw = summary.hardware.as_ref().expect("hardware");
        assert_eq!(row["name"], name.as_str());
        assert_eq!(row["memory"], hw.memory_size);
        assert_eq!(row["cpuMhz"], hw.cpu_mhz);
        assert_eq!(row["cpuCores"], hw.num_cpu_cores);
        assert_eq!(row["model"], hw.model.as_str());
        let listed: Vec<&str> = row["vms"]
            .as_array()
            .expect("vms")
            .iter()
            .map(|v| v["name"].as_str().expect("name"))
            .collect();
        assert_eq!(listed, *vms, "{run}");
    }

    // One host by name, as a table with its VMs.
    let (name, summary, vms) = hosts
        .iter()
        .find(|(_, _, v)| !v.is_empty())
        .expect("a host with VMs");
    let run = example(HOST_INFO)
        .against(sim)
        .args([name.as_str(), "--vms"])
        .run();
    let text = &run.ok().stdout;
    let mut parts = text.split("\n\n");
    let hosts_table = parts.next().expect("hosts table");
    let vms_table = parts.next().expect("VMs table");
    let first_row: Vec<&str> = hosts_table
        .lines()
        .nth(1)
        .expect("a row")
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(first_row[0], name, "{run}");
    assert_eq!(
        first_row[4],
        output::bytes(summary.hardware.as_ref().expect("hw").memory_size),
        "{run}"
    );
    assert_eq!(first_row[6], vms.len().to_string(), "{run}");
    assert_eq!(vms_table.lines().count(), vms.len() + 1, "{run}");

    let run = example(HOST_INFO).against(sim).arg("no-such-host").run();
    assert!(
        run.fails(1).ends_with("host no-such-host not found"),
        "{run}"
    );
}
