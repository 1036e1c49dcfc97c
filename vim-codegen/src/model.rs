//! The project's own model of a vim25 API release: data types, enums, operations and managed
//! objects. The importer fills it from a WSDL set (plus managed-object facts), `text` writes and
//! reads it in the committed format, and the emitter turns it into Rust.

use std::collections::BTreeMap;

/// A primitive XML Schema type (`xsd:*`) used by the vim25 schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Primitive {
    /// `xsd:string`
    String,
    /// `xsd:boolean`
    Boolean,
    /// `xsd:byte`
    Byte,
    /// `xsd:short`
    Short,
    /// `xsd:int`
    Int,
    /// `xsd:long`
    Long,
    /// `xsd:float`
    Float,
    /// `xsd:double`
    Double,
    /// `xsd:dateTime`
    DateTime,
    /// `xsd:base64Binary`
    Base64Binary,
    /// `xsd:anyURI`
    AnyUri,
    /// `xsd:anyType`: any value, its type given by `xsi:type` on the wire.
    AnyType,
}

impl Primitive {
    /// All primitives, in a fixed order.
    pub const ALL: [Primitive; 12] = [
        Primitive::String,
        Primitive::Boolean,
        Primitive::Byte,
        Primitive::Short,
        Primitive::Int,
        Primitive::Long,
        Primitive::Float,
        Primitive::Double,
        Primitive::DateTime,
        Primitive::Base64Binary,
        Primitive::AnyUri,
        Primitive::AnyType,
    ];

    /// The XML Schema local name (`string`, `anyType`, ...).
    pub fn xsd_name(self) -> &'static str {
        match self {
            Primitive::String => "string",
            Primitive::Boolean => "boolean",
            Primitive::Byte => "byte",
            Primitive::Short => "short",
            Primitive::Int => "int",
            Primitive::Long => "long",
            Primitive::Float => "float",
            Primitive::Double => "double",
            Primitive::DateTime => "dateTime",
            Primitive::Base64Binary => "base64Binary",
            Primitive::AnyUri => "anyURI",
            Primitive::AnyType => "anyType",
        }
    }

    /// The primitive with this XML Schema local name.
    pub fn from_xsd_name(name: &str) -> Option<Primitive> {
        Primitive::ALL.into_iter().find(|p| p.xsd_name() == name)
    }
}

/// What a field, parameter or result holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeRef {
    /// An `xsd:*` primitive.
    Primitive(Primitive),
    /// A named `urn:vim25` type: a complex type, an enum, or `ManagedObjectReference`.
    Named(String),
}

impl TypeRef {
    /// The text form: `xsd:string` for primitives, the bare name for vim25 types.
    pub fn to_text(&self) -> String {
        match self {
            TypeRef::Primitive(p) => format!("xsd:{}", p.xsd_name()),
            TypeRef::Named(n) => n.clone(),
        }
    }

    /// Parses the text form written by [`TypeRef::to_text`].
    pub fn from_text(s: &str) -> Option<TypeRef> {
        match s.strip_prefix("xsd:") {
            Some(p) => Primitive::from_xsd_name(p).map(TypeRef::Primitive),
            None if !s.is_empty() => Some(TypeRef::Named(s.to_string())),
            None => None,
        }
    }
}

/// How many times an element may occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurs {
    /// `minOccurs` (0 = optional).
    pub min: u32,
    /// `maxOccurs`; `None` for `unbounded`.
    pub max: Option<u32>,
}

impl Occurs {
    /// Exactly once (the XML Schema default).
    pub const ONE: Occurs = Occurs {
        min: 1,
        max: Some(1),
    };

    /// True if the element may be absent.
    pub fn optional(self) -> bool {
        self.min == 0
    }

    /// True if the element may repeat (an array).
    pub fn array(self) -> bool {
        self.max != Some(1)
    }
}

/// The release in which something first appears among the WSDL sets compared by the importer
/// (for example `"4.1"`, `"5.5"`, `"8.0"`), or a finer release taken from managed-object facts.
/// "4.1" means "in 4.1 or earlier"; "8.0" means "after 5.5, at the latest in 8.0".
pub type Since = String;

/// One element of a complex type's sequence, or one operation parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Wire name of the element.
    pub name: String,
    /// Declared type.
    pub ty: TypeRef,
    /// Occurrence bounds.
    pub occurs: Occurs,
    /// For a `ManagedObjectReference` field or parameter: the managed object type it refers to,
    /// where known from managed-object facts (e.g. `HostSystem`).
    pub mo_type: Option<String>,
    /// First release seen.
    pub since: Since,
}

/// Which schema file a complex type or enum comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// `core-types.xsd`
    Core,
    /// `query-types.xsd`
    Query,
    /// `vim-types.xsd`
    Vim,
    /// `reflect-types.xsd` (namespace `urn:reflect`)
    Reflect,
}

impl Origin {
    /// The short text name (`core`, `query`, `vim`, `reflect`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Core => "core",
            Origin::Query => "query",
            Origin::Vim => "vim",
            Origin::Reflect => "reflect",
        }
    }

    /// Parses [`Origin::as_str`].
    pub fn from_text(s: &str) -> Option<Origin> {
        match s {
            "core" => Some(Origin::Core),
            "query" => Some(Origin::Query),
            "vim" => Some(Origin::Vim),
            "reflect" => Some(Origin::Reflect),
            _ => None,
        }
    }
}

