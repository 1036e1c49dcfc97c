//! Support for the generated managed object handles.

use std::marker::PhantomData;

use crate::error::WrongType;
use crate::mo::Task;
use crate::types::{Any, DynamicProperty, FromAny, MissingProperty};
use crate::xml::{items, opt, Decode, DecodeError, ManagedObjectReference, XmlReader};

/// The typed properties of one managed object type (`mo::VirtualMachineProperties`, ...), filled
/// from `ObjectContent.propSet` by property name.
pub trait PropertySet: Default {
    /// The managed object type's name.
    const TYPE_NAME: &'static str;
    /// Decodes the `val` element just entered into property `name`; `Ok(false)` (with the
    /// element untouched) if `name` is not a property of this type (e.g. a nested path).
    fn set_property(&mut self, name: &str, r: &mut XmlReader<'_>) -> Result<bool, DecodeError>;
}

/// A generated managed object handle type (`mo::VirtualMachine`, ...): its wire type name,
/// its typed property set, and conversions from and to a reference.
pub trait ManagedType: Sized + Clone + Send + Sync + 'static {
    /// The managed object type's name (`VirtualMachine`).
    const TYPE_NAME: &'static str;
    /// The type's typed property set (`mo::VirtualMachineProperties`).
    type Properties: PropertySet + Send + 'static;
    /// A handle for `r`, whatever its type (as the handle's `from_ref`).
    fn from_ref_unchecked(r: ManagedObjectReference) -> Self;
    /// The wire reference.
    fn as_reference(&self) -> &ManagedObjectReference;
    /// A handle for `r` if its type is this type or a subtype of it (per [`crate::meta`]),
    /// else a [`WrongType`] error. A type the bindings do not know (from a newer server) is
    /// refused: it cannot be shown to be a subtype.
    fn try_from_reference(r: ManagedObjectReference) -> Result<Self, WrongType> {
        check_type(r, Self::TYPE_NAME).map(Self::from_ref_unchecked)
    }
}

/// Whether managed object type `ty` is `expected` or one of its subtypes, walking the bases
/// recorded in [`crate::meta::MANAGED_OBJECTS`] (read through
/// [`crate::meta::managed_object_base`]).
pub fn is_a(ty: &str, expected: &str) -> bool {
    let mut current = ty;
    // The hierarchy is a few levels deep; the bound only guards against a cycle.
    for _ in 0..64 {
        if current == expected {
            return true;
        }
        // Not `MANAGED_OBJECTS`: its property tables cost a load-time relocation per string.
        match crate::meta::managed_object_base(current) {
            Some(b) => current = b,
            None => return false,
        }
    }
    false
}

/// `r` unchanged if its type is `expected` or a subtype, else a [`WrongType`] error.
pub fn check_type(
    r: ManagedObjectReference,
    expected: &'static str,
) -> Result<ManagedObjectReference, WrongType> {
    if is_a(&r.r#type, expected) {
        Ok(r)
    } else {
        Err(WrongType { expected, found: r })
    }
}

/// Reads a property value into `slot`.
pub fn property_into<T: Decode>(
    r: &mut XmlReader<'_>,
    slot: &mut Option<T>,
) -> Result<(), DecodeError> {
    *slot = opt(r)?;
    Ok(())
}

/// Reads an array property value (an `ArrayOf*` wrapper) into `slot`.
pub fn property_array_into<T: Decode>(
    r: &mut XmlReader<'_>,
    slot: &mut Option<Vec<T>>,
) -> Result<(), DecodeError> {
    if r.is_nil() {
        r.skip()?;
        *slot = Some(Vec::new());
    } else {
        *slot = Some(items(r)?);
    }
    Ok(())
}

/// One `ObjectContent` with its properties decoded into a typed [`PropertySet`].
#[derive(Debug, Clone)]
pub struct TypedObject<P> {
    /// The object.
    pub obj: ManagedObjectReference,
    /// The properties that are properties of `P`'s type.
    pub props: P,
    /// Other retrieved values (nested paths such as `summary.quickStats.overallCpuUsage`).
    pub other: Vec<DynamicProperty>,
    /// Properties the server could not read, with its fault.
    pub missing: Vec<MissingProperty>,
}

