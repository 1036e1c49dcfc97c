//! post `<base64 VM> <deploy_id>`: nothing to do for standard vSwitch port groups (contract
//! §10); the arguments are checked, nothing is touched.

use driver_common::one_vm::OneVm;
use driver_common::{DriverError, Result};

const USAGE: &str = "<base64 VM> <deploy_id>";

/// Runs post.
pub async fn run(args: &[String]) -> Result<String> {
    let [b64, _deploy_id] = args else {
        return Err(DriverError::usage("post", USAGE, args));
    };
    OneVm::from_base64(b64)?;
    Ok(String::new())
}
