//! The network driver (`vnm/vmware/{pre,post,clean}`): port groups on standard vSwitches.

pub mod portgroup;
pub mod record;
