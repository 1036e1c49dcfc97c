//! The VMM actions, one module per action, and the device helpers hot-plug shares.

pub mod disk;
pub mod nic;
