//! One Rust enum per vim25 enum, with a catch-all for values from newer servers.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{header, naming, Ctx};

/// The catch-all variant's name.
pub const CATCH_ALL: &str = "Unrecognized";

/// Variant names for an enum's values, de-duplicated and never equal to [`CATCH_ALL`].
pub fn variant_names(values: &[crate::model::EnumValue]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    values
        .iter()
        .map(|v| {
            let mut n = naming::variant(&v.name);
            if n == CATCH_ALL {
                n.push_str("Value");
            }
            while !seen.insert(n.clone()) {
                n.push('_');
            }
            n
        })
        .collect()
}

/// Emits `enums.rs`.
pub fn emit(ctx: &Ctx) -> String {
    let mut out = String::with_capacity(1 << 20);
    header(&mut out, "Enumerations", ctx.m);
    for e in ctx.m.enums.values() {
        let name = &e.name;
        let vars = variant_names(&e.values);
        let _ = writeln!(
            out,
            "/// Wire enum `{name}`; since {}. Values this model does not know are kept in `{CATCH_ALL}`.",
            e.since
        );
        let _ = writeln!(out, "pub enum {name} {{");
        for (v, vn) in e.values.iter().zip(&vars) {
            let _ = writeln!(out, "    /// `{}`; since {}.\n    {vn},", v.name, v.since);
        }
        let _ = writeln!(out, "    /// A value this model does not know (from a newer server).\n    {CATCH_ALL}(String),\n}}");
        let _ = writeln!(out, "impl {name} {{");
        out.push_str(
            "    /// The wire value.\n    pub fn as_str(&self) -> &str {\n        match self {\n",
        );
        for (v, vn) in e.values.iter().zip(&vars) {
            let _ = writeln!(out, "            Self::{vn} => \"{}\",", v.name);
        }
        let _ = writeln!(
            out,
            "            Self::{CATCH_ALL}(s) => s,\n        }}\n    }}"
        );
        out.push_str("    /// The value for a wire string (unknown strings are kept).\n    pub fn from_wire(s: &str) -> Self {\n        match s {\n");
        for (v, vn) in e.values.iter().zip(&vars) {
            let _ = writeln!(out, "            \"{}\" => Self::{vn},", v.name);
        }
        let _ = writeln!(
            out,
            "            other => Self::{CATCH_ALL}(other.to_string()),\n        }}\n    }}"
        );
        out.push_str("    /// Index of the first compared release that has this value (for version filtering).\n");
        out.push_str("    pub fn since_index(&self) -> u8 {\n        match self {\n");
        for (v, vn) in e.values.iter().zip(&vars) {
            let _ = writeln!(
                out,
                "            Self::{vn} => {},",
                ctx.since_index(&v.since)
            );
        }
        let _ = writeln!(
            out,
            "            Self::{CATCH_ALL}(_) => u8::MAX,\n        }}\n    }}\n}}"
        );
        let _ = writeln!(
            out,
            "impl Default for {name} {{ fn default() -> Self {{ Self::{CATCH_ALL}(String::new()) }} }}\n\
             impl Clone for {name} {{ fn clone(&self) -> Self {{ match self {{ Self::{CATCH_ALL}(s) => Self::{CATCH_ALL}(s.clone()), other => Self::from_wire(other.as_str()) }} }} }}\n\
             impl PartialEq for {name} {{ fn eq(&self, other: &Self) -> bool {{ self.as_str() == other.as_str() }} }}\n\
             impl Eq for {name} {{}}\n\
             impl core::hash::Hash for {name} {{ fn hash<H: core::hash::Hasher>(&self, h: &mut H) {{ self.as_str().hash(h) }} }}\n\
             impl fmt::Debug for {name} {{ fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{ write!(f, \"{name}({{}})\", self.as_str()) }} }}\n\
             impl fmt::Display for {name} {{ fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{ f.write_str(self.as_str()) }} }}\n\
             impl Decode for {name} {{ fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {{ Ok(Self::from_wire(r.read_scalar()?.trim())) }} }}\n\
             impl Encode for {name} {{ fn encode(&self, w: &mut XmlWriter, name: &str) {{ w.simple(name, None, self.as_str()) }} }}\n\
             impl FromAny for {name} {{ fn from_any(value: Any) -> Result<Self, Any> {{ enum_from_any(value, \"{name}\", Self::from_wire) }} }}\n"
        );
    }
    out
}
