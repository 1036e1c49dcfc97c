//! Static metadata: every type's fields, every enum's values, every operation, with their
//! first-seen releases. Data only, so it costs little to compile.

use std::fmt::Write;

use super::{header, Ctx};
use crate::model::Field;

fn field_info(type_name: &str, f: &Field) -> String {
    format!(
        "FieldInfo {{ name: \"{}\", ty: \"{}\", optional: {}, array: {}, secret: {}, since: \"{}\" }}",
        f.name,
        f.ty.to_text(),
        f.occurs.optional(),
        f.occurs.array(),
        super::secret::is_secret(type_name, f),
        f.since
    )
}

/// Emits `meta.rs`.
pub fn emit(ctx: &Ctx) -> String {
    let m = ctx.m;
    let mut out = String::with_capacity(2 << 20);
    header(&mut out, "Type, enum and operation metadata", m);
    let _ = writeln!(
        out,
        "/// The API release these bindings were generated for.\npub const RELEASE: &str = \"{}\";",
        m.release
    );
    let _ = writeln!(
        out,
        "/// The releases compared to find first-seen releases, oldest first.\npub const COMPARED: &[&str] = &[{}];",
        m.compared.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        out,
        "/// Every data object and fault type, sorted by name.\npub static TYPES: &[TypeInfo] = &["
    );
    for t in m.types.values() {
        let base = t
            .base
            .as_ref()
            .map(|b| format!("Some(\"{b}\")"))
            .unwrap_or_else(|| "None".into());
        let fields: Vec<String> = t.fields.iter().map(|f| field_info(&t.name, f)).collect();
        let _ = writeln!(
            out,
            "    TypeInfo {{ name: \"{}\", base: {base}, since: \"{}\", fields: &[{}] }},",
            t.name,
            t.since,
            fields.join(", ")
        );
    }
    out.push_str("];\n");
    let _ = writeln!(out, "/// Every `ArrayOf*` wrapper: (name, item element, item type), sorted by name.\npub static ARRAYS: &[(&str, &str, &str)] = &[");
    for a in m.arrays.values() {
        let _ = writeln!(
            out,
            "    (\"{}\", \"{}\", \"{}\"),",
            a.name,
            a.item_name,
            a.item.to_text()
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// Every enum with its values, sorted by name.\npub static ENUMS: &[EnumInfo] = &["
    );
    for e in m.enums.values() {
        let vals: Vec<String> = e
            .values
            .iter()
            .map(|v| format!("(\"{}\", \"{}\")", v.name, v.since))
            .collect();
        let _ = writeln!(
            out,
            "    EnumInfo {{ name: \"{}\", since: \"{}\", values: &[{}] }},",
            e.name,
            e.since,
            vals.join(", ")
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// Every operation, sorted by name.\npub static OPERATIONS: &[OperationInfo] = &["
    );
    for o in m.operations.values() {
        let params: Vec<String> = o.params.iter().map(|f| field_info(&o.name, f)).collect();
        let owner = o
            .owner
            .as_ref()
            .map(|b| format!("Some(\"{b}\")"))
            .unwrap_or_else(|| "None".into());
        let ret = o
            .returns
            .as_ref()
            .map(|r| format!("Some(\"{}\")", r.ty.to_text()))
            .unwrap_or_else(|| "None".into());
        let faults: Vec<String> = o.faults.iter().map(|f| format!("\"{f}\"")).collect();
        let _ = writeln!(
            out,
            "    OperationInfo {{ name: \"{}\", owner: {owner}, since: \"{}\", params: &[{}], returns: {ret}, faults: &[{}] }},",
            o.name,
            o.since,
            params.join(", "),
            faults.join(", ")
        );
    }
    out.push_str("];\n");
    let _ = writeln!(out, "/// Every managed object type, sorted by name.\npub static MANAGED_OBJECTS: &[ManagedObjectInfo] = &[");
    for mo in m.managed_objects.values() {
        let base = mo
            .base
            .as_ref()
            .map(|b| format!("Some(\"{b}\")"))
            .unwrap_or_else(|| "None".into());
        let props: Vec<String> = mo
            .properties
            .iter()
            .map(|p| format!("PropertyInfo {{ name: \"{}\", ty: \"{}\", optional: {}, array: {}, since: \"{}\" }}", p.name, p.ty.to_text(), p.optional, p.array, p.since))
            .collect();
        let _ = writeln!(
            out,
            "    ManagedObjectInfo {{ name: \"{}\", base: {base}, since: \"{}\", properties: &[{}] }},",
            mo.name,
            mo.since,
            props.join(", ")
        );
    }
    out.push_str("];\n");
    relocation_free(ctx, &mut out);
    out
}

/// The facts the runtime looks up in every binary (a type's base, an operation's result, a
/// managed object type's base) as tables of names and indices: a table of `&str`s (like
/// `TYPES` above) costs a load-time relocation per string in a position-independent
/// executable, written at each process start; these cost a few per table. The same facts as
/// `(name, name)` pairs come from `type_bases` and `operation_returns`, read from these
/// tables (no second copy).
fn relocation_free(ctx: &Ctx, out: &mut String) {
    let m = ctx.m;
    // Each type's (or managed object type's) base as an index into the same sorted names.
    let bases = |out: &mut String,
                 names_ident: &str,
                 base_ident: &str,
                 items: Vec<(&str, Option<&str>)>| {
        let names: Vec<&str> = items.iter().map(|(n, _)| *n).collect();
        super::name_table(out, names_ident, names.iter().copied());
        let index: Vec<String> = items
            .iter()
            .map(|(_, b)| {
                b.and_then(|b| names.binary_search(&b).ok())
                    .map_or(u16::MAX, |i| u16::try_from(i).unwrap_or(u16::MAX))
                    .to_string()
            })
            .collect();
        let _ = writeln!(
            out,
            "static {base_ident}: [u16; {}] = [{}];",
            index.len(),
            index.join(", ")
        );
    };
    bases(
        out,
        "TYPE_NAMES",
        "TYPE_BASE_INDEX",
        m.types
            .values()
            .map(|t| (t.name.as_str(), t.base.as_deref()))
            .collect(),
    );
    bases(
        out,
        "MANAGED_OBJECT_NAMES",
        "MANAGED_OBJECT_BASE_INDEX",
        m.managed_objects
            .values()
            .map(|mo| (mo.name.as_str(), mo.base.as_deref()))
            .collect(),
    );
    let returning: Vec<(&str, String)> = m
        .operations
        .values()
        .filter_map(|o| {
            o.returns
                .as_ref()
                .map(|r| (o.name.as_str(), r.ty.to_text()))
        })
        .collect();
    super::name_table(
        out,
        "RETURNING_OPERATIONS",
        returning.iter().map(|(o, _)| *o),
    );
    super::name_table(
        out,
        "OPERATION_RETURN_TYPES",
        returning.iter().map(|(_, r)| r.as_str()),
    );
    out.push_str(
        "/// A name's base in a table of names and base indices (`u16::MAX`: none).
         fn base_in(names: &crate::xml::NameTable, base: &[u16], name: &str) -> Option<&'static str> {
             let i = names.binary_search(name.as_bytes()).ok()?;
             names.get(usize::from(*base.get(i)?))
}
         /// The base of data object or fault type `name` (as in [`TYPES`]), if it has one.
         pub fn type_base(name: &str) -> Option<&'static str> {
             base_in(&TYPE_NAMES, &TYPE_BASE_INDEX, name)
}
         /// The base of managed object type `name` (as in [`MANAGED_OBJECTS`]), if it has one.
         pub fn managed_object_base(name: &str) -> Option<&'static str> {
             base_in(&MANAGED_OBJECT_NAMES, &MANAGED_OBJECT_BASE_INDEX, name)
}
         /// The wire result type of operation `name` (as in [`OPERATIONS`]), if it returns one.
         pub fn operation_return(name: &str) -> Option<&'static str> {
             let i = RETURNING_OPERATIONS.binary_search(name.as_bytes()).ok()?;
             OPERATION_RETURN_TYPES.get(i)
}
         /// `(type, base)` of every data object and fault type that has a base, sorted by type:
         /// the hierarchy alone, read from the tables [`type_base`] reads (see [`TYPES`] for the
         /// fields too).
         pub fn type_bases() -> impl Iterator<Item = (&'static str, &'static str)> {
             TYPE_NAMES.iter().filter_map(|t| Some((t, type_base(t)?)))
}
         /// `(operation, result type)` of every operation with a result, sorted by operation:
         /// read from the tables [`operation_return`] reads (see [`OPERATIONS`] for the
         /// parameters too).
         pub fn operation_returns() -> impl ExactSizeIterator<Item = (&'static str, &'static str)> {
             (0..RETURNING_OPERATIONS.len()).map(|i| {
                 (RETURNING_OPERATIONS.get(i).unwrap_or_default(), OPERATION_RETURN_TYPES.get(i).unwrap_or_default())
             })
}
",
    );
}
