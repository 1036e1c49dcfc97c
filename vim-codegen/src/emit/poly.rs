//! One enum per polymorphic base: a value declared as `B` may be `B` or any subtype, told
//! apart on the wire by `xsi:type`. `AnyData` covers every data object type (for `anyType`).

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{header, naming, Ctx};
use crate::model::TypeRef;

/// The bases that get an enum: those referenced as a field, parameter, result or property
/// type, plus `MethodFault` (faults) and `DynamicData` (`AnyData`).
pub fn referenced_bases(ctx: &Ctx) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |t: &TypeRef| {
        if let TypeRef::Named(n) = t {
            if ctx.descendants.contains_key(n) {
                out.insert(n.clone());
            }
        }
    };
    for t in ctx.m.types.values() {
        t.fields.iter().for_each(|f| add(&f.ty));
    }
    for a in ctx.m.arrays.values() {
        add(&a.item);
    }
    for o in ctx.m.operations.values() {
        o.params.iter().for_each(|p| add(&p.ty));
        if let Some(r) = &o.returns {
            add(&r.ty);
        }
        if let Some(r) = &o.task_result {
            add(&r.ty);
        }
    }
    for mo in ctx.m.managed_objects.values() {
        mo.properties.iter().for_each(|p| add(&p.ty));
    }
    out.insert("MethodFault".into());
    out.remove("DynamicData");
    out
}

/// Emits `poly.rs`.
pub fn emit(ctx: &Ctx) -> String {
    let mut out = String::with_capacity(2 << 20);
    header(&mut out, "Polymorphic value enums", ctx.m);
    // `AnyData`'s variants, in the order of its name table (sorted: the model's map).
    let all: Vec<String> = ctx
        .m
        .types
        .keys()
        .filter(|n| *n != "ManagedObjectReference")
        .cloned()
        .collect();
    for base in referenced_bases(ctx) {
        let mut variants = vec![base.clone()];
        variants.extend(ctx.descendants[&base].iter().cloned());
        variants.sort();
        emit_enum(ctx, &base, &variants, Some(&all), &mut out);
    }
    emit_enum(ctx, "DynamicData", &all, None, &mut out);
    out
}

