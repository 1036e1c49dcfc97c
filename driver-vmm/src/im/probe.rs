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

use std::io::Write;

use driver_common::connect::{self, Conn};
use driver_common::netstats::{self, NetEntities, NetEntity, NetTotals};
use driver_common::poll::{self, PollInfo, State, VmSample};
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

/// Runs the probe, writing its output on stdout as it is produced (10,000 VMs are 1 MB of
/// it, never held whole); every call to the server is over before the first line, so a
/// failure prints nothing there.
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
    let found = out.map_err(|e| e.context(what()))?;
    if let Err(e) = closed {
        driver_common::output::debug(&format!("closing the session: {e}"));
    }
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    found
        .write_to(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| DriverError::new(format!("cannot write the output: {e}")).context(what()))?;
    Ok(String::new())
}

/// One datastore of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Datastore {
    name: String,
    capacity: i64,
    free: i64,
}

/// One VM of the host as the probe keeps it from the property read to its output line: its
/// name, its id and the key of its network totals in one allocation, and the figures of its
/// poll. About 110 bytes a VM with the allocation (a [`VmSample`] costs about 500), so
/// 10,000 VMs are about 1 MB.
#[derive(Debug)]
struct HostVm {
    /// The name, the id, then the network key ([`VmSample::net_key`]).
    text: Box<str>,
    name_end: u32,
    id_end: u32,
    state: State,
    cpu_mhz: Option<i32>,
    host_memory_mb: Option<i32>,
}

impl HostVm {
    /// The record of a VM read with a name (`None` for one without, or an absurdly long one).
    fn new(vm: &VmSample) -> Option<HostVm> {
        let name = vm.name.as_deref()?;
        let (id, key) = (vm.obj.value.as_str(), vm.net_key());
        let name_end = u32::try_from(name.len()).ok()?;
        let id_end = u32::try_from(name.len() + id.len()).ok()?;
        let mut text = String::with_capacity(name.len() + id.len() + key.len());
        text.push_str(name);
        text.push_str(id);
        text.push_str(key);
        let small = |v: Option<i64>| v.and_then(|v| i32::try_from(v).ok());
        Some(HostVm {
            text: text.into_boxed_str(),
            name_end,
            id_end,
            state: vm.state(),
            cpu_mhz: small(vm.cpu_mhz),
            host_memory_mb: small(vm.host_memory_mb),
        })
    }

    fn name(&self) -> &str {
        self.text.get(..self.name_end as usize).unwrap_or("")
    }

    fn id(&self) -> &str {
        let (a, b) = (self.name_end as usize, self.id_end as usize);
        self.text.get(a..b).unwrap_or("")
    }

    fn net_key(&self) -> &str {
        self.text.get(self.id_end as usize..).unwrap_or("")
    }

    fn poll(&self, host_cpu_mhz: i64, net: (u64, u64)) -> PollInfo {
        PollInfo::of(
            self.state,
            self.cpu_mhz.map(i64::from),
            self.host_memory_mb.map(i64::from),
            Some(host_cpu_mhz),
            net,
        )
    }
}

/// What the property collector pass gives.
#[derive(Debug, Default)]
struct Reading {
    host: Option<ObjectProps>,
    datastores: Vec<Datastore>,
    vms: Vec<HostVm>,
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
                    let kept = if vm.power_state.is_some() && vm.is_on(me) {
                        HostVm::new(&vm)
                    } else {
                        None
                    };
                    match kept {
                        Some(kept) => r.vms.push(kept),
                        // Gone during the read, or unreadable: it cannot be reported.
                        None if (vm.name.is_none() || vm.power_state.is_none())
                            && vm.host.as_ref().is_none_or(|h| h == me) =>
                        {
                            r.unreadable += 1;
                        }
                        None => {}
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

/// The host (first) and its VMs, as the network totals take them.
struct Entities<'a> {
    host: &'a vim_sdk::xml::ManagedObjectReference,
    host_key: String,
    vms: &'a [HostVm],
}

impl Entities<'_> {
    /// The VM of entity `i` (`None`: the host, entity 0).
    fn vm(&self, i: usize) -> Option<&HostVm> {
        i.checked_sub(1).and_then(|v| self.vms.get(v))
    }
}

