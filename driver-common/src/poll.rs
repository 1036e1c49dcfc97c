//! The poll string of a VM (contract §5): one line of `KEY=VALUE` tokens; and the one read
//! that gives it for the VMs of a host, shared by the VMM `poll` action (one VM) and the IM
//! probe (every VM of the host): [`host_spec`], [`VmSample`], [`VmSample::poll`].

use std::fmt;

use vim_sdk::property::ObjectProps;
use vim_sdk::types::{AnySelectionSpec, ObjectSpec, PropertyFilterSpec, PropertySpec};
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::{sel, trav};

/// A VM's state as OpenNebula's poll letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `a`: powered on.
    Active,
    /// `p`: suspended.
    Paused,
    /// `d`: powered off, or not found.
    Deleted,
    /// `-`: unknown.
    Unknown,
}

impl State {
    /// The state for a `runtime.powerState` wire value.
    pub fn from_power_state(s: &str) -> State {
        match s {
            "poweredOn" => State::Active,
            "suspended" => State::Paused,
            "poweredOff" => State::Deleted,
            _ => State::Unknown,
        }
    }

    /// The letter.
    pub fn letter(self) -> char {
        match self {
            State::Active => 'a',
            State::Paused => 'p',
            State::Deleted => 'd',
            State::Unknown => '-',
        }
    }
}

/// What a poll reports for one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollInfo {
    /// The state.
    pub state: State,
    /// Percent of one physical core (100 = one core busy).
    pub used_cpu: u64,
    /// Memory used, KB.
    pub used_memory_kb: u64,
    /// Bytes received, cumulative.
    pub net_rx: u64,
    /// Bytes sent, cumulative.
    pub net_tx: u64,
}

impl PollInfo {
    /// The poll of a VM from its figures, as [`VmSample::poll`] computes it: its state, its
    /// `overallCpuUsage` (MHz) and `hostMemoryUsage` (MB), its host's core speed (MHz) and
    /// its cumulative network bytes (for a caller that keeps VMs in a smaller form).
    pub fn of(
        state: State,
        cpu_mhz: Option<i64>,
        host_memory_mb: Option<i64>,
        host_cpu_mhz: Option<i64>,
        net: (u64, u64),
    ) -> PollInfo {
        let (net_rx, net_tx) = net;
        match state {
            State::Deleted => PollInfo::deleted(),
            State::Active => {
                let cpu = cpu_mhz.unwrap_or(0).max(0) as u64;
                let used_cpu = match host_cpu_mhz {
                    Some(mhz) if mhz > 0 => {
                        let mhz = mhz as u64;
                        cpu.saturating_mul(100).saturating_add(mhz / 2) / mhz
                    }
                    _ => 0,
                };
                let mem = host_memory_mb.unwrap_or(0).max(0) as u64;
                PollInfo {
                    state,
                    used_cpu,
                    used_memory_kb: mem.saturating_mul(1024),
                    net_rx,
                    net_tx,
                }
            }
            State::Paused | State::Unknown => PollInfo {
                state,
                used_cpu: 0,
                used_memory_kb: 0,
                net_rx,
                net_tx,
            },
        }
    }

    /// A VM that is not there (or powered off): `STATE=d`.
    pub fn deleted() -> Self {
        PollInfo {
            state: State::Deleted,
            used_cpu: 0,
            used_memory_kb: 0,
            net_rx: 0,
            net_tx: 0,
        }
    }
}

/// `STATE=d` alone for a deleted VM, else all five keys.
impl fmt::Display for PollInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "STATE={}", self.state.letter())?;
        if self.state == State::Deleted {
            return Ok(());
        }
        write!(
            f,
            " USEDCPU={} USEDMEMORY={} NETRX={} NETTX={}",
            self.used_cpu, self.used_memory_kb, self.net_rx, self.net_tx
        )
    }
}

