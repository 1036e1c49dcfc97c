//! The inventory below a path, with each object's inventory path, type and state, read in
//! one paged retrieval: the base of `ls` and `find`.
//!
//! A `ContainerView` of the start object (recursive or not) is read with `name`, `parent`
//! and, for `-l`, the state property of each type (`runtime.powerState` of a VM,
//! `runtime.connectionState` of a host, `summary.accessible` of a datastore,
//! `overallStatus` of the others); paths are then made from the `parent` links, so the whole
//! listing costs `FindByInventoryPath` (unless the start is the root), `CreateContainerView`,
//! `RetrievePropertiesEx` (paged, 1,000 objects a page) and `DestroyView`. An object whose
//! `parent` chain does not lead to the start object (a VM seen through a host's resource
//! pool: its path is under the datacenter's `vm` folder) is left out.

use std::collections::HashMap;

use serde::Serialize;
use vim_sdk::mo;
use vim_sdk::property::{retrieve_each, view_spec, ObjectProps, Paths, ViewGuard};
use vim_sdk::types::PropertySpec;
use vim_sdk::xml::ManagedObjectReference;

use crate::connect::Conn;
use crate::fail::{Context as _, Failure, Result};
use crate::output;

/// Objects a page of the retrieval holds.
const PAGE_OBJECTS: i32 = 1000;
/// More levels than any inventory has.
const MAX_DEPTH: usize = 128;

/// The managed entity types listed, with the property giving each one's state.
const TYPES: &[(&str, &str)] = &[
    ("Folder", "overallStatus"),
    ("Datacenter", "overallStatus"),
    ("ComputeResource", "overallStatus"),
    ("ClusterComputeResource", "overallStatus"),
    ("HostSystem", "runtime.connectionState"),
    ("ResourcePool", "overallStatus"),
    ("VirtualApp", "overallStatus"),
    ("VirtualMachine", "runtime.powerState"),
    ("Datastore", "summary.accessible"),
    ("StoragePod", "overallStatus"),
    ("Network", "overallStatus"),
    ("OpaqueNetwork", "overallStatus"),
    ("DistributedVirtualPortgroup", "overallStatus"),
    ("VmwareDistributedVirtualSwitch", "overallStatus"),
];

/// One object of a listing. `--json` shape: `{"path", "name", "type", "ref", "state"}`
/// (`ref` is the managed object id, `state` `null` without `-l`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// The inventory path (`DC0/vm/DC0_H0_VM0`), without a leading `/`.
    pub path: String,
    /// The name.
    pub name: String,
    /// The managed object type (`VirtualMachine`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The managed object id (`vm-42`).
    #[serde(rename = "ref")]
    pub id: String,
    /// The state (`poweredOn`, `connected`, `accessible`, `green`...), when asked for.
    pub state: Option<String>,
}

impl Item {
    /// The managed object reference.
    pub fn reference(&self) -> ManagedObjectReference {
        ManagedObjectReference::new(self.kind.as_str(), self.id.as_str())
    }
}

/// The object at inventory path `path` (`""` or `/` is the root folder).
pub async fn resolve(conn: &Conn, path: &str) -> Result<ManagedObjectReference> {
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Ok(conn.managers.root_folder.reference().clone());
    }
    conn.finder()
        .by_inventory_path::<mo::ManagedEntity>(&conn.session, path)
        .await
        .with_context(|| format!("cannot look {path} up"))?
        .map(|e| e.reference().clone())
        .ok_or_else(|| Failure::new(format!("{path}: not found")))
}

fn state_of(kind: &str, props: &ObjectProps) -> Option<String> {
    let (_, path) = TYPES.iter().find(|(t, _)| *t == kind)?;
    if let Some(accessible) = props.bool(path) {
        return Some(
            if accessible {
                "accessible"
            } else {
                "inaccessible"
            }
            .into(),
        );
    }
    props
        .enum_value(path)
        .or_else(|| props.str(path))
        .map(String::from)
}

