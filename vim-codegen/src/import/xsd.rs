//! Reads XML Schema documents (standalone `.xsd` files and the `<schema>` inside a WSDL's
//! `<types>`): named complex types, enumerations, global elements, and the files they include
//! or import.
//!
//! Only the constructs the vim25 schema uses are accepted: `sequence` of typed `element`s,
//! `complexContent/extension`, `simpleContent/extension` (attributes are ignored there) and
//! `simpleType/restriction/enumeration`. Anything else is an [`ImportError`] rather than a
//! silently wrong model.

use std::path::Path;

use super::error::ImportError;
use super::load::{Loader, XSD_NS};
use super::raw::{Place, RawComplex, RawContent, RawElement, RawEnum, RawField};
use super::xml::{Document, Element, ResolvedName};
use crate::model::Origin;

/// Reads one `<schema>` element of document `doc` into the loader's set.
pub fn read_schema(loader: &mut Loader, doc: usize, schema: &Element) -> Result<(), ImportError> {
    let document = std::rc::Rc::clone(&loader.set.docs[doc]);
    let target = schema.attr("targetNamespace").unwrap_or("").to_string();
    if !loader.set.schema_namespaces.contains(&target) {
        loader.set.schema_namespaces.push(target.clone());
    }
    let origin = origin_of(&document.path, &target);
    for child in &schema.children {
        let place = Place {
            doc,
            pos: child.pos,
        };
        if child.name.ns != XSD_NS {
            return Err(unsupported(&document, child));
        }
        match child.name.local.as_str() {
            "include" | "import" => {
                if let Some(location) = child.attr("schemaLocation") {
                    loader.visit_relative(place, location)?;
                }
            }
            "complexType" => {
                let name = required(&document, child, "name")?;
                let content = read_content(&document, doc, child)?;
                loader.set.complex.push(RawComplex {
                    name: ResolvedName {
                        ns: target.clone(),
                        local: name.to_string(),
                    },
                    content,
                    origin,
                    place,
                });
            }
            "simpleType" => {
                let name = required(&document, child, "name")?;
                let values = read_enumeration(&document, child)?;
                loader.set.enums.push(RawEnum {
                    name: ResolvedName {
                        ns: target.clone(),
                        local: name.to_string(),
                    },
                    values,
                    origin,
                    place,
                });
            }
            "element" => {
                let name = ResolvedName {
                    ns: target.clone(),
                    local: required(&document, child, "name")?.to_string(),
                };
                let element = read_global_element(&document, doc, child)?;
                if loader.set.elements.insert(name.clone(), element).is_some() {
                    return Err(document.error(
                        child.pos,
                        format!("element `{}` is declared twice", name.local),
                    ));
                }
            }
            "annotation" => {}
            _ => return Err(unsupported(&document, child)),
        }
    }
    Ok(())
}

/// The origin of the types a file declares: from its name (`core-types.xsd` → core,
/// `vim-messagetypes.xsd` → vim, ...), else `reflect` for namespace `urn:reflect` and `vim`
/// for anything else.
fn origin_of(path: &Path, target_namespace: &str) -> Origin {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let first = stem.split(['-', '_', '.']).next().unwrap_or("");
    Origin::from_text(first).unwrap_or(if target_namespace == "urn:reflect" {
        Origin::Reflect
    } else {
        Origin::Vim
    })
}

fn read_global_element(
    doc: &Document,
    doc_idx: usize,
    el: &Element,
) -> Result<RawElement, ImportError> {
    let place = Place {
        doc: doc_idx,
        pos: el.pos,
    };
    let mut inline = None;
    for child in &el.children {
        if child.is(XSD_NS, "complexType") {
            inline = Some(read_content(doc, doc_idx, child)?);
        } else if !child.is(XSD_NS, "annotation") {
            return Err(unsupported(doc, child));
        }
    }
    let ty = el.qname_attr("type").cloned();
    if ty.is_none() && inline.is_none() {
        return Err(doc.error(
            el.pos,
            "element has neither a type nor an inline complexType",
        ));
    }
    Ok(RawElement { ty, inline, place })
}