/// `any`: `AnyData`'s variants, when the enum decodes its variants through `AnyData`'s
/// decoder table ([`shared_decoder`]) rather than a table of its own.
fn emit_enum(ctx: &Ctx, base: &str, variants: &[String], any: Option<&[String]>, out: &mut String) {
    let en = naming::poly_enum(base);
    let table = format!(
        "{}_NAMES",
        naming::snake(&en)
            .trim_start_matches("r#")
            .to_ascii_uppercase()
    );
    if base == "DynamicData" {
        let _ = writeln!(
            out,
            "/// Any data object or fault type, told apart by `xsi:type`: the value of an `anyType` slot or a\n\
             /// field declared `DynamicData`. Types this model does not know decode as `Unknown`."
        );
    } else {
        let _ = writeln!(
            out,
            "/// A value declared as [`{base}`]: the type itself or one of its {} subtypes, told apart by\n\
             /// `xsi:type`. A subtype this model does not know decodes as `Unknown`, with the fields of\n\
             /// `{base}` and its wire name.",
            variants.len() - 1
        );
    }
    let _ = writeln!(out, "pub enum {en} {{");
    for v in variants {
        let _ = writeln!(out, "    /// Wire type [`{v}`].\n    {v}(Box<{v}>),");
    }
    let _ = writeln!(
        out,
        "    /// A type this model does not know, decoded as `{base}`.\n    Unknown {{\n        \
         /// The wire type name (`xsi:type`).\n        wire_type: String,\n        \
         /// The fields of `{base}` that were present.\n        value: Box<{base}>,\n    }},\n}}"
    );
    super::name_table(out, &table, variants.iter().map(String::as_str));

    let _ = writeln!(out, "impl {en} {{");
    // The name by the variant's index in the name table: a `match` giving each variant's
    // `&str` compiles to a table of string pointers, a load-time relocation each.
    out.push_str(
        "    /// The wire type name of the value.\n    pub fn type_name(&self) -> &str {\n        \
         let i = match self {\n",
    );
    for (i, v) in variants.iter().enumerate() {
        let _ = writeln!(out, "            Self::{v}(_) => {i},");
    }
    let _ = writeln!(
        out,
        "            Self::Unknown {{ wire_type, .. }} => return wire_type,\n        }};\n        \
         {table}.get(i).unwrap_or_default()\n    }}"
    );
    if ctx.embeds(base) && variants.iter().all(|v| ctx.m.is_a(v, base)) {
        let _ = writeln!(out, "    /// The fields declared by `{base}` and its ancestors, whatever the concrete type.");
        let _ = writeln!(
            out,
            "    pub fn base(&self) -> &{base} {{\n        match self {{"
        );
        for v in variants {
            let _ = writeln!(
                out,
                "            Self::{v}(v) => {},",
                access(&base_path(ctx, v, base), false)
            );
        }
        out.push_str("            Self::Unknown { value, .. } => value,\n        }\n    }\n");
        let _ = writeln!(
            out,
            "    /// Mutable access to the fields declared by `{base}` and its ancestors."
        );
        let _ = writeln!(
            out,
            "    pub fn base_mut(&mut self) -> &mut {base} {{\n        match self {{"
        );
        for v in variants {
            let _ = writeln!(
                out,
                "            Self::{v}(v) => {},",
                access(&base_path(ctx, v, base), true)
            );
        }
        out.push_str("            Self::Unknown { value, .. } => value,\n        }\n    }\n");
    }
    let through_any = any.and_then(|all| {
        variants
            .iter()
            .map(|v| {
                all.binary_search(v)
                    .ok()
                    .filter(|&i| i <= usize::from(u16::MAX))
            })
            .collect::<Option<Vec<usize>>>()
    });
    match through_any {
        Some(indices) => shared_decoder(variants, &indices, out),
        None => decoder_table(&en, out, |v| format!("{en}::{v}(boxed(r)?)"), variants),
    }
    out.push_str("}\n");

    let _ = writeln!(
        out,
        "impl Default for {en} {{ fn default() -> Self {{ Self::{base}(Box::default()) }} }}"
    );
    let _ = writeln!(
        out,
        "impl Clone for {en} {{\n    fn clone(&self) -> Self {{\n        match self {{"
    );
    for v in variants {
        let _ = writeln!(out, "            Self::{v}(v) => Self::{v}(v.clone()),");
    }
    out.push_str(
        "            Self::Unknown { wire_type, value } => Self::Unknown { wire_type: wire_type.clone(), value: value.clone() },\n        }\n    }\n}\n",
    );
    // Debug and Encode match on the variant and call the type's own impl: going through a
    // `dyn` would build a vtable per variant, and a vtable keeps its type's drop glue,
    // decoder and encoder in every binary that formats or encodes the enum.
    let _ = writeln!(
        out,
        "impl fmt::Debug for {en} {{\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n        \
         match self {{"
    );
    for v in variants {
        let _ = writeln!(out, "            Self::{v}(v) => fmt::Debug::fmt(&**v, f),");
    }
    out.push_str(
        "            Self::Unknown { wire_type, value } => f.debug_struct(\"Unknown\").field(\"wire_type\", wire_type).field(\"value\", value).finish(),\n        }\n    }\n}\n",
    );
    let _ = writeln!(
        out,
        "impl Decode for {en} {{\n    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {{\n        \
         match r.lookup_type(&{table}) {{\n            TypeLookup::Absent => Ok(Self::{base}(boxed(r)?)),\n            \
         TypeLookup::Found(i) => Self::decode_variant(i, r),\n            \
         TypeLookup::Unknown(wire_type) => Ok(Self::Unknown {{ wire_type, value: boxed(r)? }}),\n        }}\n    }}\n}}"
    );
    // One start tag and one end tag for the whole enum, the variant's fields between them:
    // a writer generic over the variant's type would be monomorphised (start and end tags
    // inlined) once per variant, 0.8 MB over `AnyData`'s 2,800 variants.
    let _ = writeln!(
        out,
        "impl {en} {{\n    /// Writes the value as `<name xsi:type=\"..\">`, stating its type even when it is `{base}`\n    \
         /// (what an `anyType` slot needs).\n    pub fn encode_typed(&self, w: &mut XmlWriter, name: &str) {{\n        \
         w.start(name, Some(self.type_name()));\n        match self {{"
    );
    for v in variants {
        let _ = writeln!(out, "            Self::{v}(v) => v.write_fields(w),");
    }
    out.push_str(
        "            Self::Unknown { value, .. } => value.write_fields(w),\n        }\n        w.end(name);\n    }\n}\n",
    );
    let _ = writeln!(
        out,
        "impl Encode for {en} {{\n    fn encode(&self, w: &mut XmlWriter, name: &str) {{\n        \
         match self {{\n            Self::{base}(v) => Encode::encode(&**v, w, name),\n            \
         other => other.encode_typed(w, name),\n        }}\n    }}\n}}\n"
    );
}

