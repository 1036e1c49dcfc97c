//! poll: one line of monitoring figures for a VM (contract §5), e.g.
//! `STATE=a USEDCPU=12 USEDMEMORY=524288 NETRX=20480 NETTX=4096`.
//!
//! Arguments: `<deploy_id> <host> <vmid> <host>`. A VM that is not on the host (or is powered
//! off) prints `STATE=d` and succeeds; a host that cannot be reached fails. The figures are
//! derived as [`driver_common::poll::poll_vm`] says.

use driver_common::connect::{self, Conn};
use driver_common::{DriverError, Result};

const USAGE: &str = "<deploy_id> <host> [<vmid> <host>]";

/// Runs poll.
pub async fn run(args: &[String]) -> Result<String> {
    let (deploy_id, host) = match args {
        [d, h, ..] if !d.is_empty() && !h.is_empty() => (d.as_str(), h.as_str()),
        _ => return Err(DriverError::usage("poll", USAGE, args)),
    };
    if args.len() > 4 {
        return Err(DriverError::usage("poll", USAGE, args));
    }
    // With a warm cache: no round trip to connect, one to read the VM and its host, one
    // for the network counters of a running VM. A stale cache costs one retry.
    let (mut conn, trusted) = Conn::open_trusting(host).await?;
    let mut info = driver_common::poll::poll_vm(&conn, deploy_id).await;
    if trusted {
        if let Err(e) = &info {
            if connect::is_stale(e) {
                driver_common::output::debug(&format!("cached session or placement is stale: {e}"));
                conn.forget(e.fault_type() == Some("NotAuthenticated"));
                conn = Conn::open(host).await?;
                info = driver_common::poll::poll_vm(&conn, deploy_id).await;
            }
        }
    }
    let closed = conn.close().await;
    let info = info.map_err(|e| e.context(format!("cannot poll VM {deploy_id} on host {host}")))?;
    if let Err(e) = closed {
        driver_common::output::debug(&format!("closing the session: {e}"));
    }
    Ok(info.to_string())
}
