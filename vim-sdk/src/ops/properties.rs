//! Reading properties of one or many objects with `RetrievePropertiesEx` (paged with
//! `ContinueRetrievePropertiesEx`), and typed access to the values.
//!
//! This is the small reader the helpers of this crate need; the full property layer (views,
//! typed retrieval into structs, update loops) lives in its own module.

use std::collections::{BTreeMap, HashMap};

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::types::{
    Any, AnyArray, DynamicProperty, FromAny, MissingProperty, ObjectContent, ObjectSpec,
    PropertyFilterSpec, PropertySpec, RetrieveOptions,
};
use crate::xml::ManagedObjectReference;

/// The properties read from one object: values by property path, and the paths the server
/// reported missing (unset properties, or faults reading them).
#[derive(Debug, Clone, Default)]
pub struct Properties {
    obj: ManagedObjectReference,
    values: BTreeMap<String, Any>,
    missing: Vec<MissingProperty>,
}

impl Properties {
    fn from_content(content: ObjectContent) -> Self {
        let values = content
            .prop_set
            .into_iter()
            .map(|DynamicProperty { name, val }| (name, val))
            .collect();
        Properties {
            obj: content.obj,
            values,
            missing: content.missing_set,
        }
    }

    /// The object the properties belong to.
    pub fn object(&self) -> &ManagedObjectReference {
        &self.obj
    }

    /// The raw value at `path`; `None` when the server sent none (an unset property).
    pub fn get(&self, path: &str) -> Option<&Any> {
        self.values.get(path)
    }

    /// Removes and returns the raw value at `path`.
    pub fn take(&mut self, path: &str) -> Option<Any> {
        self.values.remove(path)
    }

    /// The value at `path` converted to `T` (a handle, `()`, a reference), taken out of the
    /// set; `None` when it is absent or holds another type.
    pub fn take_as<T: FromAny>(&mut self, path: &str) -> Option<T> {
        T::from_any(self.values.remove(path)?).ok()
    }

    /// The property paths present, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The paths the server reported missing, with the fault it gave for each.
    pub fn missing(&self) -> &[MissingProperty] {
        &self.missing
    }

    /// A string-like value (`xsd:string`, `anyURI`, `dateTime`) or an enum's wire value.
    pub fn str(&self, path: &str) -> Option<&str> {
        match self.get(path)? {
            Any::String(s) | Any::Uri(s) | Any::DateTime(s) => Some(s),
            Any::Enum { value, .. } => Some(value),
            _ => None,
        }
    }

    /// An integer value of any width.
    pub fn int(&self, path: &str) -> Option<i64> {
        match self.get(path)? {
            Any::Byte(v) => Some(i64::from(*v)),
            Any::Short(v) => Some(i64::from(*v)),
            Any::Int(v) => Some(i64::from(*v)),
            Any::Long(v) => Some(*v),
            _ => None,
        }
    }

