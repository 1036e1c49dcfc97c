//! The host probe (`im/vmware.d/probe`, contract §6): what an ESX host has and uses, and the
//! poll of every VM on it, as OpenNebula template attributes on stdout:
//!
//! ```text
//! HYPERVISOR=vmware
//! HOSTNAME="esx1.example.com"
//! MODELNAME="Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz"
//! CPUSPEED=2000
//! TOTALCPU=1600
//! USEDCPU=35
//! FREECPU=1565
//! TOTALMEMORY=67108864
//! USEDMEMORY=1048576
//! FREEMEMORY=66060288
//! NETRX=123456
//! NETTX=654321
//! VERSION="6.7.0 build-8169922"
//! DS=[ID="0",USED_MB=1024,TOTAL_MB=102400,FREE_MB=101376]
//! VM_POLL=YES
//! VM=[ID=7,DEPLOY_ID="one-7",POLL="STATE=a USEDCPU=12 USEDMEMORY=524288 NETRX=0 NETTX=0"]
//! ```
//!
//! Arguments: OpenNebula 4.4's `<hypervisor> <ds_location> <collectd_port> <push_interval>
//! <host_id> <hostname>`, or the older `[<hypervisor>] <host_id> <hostname>`: the host is the
//! last argument, the host id the one before it.
//!
//! Cost: one `RetrievePropertiesEx` for the host, its datastores and every VM that can run on
//! it (see [`driver_common::poll::host_selection`]), and one `QueryPerf` for the network
//! counters of the host and all its running VMs, whatever their number, decoded as it
//! streams (a VM the server reports gone meanwhile is `STATE=d`, and the query is asked
//! again for the others: one more round trip per vanished VM). The VMs are those
//! whose own `runtime.host` is the host, and each VM's `POLL` is computed by the very code of
//! the VMM `poll` action ([`driver_common::poll::VmSample::poll`]). A host that cannot be
//! reached or logged into fails with an error block naming it and the cause.

use std::fmt::Write as _;

use driver_common::connect::{self, Conn};
use driver_common::netstats::{self, NetEntity};
use driver_common::poll::{self, VmSample};
use driver_common::{DriverError, Result};
use vim_sdk::property::ObjectProps;

use super::template::{one_vm_id, quote};

const USAGE: &str =
    "<hypervisor> <ds_location> <collectd_port> <push_interval> <host_id> <hostname> (or [<hypervisor>] <host_id> <hostname>)";

/// The host properties the probe reads.
const HOST_PATHS: [&str; 9] = [
    "name",
    "summary.hardware.cpuModel",
    "summary.hardware.cpuMhz",
    "summary.hardware.numCpuCores",
    "summary.hardware.memorySize",
    "summary.quickStats.overallCpuUsage",
    "summary.quickStats.overallMemoryUsage",
    "summary.config.product.version",
    "summary.config.product.build",
];

/// The datastore properties the probe reads.
const DS_PATHS: [&str; 4] = [
    "summary.name",
    "summary.capacity",
    "summary.freeSpace",
    "summary.accessible",
];

const MIB: i64 = 1024 * 1024;

/// The host name from OpenNebula's arguments: the last one, after a numeric host id.
pub fn host_arg(args: &[String]) -> Result<&str> {
    let bad = || DriverError::usage("probe", USAGE, args);
    if !(2..=6).contains(&args.len()) {
        return Err(bad());
    }
    let host = args[args.len() - 1].as_str();
    let id = args[args.len() - 2].as_str();
    if host.trim().is_empty() || id.parse::<u64>().is_err() {
        return Err(bad());
    }
    Ok(host)
}