/// `.base.base` from `v` up to `base`.
fn base_path(ctx: &Ctx, from: &str, base: &str) -> String {
    let mut path = String::new();
    let mut cur = from.to_string();
    while cur != base {
        path.push_str(".base");
        match ctx.m.types.get(&cur).and_then(|t| t.base.clone()) {
            Some(b) => cur = b,
            None => break,
        }
    }
    path
}

fn access(path: &str, mutable: bool) -> String {
    let m = if mutable { "mut " } else { "" };
    if path.is_empty() {
        format!("&{m}**v")
    } else {
        format!("&{m}v{path}")
    }
}

/// Emits `decode_variant` for an enum whose every variant is also `AnyData`'s (at `indices`
/// in its table): the value is decoded by `AnyData`'s decoder of that type, then moved into
/// this enum's variant. One decoder function per type instead of one per type and enum: the
/// 2,300 variants of the smaller enums cost ~0.3 MB of code and unwinding tables in a binary
/// that holds them all (every client: any `anyType` reaches them).
fn shared_decoder(variants: &[String], indices: &[usize], out: &mut String) {
    let any = naming::poly_enum("DynamicData");
    let _ = writeln!(
        out,
        "    fn decode_variant(i: usize, r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {{\n        \
         static IN_ANY: [u16; {}] = [{}];\n        \
         let Some(&j) = IN_ANY.get(i) else {{\n            \
         return Err(r.error(DecodeErrorKind::Unexpected(\"type index out of range\".into())));\n        }};\n        \
         Ok(match {any}::decode_variant(usize::from(j), r)? {{",
        indices.len(),
        indices
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for v in variants {
        let _ = writeln!(out, "            {any}::{v}(v) => Self::{v}(v),");
    }
    out.push_str(
        "            other => return Err(r.error(DecodeErrorKind::Unexpected(format!(\"{} decoded for another type\", other.type_name())))),\n        \
         })\n    }\n",
    );
}

/// Emits `decode_variant` as a `match` on the index calling one small decoder function per
/// variant. Small functions, so that no single function holds a stack slot for every variant
/// (debug builds do not share them); a `match` rather than a `static` table of function
/// pointers, which would cost a load-time relocation per variant in a position-independent
/// executable (a jump table of relative offsets costs none).
pub(crate) fn decoder_table(
    en: &str,
    out: &mut String,
    arm: impl Fn(&str) -> String,
    variants: &[String],
) {
    let _ = writeln!(
        out,
        "    fn decode_variant(i: usize, r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {{"
    );
    for (i, v) in variants.iter().enumerate() {
        let _ = writeln!(
            out,
            "        fn d{i}(r: &mut XmlReader<'_>) -> Result<{en}, DecodeError> {{ Ok({}) }}",
            arm(v)
        );
    }
    out.push_str("        match i {\n");
    for i in 0..variants.len() {
        let _ = writeln!(out, "            {i} => d{i}(r),");
    }
    out.push_str(
        "            _ => Err(r.error(DecodeErrorKind::Unexpected(\"type index out of range\".into()))),\n        }\n    }\n",
    );
}
