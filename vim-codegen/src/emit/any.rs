//! `Any` (the value of an `xsd:anyType` slot) and `AnyArray` (the `ArrayOf*` wrappers).

use std::fmt::Write;

use super::{header, Ctx};
use crate::model::TypeRef;

/// Emits `any.rs`.
pub fn emit(ctx: &Ctx) -> String {
    let mut out = String::with_capacity(256 << 10);
    header(&mut out, "anyType values and ArrayOf* wrappers", ctx.m);
    let arrays: Vec<_> = ctx.m.arrays.values().collect();
    // AnyArray
    out.push_str("/// An `ArrayOf*` value carried by an `anyType` slot, typed by its item type.\npub enum AnyArray {\n");
    for a in &arrays {
        let v = variant_of(&a.name);
        let _ = writeln!(
            out,
            "    /// `{}` (items `{}`).\n    {v}(Vec<{}>),",
            a.name,
            a.item_name,
            ctx.value_type(&a.item)
        );
    }
    out.push_str("}\n");
    super::name_table(
        &mut out,
        "ANY_ARRAY_NAMES",
        arrays.iter().map(|a| a.name.as_str()),
    );
    // The name by index in `ANY_ARRAY_NAMES` (a `match` giving `&str`s would compile to a
    // table of string pointers, a load-time relocation each).
    out.push_str("impl AnyArray {\n    /// The wire type name (`ArrayOfString`).\n    pub fn type_name(&self) -> &'static str {\n        let i = match self {\n");
    for (i, a) in arrays.iter().enumerate() {
        let _ = writeln!(out, "            Self::{}(_) => {i},", variant_of(&a.name));
    }
    out.push_str("        };\n        ANY_ARRAY_NAMES.get(i).unwrap_or_default()\n    }\n    /// The number of items.\n    pub fn len(&self) -> usize {\n        match self {\n");
    for a in &arrays {
        let _ = writeln!(
            out,
            "            Self::{}(v) => v.len(),",
            variant_of(&a.name)
        );
    }
    out.push_str("        }\n    }\n    /// True if there are no items.\n    pub fn is_empty(&self) -> bool { self.len() == 0 }\n");
    let names: Vec<String> = arrays.iter().map(|a| variant_of(&a.name)).collect();
    let objects: std::collections::HashSet<String> = arrays
        .iter()
        .filter(|a| ctx.plain_object(&a.item).is_some())
        .map(|a| variant_of(&a.name))
        .collect();
    super::poly::decoder_table(
        "AnyArray",
        &mut out,
        |v| {
            let read = if objects.contains(v) {
                "obj_items"
            } else {
                "items"
            };
            format!("AnyArray::{v}({read}(r)?)")
        },
        &names,
    );
    out.push_str("    fn encode_items(&self, w: &mut XmlWriter) {\n        match self {\n");
    for a in &arrays {
        let _ = writeln!(
            out,
            "            Self::{}(v) => for x in v {{ Encode::encode(x, w, \"{}\"); }},",
            variant_of(&a.name),
            a.item_name
        );
    }
    out.push_str("        }\n    }\n}\n");
    out.push_str(
        "impl Clone for AnyArray {\n    fn clone(&self) -> Self {\n        match self {\n",
    );
    for a in &arrays {
        let v = variant_of(&a.name);
        let _ = writeln!(out, "            Self::{v}(v) => Self::{v}(v.clone()),");
    }
    out.push_str("        }\n    }\n}\nimpl fmt::Debug for AnyArray {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n        match self {\n");
    for a in &arrays {
        let _ = writeln!(
            out,
            "            Self::{}(v) => f.debug_tuple(\"{}\").field(v).finish(),",
            variant_of(&a.name),
            a.name
        );
    }
    out.push_str("        }\n    }\n}\n");
    super::name_table(
        &mut out,
        "ENUM_NAMES",
        ctx.m.enums.keys().map(String::as_str),
    );
    out.push_str(ANY_ENUM);
    task_results(ctx, &mut out);
    out
}

