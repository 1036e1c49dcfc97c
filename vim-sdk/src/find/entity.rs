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
    use crate::meta::MANAGED_OBJECTS;

    /// Whether managed object type `ty` is `ancestor` or derives from it, by the model.
    fn derives(ty: &str, ancestor: &str) -> bool {
        let mut cur = Some(ty);
        while let Some(t) = cur {
            if t == ancestor {
                return true;
            }
            cur = MANAGED_OBJECTS
                .iter()
                .find(|m| m.name == t)
                .and_then(|m| m.base);
        }
        false
    }

    /// `E` accepts exactly the model's managed object types that are `E::TYPE` or derive from
    /// it (the hand-written lists above, checked against the model rather than themselves).
    fn accepts_its_subtypes<E: Entity>() {
        assert!(
            MANAGED_OBJECTS.iter().any(|m| m.name == E::TYPE),
            "{}",
            E::TYPE
        );
        for m in MANAGED_OBJECTS {
            assert_eq!(
                E::accepts(m.name),
                derives(m.name, E::TYPE),
                "{} accepts {}",
                E::TYPE,
                m.name
            );
        }
    }

    #[test]
    fn each_entity_accepts_its_subtypes_and_nothing_else() {
        accepts_its_subtypes::<mo::VirtualMachine>();
        accepts_its_subtypes::<mo::HostSystem>();
        accepts_its_subtypes::<mo::Datastore>();
        accepts_its_subtypes::<mo::Datacenter>();
        accepts_its_subtypes::<mo::Folder>();
        accepts_its_subtypes::<mo::StoragePod>();
        accepts_its_subtypes::<mo::ComputeResource>();
        accepts_its_subtypes::<mo::ClusterComputeResource>();
        accepts_its_subtypes::<mo::ResourcePool>();
        accepts_its_subtypes::<mo::VirtualApp>();
        accepts_its_subtypes::<mo::Network>();
        accepts_its_subtypes::<mo::DistributedVirtualPortgroup>();
        accepts_its_subtypes::<mo::DistributedVirtualSwitch>();
        // ManagedEntity accepts everything, including types newer than the model.
        assert!(mo::ManagedEntity::accepts("FutureEntity"));
        for m in MANAGED_OBJECTS
            .iter()
            .filter(|m| derives(m.name, "ManagedEntity"))
        {
            assert!(mo::ManagedEntity::accepts(m.name), "{}", m.name);
        }
    }
}