/// Runs the probe.
pub async fn run(args: &[String]) -> Result<String> {
    let host = host_arg(args)?;
    let what = || format!("cannot monitor host {host}");
    // With a warm cache: no round trip to connect. A stale cache costs one retry.
    let (mut conn, trusted) = Conn::open_trusting(host)
        .await
        .map_err(|e| e.context(what()))?;
    let mut out = probe(&conn).await;
    if trusted {
        if let Err(e) = &out {
            if connect::is_stale(e) {
                driver_common::output::debug(&format!("cached session or placement is stale: {e}"));
                conn.forget(e.fault_type() == Some("NotAuthenticated"));
                conn = Conn::open(host).await.map_err(|e| e.context(what()))?;
                out = probe(&conn).await;
            }
        }
    }
    let closed = conn.close().await;
    let out = out.map_err(|e| e.context(what()))?;
    if let Err(e) = closed {
        driver_common::output::debug(&format!("closing the session: {e}"));
    }
    Ok(out)
}

/// One datastore of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Datastore {
    name: String,
    capacity: i64,
    free: i64,
}

/// What the property collector pass gives.
#[derive(Debug, Default)]
struct Reading {
    host: Option<ObjectProps>,
    datastores: Vec<Datastore>,
    vms: Vec<VmSample>,
    /// VMs left out because they could not be read (gone meanwhile, or no name).
    unreadable: usize,
}

async fn read(conn: &Conn) -> Result<Reading> {
    let me = conn.host.reference();
    let spec = poll::host_spec(me, &HOST_PATHS, Some(&DS_PATHS));
    let mut r = Reading::default();
    vim_sdk::property::retrieve_each(
        &conn.session,
        &conn.session.property_collector(),
        &[spec],
        None,
        |c| {
            let p = ObjectProps::from(c);
            if p.obj == *me {
                r.host = Some(p);
                return;
            }
            match p.obj.r#type.as_str() {
                "VirtualMachine" => {
                    let vm = VmSample::from_props(&p);
                    if vm.name.is_none() || vm.power_state.is_none() {
                        // Gone during the read, or unreadable: it cannot be reported.
                        if vm.host.as_ref().is_none_or(|h| h == me) {
                            r.unreadable += 1;
                        }
                    } else if vm.is_on(me) {
                        r.vms.push(vm);
                    }
                }
                "Datastore" => {
                    if p.bool("summary.accessible") == Some(false) {
                        return;
                    }
                    if let (Some(name), Some(capacity), Some(free)) = (
                        p.str("summary.name"),
                        p.int("summary.capacity"),
                        p.int("summary.freeSpace"),
                    ) {
                        r.datastores.push(Datastore {
                            name: name.to_string(),
                            capacity: capacity.max(0),
                            free: free.clamp(0, capacity.max(0)),
                        });
                    }
                }
                _ => {}
            }
        },
    )
    .await
    .map_err(|e| {
        DriverError::from(e).context(format!("cannot read host {} and its VMs", conn.host_name))
    })?;
    Ok(r)
}