/// `FromAny` for the data types tasks return (`TaskInfo.result`), so `TaskOf<R>::wait` yields
/// them typed: only these types, not all of them, to keep the generated code small.
fn task_results(ctx: &Ctx, out: &mut String) {
    let mut seen = std::collections::BTreeSet::new();
    for op in ctx.m.operations.values() {
        let Some(r) = &op.task_result else { continue };
        let TypeRef::Named(n) = &r.ty else { continue };
        if r.mo_type.is_some() || !ctx.m.types.contains_key(n) || n == "ManagedObjectReference" {
            continue;
        }
        seen.insert((n.clone(), r.occurs.array()));
    }
    for (name, array) in seen {
        let value = ctx.value_type(&TypeRef::Named(name.clone()));
        if array {
            let Some(a) = ctx
                .m
                .arrays
                .values()
                .find(|a| a.item == TypeRef::Named(name.clone()))
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "impl FromAny for Vec<{value}> {{\n    fn from_any(value: Any) -> Result<Self, Any> {{\n        \
                 match value {{\n            Any::Array(AnyArray::{}(v)) => Ok(v),\n            other => Err(other),\n        }}\n    }}\n}}",
                variant_of(&a.name)
            );
        } else if ctx.is_poly(&name) {
            let mut variants = vec![name.clone()];
            variants.extend(ctx.descendants[&name].iter().cloned());
            variants.sort();
            let _ = writeln!(
                out,
                "impl FromAny for {value} {{\n    fn from_any(value: Any) -> Result<Self, Any> {{\n        \
                 match value {{\n            Any::Data(d) => match d {{"
            );
            for v in &variants {
                let _ = writeln!(
                    out,
                    "                AnyData::{v}(b) => Ok({value}::{v}(b)),"
                );
            }
            out.push_str("                other => Err(Any::Data(other)),\n            },\n            other => Err(other),\n        }\n    }\n}\n");
        } else {
            let _ = writeln!(
                out,
                "impl FromAny for {value} {{\n    fn from_any(value: Any) -> Result<Self, Any> {{\n        \
                 match value {{\n            Any::Data(AnyData::{name}(b)) => Ok(*b),\n            other => Err(other),\n        }}\n    }}\n}}"
            );
        }
    }
}

fn variant_of(array_name: &str) -> String {
    let v = array_name.trim_start_matches("ArrayOf");
    let mut cs = v.chars();
    match cs.next() {
        Some(c) => format!("{}{}", c.to_ascii_uppercase(), cs.as_str()),
        None => "Empty".into(),
    }
}

const ANY_ENUM: &str = r#"
/// The value of an `xsd:anyType` slot (`DynamicProperty.val`, `TaskInfo.result`, ...): a primitive,
/// a managed object reference, a data object, an enum value or an array, as `xsi:type` says.
#[non_exhaustive]
pub enum Any {
    /// `xsi:nil="true"`, or an absent required value.
    Nil,
    /// `xsd:string` (also text without `xsi:type`).
    String(String),
    /// `xsd:boolean`
    Boolean(bool),
    /// `xsd:byte`
    Byte(i8),
    /// `xsd:short`
    Short(i16),
    /// `xsd:int`
    Int(i32),
    /// `xsd:long`
    Long(i64),
    /// `xsd:float`
    Float(f32),
    /// `xsd:double`
    Double(f64),
    /// `xsd:dateTime`, as sent (ISO 8601).
    DateTime(String),
    /// `xsd:base64Binary`, decoded.
    Binary(Vec<u8>),
    /// `xsd:anyURI`
    Uri(String),
    /// A `ManagedObjectReference`.
    Reference(ManagedObjectReference),
    /// A value of a vim25 enum type, kept as its wire string.
    Enum {
        /// The enum's wire name (`VirtualMachinePowerState`).
        wire_type: String,
        /// The wire value (`poweredOn`).
        value: String,
    },
    /// A data object or fault.
    Data(AnyData),
    /// An `ArrayOf*` wrapper.
    Array(AnyArray),
    /// A type this model does not know outside `urn:vim25` data objects (kept as text).
    Unknown {
        /// The `xsi:type` local name.
        wire_type: String,
        /// The element's text content.
        text: String,
    },
}

static XSD_NAMES: crate::xml::NameTable = crate::xml::NameTable::new(
    "anyTypeanyURIbase64BinarybooleanbytedateTimedoublefloatintlongshortstring",
    &[7, 13, 25, 32, 36, 44, 50, 55, 58, 62, 67, 73],
);

