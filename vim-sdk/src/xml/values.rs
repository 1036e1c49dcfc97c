//! Encoding and decoding of XML Schema primitives and managed object references.

use std::fmt;

use base64::Engine;

use super::error::DecodeError;
use super::{Decode, Encode, XmlReader, XmlWriter};

impl Decode for String {
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        r.read_text()
    }
}

impl Encode for String {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.simple(name, None, self);
    }
}

impl Encode for str {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.simple(name, None, self);
    }
}

/// The error for a scalar whose text (still in the reader's scalar buffer) is not a valid
/// `expected`.
#[cold]
fn invalid_scalar(r: &XmlReader<'_>, expected: &'static str) -> DecodeError {
    let text = r.last_scalar().to_owned();
    r.invalid(expected, &text)
}

impl Decode for bool {
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let value = match r.read_scalar()?.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        };
        value.ok_or_else(|| invalid_scalar(r, "boolean"))
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.simple(name, None, if *self { "true" } else { "false" });
    }
}

macro_rules! integer {
    ($t:ty, $xsd:literal) => {
        impl Decode for $t {
            fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
                let parsed = r.read_scalar()?.trim().parse::<$t>();
                parsed.map_err(|_| invalid_scalar(r, $xsd))
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut XmlWriter, name: &str) {
                w.simple(name, None, &self.to_string());
            }
        }
    };
}

integer!(i8, "byte");
integer!(i16, "short");
integer!(i32, "int");
integer!(i64, "long");

macro_rules! float {
    ($t:ty, $xsd:literal) => {
        impl Decode for $t {
            fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
                let parsed = match r.read_scalar()?.trim() {
                    "INF" => Ok(<$t>::INFINITY),
                    "-INF" => Ok(<$t>::NEG_INFINITY),
                    "NaN" => Ok(<$t>::NAN),
                    t => t.parse::<$t>(),
                };
                parsed.map_err(|_| invalid_scalar(r, $xsd))
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut XmlWriter, name: &str) {
                w.float(name, None, f64::from(*self));
            }
        }
    };
}

float!(f32, "float");
float!(f64, "double");

impl Decode for Vec<u8> {
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let s = r.read_text()?;
        let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| r.invalid("base64Binary", &s))
    }
}

impl Encode for Vec<u8> {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.base64(name, None, self);
    }
}

/// A reference to a server-side managed object: its type (`VirtualMachine`) and id (`vm-42`).
///
/// The type stays a string: servers add managed object types that a client may not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ManagedObjectReference {
    /// The managed object type, e.g. `VirtualMachine` (wire attribute `type`).
    pub r#type: String,
    /// The server's identifier, e.g. `vm-42` (wire text content).
    pub value: String,
}

impl ManagedObjectReference {
    /// A reference to object `value` of type `ty`.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        ManagedObjectReference {
            r#type: ty.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for ManagedObjectReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.r#type, self.value)
    }
}

impl Decode for ManagedObjectReference {
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        let ty = r
            .type_attr()
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default();
        let value = r.read_text()?;
        Ok(ManagedObjectReference { r#type: ty, value })
    }
}

impl Encode for ManagedObjectReference {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.reference(name, None, self);
    }
}