/// The VM properties a poll reads (the VMM `poll` and the IM probe alike).
pub const VM_PATHS: [&str; 6] = [
    "name",
    "runtime.powerState",
    "runtime.host",
    "summary.quickStats.overallCpuUsage",
    "summary.quickStats.hostMemoryUsage",
    "config.instanceUuid",
];

/// The traversal from a host to every VM that can run on it: the host's compute resource
/// (`parent`, a standalone host's or a cluster's), its root pool, every child pool and vApp
/// below it, and their `vm`s; with `datastores`, also the host's `datastore`s.
///
/// Why not `HostSystem.vm`: after a vMotion it can be stale (vcsim 0.24 keeps the VM in its
/// source host's list and never adds it to the destination's). A VM always sits in a
/// resource pool of the compute resource of the host it runs on, so this traversal reaches
/// it wherever it moved inside that compute resource; the caller keeps the VMs whose own
/// `runtime.host` is the host. It costs one `RetrievePropertiesEx` whatever the number of
/// VMs, and reads the VMs of the whole cluster (a standalone host's pool holds its own VMs
/// only).
pub fn host_selection(datastores: bool) -> Vec<AnySelectionSpec> {
    let mut set = vec![
        trav("hostCr", "HostSystem", "parent", vec![sel("crPool")]),
        trav(
            "crPool",
            "ComputeResource",
            "resourcePool",
            vec![sel("rpPool"), sel("rpVm")],
        ),
        trav(
            "rpPool",
            "ResourcePool",
            "resourcePool",
            vec![sel("rpPool"), sel("rpVm")],
        ),
        trav("rpVm", "ResourcePool", "vm", vec![]),
    ];
    if datastores {
        set.push(trav("hostDs", "HostSystem", "datastore", vec![]));
    }
    set
}

/// A property spec of `ty` with `paths`.
pub fn props(ty: &str, paths: &[&str]) -> PropertySpec {
    PropertySpec {
        r#type: ty.into(),
        all: Some(false),
        path_set: paths.iter().map(|p| p.to_string()).collect(),
    }
}

/// One filter spec: the host (with `host_paths`), every VM that can run on it (with
/// [`VM_PATHS`]) and, with `datastore_paths`, the host's datastores.
pub fn host_spec(
    host: &ManagedObjectReference,
    host_paths: &[&str],
    datastore_paths: Option<&[&str]>,
) -> PropertyFilterSpec {
    let mut prop_set = vec![
        props("VirtualMachine", &VM_PATHS),
        props("HostSystem", host_paths),
    ];
    if let Some(ds) = datastore_paths {
        prop_set.push(props("Datastore", ds));
    }
    PropertyFilterSpec {
        prop_set,
        object_set: vec![ObjectSpec {
            obj: host.clone(),
            skip: Some(false),
            select_set: host_selection(datastore_paths.is_some()),
        }],
        ..Default::default()
    }
}

/// One VM as a poll reads it ([`VM_PATHS`]), kept small: the probe holds one per VM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmSample {
    /// The VM.
    pub obj: ManagedObjectReference,
    /// `name`.
    pub name: Option<String>,
    /// `runtime.powerState` (wire value).
    pub power_state: Option<String>,
    /// `runtime.host`.
    pub host: Option<ManagedObjectReference>,
    /// `summary.quickStats.overallCpuUsage` (MHz).
    pub cpu_mhz: Option<i64>,
    /// `summary.quickStats.hostMemoryUsage` (MB).
    pub host_memory_mb: Option<i64>,
    /// `config.instanceUuid`.
    pub uuid: Option<String>,
}

impl VmSample {
    /// The sample of a retrieved VM.
    pub fn from_props(p: &ObjectProps) -> VmSample {
        VmSample {
            obj: p.obj.clone(),
            name: p.str("name").map(str::to_string),
            power_state: p.str("runtime.powerState").map(str::to_string),
            host: p.reference("runtime.host").cloned(),
            cpu_mhz: p.int("summary.quickStats.overallCpuUsage"),
            host_memory_mb: p.int("summary.quickStats.hostMemoryUsage"),
            uuid: p.str("config.instanceUuid").map(str::to_string),
        }
    }

