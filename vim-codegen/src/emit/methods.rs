//! Operations as typed async functions: methods on the managed object handle that owns them
//! (`mo.rs`), or free functions taking `_this` for operations with no known owner (`methods.rs`).

use std::fmt::Write;

use super::{header, naming, Ctx};
use crate::model::{Field, Operation, Primitive, Returns, TypeRef};

/// Emits `methods.rs`: operations without a known owner.
pub fn emit_free(ctx: &Ctx) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "Operations without a known managed object owner",
        ctx.m,
    );
    for op in ctx.m.operations.values() {
        if owner_of(ctx, op).is_none() {
            emit_op(ctx, op, None, &mut out);
        }
    }
    out
}

fn owner_of<'a>(ctx: &Ctx, op: &'a Operation) -> Option<&'a str> {
    op.owner
        .as_deref()
        .filter(|o| ctx.m.managed_objects.contains_key(*o))
}

/// Emits `mo.rs`: a handle type per managed object type, with its operations.
pub fn emit_managed(ctx: &Ctx) -> String {
    let mut out = String::with_capacity(1 << 20);
    header(
        &mut out,
        "Managed object handles and their operations",
        ctx.m,
    );
    for mo in ctx.m.managed_objects.values() {
        let name = &mo.name;
        let _ = writeln!(
            out,
            "/// A reference to a server-side `{name}` managed object; since {}.",
            mo.since
        );
        match &mo.base {
            Some(b) if ctx.m.managed_objects.contains_key(b) => {
                let _ = writeln!(
                    out,
                    "///\n/// Extends [`{b}`]: its operations are reachable through `Deref`.\n#[repr(transparent)]\npub struct {name}({b});\nmanaged_object!({name}, {b});"
                );
            }
            _ => {
                let _ = writeln!(out, "#[repr(transparent)]\npub struct {name}(ManagedObjectReference);\nmanaged_object_root!({name});");
            }
        }
        let ops: Vec<&Operation> = ctx
            .m
            .operations
            .values()
            .filter(|o| o.owner.as_deref() == Some(name.as_str()))
            .collect();
        let _ = writeln!(out, "impl {name} {{\n    /// The managed object type name.\n    pub const TYPE: &'static str = \"{name}\";");
        for op in ops {
            emit_op(ctx, op, Some(name), &mut out);
        }
        out.push_str("}\n");
        let _ = writeln!(
            out,
            "impl crate::managed::ManagedType for {name} {{ const TYPE_NAME: &'static str = \"{name}\"; type Properties = {name}Properties; \
             fn from_ref_unchecked(r: ManagedObjectReference) -> Self {{ Self::from_ref(r) }} \
             fn as_reference(&self) -> &ManagedObjectReference {{ self.reference() }} }}\n"
        );
        emit_properties(ctx, mo, &mut out);
    }
    out
}