/// The objects below `path` (its children, or its whole subtree when `recursive`), sorted
/// by path; with their state when `with_state`. A path naming an object without children
/// (a VM, a host...) lists that object alone.
pub async fn list(conn: &Conn, path: &str, recursive: bool, with_state: bool) -> Result<Vec<Item>> {
    let prefix = path.trim_matches('/');
    let start = resolve(conn, prefix).await?;
    let containers = [
        "Folder",
        "Datacenter",
        "ComputeResource",
        "ClusterComputeResource",
        "ResourcePool",
        "VirtualApp",
        "StoragePod",
    ];
    if !containers.contains(&start.r#type.as_str()) {
        let props = vim_sdk::ops::retrieve_properties(
            &conn.session,
            &conn.managers.property_collector,
            std::slice::from_ref(&start),
            &state_paths(&start.r#type, with_state),
        )
        .await
        .with_context(|| format!("cannot read {prefix}"))?;
        return Ok(props
            .iter()
            .map(|p| Item {
                path: prefix.to_string(),
                name: p.str("name").unwrap_or_default().to_string(),
                kind: start.r#type.clone(),
                id: start.value.clone(),
                state: with_state.then(|| state_of(&start.r#type, p)).flatten(),
            })
            .collect());
    }
    let view = ViewGuard::container(&conn.session, conn.content(), &start, &[], recursive)
        .await
        .with_context(|| format!("cannot list {}", display(prefix)))?;
    let mut spec = view_spec(view.reference(), &[], &Paths::All);
    spec.prop_set = TYPES
        .iter()
        .map(|(t, _)| PropertySpec {
            r#type: t.to_string(),
            all: Some(false),
            path_set: state_paths(t, with_state)
                .into_iter()
                .map(String::from)
                .collect(),
        })
        .collect();
    let mut found: Vec<ObjectProps> = Vec::new();
    let read = retrieve_each(
        &conn.session,
        &conn.managers.property_collector,
        &[spec],
        Some(PAGE_OBJECTS),
        |o| found.push(ObjectProps::from(o)),
    )
    .await;
    let destroyed = view.destroy().await;
    read.with_context(|| format!("cannot list {}", display(prefix)))?;
    destroyed.context("cannot destroy the view")?;
    Ok(with_paths(&start, prefix, &found, with_state))
}

/// `path` for messages: the root is `/`.
fn display(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

fn state_paths(kind: &str, with_state: bool) -> Vec<&'static str> {
    let mut paths = vec!["name", "parent"];
    if with_state {
        if let Some((_, p)) = TYPES.iter().find(|(t, _)| *t == kind) {
            paths.push(p);
        }
    }
    paths
}

/// Items with paths made of the `parent` links from each object up to `start`.
fn with_paths(
    start: &ManagedObjectReference,
    prefix: &str,
    found: &[ObjectProps],
    with_state: bool,
) -> Vec<Item> {
    let by_ref: HashMap<&ManagedObjectReference, &ObjectProps> =
        found.iter().map(|p| (p.object(), p)).collect();
    let mut items: Vec<Item> = found
        .iter()
        .filter_map(|p| {
            let mut names = vec![p.str("name")?];
            let mut parent = p.reference("parent");
            for _ in 0..MAX_DEPTH {
                match parent {
                    Some(r) if r == start => {
                        names.reverse();
                        let rel = names.join("/");
                        let obj = p.object();
                        return Some(Item {
                            path: if prefix.is_empty() {
                                rel
                            } else {
                                format!("{prefix}/{rel}")
                            },
                            name: p.str("name")?.to_string(),
                            kind: obj.r#type.clone(),
                            id: obj.value.clone(),
                            state: with_state.then(|| state_of(&obj.r#type, p)).flatten(),
                        });
                    }
                    Some(r) => {
                        let up = by_ref.get(r)?;
                        names.push(up.str("name")?);
                        parent = up.reference("parent");
                    }
                    None => return None,
                }
            }
            None
        })
        .collect();
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items
}

/// Prints `items`: as JSON with `json`, else a `Path  Type  State` table with `long`, else
/// one path a line.
pub fn print(items: &[Item], long: bool, json: bool) -> Result<()> {
    if json {
        return output::json(items);
    }
    if long {
        let mut table = output::Table::new(&["Path", "Type", "State"]);
        for i in items {
            table.row([
                i.path.as_str(),
                i.kind.as_str(),
                i.state.as_deref().unwrap_or("-"),
            ]);
        }
        return table.print();
    }
    output::lines(items.iter().map(|i| &i.path))
}