impl Default for Any {
    fn default() -> Self {
        Any::Nil
    }
}

impl Any {
    /// The wire type name of the value (`xsd:int`, `VirtualMachineConfigInfo`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            Any::Nil => "nil",
            Any::String(_) => "xsd:string",
            Any::Boolean(_) => "xsd:boolean",
            Any::Byte(_) => "xsd:byte",
            Any::Short(_) => "xsd:short",
            Any::Int(_) => "xsd:int",
            Any::Long(_) => "xsd:long",
            Any::Float(_) => "xsd:float",
            Any::Double(_) => "xsd:double",
            Any::DateTime(_) => "xsd:dateTime",
            Any::Binary(_) => "xsd:base64Binary",
            Any::Uri(_) => "xsd:anyURI",
            Any::Reference(_) => "ManagedObjectReference",
            Any::Enum { wire_type, .. } => wire_type,
            Any::Data(d) => d.type_name(),
            Any::Array(a) => a.type_name(),
            Any::Unknown { wire_type, .. } => wire_type,
        }
    }
}

impl Decode for Any {
    // Nested `anyType` values are bounded (`XmlReader::enter_any`): their `Debug`, `Clone`
    // and drop recurse through `AnyArray` and `AnyData`, whose frames are large.
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        r.enter_any()?;
        let v = decode_any(r);
        r.leave_any();
        v
    }
}

fn decode_any(r: &mut XmlReader<'_>) -> Result<Any, DecodeError> {
    if r.is_nil() {
        r.skip()?;
        return Ok(Any::Nil);
    }
    if let Some(i) = r.lookup_xsd(&XSD_NAMES) {
        return Ok(match i {
            1 => Any::Uri(Decode::decode(r)?),
            2 => Any::Binary(Decode::decode(r)?),
            3 => Any::Boolean(Decode::decode(r)?),
            4 => Any::Byte(Decode::decode(r)?),
            5 => Any::DateTime(Decode::decode(r)?),
            6 => Any::Double(Decode::decode(r)?),
            7 => Any::Float(Decode::decode(r)?),
            8 => Any::Int(Decode::decode(r)?),
            9 => Any::Long(Decode::decode(r)?),
            10 => Any::Short(Decode::decode(r)?),
            _ => Any::String(Decode::decode(r)?),
        });
    }
    match r.lookup_type(&ANY_DATA_NAMES) {
        TypeLookup::Absent => Ok(Any::String(Decode::decode(r)?)),
        TypeLookup::Found(i) => Ok(Any::Data(AnyData::decode_variant(i, r)?)),
        TypeLookup::Unknown(name) => {
            if name == "ManagedObjectReference" {
                Ok(Any::Reference(Decode::decode(r)?))
            } else if let Ok(i) = ANY_ARRAY_NAMES.binary_search(name.as_bytes()) {
                Ok(Any::Array(AnyArray::decode_variant(i, r)?))
            } else if ENUM_NAMES.binary_search(name.as_bytes()).is_ok() {
                Ok(Any::Enum { wire_type: name, value: r.read_text()? })
            } else {
                Ok(Any::Unknown { wire_type: name, text: r.read_text()? })
            }
        }
    }
}

impl Encode for Any {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        match self {
            Any::Nil => w.nil(name),
            Any::String(v) => w.simple(name, Some("xsd:string"), v),
            Any::Boolean(v) => w.simple(name, Some("xsd:boolean"), if *v { "true" } else { "false" }),
            Any::Byte(v) => w.simple(name, Some("xsd:byte"), &v.to_string()),
            Any::Short(v) => w.simple(name, Some("xsd:short"), &v.to_string()),
            Any::Int(v) => w.simple(name, Some("xsd:int"), &v.to_string()),
            Any::Long(v) => w.simple(name, Some("xsd:long"), &v.to_string()),
            Any::Float(v) => w.float(name, Some("xsd:float"), f64::from(*v)),
            Any::Double(v) => w.float(name, Some("xsd:double"), *v),
            Any::DateTime(v) => w.simple(name, Some("xsd:dateTime"), v),
            Any::Binary(v) => w.base64(name, Some("xsd:base64Binary"), v),
            Any::Uri(v) => w.simple(name, Some("xsd:anyURI"), v),
            Any::Reference(v) => w.reference(name, Some("ManagedObjectReference"), v),
            Any::Enum { wire_type, value } => w.simple(name, Some(wire_type), value),
            Any::Data(d) => d.encode_typed(w, name),
            Any::Array(a) => {
                w.start(name, Some(a.type_name()));
                a.encode_items(w);
                w.end(name);
            }
            Any::Unknown { wire_type, text } => w.simple(name, Some(wire_type), text),
        }
    }
}

