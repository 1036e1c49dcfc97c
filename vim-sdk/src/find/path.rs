//! Inventory paths: `FindByInventoryPath`, a walk from the root folder by names, the direct
//! children of an object, and the path of an object (its ancestors' names).
//!
//! An inventory path is the names from just below the root folder down to the object, joined
//! with `/`: `DC0/vm/Discovered virtual machine/one-42`, `DC0/host/DC0_C0/DC0_C0_H0`. The
//! server escapes `/`, `\` and `%` inside names as `%2f`, `%5c` and `%25`, so names read
//! from `name` can be joined as they are.

use crate::client::Client;
use crate::error::Error;
use crate::ops::properties::retrieve_properties;
use crate::xml::ManagedObjectReference;

use super::{typed, Entity, Finder};

/// More levels than any inventory has; a deeper walk means a cycle in bad data.
const MAX_DEPTH: usize = 128;

/// The properties holding the children of an object of wire type `ty`, for a walk down.
fn child_paths(ty: &str) -> &'static [&'static str] {
    match ty {
        "Folder" | "StoragePod" => &["childEntity"],
        "Datacenter" => &["vmFolder", "hostFolder", "datastoreFolder", "networkFolder"],
        "ComputeResource" | "ClusterComputeResource" => &["host", "resourcePool"],
        "ResourcePool" | "VirtualApp" => &["resourcePool", "vm"],
        _ => &[],
    }
}

/// The components of `path`, without empty ones (leading, trailing or doubled `/`).
fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

impl Finder {
    /// The entity at `path` (`SearchIndex.FindByInventoryPath`, one call); `None` when
    /// nothing is there. An entity of another type than `T` is an error.
    pub async fn by_inventory_path<T: Entity>(
        &self,
        client: &Client,
        path: &str,
    ) -> Result<Option<T>, Error> {
        const OP: &str = "FindByInventoryPath";
        let index = self.search_index(OP)?;
        let trimmed = path.trim_matches('/');
        match index.find_by_inventory_path(client, trimmed).await? {
            Some(found) => typed(OP, found.reference().clone()).map(Some),
            None => Ok(None),
        }
    }

    /// The direct children of `obj` with their names (two `RetrievePropertiesEx`): a folder's
    /// entities, a datacenter's four folders (`vm`, `host`, `datastore`, `network`), a
    /// compute resource's hosts and root pool, a pool's child pools and VMs. Sorted by name.
    pub async fn children(
        &self,
        client: &Client,
        obj: &ManagedObjectReference,
    ) -> Result<Vec<(String, ManagedObjectReference)>, Error> {
        let paths = child_paths(&obj.r#type);
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let props = retrieve_properties(client, &self.collector, std::slice::from_ref(obj), paths)
            .await?
            .pop();
        let Some(props) = props else {
            return Ok(Vec::new());
        };
        let mut kids: Vec<ManagedObjectReference> = Vec::new();
        for p in paths {
            if let Some(r) = props.reference(p) {
                kids.push(r.clone());
            }
            kids.extend(props.references(p).iter().cloned());
        }
        let named = retrieve_properties(client, &self.collector, &kids, &["name"]).await?;
        let mut out: Vec<(String, ManagedObjectReference)> = named
            .into_iter()
            .filter_map(|p| Some((p.str("name")?.to_string(), p.object().clone())))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Walks `path` down from the root folder by names, reading each level's children
    /// (two calls per level; works where `FindByInventoryPath` is unavailable, and for paths
    /// through compute resources and pools). `None` when a component is not found.
    pub async fn walk<T: Entity>(&self, client: &Client, path: &str) -> Result<Option<T>, Error> {
        let mut current = self.root.reference().clone();
        for component in components(path) {
            let kids = self.children(client, &current).await?;
            match kids.into_iter().find(|(name, _)| name == component) {
                Some((_, next)) => current = next,
                None => return Ok(None),
            }
        }
        typed("walk", current).map(Some)
    }

    /// The inventory path of `obj`: the names of its ancestors below the root folder and its
    /// own, joined with `/` (one `RetrievePropertiesEx` per level, following `parent`, or
    /// `parentVApp` for a VM in a vApp). The root folder's path is the empty string.
    pub async fn inventory_path(
        &self,
        client: &Client,
        obj: &ManagedObjectReference,
    ) -> Result<String, Error> {
        let mut names: Vec<String> = Vec::new();
        let mut current = obj.clone();
        for _ in 0..MAX_DEPTH {
            let paths: &[&str] = if current.r#type == "VirtualMachine" {
                &["name", "parent", "parentVApp"]
            } else {
                &["name", "parent"]
            };
            let props = retrieve_properties(
                client,
                &self.collector,
                std::slice::from_ref(&current),
                paths,
            )
            .await?
            .pop()
            .ok_or_else(|| {
                crate::ops::unexpected(
                    "inventory_path",
                    Some(current.to_string()),
                    "the object is gone".into(),
                )
            })?;
            let parent = props
                .reference("parent")
                .or_else(|| props.reference("parentVApp"))
                .cloned();
            match parent {
                Some(parent) => {
                    names.push(props.str("name").unwrap_or_default().to_string());
                    current = parent;
                }
                // Only the root folder has no parent; its name is not part of paths.
                None => {
                    names.reverse();
                    return Ok(names.join("/"));
                }
            }
        }
        Err(crate::ops::unexpected(
            "inventory_path",
            Some(obj.to_string()),
            format!("no root folder within {MAX_DEPTH} levels of parents"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_drop_empty_parts() {
        assert_eq!(components("/DC0//vm/x/"), ["DC0", "vm", "x"]);
        assert!(components("/").is_empty());
    }

    /// The model's properties of managed object type `ty` (inherited ones too).
    fn properties(ty: &str) -> Vec<&'static crate::meta::PropertyInfo> {
        let mut out = Vec::new();
        let mut cur = Some(ty);
        while let Some(t) = cur {
            let m = crate::meta::MANAGED_OBJECTS.iter().find(|m| m.name == t);
            out.extend(m.iter().flat_map(|m| m.properties.iter()));
            cur = m.and_then(|m| m.base);
        }
        out
    }

    #[test]
    fn child_paths_are_reference_properties_of_the_model() {
        // Every container's child paths are properties the model gives that type, holding
        // managed object references (so a walk down asks for something the server has).
        let mut containers = 0;
        for m in crate::meta::MANAGED_OBJECTS {
            let paths = child_paths(m.name);
            if paths.is_empty() {
                continue;
            }
            containers += 1;
            let props = properties(m.name);
            for p in paths {
                let prop = props
                    .iter()
                    .find(|q| q.name == *p)
                    .unwrap_or_else(|| panic!("{} has no property {p}", m.name));
                assert!(
                    prop.ty == "ManagedObjectReference"
                        || crate::meta::MANAGED_OBJECTS
                            .iter()
                            .any(|o| o.name == prop.ty),
                    "{}.{p} holds {}, not references",
                    m.name,
                    prop.ty
                );
            }
        }
        // Folder, StoragePod, Datacenter, ComputeResource, ClusterComputeResource,
        // ResourcePool, VirtualApp.
        assert_eq!(containers, 7);
        assert!(child_paths("HostSystem").is_empty());
    }
}
