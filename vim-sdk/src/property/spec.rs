//! Property filter specs for the common retrievals.

use crate::types::{AnySelectionSpec, ObjectSpec, PropertyFilterSpec, PropertySpec, TraversalSpec};
use crate::xml::ManagedObjectReference;

/// Which properties to retrieve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paths {
    /// Every property (`all=true`).
    All,
    /// These property paths (`name`, `runtime.powerState`, ...).
    Only(Vec<String>),
}

impl Paths {
    /// These property paths, given as string slices.
    pub fn only(paths: &[&str]) -> Self {
        Paths::Only(paths.iter().map(|p| p.to_string()).collect())
    }

    /// The paths of a comma-separated list (empty items dropped).
    pub fn parse_list(list: &str) -> Self {
        Paths::Only(
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        )
    }

    fn property_spec(&self, ty: &str) -> PropertySpec {
        match self {
            Paths::All => PropertySpec {
                r#type: ty.to_string(),
                all: Some(true),
                ..Default::default()
            },
            Paths::Only(paths) => PropertySpec {
                r#type: ty.to_string(),
                all: Some(false),
                path_set: paths.clone(),
            },
        }
    }
}

/// A spec for `paths` of the objects of each type in `types` that `view` (a container or list
/// view) shows; the view itself is skipped.
pub fn view_spec(
    view: &ManagedObjectReference,
    types: &[&str],
    paths: &Paths,
) -> PropertyFilterSpec {
    let traversal = TraversalSpec {
        r#type: view.r#type.clone(),
        path: "view".into(),
        skip: Some(false),
        ..Default::default()
    };
    PropertyFilterSpec {
        prop_set: types.iter().map(|t| paths.property_spec(t)).collect(),
        object_set: vec![ObjectSpec {
            obj: view.clone(),
            skip: Some(true),
            select_set: vec![AnySelectionSpec::TraversalSpec(Box::new(traversal))],
        }],
        ..Default::default()
    }
}

/// A spec for `paths` of each object in `objs` (one property spec per distinct type).
pub fn objects_spec(objs: &[ManagedObjectReference], paths: &Paths) -> PropertyFilterSpec {
    let mut types: Vec<&str> = objs.iter().map(|o| o.r#type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    PropertyFilterSpec {
        prop_set: types.iter().map(|t| paths.property_spec(t)).collect(),
        object_set: objs
            .iter()
            .map(|o| ObjectSpec {
                obj: o.clone(),
                skip: Some(false),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::encode_document;

    #[test]
    fn view_spec_wire_form() {
        let view = ManagedObjectReference::new("ContainerView", "session[1]v");
        let spec = view_spec(
            &view,
            &["VirtualMachine"],
            &Paths::parse_list("name, runtime,"),
        );
        let xml = String::from_utf8(encode_document(&spec, "spec")).unwrap();
        assert!(
            xml.contains("<pathSet>name</pathSet><pathSet>runtime</pathSet>"),
            "{xml}"
        );
        assert!(xml.contains("TraversalSpec"), "{xml}");
        assert!(xml.contains("<path>view</path>"), "{xml}");
        assert!(xml.contains("<skip>true</skip>"), "{xml}");
    }

    #[test]
    fn objects_spec_one_prop_spec_per_type() {
        let objs = [
            ManagedObjectReference::new("VirtualMachine", "vm-1"),
            ManagedObjectReference::new("HostSystem", "host-1"),
            ManagedObjectReference::new("VirtualMachine", "vm-2"),
        ];
        let spec = objects_spec(&objs, &Paths::All);
        assert_eq!(spec.prop_set.len(), 2);
        assert_eq!(spec.object_set.len(), 3);
        assert!(spec.prop_set.iter().all(|p| p.all == Some(true)));
    }
}
