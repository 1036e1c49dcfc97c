//! `driver-common`: the foundation every OpenNebula vSphere driver shares.
//!
//! - [`config`]: `vmwarerc` (YAML with `:key:` names) and the endpoint it gives for a host;
//! - [`connect`]: a logged-in [`connect::Conn`] (direct to the ESX host or through vCenter)
//!   with the OpenNebula host resolved, and VM and host lookups by exact name;
//! - [`output`]: OpenNebula's stderr conventions (`ERROR:`/`INFO:` lines, the
//!   `ERROR MESSAGE --8<------` block) and exit codes;
//! - [`one_vm`]: OpenNebula's `<VM>` document (base64 in the network driver's argv);
//! - [`poll`]: the poll string of one VM (contract §5);
//! - [`datetime`]: `xsd:dateTime` read and written ([`datetime::Stamp`]);
//! - [`error`]: [`DriverError`], the message shown to the OpenNebula user.
//!
//! Every action of a driver is `async fn run(args: &[String]) -> Result<String>`, run by the
//! driver's dispatcher and handed to [`output::finish`].

#![warn(missing_docs)]

pub mod base64_arg;
pub mod config;
pub mod connect;
pub mod datetime;
pub mod error;
pub mod netstats;
pub mod one_vm;
pub mod output;
pub mod poll;
pub mod rtt;

pub use error::{DriverError, Result};
