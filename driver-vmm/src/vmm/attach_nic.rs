//! attach_nic `<deploy_id> <mac> <bridge> <model|-> <net_drv|-> <vmid> <host>` (4.4; 4.2
//! passes no `<net_drv>`): adds a card of the model asked (e1000 by default) with that MAC.
//!
//! The port group: in dynamic mode (`net_drv` = `vmware`) `one-pg-<NETWORK_ID>` as the
//! network driver's `pre` (run just before by OpenNebula) recorded it for this MAC in
//! `vms/<vmid>/` ([`crate::vnm::record`]); without a record, the only `one-pg-*` port group
//! on vSwitch `<bridge>`, else an error. Otherwise `<bridge>` itself is the port group (4.2's
//! form: the record when there is one, else `<bridge>`). The port group must exist on the
//! host before anything is changed. A card with that MAC already on that port group is
//! success (a retry); on another port group, an error.

use driver_common::connect::Conn;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::nic::{self, Attached, Model};
use crate::vnm::{portgroup, record};

const USAGE: &str = "<deploy_id> <mac> <bridge> <model|-> [<net_drv|->] <vmid> <host>";

/// The parsed arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The VM's name (`one-<vmid>`).
    pub deploy_id: String,
    /// The MAC, lower case.
    pub mac: String,
    /// The NIC's BRIDGE.
    pub bridge: String,
    /// The card model.
    pub model: Model,
    /// `Some(dynamic)` with 4.4's form, `None` with 4.2's.
    pub dynamic: Option<bool>,
    /// The OpenNebula VM id.
    pub vmid: u64,
    /// The OpenNebula host.
    pub host: String,
}

/// Checks the arguments (before any call).
pub fn parse(args: &[String]) -> Result<Args> {
    let usage = || DriverError::usage("attach_nic", USAGE, args);
    let (d, mac, bridge, model, net_drv, vmid, host) = match args {
        [d, m, b, mo, n, v, h] => (d, m, b, mo, Some(n.as_str()), v, h),
        [d, m, b, mo, v, h] => (d, m, b, mo, None, v, h),
        _ => return Err(usage()),
    };
    if d.is_empty() || bridge.is_empty() || host.is_empty() {
        return Err(usage());
    }
    let bad = |e: String| DriverError::new(format!("attach_nic: {e}"));
    Ok(Args {
        deploy_id: d.clone(),
        mac: nic::parse_mac(mac).map_err(bad)?,
        bridge: bridge.clone(),
        model: Model::parse(model).map_err(bad)?,
        dynamic: net_drv.map(|n| n == "vmware"),
        vmid: vmid.parse().map_err(|_| usage())?,
        host: host.clone(),
    })
}

/// Runs attach_nic.
pub async fn run(args: &[String]) -> Result<String> {
    let a = parse(args)?;
    let recorded = record::lookup(&record::path(a.vmid), &a.mac).map_err(|e| {
        DriverError::new(format!(
            "cannot read the NIC record {}: {e}",
            record::path(a.vmid).display()
        ))
    })?;
    let what = Conn::open(&a.host)
        .await?
        .run(async |conn| attach(conn, &a, recorded).await)
        .await
        .map_err(|e| {
            e.context(format!(
                "cannot attach NIC {} to {} on host {}",
                a.mac, a.deploy_id, a.host
            ))
        })?;
    output::info(&what);
    Ok(String::new())
}

async fn attach(conn: &Conn, a: &Args, recorded: Option<record::Entry>) -> Result<String> {
    let pg = match (a.dynamic, recorded) {
        (Some(true), Some(e)) if e.vswitch == a.bridge => e.portgroup,
        (Some(true), Some(e)) => {
            return Err(DriverError::new(format!(
                "the network driver put MAC {} on {} of vSwitch {}, not on vSwitch {}",
                a.mac, e.portgroup, e.vswitch, a.bridge
            )))
        }
        (Some(true), None) => {
            let ns = portgroup::network_system(&conn.session, &conn.host)
                .await
                .map_err(DriverError::new)?;
            let info = portgroup::network_info(&conn.session, &ns)
                .await
                .map_err(DriverError::new)?;
            nic::sole_managed_portgroup(&info, &a.bridge).map_err(DriverError::new)?
        }
        (None, Some(e)) => e.portgroup,
        (Some(false), _) | (None, None) => a.bridge.clone(),
    };
    let vm = conn.require_vm(&a.deploy_id).await?;
    let done = nic::attach(&conn.session, &vm, &conn.host, &a.mac, a.model, &pg)
        .await
        .map_err(DriverError::new)?;
    Ok(match done {
        Attached::Added => format!("added {} {} on port group {pg}", a.model, a.mac),
        Attached::AlreadyThere => format!("{} is already on port group {pg}", a.mac),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let a = parse(&s(&[
            "one-1",
            "02:00:0A:00:00:01",
            "vSwitch0",
            "-",
            "vmware",
            "1",
            "h",
        ]))
        .unwrap();
        assert_eq!((a.model, a.dynamic, a.vmid), (Model::E1000, Some(true), 1));
        assert_eq!(a.mac, "02:00:0a:00:00:01");
        let a = parse(&s(&[
            "one-1",
            "02:00:0a:00:00:01",
            "pg",
            "vmxnet3",
            "1",
            "h",
        ]))
        .unwrap();
        assert_eq!((a.model, a.dynamic), (Model::Vmxnet3, None));
        let a = parse(&s(&[
            "one-1",
            "02:00:0a:00:00:01",
            "pg",
            "e1000e",
            "dummy",
            "1",
            "h",
        ]))
        .unwrap();
        assert_eq!(a.dynamic, Some(false));
        for bad in [
            s(&[]),
            s(&["one-1", "02:00:0a:00:00:01", "pg", "-", "1"]),
            s(&["one-1", "nonsense", "pg", "-", "vmware", "1", "h"]),
            s(&[
                "one-1",
                "02:00:0a:00:00:01",
                "pg",
                "virtio",
                "vmware",
                "1",
                "h",
            ]),
            s(&["one-1", "02:00:0a:00:00:01", "pg", "-", "vmware", "x", "h"]),
            s(&["one-1", "02:00:0a:00:00:01", "", "-", "vmware", "1", "h"]),
        ] {
            assert!(parse(&bad).is_err(), "{bad:?}");
        }
    }
}
