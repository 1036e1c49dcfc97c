//! `monitor <base64 DS_DRIVER_ACTION_DATA> <ds id>`: `USED_MB`, `TOTAL_MB`, `FREE_MB` of the
//! datastore (`summary.capacity` and `summary.freeSpace` as the first reachable host of
//! `BRIDGE_LIST` sees them; used = capacity - free, the whole datastore's use, where legacy's
//! `du` counted only OpenNebula's files). On the way it removes what uploads through that
//! host left behind ([`pending::remove_leftovers`]: a `cp` killed midway, or failed), so that
//! such a leftover goes within a monitoring period rather than at the next `cp`.

use driver_common::{output, DriverError, Result};

use crate::storage::ds_data::DsData;
use crate::storage::location::{parse_id, shown};
use crate::storage::pending;
use crate::storage::{expect_args, with_site};

const MB: i64 = 1024 * 1024;

/// Runs monitor with OpenNebula's arguments.
pub async fn run(args: &[String]) -> Result<String> {
    expect_args(
        "monitor",
        "<base64 DS_DRIVER_ACTION_DATA> <datastore id>",
        args,
        2,
    )?;
    let data = DsData::from_base64(&args[0])?;
    let id = parse_id("datastore id", &args[1])?;
    if id != data.datastore.id {
        return Err(DriverError::new(format!(
            "datastore id {} does not match DATASTORE/ID {} of the action data",
            shown(&args[1]),
            data.datastore.id
        )));
    }
    let n = data.datastore.bridge_list.len().max(1) as u64;
    let ds = data.datastore.name.clone();
    let mut errors = Vec::new();
    for i in 0..n {
        let host = data.bridge(i)?.to_string();
        let r = with_site(&host, async |site| {
            let s = site.store(&ds)?;
            pending::remove_leftovers(site, &host, s).await;
            Ok((s.capacity, s.free))
        })
        .await;
        match r {
            Ok((cap, free)) => {
                // In whole MB, rounded down, with USED_MB + FREE_MB = TOTAL_MB.
                let total = cap.max(0) / MB;
                let free = free.max(0).min(cap.max(0)) / MB;
                return Ok(format!(
                    "USED_MB={}\nTOTAL_MB={total}\nFREE_MB={free}",
                    total - free
                ));
            }
            Err(e) => {
                output::info(&format!("host {host}: {e}"));
                errors.push(format!("{host}: {e}"));
            }
        }
    }
    Err(DriverError::new(format!(
        "cannot monitor datastore {ds} through any host of BRIDGE_LIST: {}",
        errors.join("; ")
    )))
}
