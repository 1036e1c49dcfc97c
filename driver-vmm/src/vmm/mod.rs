//! The VMM actions.

pub mod cancel;
pub mod lifecycle;
pub mod migrate;
pub mod reboot;
pub mod reset;
pub mod shutdown;
pub mod snapshot_create;
pub mod snapshot_delete;
pub mod snapshot_revert;
