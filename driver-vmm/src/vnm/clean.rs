//! clean `<base64 VM>`: removes nothing. Port groups are shared by every VM of a network on
//! the host, another VM's `pre` may be about to use one this VM no longer does, and an
//! administrator may use them too; removing only unused ones could still race with a
//! deployment. So, as legacy did, port groups stay (contract §10). The argument is checked.

use driver_common::one_vm::OneVm;
use driver_common::{DriverError, Result};

const USAGE: &str = "<base64 VM>";

/// Runs clean.
pub async fn run(args: &[String]) -> Result<String> {
    let [b64] = args else {
        return Err(DriverError::usage("clean", USAGE, args));
    };
    OneVm::from_base64(b64)?;
    Ok(String::new())
}
