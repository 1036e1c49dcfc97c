//! One struct per data object type, with its field reader and writer.

use std::fmt::Write;

use super::{header, naming, secret, Ctx};
use crate::model::{ComplexType, Field};

/// Emits `types.rs`.
pub fn emit(ctx: &Ctx) -> String {
    let mut out = String::with_capacity(4 << 20);
    header(&mut out, "Data object and fault types", ctx.m);
    for t in ctx.m.types.values() {
        if t.name == "ManagedObjectReference" {
            continue;
        }
        emit_struct(ctx, t, &mut out);
    }
    out
}

fn field_doc(ctx: &Ctx, f: &Field) -> String {
    let mut d = format!("Wire field `{}`: {}", f.name, f.ty.to_text());
    if f.occurs.array() {
        d.push_str(", array");
    } else if f.occurs.optional() {
        d.push_str(", optional");
    }
    if let Some(mo) = &f.mo_type {
        let _ = write!(d, ", refers to a `{mo}`");
    }
    let _ = write!(d, "; since {}.", f.since);
    let _ = ctx;
    naming::doc(&d)
}

fn emit_struct(ctx: &Ctx, t: &ComplexType, out: &mut String) {
    let name = &t.name;
    let names = ctx.field_names(name);
    let base = ctx.embedded_base(name);
    let _ = writeln!(out, "/// Wire type `{name}`; since {}.", t.since);
    if let Some(b) = &t.base {
        let _ = writeln!(out, "///\n/// Extends [`{b}`].");
    }
    if ctx.m.is_fault(name) {
        out.push_str("///\n/// A fault type (a `MethodFault`).\n");
    }
    let _ = writeln!(out, "pub struct {name} {{");
    if let Some(b) = base {
        let _ = writeln!(out, "    /// The fields inherited from [`{b}`] (also reachable through `Deref`).\n    pub base: {b},");
    }
    for (f, rn) in t.fields.iter().zip(names) {
        let _ = writeln!(
            out,
            "    /// {}\n    pub {rn}: {},",
            field_doc(ctx, f),
            ctx.field_type(name, f)
        );
    }
    out.push_str("}\n");

    // Default. Never inlined: the in-place readers (`opt_obj`, `push_obj`, `boxed`) and the
    // `Default` of every subtype (its `base`) and holder would each carry a copy of the
    // field-by-field initialisation (tens of bytes of code per field), once per type.
    let _ = write!(
        out,
        "impl Default for {name} {{ #[inline(never)] fn default() -> Self {{ {name} {{ "
    );
    if base.is_some() {
        out.push_str("base: Default::default(), ");
    }
    for rn in names {
        let _ = write!(out, "{rn}: Default::default(), ");
    }
    out.push_str("} } }\n");

    // Clone
    let _ = write!(
        out,
        "impl Clone for {name} {{ fn clone(&self) -> Self {{ {name} {{ "
    );
    if base.is_some() {
        out.push_str("base: self.base.clone(), ");
    }
    for rn in names {
        let _ = write!(out, "{rn}: self.{rn}.clone(), ");
    }
    out.push_str("} } }\n");

    // Debug
    let _ = write!(
        out,
        "impl fmt::Debug for {name} {{ fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{ f.debug_struct(\"{name}\")"
    );
    if base.is_some() {
        out.push_str(".field(\"base\", &self.base)");
    }
    for (f, rn) in t.fields.iter().zip(names) {
        let label = rn.trim_start_matches("r#");
        if secret::is_secret(name, f) {
            // `Redacted` for a value, `Some(Redacted)`/`None`, or one `Redacted` per item.
            let shown = if f.occurs.array() {
                format!("&Redacted::items(self.{rn}.len())")
            } else if f.occurs.optional() {
                format!("&self.{rn}.as_ref().map(|_| Redacted::ONE)")
            } else {
                "&Redacted::ONE".to_string()
            };
            let _ = write!(out, ".field(\"{label}\", {shown})");
        } else {
            let _ = write!(out, ".field(\"{label}\", &self.{rn})");
        }
    }
    out.push_str(".finish() } }\n");

    // Deref to the base
    if let Some(b) = base {
        let _ = writeln!(
            out,
            "impl core::ops::Deref for {name} {{ type Target = {b}; fn deref(&self) -> &{b} {{ &self.base }} }}\n\
             impl core::ops::DerefMut for {name} {{ fn deref_mut(&mut self) -> &mut {b} {{ &mut self.base }} }}"
        );
    }

    // Reader
    let _ = writeln!(
        out,
        "impl Fields for {name} {{\n    \
         fn read_field(&mut self, r: &mut XmlReader<'_>, name: &[u8]) -> Result<bool, DecodeError> {{"
    );
    if t.fields.is_empty() {
        match base {
            Some(_) => out.push_str("        self.base.read_field(r, name)\n    }\n"),
            None => out.push_str("        let _ = (r, name);\n        Ok(false)\n    }\n"),
        }
    } else {
        // The name's length picks the arms, then one slice comparison each: a byte-string
        // pattern per field compiled to a comparison and a branch per byte (10 bytes of code
        // per character, ~0.8 MB over the bindings), a slice `==` of known length to a few
        // word-sized loads.
        out.push_str("        match name.len() {\n");
        let mut by_len: Vec<_> = t.fields.iter().zip(names).collect();
        by_len.sort_by_key(|(f, _)| f.name.len());
        for (f, rn) in by_len {
            // Fields of a data object type are read in place (`*_obj`): no decoder returning
            // the value by copy, and no generic `req_into` per type (binary size).
            let object = ctx.plain_object(&f.ty).is_some();
            let boxed = ctx.is_boxed(name, &f.name);
            let stmt = if f.occurs.array() {
                if object {
                    format!("push_obj(r, &mut self.{rn})?")
                } else {
                    format!("push(r, &mut self.{rn})?")
                }
            } else if f.occurs.optional() {
                if boxed {
                    format!("opt_box_into(r, &mut self.{rn})?")
                } else if object {
                    format!("opt_obj(r, &mut self.{rn})?")
                } else {
                    format!("opt_into(r, &mut self.{rn})?")
                }
            } else if object {
                let deref = if boxed { "*" } else { "" };
                format!("req_obj(r, &mut {deref}self.{rn})?")
            } else {
                format!("req_into(r, &mut self.{rn})?")
            };
            let _ = writeln!(
                out,
                "            {} if name == b\"{}\" => {stmt},",
                f.name.len(),
                f.name
            );
        }
        match base {
            Some(_) => out.push_str("            _ => return self.base.read_field(r, name),\n"),
            None => out.push_str("            _ => return Ok(false),\n"),
        }
        out.push_str("        }\n        Ok(true)\n    }\n");
    }
    out.push_str("}\n");

    // Writer, in `DataObject` rather than the object-safe `Fields`: only static calls, so a
    // `dyn Fields` vtable (one per type decoded) neither holds a pointer to it (a load-time
    // relocation) nor keeps it linked. Never inlined: it has two callers per type (its own
    // `Encode` and the `xsi:type`-stating writer of every polymorphic enum holding it), and
    // inlining it into both would carry every encoder twice.
    let _ = writeln!(
        out,
        "impl DataObject for {name} {{\n    const TYPE_NAME: &'static str = \"{name}\";"
    );
    out.push_str("    #[inline(never)]\n    fn write_fields(&self, w: &mut XmlWriter) {\n");
    if t.fields.is_empty() && base.is_none() {
        out.push_str("        let _ = w;\n");
    }
    if base.is_some() {
        out.push_str("        self.base.write_fields(w);\n");
    }
    for (f, rn) in t.fields.iter().zip(names) {
        let boxed = ctx.is_boxed(name, &f.name);
        let val = if boxed { "&**v" } else { "v" };
        let line = if f.occurs.array() {
            format!(
                "for v in &self.{rn} {{ Encode::encode({val}, w, \"{}\"); }}",
                f.name
            )
        } else if f.occurs.optional() {
            format!(
                "if let Some(v) = &self.{rn} {{ Encode::encode({val}, w, \"{}\"); }}",
                f.name
            )
        } else if boxed {
            format!("Encode::encode(&*self.{rn}, w, \"{}\");", f.name)
        } else {
            format!("Encode::encode(&self.{rn}, w, \"{}\");", f.name)
        };
        let idx = ctx.since_index(&f.since);
        if idx > 0 {
            let _ = writeln!(out, "        if w.knows({idx}) {{ {line} }}");
        } else {
            let _ = writeln!(out, "        {line}");
        }
    }
    out.push_str("    }\n}\n\n");
}
