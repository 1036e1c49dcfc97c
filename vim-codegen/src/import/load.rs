//! Walks a WSDL set from its entry file: follows WSDL `import/@location` and XML Schema
//! `include`/`import` `@schemaLocation` (relative to the file that names them), reads each file
//! once, and hands its document element to the WSDL or XML Schema reader.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::ImportError;
use super::raw::{Place, RawSet};
use super::xml::Document;
use super::{wsdl, xsd};

/// The WSDL 1.1 namespace.
pub const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
/// The XML Schema namespace.
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// Reads the WSDL set whose entry file is `entry` (normally `vimService.wsdl`).
pub fn load_set(entry: &Path) -> Result<RawSet, ImportError> {
    let mut loader = Loader {
        set: RawSet::default(),
        seen: HashSet::new(),
    };
    loader.visit(entry, None)?;
    Ok(loader.set)
}

/// The walk in progress.
pub struct Loader {
    /// What has been collected so far.
    pub set: RawSet,
    seen: HashSet<PathBuf>,
}

impl Loader {
    /// Reads `location`, relative to the document at `from` (or as given for the entry file),
    /// unless it was read already.
    pub fn visit_relative(&mut self, from: Place, location: &str) -> Result<(), ImportError> {
        let base = self.set.docs[from.doc].path.parent().map(Path::to_path_buf);
        let path = match base {
            Some(dir) => dir.join(location),
            None => PathBuf::from(location),
        };
        self.visit(&path, Some(from))
    }

    fn visit(&mut self, path: &Path, from: Option<Place>) -> Result<(), ImportError> {
        let key = std::fs::canonicalize(path).map_err(|e| {
            let message = format!("cannot open {}: {e}", path.display());
            match from {
                Some(place) => self.set.error(place, message),
                None => ImportError::in_file(path, message),
            }
        })?;
        if !self.seen.insert(key) {
            return Ok(());
        }
        let doc = Rc::new(Document::load(path)?);
        let idx = self.set.docs.len();
        self.set.docs.push(Rc::clone(&doc));
        let root = &doc.root;
        if root.is(WSDL_NS, "definitions") {
            wsdl::read_definitions(self, idx, root)
        } else if root.is(XSD_NS, "schema") {
            xsd::read_schema(self, idx, root)
        } else {
            Err(doc.error(
                root.pos,
                format!(
                    "expected wsdl:definitions or xsd:schema, found {{{}}}{}",
                    root.name.ns, root.name.local
                ),
            ))
        }
    }
}
