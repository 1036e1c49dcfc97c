//! detach_nic `<deploy_id> <mac> <vmid> <host>`: removes the card with that MAC, sent back
//! exactly as read from `config.hardware.device`. A VM without such a card is success with
//! nothing printed (legacy printed `-1`; OpenNebula ignores detach's stdout) and an `INFO`
//! line on stderr.

use driver_common::connect::Conn;
use driver_common::output;
use driver_common::{DriverError, Result};

use super::nic;

const USAGE: &str = "<deploy_id> <mac> <vmid> <host>";

/// Runs detach_nic.
pub async fn run(args: &[String]) -> Result<String> {
    let [deploy_id, mac, vmid, host] = args else {
        return Err(DriverError::usage("detach_nic", USAGE, args));
    };
    if deploy_id.is_empty() || host.is_empty() || vmid.parse::<u64>().is_err() {
        return Err(DriverError::usage("detach_nic", USAGE, args));
    }
    let mac = nic::parse_mac(mac).map_err(|e| DriverError::new(format!("detach_nic: {e}")))?;
    let removed = Conn::with_vm(host, deploy_id, async |conn, vm| {
        nic::detach(&conn.session, &vm, &mac)
            .await
            .map_err(DriverError::new)
    })
    .await
    .map_err(|e| {
        e.context(format!(
            "cannot detach NIC {mac} from {deploy_id} on host {host}"
        ))
    })?;
    output::info(&if removed {
        format!("removed NIC {mac}")
    } else {
        format!("{deploy_id} has no NIC {mac}: nothing to detach")
    });
    Ok(String::new())
}
