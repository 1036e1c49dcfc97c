//! `premigrate`/`postmigrate <src_host> <dst_host> <vm dir> <vmid> <dsid> [<template>]`:
//! nothing to do on a shared VMFS system datastore (as in legacy); the arguments are checked.

use driver_common::{output, Result};

use crate::storage::location::{parse_id, parse_vm_path};

/// Runs premigrate or postmigrate with OpenNebula's arguments.
pub fn run(action: &str, args: &[String]) -> Result<String> {
    if args.len() != 5 && args.len() != 6 {
        return Err(driver_common::DriverError::usage(
            action,
            "<source host> <destination host> <vm directory> <vmid> <datastore id> [<base64 VM>]",
            args,
        ));
    }
    let vmid = parse_id("VM id", &args[3])?;
    parse_id("datastore id", &args[4])?;
    let dir = parse_vm_path(&args[2], vmid, true, false)?;
    output::info(&format!(
        "{}: nothing to do on a shared datastore ({} to {})",
        dir.vmfs(),
        args[0],
        args[1]
    ));
    Ok(String::new())
}