/// The probe's output for the connection's host.
pub async fn probe(conn: &Conn) -> Result<String> {
    let mut r = read(conn).await?;
    // A host that is gone comes back as a fault, or (vcsim) as an object without values.
    let Some(host) = r
        .host
        .take()
        .filter(|h| h.int("summary.hardware.cpuMhz").is_some())
    else {
        return Err(poll::host_gone(conn));
    };
    if r.unreadable > 0 {
        driver_common::output::debug(&format!(
            "{} VM(s) could not be read and are left out",
            r.unreadable
        ));
    }
    r.datastores.sort_by(|a, b| a.name.cmp(&b.name));
    r.vms.sort_by(|a, b| a.name.cmp(&b.name));

    // Network totals of the host and of every VM: one QueryPerf.
    let host_key = format!("host:{}", conn.host.reference().value);
    let mut entities = Vec::with_capacity(r.vms.len() + 1);
    entities.push(NetEntity {
        obj: conn.host.reference(),
        key: &host_key,
        running: true,
    });
    entities.extend(r.vms.iter().map(|vm| NetEntity {
        obj: &vm.obj,
        key: vm.net_key(),
        running: vm.running(),
    }));
    let net = netstats::cumulative_many(conn, &entities, true).await;

    let cpu_mhz = host.int("summary.hardware.cpuMhz").unwrap_or(0).max(0);
    let cores = host.int("summary.hardware.numCpuCores").unwrap_or(0).max(0);
    let total_cpu = cores.saturating_mul(100);
    let used_cpu = match host.int("summary.quickStats.overallCpuUsage") {
        Some(used) if cpu_mhz > 0 => (used.max(0).saturating_mul(100) + cpu_mhz / 2) / cpu_mhz,
        _ => 0,
    }
    .min(total_cpu);
    let total_mem = host.int("summary.hardware.memorySize").unwrap_or(0).max(0) / 1024;
    let used_mem = host
        .int("summary.quickStats.overallMemoryUsage")
        .unwrap_or(0)
        .max(0)
        .saturating_mul(1024)
        .min(total_mem);
    let (net_rx, net_tx) = net.totals.first().copied().unwrap_or((0, 0));

    let mut out = String::with_capacity(512 + 120 * r.vms.len() + 80 * r.datastores.len());
    // Writing to a String cannot fail.
    let _ = writeln!(out, "HYPERVISOR=vmware");
    let _ = writeln!(
        out,
        "HOSTNAME={}",
        quote(host.str("name").unwrap_or(&conn.host_name))
    );
    let _ = writeln!(
        out,
        "MODELNAME={}",
        quote(host.str("summary.hardware.cpuModel").unwrap_or(""))
    );
    let _ = writeln!(out, "CPUSPEED={cpu_mhz}");
    let _ = writeln!(out, "TOTALCPU={total_cpu}");
    let _ = writeln!(out, "USEDCPU={used_cpu}");
    let _ = writeln!(out, "FREECPU={}", total_cpu - used_cpu);
    let _ = writeln!(out, "TOTALMEMORY={total_mem}");
    let _ = writeln!(out, "USEDMEMORY={used_mem}");
    let _ = writeln!(out, "FREEMEMORY={}", total_mem - used_mem);
    let _ = writeln!(out, "NETRX={net_rx}");
    let _ = writeln!(out, "NETTX={net_tx}");
    if let Some(version) = host.str("summary.config.product.version") {
        let version = match host.str("summary.config.product.build") {
            Some(build) => format!("{version} build-{build}"),
            None => version.to_string(),
        };
        let _ = writeln!(out, "VERSION={}", quote(&version));
    }
    for ds in &r.datastores {
        let total = ds.capacity / MIB;
        let free = ds.free / MIB;
        let _ = writeln!(
            out,
            "DS=[ID={},USED_MB={},TOTAL_MB={total},FREE_MB={free}]",
            quote(&ds.name),
            (ds.capacity - ds.free) / MIB,
        );
    }
    // Always, even without VMs, so that oned notices VMs that left (legacy 4.4 omitted it).
    let _ = writeln!(out, "VM_POLL=YES");
    let per_vm = net.totals.iter().zip(&net.gone).skip(1);
    for (vm, (totals, gone)) in r.vms.iter().zip(per_vm) {
        let name = vm.name.as_deref().unwrap_or("");
        // Gone since the property read (the statistics query said so): deleted.
        let poll = if *gone {
            poll::PollInfo::deleted().to_string()
        } else {
            vm.poll(Some(cpu_mhz), *totals).to_string()
        };
        let _ = writeln!(
            out,
            "VM=[ID={},DEPLOY_ID={},POLL={}]",
            one_vm_id(name),
            quote(name),
            quote(&poll)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn host_is_the_last_argument() {
        let a = args(&["vmware", "/vmfs/volumes", "4124", "20", "3", "esx1"]);
        assert_eq!(host_arg(&a).unwrap(), "esx1");
        assert_eq!(host_arg(&args(&["vmware", "3", "esx2"])).unwrap(), "esx2");
        assert_eq!(host_arg(&args(&["3", "esx3"])).unwrap(), "esx3");
        for bad in [
            &[][..],
            &["esx1"][..],
            &["x", "esx1"][..],
            &["3", ""][..],
            &["a", "b", "c", "d", "e", "3", "esx1"][..],
        ] {
            let e = host_arg(&args(bad)).unwrap_err();
            assert!(e.message().starts_with("probe: bad arguments"), "{e}");
        }
    }
}
