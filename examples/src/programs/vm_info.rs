//! A VM at a glance, like `govc vm.info`: path, guest OS, CPUs and memory, power state,
//! host, IP address, Tools, storage used, CPU and memory in use.
//!
//! `vm_info VM...`: each VM by name or inventory path. One `summary` read for all the VMs,
//! one read of their hosts' names, and the VMs' inventory paths.
//!
//! `--json`: an array of `{"name", "path", "uuid", "instanceUuid", "guest", "cpus",
//! "memoryMB", "powerState", "bootTime", "host", "ipAddress", "hostName", "toolsStatus",
//! "committed", "uncommitted", "cpuUsageMHz", "guestMemoryUsageMB", "vmPathName",
//! "annotation"}` (bytes for storage; an unknown value is `null`).

use crate::{output, Common, Context as _, Result};
use clap::Parser;
use serde::Serialize;
use vim_sdk::mo;
use vim_sdk::ops::retrieve_properties;
use vim_sdk::property::typed_many;

/// Shows VMs' configuration, state, host, guest and usage
#[derive(Parser)]
#[command(name = "vm_info")]
struct Args {
    /// VMs (names or inventory paths)
    #[arg(value_name = "VM", required = true)]
    vms: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VmInfo {
    name: String,
    path: String,
    uuid: Option<String>,
    instance_uuid: Option<String>,
    guest: Option<String>,
    cpus: Option<i32>,
    #[serde(rename = "memoryMB")]
    memory_mb: Option<i32>,
    power_state: String,
    boot_time: Option<String>,
    host: Option<String>,
    ip_address: Option<String>,
    host_name: Option<String>,
    tools_status: Option<String>,
    committed: Option<i64>,
    uncommitted: Option<i64>,
    #[serde(rename = "cpuUsageMHz")]
    cpu_usage_mhz: Option<i32>,
    #[serde(rename = "guestMemoryUsageMB")]
    guest_memory_usage_mb: Option<i32>,
    vm_path_name: String,
    annotation: Option<String>,
}

fn or_dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".into(), T::to_string)
}

fn print(info: &VmInfo) -> Result<()> {
    let mut t = output::Table::new(&["Field", "Value"]);
    let mb = |v: Option<i32>| v.map_or_else(|| "-".into(), |m| output::bytes(i64::from(m) << 20));
    t.row(["Name".into(), info.name.clone()])
        .row(["Path".into(), info.path.clone()])
        .row(["UUID".into(), or_dash(&info.uuid)])
        .row(["Guest".into(), or_dash(&info.guest)])
        .row(["CPUs".into(), or_dash(&info.cpus)])
        .row(["Memory".into(), mb(info.memory_mb)])
        .row(["Power state".into(), info.power_state.clone()])
        .row(["Boot time".into(), or_dash(&info.boot_time)])
        .row(["Host".into(), or_dash(&info.host)])
        .row(["IP address".into(), or_dash(&info.ip_address)])
        .row(["Tools".into(), or_dash(&info.tools_status)])
        .row([
            "Storage committed".into(),
            info.committed.map_or_else(|| "-".into(), output::bytes),
        ])
        .row([
            "Storage uncommitted".into(),
            info.uncommitted.map_or_else(|| "-".into(), output::bytes),
        ])
        .row([
            "CPU usage".into(),
            info.cpu_usage_mhz
                .map_or_else(|| "-".into(), |m| output::mhz(m.into())),
        ])
        .row(["Guest memory usage".into(), mb(info.guest_memory_usage_mb)])
        .row(["Files".into(), info.vm_path_name.clone()]);
    t.print()
}

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let mut vms: Vec<mo::VirtualMachine> = Vec::new();
    for arg in &args.vms {
        vms.push(conn.vm(arg).await?);
    }
    let read = typed_many(&conn.session, &vms, &["summary"])
        .await
        .context("cannot read the VMs")?;
    let host_refs: Vec<_> = read
        .iter()
        .filter_map(|v| v.props.summary.as_ref()?.runtime.host.clone())
        .collect();
    let host_names = retrieve_properties(
        &conn.session,
        &conn.managers.property_collector,
        &host_refs,
        &["name"],
    )
    .await
    .context("cannot read the hosts' names")?;
    let finder = conn.finder();
    let mut infos = Vec::new();
    for v in read {
        let Some(s) = v.props.summary else { continue };
        let path = finder
            .inventory_path(&conn.session, &v.obj)
            .await
            .with_context(|| format!("cannot read the path of {}", s.config.name))?;
        let host = s.runtime.host.as_ref().and_then(|h| {
            host_names
                .iter()
                .find(|p| p.object() == h)
                .and_then(|p| p.str("name"))
                .map(String::from)
        });
        let guest = s.guest.as_ref();
        infos.push(VmInfo {
            name: s.config.name.clone(),
            path,
            uuid: s.config.uuid.clone(),
            instance_uuid: s.config.instance_uuid.clone(),
            guest: s.config.guest_full_name.clone(),
            cpus: s.config.num_cpu,
            memory_mb: s.config.memory_size_mb,
            power_state: s.runtime.power_state.as_str().to_string(),
            boot_time: s.runtime.boot_time.clone(),
            host,
            ip_address: guest.and_then(|g| g.ip_address.clone()),
            host_name: guest.and_then(|g| g.host_name.clone()),
            tools_status: guest
                .and_then(|g| g.tools_status.as_ref().map(|t| t.as_str().to_string())),
            committed: s.storage.as_ref().map(|st| st.committed),
            uncommitted: s.storage.as_ref().map(|st| st.uncommitted),
            cpu_usage_mhz: s.quick_stats.overall_cpu_usage,
            guest_memory_usage_mb: s.quick_stats.guest_memory_usage,
            vm_path_name: s.config.vm_path_name.clone(),
            annotation: s.config.annotation.clone().filter(|a| !a.is_empty()),
        });
    }
    if conn.json {
        output::json(&infos)?;
    } else {
        for (i, info) in infos.iter().enumerate() {
            if i > 0 {
                output::line("")?;
            }
            print(info)?;
        }
    }
    conn.close().await
}

/// The `vm_info` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
