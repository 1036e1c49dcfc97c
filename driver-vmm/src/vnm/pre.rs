//! pre `<base64 VM>`: the port groups of every NIC of the VM on the host of its last history
//! record (contract §10, §11.4): `one-pg-<NETWORK_ID>` on the vSwitch named by the NIC's
//! `BRIDGE`, VLAN `VLAN_ID` (or `2 + NETWORK_ID`) when `VLAN=YES`, else none. Missing port
//! groups are added, ones whose vSwitch or VLAN differ are updated, names are matched
//! exactly. Any failure (no host, unknown vSwitch, a fault) fails the action.
//!
//! It also records each NIC's MAC and port group in the VM's front-end directory
//! ([`super::record`]) for a following `attach_nic`, whose arguments carry no network id.
//!
//! vcsim 0.24: `AddPortGroup` makes a datacenter-wide Network, so the same name on a second
//! host is `DuplicateName` there (real ESX hosts and vCenter accept it); `UpdatePortGroup` is
//! missing (`MethodNotFound`).

use driver_common::connect::Conn;
use driver_common::one_vm::OneVm;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::portgroup::{self, Step, Wanted};
use super::record;

const USAGE: &str = "<base64 VM>";

/// What `vm`'s NICs need: one merged entry per port group, and the record entries.
pub fn wanted(vm: &OneVm) -> Result<(Vec<Wanted>, Vec<record::Entry>)> {
    let mut wants = Vec::new();
    let mut entries = Vec::new();
    for (i, nic) in vm.nics.iter().enumerate() {
        let id = nic.network_id.ok_or_else(|| {
            DriverError::new(format!("NIC {} of VM {} has no NETWORK_ID", i, vm.id))
        })?;
        let w = Wanted::for_nic(
            id,
            nic.bridge.as_deref().unwrap_or(""),
            nic.vlan,
            nic.vlan_id.map(u64::from),
        )
        .map_err(DriverError::new)?;
        if let Some(mac) = nic.mac.as_deref() {
            entries.push(record::Entry {
                mac: mac.to_ascii_lowercase(),
                portgroup: w.name.clone(),
                vswitch: w.vswitch.clone(),
            });
        }
        wants.push(w);
    }
    Ok((portgroup::merge(wants).map_err(DriverError::new)?, entries))
}

/// Runs pre.
pub async fn run(args: &[String]) -> Result<String> {
    let [b64] = args else {
        return Err(DriverError::usage("pre", USAGE, args));
    };
    let vm = OneVm::from_base64(b64)?;
    let host = vm
        .history_hostname
        .clone()
        .ok_or_else(|| DriverError::new(format!("VM {} has no history record (no host)", vm.id)))?;
    let (wants, entries) = wanted(&vm)?;
    if !wants.is_empty() {
        let steps = Conn::open(&host)
            .await?
            .run(async |conn| {
                portgroup::ensure(&conn.session, &conn.host, &wants)
                    .await
                    .map_err(|e| {
                        DriverError::new(format!("port groups of VM {} on host {host}: {e}", vm.id))
                    })
            })
            .await?;
        for s in &steps {
            if !matches!(s, Step::Keep(_)) {
                output::info(&format!("{s} on host {host}"));
            }
        }
    }
    let dir = record::vm_dir(vm.id);
    if let Err(e) = record::write(&dir, &entries) {
        // Only a later attach_nic reads it, and it falls back on the vSwitch's only
        // one-pg-* port group (or fails clearly): not a reason to fail the deployment.
        output::error(&format!(
            "cannot record the NICs' port groups in {}: {e}",
            dir.display()
        ));
    }
    Ok(String::new())
}
