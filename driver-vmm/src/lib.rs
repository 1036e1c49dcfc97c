//! OpenNebula's VMware drivers (VMM actions and network driver) on vim-sdk.

#![warn(missing_docs)]

pub mod disk_target;
pub mod vmm;
pub mod vnm;
