//! The `vmfs` datastore driver actions (contract §8): `<action> <base64
//! DS_DRIVER_ACTION_DATA> <image id>` (`monitor`: the datastore id). `BRIDGE_LIST` names the
//! host that does the work (reached through the vSphere API, not ssh). One module per action,
//! each with `pub async fn run(args: &[String]) -> driver_common::Result<String>`.
//!
//! Built: cp (a folder of `.vmdk` files, one `.vmdk` disk, a `.tar.gz`, an ISO, http(s) URLs
//! of the last two, checksums), mkfs, clone, rm, stat, monitor.

pub mod clone;
pub mod cp;
pub mod mkfs;
pub mod monitor;
pub mod rm;
pub mod stat;

use driver_common::{DriverError, Result};

use crate::storage::ds_data::DsData;
use crate::storage::location::{parse_id, shown};
use crate::storage::{expect_args, not_implemented};

/// Runs datastore action `name`.
pub async fn dispatch(name: &str, args: &[String]) -> Result<String> {
    match name {
        "cp" => cp::run(args).await,
        "mkfs" => mkfs::run(args).await,
        "clone" => clone::run(args).await,
        "rm" => rm::run(args).await,
        "stat" => stat::run(args).await,
        "monitor" => monitor::run(args).await,
        other => Err(not_implemented("datastore/vmfs", other)),
    }
}

/// Parses `<base64 data> <image id>`; the id must match `IMAGE/ID` when the document has
/// one.
pub fn image_args(action: &str, args: &[String]) -> Result<(DsData, u64)> {
    expect_args(action, "<base64 DS_DRIVER_ACTION_DATA> <image id>", args, 2)?;
    let data = DsData::from_base64(&args[0])?;
    let id = parse_id("image id", &args[1])?;
    let image = data.image()?;
    if let Some(doc_id) = image.id {
        if doc_id != id {
            return Err(DriverError::new(format!(
                "image id {} does not match IMAGE/ID {doc_id} of the action data",
                shown(&args[1])
            )));
        }
    }
    Ok((data, id))
}