impl<P> TypedObject<P> {
    /// Removes the value of `path` (a nested path such as `runtime.powerState`) from
    /// [`other`](Self::other) and converts it; `None` when it was not returned or holds
    /// another type.
    pub fn take_other<T: FromAny>(&mut self, path: &str) -> Option<T> {
        let i = self.other.iter().position(|p| p.name == path)?;
        T::from_any(self.other.swap_remove(i).val).ok()
    }
}

/// Decodes the `ObjectContent` element just entered (an `objects` element of a
/// `RetrieveResult`) into typed properties.
pub fn decode_object_content<P: PropertySet>(
    r: &mut XmlReader<'_>,
) -> Result<TypedObject<P>, DecodeError> {
    let mut out = TypedObject {
        obj: ManagedObjectReference::default(),
        props: P::default(),
        other: Vec::new(),
        missing: Vec::new(),
    };
    while r.enter_child()? {
        match r.current_name() {
            b"obj" => out.obj = ManagedObjectReference::decode(r)?,
            b"propSet" => {
                let mut name = String::new();
                while r.enter_child()? {
                    match r.current_name() {
                        b"name" => name = r.read_text()?,
                        b"val" => {
                            if !out.props.set_property(&name, r)? {
                                let val = Any::decode(r)?;
                                out.other.push(DynamicProperty {
                                    name: name.clone(),
                                    val,
                                });
                            }
                        }
                        _ => r.skip()?,
                    }
                }
            }
            b"missingSet" => {
                if let Some(m) = opt::<MissingProperty>(r)? {
                    out.missing.push(m);
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(out)
}

/// A task started by a `*_Task` operation, typed by what its `info.result` holds on success
/// (`()` when the task yields nothing).
pub struct TaskOf<R> {
    /// The task.
    pub task: Task,
    result: PhantomData<fn() -> R>,
}

impl<R> TaskOf<R> {
    /// Wraps a task handle.
    pub fn new(task: Task) -> Self {
        TaskOf {
            task,
            result: PhantomData,
        }
    }
}

impl<R> Clone for TaskOf<R> {
    fn clone(&self) -> Self {
        TaskOf::new(self.task.clone())
    }
}

impl<R> std::fmt::Debug for TaskOf<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TaskOf<{}>({})",
            std::any::type_name::<R>(),
            self.task.reference()
        )
    }
}

/// Defines the impls every handle has, in terms of its `from_ref` and `reference`: `Clone`,
/// `Debug`, `PartialEq`/`Eq` by reference, conversion into its reference, `FromAny` and
/// `Decode`.
macro_rules! managed_object_common {
    ($name:ident) => {
        impl Clone for $name {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }
        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.reference())
            }
        }
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.reference() == other.reference()
            }
        }
        impl Eq for $name {}
        impl From<$name> for ManagedObjectReference {
            fn from(h: $name) -> Self {
                h.0.into()
            }
        }
        impl types::FromAny for $name {
            fn from_any(value: types::Any) -> Result<Self, types::Any> {
                <ManagedObjectReference as types::FromAny>::from_any(value).map($name::from_ref)
            }
        }
        impl crate::xml::Decode for $name {
            fn decode(r: &mut crate::xml::XmlReader<'_>) -> Result<Self, crate::xml::DecodeError> {
                <ManagedObjectReference as crate::xml::Decode>::decode(r).map($name::from_ref)
            }
        }
        impl $name {
            /// A handle for `r` if its type is this type or a subtype of it, else a
            /// [`WrongType`](crate::error::WrongType) error (see
            /// [`ManagedType::try_from_reference`](crate::managed::ManagedType::try_from_reference)).
            pub fn try_from_ref(
                r: ManagedObjectReference,
            ) -> Result<Self, crate::error::WrongType> {
                crate::managed::check_type(r, $name::TYPE).map($name::from_ref)
            }
        }
        impl TryFrom<ManagedObjectReference> for $name {
            type Error = crate::error::WrongType;
            fn try_from(r: ManagedObjectReference) -> Result<Self, Self::Error> {
                $name::try_from_ref(r)
            }
        }
    };
}

/// Defines the impls of a handle that extends another (derefs to its base handle).
macro_rules! managed_object {
    ($name:ident, $base:ident) => {
        impl $name {
            /// A handle for `r`. The reference's type is not checked: it may name a subtype.
            pub fn from_ref(r: ManagedObjectReference) -> Self {
                $name($base::from_ref(r))
            }
        }
        impl core::ops::Deref for $name {
            type Target = $base;
            fn deref(&self) -> &$base {
                &self.0
            }
        }
        $crate::managed::managed_object_common!($name);
    };
}

