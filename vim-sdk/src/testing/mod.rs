//! Test support for code built on `vim-sdk` (cargo feature `vcsim`).
//!
//! [`vcsim`] starts govmomi's vCenter/ESX simulator through the project's launcher
//! (`vim-sdk/vcsim/main.go`, built by `scripts/setup` into `target/vcsim/vcsim-launcher`)
//! and stops it again when the handle is dropped. Integration tests use it as their
//! server; it only ever listens on 127.0.0.1. [`fault_proxy`] sits between a client and such
//! a server and breaks the network on purpose; [`pki`] makes certificates for TLS tests.

pub mod fault_proxy;
pub mod pki;
pub mod vcsim;

pub use vcsim::{Vcsim, VcsimBuilder, VcsimError, VcsimModel};
