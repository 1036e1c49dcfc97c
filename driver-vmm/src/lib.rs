//! OpenNebula's VMware drivers on vim-sdk (lifecycle actions; the foundation arrives from
//! `drv-core`).
#![warn(missing_docs)]

pub mod common;
pub mod vmm;
