//! A small XML tree with namespaces resolved, built with quick-xml's `NsReader`.
//!
//! Element names are resolved to (namespace, local name). Attribute values that XML Schema and
//! WSDL define as qualified names (`type`, `base`, `element`, `message`, `binding`, `ref`) are
//! resolved too, with the prefixes in scope at that element, so `vim25:Foo`, `v:Foo` and an
//! unprefixed `Foo` under a default namespace all come out the same.

use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::NsReader;

use super::error::ImportError;

/// A name resolved against the namespace bindings in scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolvedName {
    /// Namespace URI; empty when the name is in no namespace.
    pub ns: String,
    /// Local part.
    pub local: String,
}

/// One attribute (namespace declarations are not kept).
#[derive(Debug, Clone)]
pub struct Attr {
    /// Local name of the attribute (`type`, `minOccurs`).
    pub name: String,
    /// Unescaped value.
    pub value: String,
    /// The value resolved as a qualified name, for the attributes whose value is one.
    pub qname: Option<ResolvedName>,
}

/// One element with its attributes and child elements (text content is dropped).
#[derive(Debug, Clone)]
pub struct Element {
    /// Resolved element name.
    pub name: ResolvedName,
    /// Attributes in document order.
    pub attrs: Vec<Attr>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Byte offset of the start tag in the file.
    pub pos: usize,
}

impl Element {
    /// True if this element is `local` in namespace `ns`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.name.ns == ns && self.name.local == local
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The resolved qualified-name value of attribute `name`, if present.
    pub fn qname_attr(&self, name: &str) -> Option<&ResolvedName> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.qname.as_ref())
    }
}

/// A parsed file: its path, its text (for positions in errors) and its root element.
#[derive(Debug)]
pub struct Document {
    /// Where it was read from.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
    /// The document element.
    pub root: Element,
}

impl Document {
    /// An error at byte offset `pos` of this document.
    pub fn error(&self, pos: usize, message: impl Into<String>) -> ImportError {
        ImportError::at(&self.path, &self.text, pos, message)
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Document, ImportError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ImportError::in_file(path, format!("cannot read: {e}")))?;
        Document::parse(path, text)
    }

    /// Parses `text`, the contents of `path`.
    pub fn parse(path: &Path, text: String) -> Result<Document, ImportError> {
        let root = parse_tree(path, &text)?;
        Ok(Document {
            path: path.to_path_buf(),
            text,
            root,
        })
    }
}

/// Attributes whose values are qualified names.
const QNAME_ATTRS: [&str; 6] = ["type", "base", "element", "message", "binding", "ref"];

fn parse_tree(path: &Path, text: &str) -> Result<Element, ImportError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ImportError::at(path, text, reader.error_position() as usize, e.to_string())
        })?;
        match event {
            Event::Start(start) => {
                let el = element(path, text, &reader, &start, pos)?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = element(path, text, &reader, &start, pos)?;
                attach(path, text, &mut stack, &mut root, el, pos)?;
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| ImportError::at(path, text, pos, "unexpected end tag"))?;
                attach(path, text, &mut stack, &mut root, el, pos)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(ImportError::at(
            path,
            text,
            text.len(),
            "unclosed element at end of file",
        ));
    }
    root.ok_or_else(|| ImportError::in_file(path, "no document element"))
}

fn attach(
    path: &Path,
    text: &str,
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
    pos: usize,
) -> Result<(), ImportError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => {
            return Err(ImportError::at(
                path,
                text,
                pos,
                "more than one document element",
            ))
        }
    }
    Ok(())
}

fn element(
    path: &Path,
    text: &str,
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    pos: usize,
) -> Result<Element, ImportError> {
    let err = |m: String| ImportError::at(path, text, pos, m);
    let (ns, local) = reader.resolve_element(start.name());
    let name = ResolvedName {
        ns: namespace(ns, start.name()).map_err(&err)?,
        local: utf8(local.as_ref()).map_err(&err)?,
    };
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| err(e.to_string()))?;
        if a.key.as_namespace_binding().is_some() {
            continue;
        }
        let attr_name = utf8(a.key.local_name().as_ref()).map_err(&err)?;
        let value = a
            .unescape_value()
            .map_err(|e| err(e.to_string()))?
            .into_owned();
        let qname = if QNAME_ATTRS.contains(&attr_name.as_str()) {
            let value_name = QName(value.trim().as_bytes());
            let (vns, vlocal) = reader.resolve(value_name, false);
            let ns = namespace(vns, value_name)
                .map_err(|m| err(format!("attribute {attr_name}=\"{value}\": {m}")))?;
            Some(ResolvedName {
                ns,
                local: utf8(vlocal.as_ref()).map_err(&err)?,
            })
        } else {
            None
        };
        attrs.push(Attr {
            name: attr_name,
            value,
            qname,
        });
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        pos,
    })
}

fn namespace(result: ResolveResult<'_>, name: QName<'_>) -> Result<String, String> {
    match result {
        ResolveResult::Bound(ns) => utf8(ns.as_ref()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(prefix) => Err(format!(
            "namespace prefix `{}` of `{}` is not declared",
            String::from_utf8_lossy(&prefix),
            String::from_utf8_lossy(name.as_ref())
        )),
    }
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| "name is not valid UTF-8".to_string())
}
