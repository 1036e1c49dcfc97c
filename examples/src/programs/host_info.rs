//! ESX hosts at a glance, like `govc host.info`: hardware (vendor, model, CPU, memory),
//! state, ESX version, CPU and memory in use, and the VMs each one runs.
//!
//! `host_info [HOST...] [--vms]`: the named hosts (names or inventory paths), else every host
//! of `--dc` / `GOVC_DATACENTER` (else of the inventory), as a table; `--vms` adds a table of
//! each host's VMs with their power state. Two reads: the hosts' `summary` and `vm`, then
//! the VMs' `name` and `runtime.powerState`.
//!
//! `--json`: an array of `{"name", "vendor", "model", "cpuModel", "cpuPackages", "cpuCores",
//! "cpuThreads", "cpuMhz", "memory", "connectionState", "powerState", "maintenance",
//! "product", "cpuUsageMHz", "memoryUsage", "uptime", "vms": [{"name", "powerState"}]}`
//! (`cpuMhz` per core, `memory` and `memoryUsage` in bytes, `uptime` in seconds).

use crate::{output, Common, Context as _, Result};
use clap::Parser;
use serde::Serialize;
use vim_sdk::mo;
use vim_sdk::ops::retrieve_properties;
use vim_sdk::property::{typed_in_container, typed_many};

/// Shows hosts' hardware, usage and VMs
#[derive(Parser)]
#[command(name = "host_info")]
struct Args {
    /// Hosts (names or inventory paths); default every host
    #[arg(value_name = "HOST")]
    hosts: Vec<String>,
    /// Also list each host's VMs
    #[arg(long)]
    vms: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Vm {
    name: String,
    power_state: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HostInfo {
    name: String,
    vendor: Option<String>,
    model: Option<String>,
    cpu_model: Option<String>,
    cpu_packages: Option<i16>,
    cpu_cores: Option<i16>,
    cpu_threads: Option<i16>,
    cpu_mhz: Option<i32>,
    memory: Option<i64>,
    connection_state: Option<String>,
    power_state: Option<String>,
    maintenance: Option<bool>,
    product: Option<String>,
    #[serde(rename = "cpuUsageMHz")]
    cpu_usage_mhz: Option<i32>,
    memory_usage: Option<i64>,
    uptime: Option<i32>,
    vms: Vec<Vm>,
}

const PATHS: &[&str] = &["name", "summary", "vm"];

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let read = if args.hosts.is_empty() {
        let scope = match conn.datacenter_name() {
            Some(_) => conn.datacenter().await?.1.reference().clone(),
            None => conn.managers.root_folder.reference().clone(),
        };
        typed_in_container::<mo::HostSystem>(&conn.session, &scope, true, PATHS).await
    } else {
        let mut hosts = Vec::new();
        for arg in &args.hosts {
            hosts.push(conn.host(arg).await?);
        }
        typed_many(&conn.session, &hosts, PATHS).await
    }
    .context("cannot read the hosts")?;
    let vm_refs: Vec<_> = read
        .iter()
        .flat_map(|h| h.props.vm.iter().flatten())
        .map(|vm| vm.reference().clone())
        .collect();
    let vm_props = retrieve_properties(
        &conn.session,
        &conn.managers.property_collector,
        &vm_refs,
        &["name", "runtime.powerState"],
    )
    .await
    .context("cannot read the hosts' VMs")?;
    let mut infos: Vec<HostInfo> = read
        .into_iter()
        .map(|h| {
            let s = h.props.summary.as_ref();
            let hw = s.and_then(|s| s.hardware.as_ref());
            let rt = s.and_then(|s| s.runtime.as_ref());
            let qs = s.map(|s| &s.quick_stats);
            let mut vms: Vec<Vm> = h
                .props
                .vm
                .iter()
                .flatten()
                .filter_map(|vm| vm_props.iter().find(|p| p.object() == vm.reference()))
                .map(|p| Vm {
                    name: p.str("name").unwrap_or_default().to_string(),
                    power_state: p
                        .enum_value("runtime.powerState")
                        .unwrap_or("-")
                        .to_string(),
                })
                .collect();
            vms.sort_by(|a, b| a.name.cmp(&b.name));
            HostInfo {
                name: h.props.name.clone().unwrap_or_default(),
                vendor: hw.map(|h| h.vendor.clone()),
                model: hw.map(|h| h.model.clone()),
                cpu_model: hw.map(|h| h.cpu_model.clone()),
                cpu_packages: hw.map(|h| h.num_cpu_pkgs),
                cpu_cores: hw.map(|h| h.num_cpu_cores),
                cpu_threads: hw.map(|h| h.num_cpu_threads),
                cpu_mhz: hw.map(|h| h.cpu_mhz),
                memory: hw.map(|h| h.memory_size),
                connection_state: rt.map(|r| r.connection_state.as_str().to_string()),
                power_state: rt.map(|r| r.power_state.as_str().to_string()),
                maintenance: rt.map(|r| r.in_maintenance_mode),
                product: s
                    .and_then(|s| s.config.product.as_ref())
                    .map(|p| p.full_name.clone()),
                cpu_usage_mhz: qs.and_then(|q| q.overall_cpu_usage),
                memory_usage: qs
                    .and_then(|q| q.overall_memory_usage)
                    .map(|m| i64::from(m) << 20),
                uptime: qs.and_then(|q| q.uptime),
                vms,
            }
        })
        .collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    if conn.json {
        output::json(&infos)?;
        return conn.close().await;
    }
    let mut table = output::Table::new(&[
        "Name",
        "Model",
        "CPU",
        "CPU usage",
        "Memory",
        "Memory usage",
        "VMs",
        "State",
    ])
    .right(&[3, 4, 5, 6]);
    for h in &infos {
        let cpu = match (h.cpu_cores, h.cpu_mhz) {
            (Some(c), Some(m)) => format!("{c} x {}", output::mhz(m.into())),
            _ => "-".into(),
        };
        let total_mhz = h
            .cpu_cores
            .zip(h.cpu_mhz)
            .map(|(c, m)| i64::from(c) * i64::from(m));
        let usage = |used: Option<i64>, total: Option<i64>, unit: fn(i64) -> String| match used {
            Some(u) => match total {
                Some(t) => format!("{} ({})", unit(u), output::percent(u, t)),
                None => unit(u),
            },
            None => "-".into(),
        };
        table.row([
            h.name.clone(),
            format!(
                "{} {}",
                h.vendor.as_deref().unwrap_or("-"),
                h.model.as_deref().unwrap_or("")
            ),
            cpu,
            usage(h.cpu_usage_mhz.map(i64::from), total_mhz, output::mhz),
            h.memory.map_or_else(|| "-".into(), output::bytes),
            usage(h.memory_usage, h.memory, output::bytes),
            h.vms.len().to_string(),
            h.connection_state.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table.print()?;
    if args.vms {
        output::line("")?;
        let mut vms = output::Table::new(&["Host", "VM", "Power"]);
        for h in &infos {
            for v in &h.vms {
                vms.row([h.name.as_str(), v.name.as_str(), v.power_state.as_str()]);
            }
        }
        vms.print()?;
    }
    conn.close().await
}

/// The `host_info` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