fn read_content(
    doc: &Document,
    doc_idx: usize,
    complex: &Element,
) -> Result<RawContent, ImportError> {
    let mut content = RawContent::default();
    for child in &complex.children {
        match (child.name.ns.as_str(), child.name.local.as_str()) {
            (XSD_NS, "annotation") => {}
            (XSD_NS, "sequence") => content.fields = read_sequence(doc, doc_idx, child)?,
            (XSD_NS, "complexContent") => {
                let ext = only_extension(doc, child)?;
                content.base = Some(
                    ext.qname_attr("base")
                        .cloned()
                        .ok_or_else(|| doc.error(ext.pos, "extension without base"))?,
                );
                for part in &ext.children {
                    if part.is(XSD_NS, "sequence") {
                        content.fields = read_sequence(doc, doc_idx, part)?;
                    } else if !part.is(XSD_NS, "annotation") {
                        return Err(unsupported(doc, part));
                    }
                }
            }
            (XSD_NS, "simpleContent") => {
                let ext = only_extension(doc, child)?;
                for part in &ext.children {
                    if !(part.is(XSD_NS, "attribute") || part.is(XSD_NS, "annotation")) {
                        return Err(unsupported(doc, part));
                    }
                }
                content.simple = true;
            }
            _ => return Err(unsupported(doc, child)),
        }
    }
    Ok(content)
}

fn only_extension<'e>(doc: &Document, el: &'e Element) -> Result<&'e Element, ImportError> {
    let mut found = None;
    for child in &el.children {
        if child.is(XSD_NS, "extension") && found.is_none() {
            found = Some(child);
        } else if !child.is(XSD_NS, "annotation") {
            return Err(unsupported(doc, child));
        }
    }
    found.ok_or_else(|| doc.error(el.pos, "expected an <extension>"))
}

fn read_sequence(
    doc: &Document,
    doc_idx: usize,
    seq: &Element,
) -> Result<Vec<RawField>, ImportError> {
    let mut fields = Vec::new();
    for child in &seq.children {
        if child.is(XSD_NS, "annotation") {
            continue;
        }
        if !child.is(XSD_NS, "element") {
            return Err(unsupported(doc, child));
        }
        if child.attr("ref").is_some() || !child.children.is_empty() {
            return Err(doc.error(
                child.pos,
                "only elements with a name and a type attribute are supported in a sequence",
            ));
        }
        let name = required(doc, child, "name")?.to_string();
        let ty = child
            .qname_attr("type")
            .cloned()
            .ok_or_else(|| doc.error(child.pos, format!("element `{name}` has no type")))?;
        let min = match child.attr("minOccurs") {
            None => 1,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| doc.error(child.pos, format!("bad minOccurs \"{v}\"")))?,
        };
        let max = match child.attr("maxOccurs").map(str::trim) {
            None => Some(1),
            Some("unbounded") => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| doc.error(child.pos, format!("bad maxOccurs \"{v}\"")))?,
            ),
        };
        fields.push(RawField {
            name,
            ty,
            min,
            max,
            place: Place {
                doc: doc_idx,
                pos: child.pos,
            },
        });
    }
    Ok(fields)
}

fn read_enumeration(doc: &Document, simple: &Element) -> Result<Vec<String>, ImportError> {
    let mut values = Vec::new();
    let mut restriction = false;
    for child in &simple.children {
        if child.is(XSD_NS, "annotation") {
            continue;
        }
        if !child.is(XSD_NS, "restriction") || restriction {
            return Err(unsupported(doc, child));
        }
        restriction = true;
        for value in &child.children {
            if value.is(XSD_NS, "enumeration") {
                values.push(required(doc, value, "value")?.to_string());
            } else if !value.is(XSD_NS, "annotation") {
                return Err(unsupported(doc, value));
            }
        }
    }
    if !restriction {
        return Err(doc.error(simple.pos, "simpleType without a restriction"));
    }
    Ok(values)
}

fn required<'e>(doc: &Document, el: &'e Element, attr: &str) -> Result<&'e str, ImportError> {
    el.attr(attr).ok_or_else(|| {
        doc.error(
            el.pos,
            format!("<{}> without the `{attr}` attribute", el.name.local),
        )
    })
}

/// The error for a construct the importer does not handle.
pub fn unsupported(doc: &Document, el: &Element) -> ImportError {
    doc.error(
        el.pos,
        format!(
            "unsupported <{}> (namespace `{}`)",
            el.name.local, el.name.ns
        ),
    )
}