impl Clone for Any {
    fn clone(&self) -> Self {
        match self {
            Any::Nil => Any::Nil,
            Any::String(v) => Any::String(v.clone()),
            Any::Boolean(v) => Any::Boolean(*v),
            Any::Byte(v) => Any::Byte(*v),
            Any::Short(v) => Any::Short(*v),
            Any::Int(v) => Any::Int(*v),
            Any::Long(v) => Any::Long(*v),
            Any::Float(v) => Any::Float(*v),
            Any::Double(v) => Any::Double(*v),
            Any::DateTime(v) => Any::DateTime(v.clone()),
            Any::Binary(v) => Any::Binary(v.clone()),
            Any::Uri(v) => Any::Uri(v.clone()),
            Any::Reference(v) => Any::Reference(v.clone()),
            Any::Enum { wire_type, value } => Any::Enum { wire_type: wire_type.clone(), value: value.clone() },
            Any::Data(v) => Any::Data(v.clone()),
            Any::Array(v) => Any::Array(v.clone()),
            Any::Unknown { wire_type, text } => Any::Unknown { wire_type: wire_type.clone(), text: text.clone() },
        }
    }
}

impl fmt::Debug for Any {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Any::Nil => f.write_str("Nil"),
            Any::String(v) => f.debug_tuple("String").field(v).finish(),
            Any::Boolean(v) => f.debug_tuple("Boolean").field(v).finish(),
            Any::Byte(v) => f.debug_tuple("Byte").field(v).finish(),
            Any::Short(v) => f.debug_tuple("Short").field(v).finish(),
            Any::Int(v) => f.debug_tuple("Int").field(v).finish(),
            Any::Long(v) => f.debug_tuple("Long").field(v).finish(),
            Any::Float(v) => f.debug_tuple("Float").field(v).finish(),
            Any::Double(v) => f.debug_tuple("Double").field(v).finish(),
            Any::DateTime(v) => f.debug_tuple("DateTime").field(v).finish(),
            Any::Binary(v) => f.debug_tuple("Binary").field(&v.len()).finish(),
            Any::Uri(v) => f.debug_tuple("Uri").field(v).finish(),
            Any::Reference(v) => f.debug_tuple("Reference").field(v).finish(),
            Any::Enum { wire_type, value } => write!(f, "Enum({wire_type}::{value})"),
            Any::Data(v) => f.debug_tuple("Data").field(v).finish(),
            Any::Array(v) => f.debug_tuple("Array").field(v).finish(),
            Any::Unknown { wire_type, text } => write!(f, "Unknown({wire_type}: {text:?})"),
        }
    }
}

/// Conversion from an `anyType` value to the type a task or property is known to hold.
pub trait FromAny: Sized {
    /// The value, or the original if it holds something else.
    fn from_any(value: Any) -> Result<Self, Any>;
}

impl FromAny for () {
    fn from_any(_: Any) -> Result<Self, Any> {
        Ok(())
    }
}

impl FromAny for Any {
    fn from_any(value: Any) -> Result<Self, Any> {
        Ok(value)
    }
}

impl FromAny for ManagedObjectReference {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Reference(r) => Ok(r),
            other => Err(other),
        }
    }
}

/// An enum value of wire type `name` (also from a plain string, as some servers send enum
/// properties) through the enum's `from_wire`; a value of another enum type is refused.
#[doc(hidden)]
pub fn enum_from_any<T>(value: Any, name: &str, from_wire: fn(&str) -> T) -> Result<T, Any> {
    match value {
        Any::Enum { wire_type, value } if wire_type == name => Ok(from_wire(&value)),
        Any::String(s) => Ok(from_wire(&s)),
        other => Err(other),
    }
}
"#;
