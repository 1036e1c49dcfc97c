//! What the importer collects from a WSDL set before building the model: named schema types,
//! enums, global elements, messages and portType operations, each remembering where it was
//! declared.

use std::collections::HashMap;
use std::rc::Rc;

use super::error::ImportError;
use super::xml::{Document, ResolvedName};
use crate::model::Origin;

/// Where a declaration is: index of the document in [`RawSet::docs`] and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Index into [`RawSet::docs`].
    pub doc: usize,
    /// Byte offset in that document.
    pub pos: usize,
}

/// One `<element>` of a sequence.
#[derive(Debug, Clone)]
pub struct RawField {
    /// Element name.
    pub name: String,
    /// Resolved `type`.
    pub ty: ResolvedName,
    /// `minOccurs` (default 1).
    pub min: u32,
    /// `maxOccurs` (default 1), `None` for `unbounded`.
    pub max: Option<u32>,
    /// Where it is declared.
    pub place: Place,
}

/// A complex type's content: a base (if any) and its own sequence.
#[derive(Debug, Clone, Default)]
pub struct RawContent {
    /// `complexContent/extension/@base`.
    pub base: Option<ResolvedName>,
    /// True for `simpleContent` (text with attributes, like `ManagedObjectReference`).
    pub simple: bool,
    /// Own sequence elements in order.
    pub fields: Vec<RawField>,
}

/// A named `complexType`.
#[derive(Debug, Clone)]
pub struct RawComplex {
    /// Qualified name.
    pub name: ResolvedName,
    /// Its content.
    pub content: RawContent,
    /// Origin, from the declaring file.
    pub origin: Origin,
    /// Where it is declared.
    pub place: Place,
}

/// A named `simpleType` enumeration.
#[derive(Debug, Clone)]
pub struct RawEnum {
    /// Qualified name.
    pub name: ResolvedName,
    /// Values in order.
    pub values: Vec<String>,
    /// Origin, from the declaring file.
    pub origin: Origin,
    /// Where it is declared.
    pub place: Place,
}

/// A global `<element>`: either typed by name or with an anonymous complex type.
#[derive(Debug, Clone)]
pub struct RawElement {
    /// `type`, if given.
    pub ty: Option<ResolvedName>,
    /// Content of an inline anonymous `complexType`, if given.
    pub inline: Option<RawContent>,
    /// Where it is declared.
    pub place: Place,
}

/// A portType operation.
#[derive(Debug, Clone)]
pub struct RawPortOp {
    /// Operation name.
    pub name: String,
    /// Input message.
    pub input: Option<ResolvedName>,
    /// Output message.
    pub output: Option<ResolvedName>,
    /// Fault messages in order.
    pub faults: Vec<ResolvedName>,
    /// Where it is declared.
    pub place: Place,
}

/// Everything collected from one WSDL set.
#[derive(Debug, Default)]
pub struct RawSet {
    /// Every document read, in the order first reached.
    pub docs: Vec<Rc<Document>>,
    /// Named complex types in declaration order.
    pub complex: Vec<RawComplex>,
    /// Named simple types in declaration order.
    pub enums: Vec<RawEnum>,
    /// Global elements by name.
    pub elements: HashMap<ResolvedName, RawElement>,
    /// Messages by name: the element of their (first) part, and where declared.
    pub messages: HashMap<ResolvedName, (ResolvedName, Place)>,
    /// portType operations in declaration order (each name once).
    pub port_ops: Vec<RawPortOp>,
    /// Target namespaces of all schemas read.
    pub schema_namespaces: Vec<String>,
}

impl RawSet {
    /// An error at `place`.
    pub fn error(&self, place: Place, message: impl Into<String>) -> ImportError {
        self.docs[place.doc].error(place.pos, message)
    }
}
