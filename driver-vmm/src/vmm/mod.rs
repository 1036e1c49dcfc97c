//! The VMM actions (contract §4): one module per action, each with
//! `pub async fn run(args: &[String]) -> driver_common::Result<String>`, where `args` is argv
//! after the script name exactly as OpenNebula passes it, and the `Ok` string goes to stdout.

pub mod attach_disk;
pub mod attach_nic;
pub mod cancel;
pub mod deploy;
pub mod detach_disk;
pub mod detach_nic;
pub mod disk;
pub mod lifecycle;
pub mod links;
pub mod migrate;
pub mod nic;
pub mod poll;
pub mod reboot;
pub mod reset;
pub mod restore;
pub mod save;
pub mod shutdown;
pub mod snapshot_create;
pub mod snapshot_delete;
pub mod snapshot_revert;