    /// A boolean value.
    pub fn bool(&self, path: &str) -> Option<bool> {
        match self.get(path)? {
            Any::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// A managed object reference.
    pub fn reference(&self, path: &str) -> Option<&ManagedObjectReference> {
        match self.get(path)? {
            Any::Reference(r) => Some(r),
            _ => None,
        }
    }

    /// An array of managed object references; empty when absent or of another type.
    pub fn references(&self, path: &str) -> &[ManagedObjectReference] {
        match self.get(path) {
            Some(Any::Array(AnyArray::ManagedObjectReference(refs))) => refs,
            _ => &[],
        }
    }

    /// An array of strings; empty when absent or of another type.
    pub fn strings(&self, path: &str) -> &[String] {
        match self.get(path) {
            Some(Any::Array(AnyArray::String(items))) => items,
            _ => &[],
        }
    }
}

/// A property filter for `paths` of every object in `objs` (one `PropertySpec` per type).
fn filter_spec(objs: &[ManagedObjectReference], paths: &[&str]) -> PropertyFilterSpec {
    let mut types: Vec<&str> = objs.iter().map(|o| o.r#type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    PropertyFilterSpec {
        prop_set: types
            .into_iter()
            .map(|ty| PropertySpec {
                r#type: ty.to_string(),
                all: Some(false),
                path_set: paths.iter().map(|p| p.to_string()).collect(),
            })
            .collect(),
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

/// Reads `paths` of every object in `objs` through `collector` in one `RetrievePropertiesEx`
/// call (more only when the server pages the result), returning one [`Properties`] per object
/// in the order of `objs`. An object the server does not return (deleted meanwhile) is left
/// out; the server faults (e.g. `ManagedObjectNotFound`, `InvalidProperty`) come back as
/// errors.
pub async fn retrieve_properties(
    client: &Client,
    collector: &mo::PropertyCollector,
    objs: &[ManagedObjectReference],
    paths: &[&str],
) -> Result<Vec<Properties>, Error> {
    if objs.is_empty() {
        return Ok(Vec::new());
    }
    let spec = filter_spec(objs, paths);
    let mut found: HashMap<ManagedObjectReference, Properties> = HashMap::new();
    let mut page = collector
        .retrieve_properties_ex(client, &[spec], &RetrieveOptions::default())
        .await?;
    while let Some(result) = page {
        for content in result.objects {
            found.insert(content.obj.clone(), Properties::from_content(content));
        }
        page = match result.token {
            Some(token) => Some(
                collector
                    .continue_retrieve_properties_ex(client, &token)
                    .await?,
            ),
            None => None,
        };
    }
    Ok(objs.iter().filter_map(|o| found.remove(o)).collect())
}

/// The property collector of the server `client` talks to (one `RetrieveServiceContent`).
pub(crate) async fn default_collector(client: &Client) -> Result<mo::PropertyCollector, Error> {
    let content = client
        .service_instance()
        .retrieve_service_content(client)
        .await?;
    Ok(mo::PropertyCollector::from_ref(content.property_collector))
}

impl ManagedObjectReference {
    /// Reads `paths` of this object (any handle derefs to its reference, so this works as
    /// `vm.properties(&client, &["name", "runtime.powerState"])`).
    ///
    /// Two round trips: `RetrieveServiceContent` for the property collector, then
    /// `RetrievePropertiesEx`. With a [`Managers`](super::Managers) at hand, use
    /// [`Managers::properties`](super::Managers::properties) for one.
    pub async fn properties(&self, client: &Client, paths: &[&str]) -> Result<Properties, Error> {
        let collector = default_collector(client).await?;
        one_object(client, &collector, self, paths).await
    }
}

/// Reads `paths` of `obj`; an object the server leaves out of the result is an error.
pub(crate) async fn one_object(
    client: &Client,
    collector: &mo::PropertyCollector,
    obj: &ManagedObjectReference,
    paths: &[&str],
) -> Result<Properties, Error> {
    retrieve_properties(client, collector, std::slice::from_ref(obj), paths)
        .await?
        .pop()
        .ok_or_else(|| {
            super::unexpected(
                "RetrievePropertiesEx",
                Some(obj.to_string()),
                "the server returned no properties for the object".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Properties {
        Properties::from_content(ObjectContent {
            obj: ManagedObjectReference::new("VirtualMachine", "vm-1"),
            prop_set: vec![
                DynamicProperty {
                    name: "name".into(),
                    val: Any::String("vm one".into()),
                },
                DynamicProperty {
                    name: "runtime.powerState".into(),
                    val: Any::Enum {
                        wire_type: "VirtualMachinePowerState".into(),
                        value: "poweredOn".into(),
                    },
                },
                DynamicProperty {
                    name: "datastore".into(),
                    val: Any::Array(AnyArray::ManagedObjectReference(vec![
                        ManagedObjectReference::new("Datastore", "ds-1"),
                    ])),
                },
                DynamicProperty {
                    name: "config.hardware.numCPU".into(),
                    val: Any::Int(4),
                },
            ],
            missing_set: vec![],
        })
    }

    #[test]
    fn typed_getters_read_the_right_variants() {
        let mut p = sample();
        assert_eq!(p.str("name"), Some("vm one"));
        assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
        assert_eq!(p.int("config.hardware.numCPU"), Some(4));
        assert_eq!(p.int("name"), None);
        assert_eq!(p.references("datastore").len(), 1);
        assert!(p.references("name").is_empty());
        assert_eq!(p.reference("datastore"), None);
        assert_eq!(p.bool("name"), None);
        assert_eq!(p.paths().count(), 4);
        assert!(p.take_as::<mo::Datastore>("name").is_none());
        assert!(p.get("name").is_none(), "take_as removes the value");
    }

    #[test]
    fn filter_spec_has_one_property_spec_per_type() {
        let objs = [
            ManagedObjectReference::new("VirtualMachine", "vm-1"),
            ManagedObjectReference::new("HostSystem", "host-1"),
            ManagedObjectReference::new("VirtualMachine", "vm-2"),
        ];
        let spec = filter_spec(&objs, &["name"]);
        assert_eq!(spec.prop_set.len(), 2);
        assert_eq!(spec.object_set.len(), 3);
        assert!(spec.prop_set.iter().all(|p| p.path_set == ["name"]));
    }
}
