//! One object's retrieved properties, by name: checked conversions ([`ObjectProps::value`],
//! [`ObjectProps::take_value`]) and lenient borrowing getters ([`ObjectProps::str`],
//! [`ObjectProps::references`], ...) that answer `None` or empty for a value of another type.

use std::collections::BTreeMap;
use std::fmt;

use crate::types::{Any, AnyArray, FromAny, MissingProperty, ObjectContent};
use crate::xml::ManagedObjectReference;

/// A property held a value of another type than the one asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// The object.
    pub obj: ManagedObjectReference,
    /// The property path.
    pub property: String,
    /// The Rust type asked for.
    pub expected: &'static str,
    /// The wire type found.
    pub found: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "property {} of {} holds {}, not {}",
            self.property, self.obj, self.found, self.expected
        )
    }
}

impl std::error::Error for ValueError {}

/// The properties of one object, from an [`ObjectContent`]: values by property path, plus the
/// properties the server reported missing (unset, or not readable), with its fault.
#[derive(Debug, Clone, Default)]
pub struct ObjectProps {
    /// The object.
    pub obj: ManagedObjectReference,
    values: BTreeMap<String, Any>,
    missing: Vec<MissingProperty>,
}

impl From<ObjectContent> for ObjectProps {
    fn from(c: ObjectContent) -> Self {
        let values = c.prop_set.into_iter().map(|p| (p.name, p.val)).collect();
        ObjectProps {
            obj: c.obj,
            values,
            missing: c.missing_set,
        }
    }
}

impl ObjectProps {
    /// The object the properties belong to (the [`obj`](Self::obj) field).
    pub fn object(&self) -> &ManagedObjectReference {
        &self.obj
    }

    /// The value of property `path`, if it was returned.
    pub fn get(&self, path: &str) -> Option<&Any> {
        self.values.get(path)
    }

    /// Removes and returns the value of property `path`.
    pub fn take(&mut self, path: &str) -> Option<Any> {
        self.values.remove(path)
    }

    /// The value of property `path` as `T` (a clone); `Ok(None)` if it was not returned.
    pub fn value<T: FromAny>(&self, path: &str) -> Result<Option<T>, ValueError> {
        match self.values.get(path) {
            None => Ok(None),
            Some(v) => self.convert(path, v.clone()).map(Some),
        }
    }

    /// Removes property `path` and converts it to `T`; `Ok(None)` if it was not returned.
    pub fn take_value<T: FromAny>(&mut self, path: &str) -> Result<Option<T>, ValueError> {
        match self.values.remove(path) {
            None => Ok(None),
            Some(v) => self.convert(path, v).map(Some),
        }
    }

    /// Removes property `path` and converts it to `T` (a handle, `()`, a reference...);
    /// `None` when it was not returned or holds another type (the value is dropped then).
    pub fn take_as<T: FromAny>(&mut self, path: &str) -> Option<T> {
        T::from_any(self.values.remove(path)?).ok()
    }

    fn convert<T: FromAny>(&self, path: &str, v: Any) -> Result<T, ValueError> {
        T::from_any(v).map_err(|other| ValueError {
            obj: self.obj.clone(),
            property: path.to_string(),
            expected: std::any::type_name::<T>(),
            found: other.type_name().to_string(),
        })
    }

    /// The wire value of an enum property (`poweredOn`): pass it to the enum's `from_wire`.
    pub fn enum_value(&self, path: &str) -> Option<&str> {
        match self.values.get(path)? {
            Any::Enum { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The properties reported missing, each with the server's fault.
    pub fn missing(&self) -> &[MissingProperty] {
        &self.missing
    }

    /// The returned properties, by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Any)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The returned property paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// How many property values were returned.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no property value was returned.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Lenient getters: each borrows the value at a path and answers `None` (or an empty slice)
/// when it is absent or of another type.
impl ObjectProps {
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

    /// An array of managed object references.
    pub fn references(&self, path: &str) -> &[ManagedObjectReference] {
        match self.get(path) {
            Some(Any::Array(AnyArray::ManagedObjectReference(refs))) => refs,
            _ => &[],
        }
    }

    /// An array of strings.
    pub fn strings(&self, path: &str) -> &[String] {
        match self.get(path) {
            Some(Any::Array(AnyArray::String(items))) => items,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DynamicProperty;

    fn sample() -> ObjectProps {
        ObjectContent {
            obj: ManagedObjectReference::new("VirtualMachine", "vm-1"),
            prop_set: vec![
                DynamicProperty {
                    name: "name".into(),
                    val: Any::String("web".into()),
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
        }
        .into()
    }

    #[test]
    fn typed_getters() {
        let mut p = sample();
        assert_eq!(p.len(), 4);
        assert_eq!(p.value::<String>("name").unwrap().as_deref(), Some("web"));
        assert_eq!(p.enum_value("runtime.powerState"), Some("poweredOn"));
        assert_eq!(p.value::<i32>("absent").unwrap(), None);
        let err = p.value::<bool>("name").unwrap_err();
        assert_eq!(err.found, "xsd:string");
        assert!(err.to_string().contains("VirtualMachine:vm-1"), "{err}");
        assert_eq!(p.take_value::<String>("name").unwrap().unwrap(), "web");
        assert!(p.get("name").is_none());
    }

    #[test]
    fn lenient_getters_read_the_right_variants() {
        let mut p = sample();
        assert_eq!(p.object(), &p.obj);
        assert_eq!(p.str("name"), Some("web"));
        assert_eq!(p.str("runtime.powerState"), Some("poweredOn"));
        assert_eq!(p.int("config.hardware.numCPU"), Some(4));
        assert_eq!(p.int("name"), None);
        assert_eq!(p.references("datastore").len(), 1);
        assert!(p.references("name").is_empty());
        assert!(p.strings("name").is_empty());
        assert_eq!(p.reference("datastore"), None);
        assert_eq!(p.bool("name"), None);
        assert_eq!(p.paths().count(), 4);
        assert!(p.take_as::<crate::mo::Datastore>("name").is_none());
        assert!(p.get("name").is_none(), "take_as removes the value");
    }
}