    /// Whether the VM runs on `host` (by its own `runtime.host`).
    pub fn is_on(&self, host: &ManagedObjectReference) -> bool {
        self.host.as_ref() == Some(host)
    }

    /// The state letter's meaning (no power state read: unknown).
    pub fn state(&self) -> State {
        State::from_power_state(self.power_state.as_deref().unwrap_or(""))
    }

    /// The key of its network totals: `config.instanceUuid`, else the VM's id.
    pub fn net_key(&self) -> &str {
        self.uuid.as_deref().unwrap_or(&self.obj.value)
    }

    /// Whether its network statistics are worth reading (it runs).
    pub fn running(&self) -> bool {
        self.state() == State::Active
    }

    /// The poll of this VM, given its host's core speed (`summary.hardware.cpuMhz`) and its
    /// cumulative network bytes:
    ///
    /// - `STATE`: `runtime.powerState` (poweredOn → `a`, suspended → `p`, poweredOff → `d`
    ///   alone, anything else or unreadable → `-`);
    /// - `USEDCPU`: `summary.quickStats.overallCpuUsage` (MHz) ÷ the host's core speed
    ///   (MHz) × 100, rounded: percent of one core;
    /// - `USEDMEMORY`: `summary.quickStats.hostMemoryUsage` (MB of host memory the VM
    ///   consumes) × 1024: KB;
    /// - `NETRX`/`NETTX`: cumulative bytes, see [`netstats`](crate::netstats).
    pub fn poll(&self, host_cpu_mhz: Option<i64>, net: (u64, u64)) -> PollInfo {
        PollInfo::of(
            self.state(),
            self.cpu_mhz,
            self.host_memory_mb,
            host_cpu_mhz,
            net,
        )
    }
}

/// The error for a host that is not in the inventory (any more).
pub fn host_gone(conn: &crate::connect::Conn) -> crate::DriverError {
    crate::DriverError::with_fault(
        format!(
            "host {} ({}) is not in the inventory any more",
            conn.host_name,
            conn.host.reference()
        ),
        "ManagedObjectNotFound",
    )
}

