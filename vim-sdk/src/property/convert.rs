//! [`FromAny`] conversions for the primitive values properties and task results hold.
//!
//! Integers widen (`xsd:short` reads as `i64`), but never narrow; strings also accept the
//! string-like `xsd:anyURI` and `xsd:dateTime`, and an enum value as its wire string.

use crate::types::{Any, AnyArray, FromAny};

impl FromAny for String {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::String(s) | Any::Uri(s) | Any::DateTime(s) => Ok(s),
            Any::Enum { value, .. } => Ok(value),
            other => Err(other),
        }
    }
}

impl FromAny for bool {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Boolean(b) => Ok(b),
            other => Err(other),
        }
    }
}

impl FromAny for i32 {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Int(v) => Ok(v),
            Any::Short(v) => Ok(v.into()),
            Any::Byte(v) => Ok(v.into()),
            other => Err(other),
        }
    }
}

impl FromAny for i64 {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Long(v) => Ok(v),
            Any::Int(v) => Ok(v.into()),
            Any::Short(v) => Ok(v.into()),
            Any::Byte(v) => Ok(v.into()),
            other => Err(other),
        }
    }
}

impl FromAny for f64 {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Double(v) => Ok(v),
            Any::Float(v) => Ok(v.into()),
            other => Err(other),
        }
    }
}

impl FromAny for Vec<String> {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Array(AnyArray::String(v)) | Any::Array(AnyArray::Uri(v)) => Ok(v),
            other => Err(other),
        }
    }
}

impl FromAny for Vec<crate::xml::ManagedObjectReference> {
    fn from_any(value: Any) -> Result<Self, Any> {
        match value {
            Any::Array(AnyArray::ManagedObjectReference(v)) => Ok(v),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_and_refusals() {
        assert_eq!(i64::from_any(Any::Int(7)).unwrap(), 7);
        assert_eq!(i32::from_any(Any::Short(-3)).unwrap(), -3);
        assert!(matches!(i32::from_any(Any::Long(1)), Err(Any::Long(1))));
        let e = Any::Enum {
            wire_type: "VirtualMachinePowerState".into(),
            value: "poweredOn".into(),
        };
        assert_eq!(String::from_any(e).unwrap(), "poweredOn");
        assert!(bool::from_any(Any::String("true".into())).is_err());
        assert_eq!(f64::from_any(Any::Float(0.5)).unwrap(), 0.5);
        let names = Any::Array(AnyArray::String(vec!["a".into(), "b".into()]));
        assert_eq!(Vec::<String>::from_any(names).unwrap(), ["a", "b"]);
    }
}
