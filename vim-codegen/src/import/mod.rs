//! Builds the [`Model`] from VMware's WSDL sets and managed-object facts.
//!
//! - [`import_wsdl`] reads one WSDL set, starting from `vimService.wsdl` and following
//!   `import`/`include` locations (modules `load`, `xml`, `wsdl`, `xsd`, `build`).
//! - [`merge_since`] compares several releases' models to find first-seen releases
//!   (module `since`).
//! - [`apply_vmodl`] adds managed objects and operation owners (module `vmodl`).
//! - [`import_release_set`] does all three.

mod build;
mod error;
mod load;
mod raw;
mod reference;
pub mod since;
mod vmodl;
mod wsdl;
mod xml;
mod xsd;

use std::path::Path;

pub use error::ImportError;
pub use reference::import_with_reference;
pub use since::merge_since;
pub use vmodl::{apply_value, apply_vmodl};

use crate::model::Model;

/// The entry file of a WSDL set.
pub const ENTRY_FILE: &str = "vimService.wsdl";

/// Imports the WSDL set in `dir` (entry file `vimService.wsdl`) as the model of `release`:
/// every `since` is `release` and `compared` is `[release]`.
pub fn import_wsdl(dir: &Path, release: &str) -> Result<Model, ImportError> {
    import_wsdl_file(&dir.join(ENTRY_FILE), release)
}

/// Like [`import_wsdl`], starting from the given entry file.
pub fn import_wsdl_file(entry: &Path, release: &str) -> Result<Model, ImportError> {
    let set = load::load_set(entry)?;
    build::build_model(&set, release)
}

/// Imports WSDL sets `dirs` (release, directory), oldest first, the last being the release the
/// model describes; merges first-seen releases; then applies the managed-object facts in
/// `vmodl`, if given.
pub fn import_release_set(
    dirs: &[(&str, &Path)],
    vmodl: Option<&Path>,
) -> Result<Model, ImportError> {
    let Some(((newest_release, newest_dir), older_dirs)) = dirs.split_last() else {
        return Err(ImportError::in_file(Path::new(""), "no WSDL set given"));
    };
    let older = older_dirs
        .iter()
        .map(|(release, dir)| import_wsdl(dir, release))
        .collect::<Result<Vec<_>, _>>()?;
    let mut model = import_wsdl(newest_dir, newest_release)?;
    let older_refs: Vec<&Model> = older.iter().collect();
    merge_since(&mut model, &older_refs);
    if let Some(json) = vmodl {
        apply_vmodl(&mut model, json)?;
    }
    Ok(model)
}
