//! `vim-sdk`: a native Rust client for VMware's vSphere Web Services API (SOAP, `urn:vim25`).
//!
//! The typed bindings ([`types`], [`mo`], [`methods`], [`meta`]) are generated at build time by
//! `vim-codegen` from the committed model in the repository's `wsdl/` folder (or from a WSDL
//! set named by `VIM_WSDL_DIR`). The hand-written runtime lives beside them: the XML codec
//! ([`xml`]), SOAP envelopes and faults ([`soap`]), the HTTPS transport ([`transport`]) and the
//! [`client::Client`].

#![warn(missing_docs)]

mod chunks;
pub mod client;
#[cfg(feature = "helpers")]
pub mod datastore;
#[cfg(feature = "helpers")]
pub mod device;
pub mod error;
pub mod fault;
#[cfg(feature = "helpers")]
pub mod find;
mod generated;
pub mod managed;
#[cfg(feature = "helpers")]
pub mod ops;
#[cfg(feature = "helpers")]
pub mod perf;
#[cfg(feature = "helpers")]
pub mod property;
mod redacted;
pub mod session;
pub mod soap;
#[cfg(feature = "helpers")]
pub mod task;
pub mod trace;
pub mod transport;
pub mod xml;

pub use client::Client;
pub use error::{Error, ErrorKind, Fault};
pub use generated::{meta, methods, mo, types};

#[cfg(feature = "vcsim")]
pub mod testing; // testing: vcsim harness