/// A struct of typed properties per managed object type, each `None` until retrieved, filled
/// straight from `ObjectContent.propSet` by property name.
fn emit_properties(ctx: &Ctx, mo: &crate::model::ManagedObject, out: &mut String) {
    let name = &mo.name;
    let sname = format!("{name}Properties");
    let base = mo
        .base
        .as_deref()
        .filter(|b| ctx.m.managed_objects.contains_key(*b));
    let mut fields = Vec::new();
    for p in &mo.properties {
        let mut rn = naming::snake(&p.name);
        if rn == "base" {
            rn = "base_".into();
        }
        let v = qualified(ctx, &p.ty, p.mo_type.as_deref());
        let ty = if p.array { format!("Vec<{v}>") } else { v };
        fields.push((p, rn, ty));
    }
    let _ = writeln!(
        out,
        "/// The properties of a [`{name}`], typed, each `None` until retrieved (see\n\
         /// [`PropertySet`](crate::managed::PropertySet)); nested paths such as\n\
         /// `summary.quickStats` are not fields here.\npub struct {sname} {{"
    );
    if let Some(b) = base {
        let _ = writeln!(
            out,
            "    /// The properties inherited from [`{b}`].\n    pub base: {b}Properties,"
        );
    }
    for (p, rn, ty) in &fields {
        let mut d = format!("`{}`: {}", p.name, p.ty.to_text());
        if let Some(m) = &p.mo_type {
            let _ = write!(d, " (`{m}`)");
        }
        if p.array {
            d.push_str(", array");
        }
        if p.optional {
            d.push_str(", may be unset");
        }
        let _ = writeln!(
            out,
            "    /// {}; since {}.\n    pub {rn}: Option<{ty}>,",
            naming::doc(&d),
            p.since
        );
    }
    out.push_str("}\n");
    let inits: Vec<String> = base
        .map(|_| "base: Default::default()".to_string())
        .into_iter()
        .chain(fields.iter().map(|(_, rn, _)| format!("{rn}: None")))
        .collect();
    let clones: Vec<String> = base
        .map(|_| "base: self.base.clone()".to_string())
        .into_iter()
        .chain(
            fields
                .iter()
                .map(|(_, rn, _)| format!("{rn}: self.{rn}.clone()")),
        )
        .collect();
    let dbg: String =
        base.map(|_| ".field(\"base\", &self.base)".to_string())
            .into_iter()
            .chain(fields.iter().map(|(_, rn, _)| {
                format!(".field(\"{}\", &self.{rn})", rn.trim_start_matches("r#"))
            }))
            .collect();
    let _ = writeln!(
        out,
        "impl Default for {sname} {{ fn default() -> Self {{ {sname} {{ {} }} }} }}\n\
         impl Clone for {sname} {{ fn clone(&self) -> Self {{ {sname} {{ {} }} }} }}\n\
         impl core::fmt::Debug for {sname} {{ fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {{ f.debug_struct(\"{sname}\"){dbg}.finish() }} }}",
        inits.join(", "),
        clones.join(", ")
    );
    if let Some(b) = base {
        let _ = writeln!(
            out,
            "impl core::ops::Deref for {sname} {{ type Target = {b}Properties; fn deref(&self) -> &{b}Properties {{ &self.base }} }}\n\
             impl core::ops::DerefMut for {sname} {{ fn deref_mut(&mut self) -> &mut {b}Properties {{ &mut self.base }} }}"
        );
    }
    let _ = writeln!(
        out,
        "impl PropertySet for {sname} {{\n    const TYPE_NAME: &'static str = \"{name}\";\n    \
         fn set_property(&mut self, name: &str, r: &mut XmlReader<'_>) -> Result<bool, DecodeError> {{"
    );
    if fields.is_empty() {
        match base {
            Some(_) => out.push_str("        self.base.set_property(name, r)\n    }\n}\n"),
            None => out.push_str("        let _ = (name, r);\n        Ok(false)\n    }\n}\n"),
        }
        return;
    }
    out.push_str("        match name {\n");
    for (p, rn, _) in &fields {
        let how = if p.array {
            "property_array_into"
        } else {
            "property_into"
        };
        let _ = writeln!(
            out,
            "            \"{}\" => {how}(r, &mut self.{rn})?,",
            p.name
        );
    }
    match base {
        Some(_) => out.push_str("            _ => return self.base.set_property(name, r),\n"),
        None => out.push_str("            _ => return Ok(false),\n"),
    }
    out.push_str("        }\n        Ok(true)\n    }\n}\n\n");
}

/// The Rust type of a value of `t` as seen from the `mo`/`methods` modules.
fn qualified(ctx: &Ctx, t: &TypeRef, mo: Option<&str>) -> String {
    if let Some(m) = mo {
        if ctx.m.managed_objects.contains_key(m) {
            return format!("mo::{m}");
        }
    }
    match t {
        TypeRef::Primitive(p) if *p == Primitive::AnyType => "types::Any".into(),
        TypeRef::Primitive(_) => ctx.value_type(t),
        TypeRef::Named(n) if n == "ManagedObjectReference" => "ManagedObjectReference".into(),
        TypeRef::Named(_) => format!("types::{}", ctx.value_type(t)),
    }
}

fn is_copy(t: &TypeRef) -> bool {
    matches!(
        t,
        TypeRef::Primitive(
            Primitive::Boolean
                | Primitive::Byte
                | Primitive::Short
                | Primitive::Int
                | Primitive::Long
                | Primitive::Float
                | Primitive::Double
        )
    )
}

fn param_type(ctx: &Ctx, p: &Field) -> String {
    let v = match &p.ty {
        TypeRef::Primitive(Primitive::String | Primitive::DateTime | Primitive::AnyUri)
            if !p.occurs.array() =>
        {
            "str".to_string()
        }
        t => qualified(ctx, t, None),
    };
    if p.occurs.array() {
        format!("&[{v}]")
    } else if is_copy(&p.ty) {
        if p.occurs.optional() {
            format!("Option<{v}>")
        } else {
            v
        }
    } else if p.occurs.optional() {
        format!("Option<&{v}>")
    } else {
        format!("&{v}")
    }
}

fn return_type(ctx: &Ctx, op: &Operation) -> String {
    let Some(r) = &op.returns else {
        return "()".into();
    };
    if is_task(op, r) {
        let res = match &op.task_result {
            Some(tr) => result_type(ctx, tr),
            None => "()".into(),
        };
        return format!("TaskOf<{res}>");
    }
    result_type(ctx, r)
}

fn is_task(op: &Operation, r: &Returns) -> bool {
    op.name.ends_with("_Task") && r.mo_type.as_deref() == Some("Task") && !r.occurs.array()
}

fn result_type(ctx: &Ctx, r: &Returns) -> String {
    let v = qualified(ctx, &r.ty, r.mo_type.as_deref());
    if r.occurs.array() {
        format!("Vec<{v}>")
    } else if r.occurs.optional() {
        format!("Option<{v}>")
    } else {
        v
    }
}

