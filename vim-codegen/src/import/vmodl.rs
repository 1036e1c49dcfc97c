//! Managed-object facts (`managed-objects.json`): managed object types, their properties, and
//! which managed object owns each operation.
//!
//! Rules:
//! - A managed object introduced after the model's release (compared at the release's
//!   precision, so `8.0.2.0` counts as 8.0) is left out; so is a property introduced after it,
//!   or whose type the model does not have. A property whose type is a managed object type
//!   becomes a `ManagedObjectReference` with `mo_type` set. Property and managed-object
//!   `since` values are the facts' own (trailing `.0`s dropped; an empty one inherits the
//!   managed object's).
//! - Methods join operations on the wire name; methods the WSDL set lacks are ignored, and
//!   operations no method names keep `owner: None`. A joined operation gets its `owner`,
//!   `_this` gets `mo_type` = the owner, and parameters and results that the facts type as a
//!   managed object get `mo_type` (only where the WSDL types them `ManagedObjectReference`).
//!   `task_result` comes from the method's `task_result` when its type is known to the model.
//! - `since` of operations and parameters: the WSDL comparison gives a window (e.g. "8.0" =
//!   after 5.5, by 8.0). If the facts name a release inside that window, that finer release is
//!   kept; a release outside it contradicts the WSDL sets, which win. A parameter without a
//!   finer fact of its own that came with the operation (same WSDL `since`) takes the
//!   operation's finer release (`_this` always does, as the facts do not list it).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::Value;

use super::error::ImportError;
use super::since::{finer, is_after, normalize};
use crate::model::{ManagedObject, Model, Occurs, Primitive, Property, Returns, TypeRef};

const MOREF: &str = "ManagedObjectReference";

/// Adds the managed-object facts in `json` to `model` (see the module documentation).
pub fn apply_vmodl(model: &mut Model, json: &Path) -> Result<(), ImportError> {
    let text = std::fs::read_to_string(json)
        .map_err(|e| ImportError::in_file(json, format!("cannot read: {e}")))?;
    let root: Value = serde_json::from_str(&text).map_err(|e| ImportError {
        file: json.to_path_buf(),
        line: Some(e.line()),
        column: Some(e.column()),
        message: e.to_string(),
    })?;
    apply_value(model, &root).map_err(|m| ImportError::in_file(json, m))
}

/// Adds already parsed managed-object facts to `model`.
pub fn apply_value(model: &mut Model, root: &Value) -> Result<(), String> {
    let mos = root
        .get("managed_objects")
        .and_then(Value::as_array)
        .ok_or("no `managed_objects` array")?;
    let mo_names: HashSet<&str> = mos
        .iter()
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .collect();
    let release = model.release.clone();
    let mut out = BTreeMap::new();
    for mo in mos {
        let name = str_field(mo, "name", "managed object")?;
        let since = normalize(str_field(mo, "since", name)?);
        if is_after(&since, &release) {
            continue;
        }
        let base = mo.get("base").and_then(Value::as_str).map(str::to_string);
        let mut properties = Vec::new();
        for p in array_field(mo, "properties", name)? {
            let pname = str_field(p, "name", name)?;
            let what = format!("{name}.{pname}");
            let psince = match normalize(str_field(p, "since", &what)?) {
                s if s.is_empty() => since.clone(),
                s => s,
            };
            if is_after(&psince, &release) {
                continue;
            }
            let Some((ty, mo_type)) = type_of(model, &mo_names, str_field(p, "type", &what)?)
            else {
                continue;
            };
            properties.push(Property {
                name: pname.to_string(),
                ty,
                array: bool_field(p, "array"),
                optional: bool_field(p, "optional"),
                mo_type,
                since: psince,
            });
        }
        properties.sort_by(|a, b| a.name.cmp(&b.name));
        for m in array_field(mo, "methods", name)? {
            join_method(model, &mo_names, name, m)?;
        }
        out.insert(
            name.to_string(),
            ManagedObject {
                name: name.to_string(),
                base,
                properties,
                since,
            },
        );
    }
    model.managed_objects = out;
    Ok(())
}

fn join_method(
    model: &mut Model,
    mo_names: &HashSet<&str>,
    owner: &str,
    method: &Value,
) -> Result<(), String> {
    let wire = str_field(method, "name", owner)?;
    let what = format!("{owner}.{wire}");
    let task_result = match method.get("task_result") {
        Some(t) if !t.is_null() => {
            let ty = str_field(t, "type", &what)?;
            type_of(model, mo_names, ty).map(|(ty, mo_type)| Returns {
                ty,
                occurs: occurs_of(bool_field(t, "array")),
                mo_type,
            })
        }
        _ => None,
    };
    let compared = model.compared.clone();
    let Some(op) = model.operations.get_mut(wire) else {
        return Ok(());
    };
    op.owner = Some(owner.to_string());
    op.task_result = task_result;
    let coarse = op.since.clone();
    if let Some(fine) = finer(&coarse, &compared, str_field(method, "since", &what)?) {
        op.since = fine;
    }
    if let Some(this) = op.params.first_mut() {
        if this.name == "_this" {
            this.mo_type = Some(owner.to_string());
        }
    }
    let facts = array_field(method, "params", &what)?;
    for param in &mut op.params {
        let fact = facts
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(param.name.as_str()));
        let psince = fact
            .and_then(|p| p.get("since"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(fine) = finer(&param.since, &compared, psince) {
            param.since = fine;
        } else if param.since == coarse {
            param.since = op.since.clone();
        }
        let Some(fact) = fact else { continue };
        let ty = str_field(fact, "type", &what)?;
        if mo_names.contains(ty) && param.ty == TypeRef::Named(MOREF.into()) {
            param.mo_type = Some(ty.to_string());
        }
    }
    if let (Some(ret), Some(jret)) = (op.returns.as_mut(), method.get("returns")) {
        if let Some(ty) = jret.get("type").and_then(Value::as_str) {
            if mo_names.contains(ty) && ret.ty == TypeRef::Named(MOREF.into()) {
                ret.mo_type = Some(ty.to_string());
            }
        }
    }
    Ok(())
}

/// The model type for a facts type name, and the managed object type for a reference; `None`
/// when the model has no such type.
fn type_of(
    model: &Model,
    mo_names: &HashSet<&str>,
    name: &str,
) -> Option<(TypeRef, Option<String>)> {
    if mo_names.contains(name) {
        return Some((TypeRef::Named(MOREF.into()), Some(name.to_string())));
    }
    if let Some(p) = Primitive::from_xsd_name(name) {
        return Some((TypeRef::Primitive(p), None));
    }
    let known = model.types.contains_key(name)
        || model.enums.contains_key(name)
        || model.arrays.contains_key(name);
    known.then(|| (TypeRef::Named(name.to_string()), None))
}

fn occurs_of(array: bool) -> Occurs {
    if array {
        Occurs { min: 0, max: None }
    } else {
        Occurs::ONE
    }
}

fn str_field<'v>(v: &'v Value, key: &str, what: &str) -> Result<&'v str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing string `{key}`"))
}

fn array_field<'v>(v: &'v Value, key: &str, what: &str) -> Result<&'v [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{what}: `{key}` is not an array")),
    }
}

fn bool_field(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}