/// The poll of VM `name` on the connection's host: one `RetrievePropertiesEx` (the host's
/// core speed and every VM that can run on the host, see [`host_selection`]), and for a
/// running VM one `QueryPerf` for its network counters. Only a VM named exactly `name` whose
/// `runtime.host` is the host counts; none (or powered off) gives `STATE=d`.
pub async fn poll_vm(conn: &crate::connect::Conn, name: &str) -> crate::Result<PollInfo> {
    let spec = host_spec(conn.host.reference(), &["summary.hardware.cpuMhz"], None);
    let mut cpu_mhz = None;
    let mut host_seen = false;
    let mut vms: Vec<VmSample> = Vec::new();
    let me = conn.host.reference();
    vim_sdk::property::retrieve_each(
        &conn.session,
        &conn.session.property_collector(),
        &[spec],
        None,
        |c| {
            let p = ObjectProps::from(c);
            if p.obj == *me {
                host_seen = true;
                cpu_mhz = p.int("summary.hardware.cpuMhz");
            } else if p.obj.r#type == "VirtualMachine" && p.str("name") == Some(name) {
                let vm = VmSample::from_props(&p);
                if vm.is_on(me) {
                    vms.push(vm);
                }
            }
        },
    )
    .await
    .map_err(|e| {
        crate::DriverError::from(e)
            .context(format!("cannot read the VMs of host {}", conn.host_name))
    })?;
    // A host that is gone comes back as a fault, or (vcsim) as an object without values.
    if cpu_mhz.is_none() || !host_seen {
        return Err(host_gone(conn));
    }
    let vm = match vms.len() {
        0 => return Ok(PollInfo::deleted()),
        1 => vms.remove(0),
        n => {
            return Err(crate::DriverError::new(format!(
                "{n} VMs on host {} are named {name}",
                conn.host_name
            )))
        }
    };
    if vm.state() == State::Deleted {
        return Ok(PollInfo::deleted());
    }
    let net = crate::netstats::cumulative(conn, &vm.obj, vm.net_key(), vm.running()).await;
    Ok(vm.poll(cpu_mhz, net))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(PollInfo::deleted().to_string(), "STATE=d");
        let p = PollInfo {
            state: State::Active,
            used_cpu: 12,
            used_memory_kb: 2048,
            net_rx: 5,
            net_tx: 6,
        };
        assert_eq!(
            p.to_string(),
            "STATE=a USEDCPU=12 USEDMEMORY=2048 NETRX=5 NETTX=6"
        );
        assert_eq!(State::from_power_state("suspended"), State::Paused);
        assert_eq!(State::from_power_state("weird"), State::Unknown);
    }

    fn sample(state: Option<&str>) -> VmSample {
        VmSample {
            obj: ManagedObjectReference::new("VirtualMachine", "vm-1"),
            name: Some("one-1".into()),
            power_state: state.map(str::to_string),
            host: Some(ManagedObjectReference::new("HostSystem", "host-1")),
            cpu_mhz: Some(1000),
            host_memory_mb: Some(512),
            uuid: None,
        }
    }

    #[test]
    fn poll_figures_per_state() {
        let on = sample(Some("poweredOn"));
        assert_eq!(
            on.poll(Some(2000), (5, 6)).to_string(),
            "STATE=a USEDCPU=50 USEDMEMORY=524288 NETRX=5 NETTX=6"
        );
        // No core speed: no CPU figure rather than a division by zero.
        assert!(on.poll(Some(0), (0, 0)).to_string().contains("USEDCPU=0 "));
        assert!(on.poll(None, (0, 0)).to_string().contains("USEDCPU=0 "));
        assert_eq!(
            sample(Some("suspended"))
                .poll(Some(2000), (5, 6))
                .to_string(),
            "STATE=p USEDCPU=0 USEDMEMORY=0 NETRX=5 NETTX=6"
        );
        assert_eq!(
            sample(Some("poweredOff"))
                .poll(Some(2000), (5, 6))
                .to_string(),
            "STATE=d"
        );
        assert!(sample(None)
            .poll(Some(2000), (0, 0))
            .to_string()
            .starts_with("STATE=- "));
        // Hostile figures from the wire: negative or huge values neither panic nor wrap.
        let mut odd = sample(Some("poweredOn"));
        odd.cpu_mhz = Some(i64::MAX);
        odd.host_memory_mb = Some(-5);
        let p = odd.poll(Some(1), (0, 0));
        assert_eq!(p.used_memory_kb, 0);
        assert!(p.used_cpu > 0);
        assert_eq!(on.net_key(), "vm-1");
        assert!(on.is_on(&ManagedObjectReference::new("HostSystem", "host-1")));
        assert!(!on.is_on(&ManagedObjectReference::new("HostSystem", "host-2")));
    }

    #[test]
    fn the_host_selection_reaches_pools_vapps_and_datastores() {
        let names = |set: &[AnySelectionSpec]| -> Vec<String> {
            set.iter()
                .filter_map(|s| match s {
                    AnySelectionSpec::TraversalSpec(t) => Some(format!("{}.{}", t.r#type, t.path)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            names(&host_selection(false)),
            [
                "HostSystem.parent",
                "ComputeResource.resourcePool",
                "ResourcePool.resourcePool",
                "ResourcePool.vm"
            ]
        );
        assert!(names(&host_selection(true)).contains(&"HostSystem.datastore".to_string()));
    }
}
