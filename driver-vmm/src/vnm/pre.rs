//! pre: not yet implemented

use driver_common::{DriverError, Result};

/// Runs the action with OpenNebula's arguments (not implemented yet: always fails).
pub async fn run(_args: &[String]) -> Result<String> {
    Err(DriverError::new("pre is not implemented yet"))
}
