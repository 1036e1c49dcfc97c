//! The poll string of one VM (contract §5): one line of `KEY=VALUE` tokens.

use std::fmt;

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

/// How the figures are read (one `RetrievePropertiesEx` for the VM and its host, one
/// `QueryPerf` for the network counters of a running VM):
///
/// - `STATE`: `runtime.powerState` (poweredOn → `a`, suspended → `p`, poweredOff or no VM
///   of that exact name on the host → `d`);
/// - `USEDCPU`: `summary.quickStats.overallCpuUsage` (MHz) ÷ the host's
///   `summary.hardware.cpuMhz` (MHz of one core) × 100, rounded: percent of one core;
/// - `USEDMEMORY`: `summary.quickStats.hostMemoryUsage` (MB of host memory the VM consumes)
///   × 1024: KB;
/// - `NETRX`/`NETTX`: cumulative bytes, see [`netstats`](crate::netstats).
pub async fn poll_vm(conn: &crate::connect::Conn, name: &str) -> crate::Result<PollInfo> {
    use vim_sdk::types::{
        AnySelectionSpec, ObjectSpec, PropertyFilterSpec, PropertySpec, SelectionSpec,
        TraversalSpec,
    };

    const VM_PATHS: [&str; 6] = [
        "name",
        "runtime.powerState",
        "runtime.host",
        "summary.quickStats.overallCpuUsage",
        "summary.quickStats.hostMemoryUsage",
        "config.instanceUuid",
    ];
    // The host's VMs (with their figures) and the host's core speed, in one call.
    let spec = PropertyFilterSpec {
        prop_set: vec![
            PropertySpec {
                r#type: "VirtualMachine".into(),
                all: Some(false),
                path_set: VM_PATHS.iter().map(|p| p.to_string()).collect(),
            },
            PropertySpec {
                r#type: "HostSystem".into(),
                all: Some(false),
                path_set: vec!["summary.hardware.cpuMhz".into()],
            },
        ],
        object_set: vec![ObjectSpec {
            obj: conn.host.reference().clone(),
            skip: Some(false),
            select_set: vec![AnySelectionSpec::TraversalSpec(Box::new(TraversalSpec {
                base: SelectionSpec::default(),
                r#type: "HostSystem".into(),
                path: "vm".into(),
                skip: Some(false),
                select_set: vec![],
            }))],
        }],
        ..Default::default()
    };
    let found = vim_sdk::property::retrieve(
        &conn.session,
        &conn.session.property_collector(),
        &[spec],
        None,
    )
    .await
    .map_err(|e| {
        crate::DriverError::from(e)
            .context(format!("cannot read the VMs of host {}", conn.host_name))
    })?;
    let mut cpu_mhz = None;
    let mut host_seen = false;
    let mut vms = Vec::new();
    for c in found {
        let p = vim_sdk::property::ObjectProps::from(c);
        if p.obj == *conn.host.reference() {
            host_seen = true;
            cpu_mhz = p.int("summary.hardware.cpuMhz");
        } else if p.obj.r#type == "VirtualMachine" && p.str("name") == Some(name) {
            // vcsim leaves a migrated VM in its old host's list: trust runtime.host.
            if p.reference("runtime.host")
                .is_none_or(|h| h == conn.host.reference())
            {
                vms.push(p);
            }
        }
    }
    // A host that is gone comes back as a fault, or (vcsim) as an object without values.
    if cpu_mhz.is_none() || !host_seen {
        return Err(crate::DriverError::with_fault(
            format!(
                "host {} ({}) is not in the inventory any more",
                conn.host_name,
                conn.host.reference()
            ),
            "ManagedObjectNotFound",
        ));
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
    let state = State::from_power_state(vm.str("runtime.powerState").unwrap_or(""));
    if state == State::Deleted {
        return Ok(PollInfo::deleted());
    }
    let uuid = vm
        .str("config.instanceUuid")
        .map(str::to_string)
        .unwrap_or_else(|| vm.obj.value.clone());
    let (net_rx, net_tx) =
        crate::netstats::cumulative(conn, &vm.obj, &uuid, state == State::Active).await;
    if state != State::Active {
        return Ok(PollInfo {
            state,
            used_cpu: 0,
            used_memory_kb: 0,
            net_rx,
            net_tx,
        });
    }
    let cpu = vm
        .int("summary.quickStats.overallCpuUsage")
        .unwrap_or(0)
        .max(0) as u64;
    let used_cpu = match cpu_mhz {
        Some(mhz) if mhz > 0 => (cpu * 100 + mhz as u64 / 2) / mhz as u64,
        _ => 0,
    };
    let mem = vm
        .int("summary.quickStats.hostMemoryUsage")
        .unwrap_or(0)
        .max(0) as u64;
    Ok(PollInfo {
        state,
        used_cpu,
        used_memory_kb: mem.saturating_mul(1024),
        net_rx,
        net_tx,
    })
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
}