impl NetEntities for Entities<'_> {
    fn count(&self) -> usize {
        self.vms.len() + 1
    }

    fn entity(&self, i: usize) -> NetEntity<'_> {
        let (id, kind) = self.id(i);
        NetEntity {
            kind,
            id,
            key: self.key(i),
            running: self.vm(i).is_none_or(|vm| vm.state == State::Active),
        }
    }

    fn key(&self, i: usize) -> &str {
        self.vm(i).map_or(self.host_key.as_str(), HostVm::net_key)
    }

    fn id(&self, i: usize) -> (&str, &str) {
        match self.vm(i) {
            Some(vm) => (vm.id(), "VirtualMachine"),
            None => (&self.host.value, &self.host.r#type),
        }
    }
}

/// What the probe found, written out by [`Found::write_to`].
struct Found {
    host: ObjectProps,
    host_name: String,
    datastores: Vec<Datastore>,
    vms: Vec<HostVm>,
    net: NetTotals,
}

/// Reads the connection's host, its datastores and VMs, and their network totals.
async fn probe(conn: &Conn) -> Result<Found> {
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
    r.vms.sort_by(|a, b| a.name().cmp(b.name()));
    r.vms.shrink_to_fit();

    // Network totals of the host and of every VM: one QueryPerf.
    let me = conn.host.reference();
    let entities = Entities {
        host: me,
        host_key: format!("host:{}", me.value),
        vms: &r.vms,
    };
    let net = netstats::cumulative_many(conn, &entities, true).await;
    Ok(Found {
        host,
        host_name: conn.host_name.clone(),
        datastores: r.datastores,
        vms: r.vms,
        net,
    })
}

impl Found {
    /// Writes the probe's output, line by line.
    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let host = &self.host;
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
        let (net_rx, net_tx) = self.net.totals.first().copied().unwrap_or((0, 0));

        writeln!(out, "HYPERVISOR=vmware")?;
        let name = host.str("name").unwrap_or(&self.host_name);
        writeln!(out, "HOSTNAME={}", quote(name))?;
        let model = host.str("summary.hardware.cpuModel").unwrap_or("");
        writeln!(out, "MODELNAME={}", quote(model))?;
        writeln!(out, "CPUSPEED={cpu_mhz}")?;
        writeln!(out, "TOTALCPU={total_cpu}")?;
        writeln!(out, "USEDCPU={used_cpu}")?;
        writeln!(out, "FREECPU={}", total_cpu - used_cpu)?;
        writeln!(out, "TOTALMEMORY={total_mem}")?;
        writeln!(out, "USEDMEMORY={used_mem}")?;
        writeln!(out, "FREEMEMORY={}", total_mem - used_mem)?;
        writeln!(out, "NETRX={net_rx}")?;
        writeln!(out, "NETTX={net_tx}")?;
        if let Some(version) = host.str("summary.config.product.version") {
            let version = match host.str("summary.config.product.build") {
                Some(build) => format!("{version} build-{build}"),
                None => version.to_string(),
            };
            writeln!(out, "VERSION={}", quote(&version))?;
        }
        for ds in &self.datastores {
            let total = ds.capacity / MIB;
            let free = ds.free / MIB;
            writeln!(
                out,
                "DS=[ID={},USED_MB={},TOTAL_MB={total},FREE_MB={free}]",
                quote(&ds.name),
                (ds.capacity - ds.free) / MIB,
            )?;
        }
        // Always, even without VMs, so that oned notices VMs that left (legacy 4.4 omitted it).
        writeln!(out, "VM_POLL=YES")?;
        let per_vm = self.net.totals.iter().zip(&self.net.gone).skip(1);
        for (vm, (totals, gone)) in self.vms.iter().zip(per_vm) {
            let name = vm.name();
            // Gone since the property read (the statistics query said so): deleted.
            let poll = if *gone {
                PollInfo::deleted()
            } else {
                vm.poll(cpu_mhz, *totals)
            };
            writeln!(
                out,
                "VM=[ID={},DEPLOY_ID={},POLL={}]",
                one_vm_id(name),
                quote(name),
                quote(&poll.to_string())
            )?;
        }
        Ok(())
    }
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
