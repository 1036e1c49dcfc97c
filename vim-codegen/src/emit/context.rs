//! What every emitter needs to know about the model: type mapping, subtypes, boxing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::naming;
use crate::model::{Field, Model, Primitive, TypeRef};
use crate::release::release_key;

/// Facts derived from the model once, shared by the emitters.
pub struct Ctx<'m> {
    /// The model.
    pub m: &'m Model,
    /// Every descendant of each type that has subtypes, sorted by name.
    pub descendants: BTreeMap<String, Vec<String>>,
    /// Types whose own or inherited fields are non-empty (they are embedded as `base`).
    has_fields: HashSet<String>,
    /// `(type, field)` pairs held in a `Box` to break a containment cycle.
    boxed: HashSet<(String, String)>,
    /// Rust field names per type, in schema order.
    field_names: HashMap<String, Vec<String>>,
}

impl<'m> Ctx<'m> {
    /// Derives the facts for `m`.
    pub fn new(m: &'m Model) -> Self {
        let mut descendants: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in m.types.values() {
            for a in m.ancestors(&t.name) {
                descendants
                    .entry(a.to_string())
                    .or_default()
                    .push(t.name.clone());
            }
        }
        for v in descendants.values_mut() {
            v.sort();
        }
        let mut has_fields = HashSet::new();
        for t in m.types.values() {
            let mut chain = vec![t.name.as_str()];
            chain.extend(m.ancestors(&t.name));
            if chain
                .iter()
                .any(|n| m.types.get(*n).is_some_and(|t| !t.fields.is_empty()))
            {
                has_fields.insert(t.name.clone());
            }
        }
        let mut field_names = HashMap::new();
        for t in m.types.values() {
            let mut seen = BTreeSet::new();
            let names = t
                .fields
                .iter()
                .map(|f| {
                    let mut n = naming::snake(&f.name);
                    if n == "base" || n == "r#base" {
                        n = "base_".into();
                    }
                    while !seen.insert(n.clone()) {
                        n.push('_');
                    }
                    n
                })
                .collect();
            field_names.insert(t.name.clone(), names);
        }
        let mut ctx = Ctx {
            m,
            descendants,
            has_fields,
            boxed: HashSet::new(),
            field_names,
        };
        ctx.boxed = ctx.find_cycles();
        ctx
    }

    /// True if `ty` has subtypes (values declared as it may be of a subtype).
    pub fn is_poly(&self, ty: &str) -> bool {
        self.descendants.contains_key(ty) || ty == "DynamicData"
    }

    /// True if `ty` (or an ancestor) has fields, so that subtypes embed it as `base`.
    pub fn embeds(&self, ty: &str) -> bool {
        self.has_fields.contains(ty)
    }

    /// The embedded base of `ty`, if its base carries fields.
    pub fn embedded_base(&self, ty: &str) -> Option<&'m str> {
        let b = self.m.types.get(ty)?.base.as_deref()?;
        self.embeds(b).then_some(b)
    }

    /// Rust field names of `ty`'s own fields, in schema order.
    pub fn field_names(&self, ty: &str) -> &[String] {
        self.field_names
            .get(ty)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// True if field `field` of `ty` is boxed.
    pub fn is_boxed(&self, ty: &str, field: &str) -> bool {
        self.boxed.contains(&(ty.to_string(), field.to_string()))
    }

    /// The Rust type of one value of `t` (without `Option`/`Vec`).
    pub fn value_type(&self, t: &TypeRef) -> String {
        match t {
            TypeRef::Primitive(p) => primitive_type(*p).to_string(),
            TypeRef::Named(n) if n == "ManagedObjectReference" => "ManagedObjectReference".into(),
            TypeRef::Named(n) if self.m.enums.contains_key(n) => n.clone(),
            TypeRef::Named(n) if self.is_poly(n) => naming::poly_enum(n),
            TypeRef::Named(n) if self.m.types.contains_key(n) => n.clone(),
            TypeRef::Named(_) => "Any".into(),
        }
    }

    /// The Rust type of a field: `T`, `Option<T>`, `Vec<T>`, boxed where needed.
    pub fn field_type(&self, owner: &str, f: &Field) -> String {
        let mut v = self.value_type(&f.ty);
        if self.is_boxed(owner, &f.name) {
            v = format!("Box<{v}>");
        }
        if f.occurs.array() {
            format!("Vec<{v}>")
        } else if f.occurs.optional() {
            format!("Option<{v}>")
        } else {
            v
        }
    }

    /// The index of `since` among the compared releases: the first compared release at or after
    /// it (so "6.7" with 4.1/5.5/8.0 compared is 2).
    pub fn since_index(&self, since: &str) -> u8 {
        let key = release_key(since);
        self.m
            .compared
            .iter()
            .position(|c| release_key(c) >= key)
            .unwrap_or(self.m.compared.len().saturating_sub(1)) as u8
    }

    /// Finds fields that must be boxed: a plain (non-array, non-polymorphic) data-object field
    /// whose type can reach back to its owner through other plain fields or embedded bases.
    fn find_cycles(&self) -> HashSet<(String, String)> {
        let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in self.m.types.values() {
            let e = edges.entry(t.name.as_str()).or_default();
            if let Some(b) = self.embedded_base(&t.name) {
                e.push(b);
            }
            for f in &t.fields {
                if let Some(n) = self.inline_target(f) {
                    e.push(n);
                }
            }
        }
        let mut out = HashSet::new();
        for t in self.m.types.values() {
            for f in &t.fields {
                if let Some(target) = self.inline_target(f) {
                    if reaches(&edges, target, &t.name) {
                        out.insert((t.name.clone(), f.name.clone()));
                    }
                }
            }
        }
        out
    }

    fn inline_target<'a>(&self, f: &'a Field) -> Option<&'a str> {
        if f.occurs.array() {
            return None;
        }
        self.plain_object(&f.ty)
    }

    /// The type's name if `t` is a data object type without subtypes (a generated struct,
    /// decoded in place by the runtime's `*_obj` readers), not a polymorphic enum,
    /// `ManagedObjectReference`, an enum or a primitive.
    pub fn plain_object<'a>(&self, t: &'a TypeRef) -> Option<&'a str> {
        match t {
            TypeRef::Named(n)
                if self.m.types.contains_key(n)
                    && !self.is_poly(n)
                    && n != "ManagedObjectReference" =>
            {
                Some(n.as_str())
            }
            _ => None,
        }
    }
}

fn reaches(edges: &HashMap<&str, Vec<&str>>, from: &str, to: &str) -> bool {
    let mut stack = vec![from];
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if !seen.insert(n) {
            continue;
        }
        if let Some(next) = edges.get(n) {
            stack.extend(next.iter().copied());
        }
    }
    false
}

/// The Rust type of an XML Schema primitive.
pub fn primitive_type(p: Primitive) -> &'static str {
    match p {
        Primitive::String | Primitive::DateTime | Primitive::AnyUri => "String",
        Primitive::Boolean => "bool",
        Primitive::Byte => "i8",
        Primitive::Short => "i16",
        Primitive::Int => "i32",
        Primitive::Long => "i64",
        Primitive::Float => "f32",
        Primitive::Double => "f64",
        Primitive::Base64Binary => "Vec<u8>",
        Primitive::AnyType => "Any",
    }
}
