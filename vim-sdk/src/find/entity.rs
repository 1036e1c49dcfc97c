//! [`Entity`]: the handle types a lookup can return, with the wire types each accepts.

use crate::mo;
use crate::xml::ManagedObjectReference;

/// A managed entity handle type that lookups can return.
pub trait Entity: Sized {
    /// The managed object type to ask the server for (`VirtualMachine`).
    const TYPE: &'static str;
    /// Whether a reference of wire type `ty` is this type or one of its subtypes.
    fn accepts(ty: &str) -> bool;
    /// The handle for `r`.
    fn from_reference(r: ManagedObjectReference) -> Self;
}

macro_rules! entity {
    ($name:ident: $($ty:literal),+) => {
        impl Entity for mo::$name {
            const TYPE: &'static str = mo::$name::TYPE;
            fn accepts(ty: &str) -> bool {
                matches!(ty, $($ty)|+)
            }
            fn from_reference(r: ManagedObjectReference) -> Self {
                mo::$name::from_ref(r)
            }
        }
    };
}

entity!(VirtualMachine: "VirtualMachine");
entity!(HostSystem: "HostSystem");
entity!(Datastore: "Datastore");
entity!(Datacenter: "Datacenter");
entity!(Folder: "Folder", "StoragePod");
entity!(StoragePod: "StoragePod");
entity!(ComputeResource: "ComputeResource", "ClusterComputeResource");
entity!(ClusterComputeResource: "ClusterComputeResource");
entity!(ResourcePool: "ResourcePool", "VirtualApp");
entity!(VirtualApp: "VirtualApp");
entity!(Network: "Network", "DistributedVirtualPortgroup", "OpaqueNetwork");
entity!(DistributedVirtualPortgroup: "DistributedVirtualPortgroup");
entity!(
    DistributedVirtualSwitch: "DistributedVirtualSwitch",
    "VmwareDistributedVirtualSwitch"
);

impl Entity for mo::ManagedEntity {
    const TYPE: &'static str = "ManagedEntity";
    fn accepts(_: &str) -> bool {
        true
    }
    fn from_reference(r: ManagedObjectReference) -> Self {
        mo::ManagedEntity::from_ref(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtypes_are_accepted_and_others_not() {
        assert!(mo::ComputeResource::accepts("ClusterComputeResource"));
        assert!(!mo::ClusterComputeResource::accepts("ComputeResource"));
        assert!(mo::Network::accepts("DistributedVirtualPortgroup"));
        assert!(!mo::VirtualMachine::accepts("HostSystem"));
        assert!(mo::ManagedEntity::accepts("Anything"));
        assert_eq!(<mo::HostSystem as Entity>::TYPE, "HostSystem");
    }
}
