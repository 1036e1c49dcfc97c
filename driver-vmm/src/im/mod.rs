//! The IM driver (contract §6): the host probe that `run_probes` runs from `im/vmware.d/`.
//!
//! - [`probe`]: the probe itself (`im/vmware.d/probe`), one property collector pass and at
//!   most one `QueryPerf` per host, whatever the number of VMs;
//! - [`template`]: OpenNebula template attributes, with values that cannot break oned's
//!   template parser.

pub mod probe;
pub mod template;