/// Defines the impls of a handle at the root of the managed object hierarchy (holds and
/// derefs to its reference).
macro_rules! managed_object_root {
    ($name:ident) => {
        impl $name {
            /// A handle for `r`. The reference's type is not checked: it may name a subtype.
            pub fn from_ref(r: ManagedObjectReference) -> Self {
                $name(r)
            }
            /// The wire reference.
            pub fn reference(&self) -> &ManagedObjectReference {
                &self.0
            }
        }
        impl core::ops::Deref for $name {
            type Target = ManagedObjectReference;
            fn deref(&self) -> &ManagedObjectReference {
                &self.0
            }
        }
        $crate::managed::managed_object_common!($name);
    };
}

pub(crate) use managed_object;
pub(crate) use managed_object_common;
pub(crate) use managed_object_root;

/// The record types of [`crate::meta`].
pub mod meta_types {
    /// A field of a data object type, or a parameter of an operation.
    #[derive(Debug, Clone, Copy)]
    pub struct FieldInfo {
        /// Wire name.
        pub name: &'static str,
        /// Wire type (`xsd:string`, `VirtualDevice`).
        pub ty: &'static str,
        /// May be absent.
        pub optional: bool,
        /// May repeat.
        pub array: bool,
        /// Holds a secret (a password, a session key, a ticket): `Debug` shows it as
        /// `<redacted>`. Which fields are: see vim-codegen's `emit::secret`.
        pub secret: bool,
        /// First release seen.
        pub since: &'static str,
    }

    /// A data object or fault type.
    #[derive(Debug, Clone, Copy)]
    pub struct TypeInfo {
        /// Wire name.
        pub name: &'static str,
        /// Base type.
        pub base: Option<&'static str>,
        /// First release seen.
        pub since: &'static str,
        /// Own fields in schema order.
        pub fields: &'static [FieldInfo],
    }

    /// An enum type.
    #[derive(Debug, Clone, Copy)]
    pub struct EnumInfo {
        /// Wire name.
        pub name: &'static str,
        /// First release seen.
        pub since: &'static str,
        /// `(value, first release seen)` in schema order.
        pub values: &'static [(&'static str, &'static str)],
    }

    /// An operation.
    #[derive(Debug, Clone, Copy)]
    pub struct OperationInfo {
        /// Wire name.
        pub name: &'static str,
        /// Owning managed object type.
        pub owner: Option<&'static str>,
        /// First release seen.
        pub since: &'static str,
        /// Parameters, `_this` first.
        pub params: &'static [FieldInfo],
        /// Result type.
        pub returns: Option<&'static str>,
        /// Declared faults.
        pub faults: &'static [&'static str],
    }

    /// A managed object property.
    #[derive(Debug, Clone, Copy)]
    pub struct PropertyInfo {
        /// Name.
        pub name: &'static str,
        /// Wire type; a managed object type name means a reference.
        pub ty: &'static str,
        /// May be unset.
        pub optional: bool,
        /// Holds an array.
        pub array: bool,
        /// Release that introduced it.
        pub since: &'static str,
    }

    /// A managed object type.
    #[derive(Debug, Clone, Copy)]
    pub struct ManagedObjectInfo {
        /// Type name.
        pub name: &'static str,
        /// Base type.
        pub base: Option<&'static str>,
        /// Release that introduced it.
        pub since: &'static str,
        /// Own properties.
        pub properties: &'static [PropertyInfo],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn managed_object_bases_match_the_model() {
        // The relocation-free lookup `is_a` reads says what `MANAGED_OBJECTS` says.
        for m in crate::meta::MANAGED_OBJECTS {
            assert_eq!(
                crate::meta::managed_object_base(m.name),
                m.base,
                "{}",
                m.name
            );
        }
        assert_eq!(crate::meta::managed_object_base("NotAType"), None);
        assert!(super::is_a("ClusterComputeResource", "ManagedEntity"));
        assert!(super::is_a("VirtualMachine", "VirtualMachine"));
        assert!(!super::is_a("ManagedEntity", "VirtualMachine"));
    }
}