/// A data object type (complex type that is not an `ArrayOf*` wrapper), fault types included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplexType {
    /// Wire name.
    pub name: String,
    /// Base type (`complexContent/extension/@base`), if any.
    pub base: Option<String>,
    /// Own fields in schema order (inherited fields are the base's).
    pub fields: Vec<Field>,
    /// The schema file it comes from.
    pub origin: Origin,
    /// First release seen.
    pub since: Since,
}

/// An `ArrayOfXxx` wrapper: a sequence of one repeated element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayType {
    /// Wire name (`ArrayOfString`).
    pub name: String,
    /// Element name inside the wrapper (`string`).
    pub item_name: String,
    /// Item type.
    pub item: TypeRef,
    /// The schema file it comes from.
    pub origin: Origin,
    /// First release seen.
    pub since: Since,
}

/// One value of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    /// Wire value.
    pub name: String,
    /// First release seen.
    pub since: Since,
}

/// A `simpleType` restriction of `xsd:string` with enumerated values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    /// Wire name.
    pub name: String,
    /// Values in schema order.
    pub values: Vec<EnumValue>,
    /// The schema file it comes from.
    pub origin: Origin,
    /// First release seen.
    pub since: Since,
}

/// An operation's result (`returnval`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returns {
    /// Declared type.
    pub ty: TypeRef,
    /// Occurrence bounds of `returnval`.
    pub occurs: Occurs,
    /// For a reference: the managed object type it refers to, where known.
    pub mo_type: Option<String>,
}

/// A SOAP operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Wire name (`PowerOnVM_Task`).
    pub name: String,
    /// Parameters in order; the first is `_this`.
    pub params: Vec<Field>,
    /// The result, if the operation returns one.
    pub returns: Option<Returns>,
    /// Declared faults (fault type names, e.g. `InvalidState`), in WSDL order.
    pub faults: Vec<String>,
    /// The managed object type that owns the operation, from managed-object facts.
    pub owner: Option<String>,
    /// For `*_Task` operations: the type of `TaskInfo.result` when the task succeeds.
    pub task_result: Option<Returns>,
    /// First release seen.
    pub since: Since,
}

/// A managed object property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Property name (`config`).
    pub name: String,
    /// Type; a reference to a managed object is `ManagedObjectReference` with
    /// [`Property::mo_type`] set.
    pub ty: TypeRef,
    /// True if the property holds an array.
    pub array: bool,
    /// True if the property may be unset.
    pub optional: bool,
    /// For a `ManagedObjectReference` property: the managed object type it refers to
    /// (e.g. `Datastore` for `VirtualMachine.datastore`).
    pub mo_type: Option<String>,
    /// Release that introduced it.
    pub since: Since,
}

/// A managed object type (from managed-object facts; the WSDL has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedObject {
    /// Type name (`VirtualMachine`).
    pub name: String,
    /// Base managed object type (`ManagedEntity`), if any.
    pub base: Option<String>,
    /// Own properties, sorted by name.
    pub properties: Vec<Property>,
    /// Release that introduced it.
    pub since: Since,
}

/// A whole API release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model {
    /// The release this model describes (`8.0`).
    pub release: String,
    /// The releases compared to find first-seen releases, oldest first.
    pub compared: Vec<String>,
    /// Data object and fault types by name.
    pub types: BTreeMap<String, ComplexType>,
    /// `ArrayOf*` wrappers by name.
    pub arrays: BTreeMap<String, ArrayType>,
    /// Enums by name.
    pub enums: BTreeMap<String, EnumType>,
    /// Operations by name.
    pub operations: BTreeMap<String, Operation>,
    /// Managed object types by name.
    pub managed_objects: BTreeMap<String, ManagedObject>,
}

impl Model {
    /// True if `name` is `MethodFault` or derives from it.
    pub fn is_fault(&self, name: &str) -> bool {
        self.is_a(name, "MethodFault")
    }

    /// True if type `name` is `ancestor` or derives from it.
    pub fn is_a(&self, name: &str, ancestor: &str) -> bool {
        let mut cur = Some(name);
        let mut guard = 0;
        while let Some(n) = cur {
            if n == ancestor {
                return true;
            }
            guard += 1;
            if guard > 64 {
                return false;
            }
            cur = self.types.get(n).and_then(|t| t.base.as_deref());
        }
        false
    }

    /// Direct subtypes of each type that has any, sorted by name.
    pub fn subtypes(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for t in self.types.values() {
            if let Some(b) = &t.base {
                out.entry(b.as_str()).or_default().push(t.name.as_str());
            }
        }
        out
    }

    /// The chain of ancestors of `name`, nearest first (not including `name`).
    pub fn ancestors(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = self.types.get(name).and_then(|t| t.base.as_deref());
        while let Some(n) = cur {
            if out.len() > 64 || out.contains(&n) {
                break;
            }
            out.push(n);
            cur = self.types.get(n).and_then(|t| t.base.as_deref());
        }
        out
    }
}