fn emit_op(ctx: &Ctx, op: &Operation, owner: Option<&str>, out: &mut String) {
    let fname = naming::method(&op.name);
    let params: Vec<&Field> = op.params.iter().skip(1).collect();
    let _ = writeln!(out, "    /// Calls `{}`; since {}.", op.name, op.since);
    if let Some(this) = op
        .params
        .first()
        .and_then(|p| p.mo_type.as_ref())
        .filter(|_| owner.is_none())
    {
        let _ = writeln!(out, "    ///\n    /// `this` is a `{this}`.");
    }
    for p in &params {
        let mut d = format!("`{}`: {}", p.name, p.ty.to_text());
        if let Some(m) = &p.mo_type {
            let _ = write!(d, " (a `{m}`)");
        }
        if p.occurs.optional() {
            d.push_str(", optional");
        }
        let _ = writeln!(out, "    ///\n    /// - {}", naming::doc(&d));
    }
    if let Some(tr) = &op.task_result {
        let _ = writeln!(
            out,
            "    ///\n    /// On success the task's `info.result` holds a `{}`.",
            tr.ty.to_text()
        );
    }
    if !op.faults.is_empty() {
        let _ = writeln!(
            out,
            "    ///\n    /// Declared faults: {}.",
            op.faults
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let ret = return_type(ctx, op);
    let mut sig = String::new();
    match owner {
        Some(_) => sig.push_str("&self, client: &Client"),
        None => sig.push_str("client: &Client, this: &ManagedObjectReference"),
    }
    let mut pnames = Vec::new();
    for p in &params {
        let mut n = naming::snake(&p.name);
        if n == "client" || n == "this" || n == "q" || n == "resp" {
            n.push('_');
        }
        let _ = write!(sig, ", {n}: {}", param_type(ctx, p));
        pnames.push(n);
    }
    let this = if owner.is_some() {
        "self.reference()"
    } else {
        "this"
    };
    let _ = writeln!(
        out,
        "    pub async fn {fname}({sig}) -> Result<{ret}, Error> {{"
    );
    let m = if params.is_empty() { "" } else { "mut " };
    let _ = writeln!(
        out,
        "        let {m}q = client.request(\"{}\", {this});",
        op.name
    );
    for (p, n) in params.iter().zip(&pnames) {
        let line = if p.occurs.array() {
            format!(
                "for v in {n} {{ Encode::encode(v, q.writer(), \"{}\"); }}",
                p.name
            )
        } else if p.occurs.optional() {
            let v = if is_copy(&p.ty) { "&v" } else { "v" };
            format!(
                "if let Some(v) = {n} {{ Encode::encode({v}, q.writer(), \"{}\"); }}",
                p.name
            )
        } else {
            let v = if is_copy(&p.ty) {
                format!("&{n}")
            } else {
                n.clone()
            };
            format!("Encode::encode({v}, q.writer(), \"{}\");", p.name)
        };
        let idx = ctx.since_index(&p.since);
        if idx > 0 && p.occurs.optional() {
            let _ = writeln!(out, "        if q.writer().knows({idx}) {{ {line} }}");
        } else {
            let _ = writeln!(out, "        {line}");
        }
    }
    let _ = writeln!(out, "        let resp = client.invoke(q).await?;");
    match &op.returns {
        None => out.push_str("        resp.empty()\n"),
        Some(r) => {
            let wrap = |inner: &str| -> String {
                match r
                    .mo_type
                    .as_deref()
                    .filter(|m| ctx.m.managed_objects.contains_key(*m))
                {
                    Some(m) if is_task(op, r) => format!("TaskOf::new(mo::{m}::from_ref({inner}))"),
                    Some(m) => format!("mo::{m}::from_ref({inner})"),
                    None => inner.to_string(),
                }
            };
            let is_mo = r
                .mo_type
                .as_deref()
                .is_some_and(|m| ctx.m.managed_objects.contains_key(m));
            if r.occurs.array() {
                if is_mo {
                    let _ = writeln!(out, "        Ok(resp.many::<ManagedObjectReference>()?.into_iter().map(|r| {}).collect())", wrap("r"));
                } else {
                    out.push_str("        resp.many()\n");
                }
            } else if r.occurs.optional() {
                if is_mo {
                    let _ = writeln!(
                        out,
                        "        Ok(resp.opt::<ManagedObjectReference>()?.map(|r| {}))",
                        wrap("r")
                    );
                } else {
                    out.push_str("        resp.opt()\n");
                }
            } else if is_mo {
                let _ = writeln!(
                    out,
                    "        Ok({})",
                    wrap("resp.one::<ManagedObjectReference>()?")
                );
            } else {
                out.push_str("        resp.one()\n");
            }
        }
    }
    out.push_str("    }\n");
}
