//! Importing a single WSDL set (a user's `VIM_WSDL_DIR`) with the facts the WSDL lacks taken
//! from a reference model (the committed one): first-seen releases and managed objects.

use std::path::Path;

use super::{import_wsdl, ImportError};
use crate::model::{Model, Since};
use crate::release::release_key;

/// Imports the WSDL set in `dir` and fills, for every name the `reference` model also has, the
/// first-seen release (never later than this set's own release), operation owners, task result
/// types and managed-object references; managed object types come from `reference`.
///
/// The set's release is `VIM_WSDL_RELEASE` if set, else taken from a directory name ending in
/// `-X.Y` (e.g. `vim25-6.7`), else the reference's release.
pub fn import_with_reference(dir: &Path, reference: &Model) -> Result<Model, ImportError> {
    let release = std::env::var("VIM_WSDL_RELEASE")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| {
            dir.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.rsplit_once('-'))
                .map(|(_, v)| v.to_string())
                .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .unwrap_or_else(|| reference.release.clone())
        });
    let mut m = import_wsdl(dir, &release)?;
    let mut compared = reference.compared.clone();
    if !compared.contains(&release) {
        compared.push(release.clone());
        compared.sort_by_key(|v| release_key(v));
    }
    m.compared = compared;
    let cap = |s: &Since| -> Since {
        if release_key(s) > release_key(&release) {
            release.clone()
        } else {
            s.clone()
        }
    };
    for t in m.types.values_mut() {
        if let Some(r) = reference.types.get(&t.name) {
            t.since = cap(&r.since);
            for f in &mut t.fields {
                if let Some(rf) = r.fields.iter().find(|x| x.name == f.name) {
                    f.since = cap(&rf.since);
                    f.mo_type.clone_from(&rf.mo_type);
                }
            }
        }
    }
    for a in m.arrays.values_mut() {
        if let Some(r) = reference.arrays.get(&a.name) {
            a.since = cap(&r.since);
        }
    }
    for e in m.enums.values_mut() {
        if let Some(r) = reference.enums.get(&e.name) {
            e.since = cap(&r.since);
            for v in &mut e.values {
                if let Some(rv) = r.values.iter().find(|x| x.name == v.name) {
                    v.since = cap(&rv.since);
                }
            }
        }
    }
    for o in m.operations.values_mut() {
        if let Some(r) = reference.operations.get(&o.name) {
            o.since = cap(&r.since);
            o.owner.clone_from(&r.owner);
            o.task_result.clone_from(&r.task_result);
            for p in &mut o.params {
                if let Some(rp) = r.params.iter().find(|x| x.name == p.name) {
                    p.since = cap(&rp.since);
                    p.mo_type.clone_from(&rp.mo_type);
                }
            }
            if let (Some(ret), Some(rr)) = (&mut o.returns, &r.returns) {
                ret.mo_type.clone_from(&rr.mo_type);
            }
        }
    }
    m.managed_objects = reference.managed_objects.clone();
    Ok(m)
}
