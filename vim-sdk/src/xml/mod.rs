//! The XML codec the generated bindings are written against.
//!
//! Decoding is a pull parser over [`quick_xml`] ([`XmlReader`]): each generated type reads its
//! own child elements by local name, unknown elements are skipped, `xsi:type` and `xsi:nil` are
//! resolved through the namespace declarations in scope (never by assuming a prefix), and depth
//! and size are bounded. Encoding ([`XmlWriter`]) appends to a byte buffer. Neither is generic
//! over the types it handles, so thousands of generated types stay cheap to compile.

mod error;
#[cfg(test)]
mod in_place_tests;
mod names;
mod reader;
mod values;
mod writer;

pub use error::{DecodeError, DecodeErrorInfo, DecodeErrorKind};
pub use names::NameTable;
pub use reader::{
    Limits, NextChunk, TypeLookup, TypeNs, XmlReader, XsiType, DEFAULT_COST_PER_BYTE,
};
pub use values::ManagedObjectReference;
pub use writer::XmlWriter;

/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The XML Schema namespace (`xsd:string`, ...).
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// The vim25 namespace.
pub const VIM25_NS: &str = "urn:vim25";

/// A value that can be read from the element the reader has just entered.
pub trait Decode: Sized {
    /// Reads the value from the current element (its start tag already consumed) through its
    /// end tag.
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError>;
}

/// A value that can be written as an element.
pub trait Encode {
    /// Writes `<name>...</name>` (with `xsi:type` where the value's type needs stating).
    fn encode(&self, w: &mut XmlWriter, name: &str);
}

/// The field reader of a data object (object-safe, so the runtime's loop over child elements
/// is not generic).
///
/// Reading only: every type decoded through `dyn Fields` has a vtable, each function pointer
/// in it a load-time relocation in a position-independent executable, and each function it
/// names linked into every binary that can decode the type. Writing and the type's name are
/// in [`DataObject`], called statically. Not a `Debug` subtrait for the same reason.
pub trait Fields {
    /// Reads the child element `name` into the matching field; `Ok(false)` if no field matches.
    fn read_field(&mut self, r: &mut XmlReader<'_>, name: &[u8]) -> Result<bool, DecodeError>;
}

/// A data object type: a struct with [`Fields`], a `Default` to decode into, its wire name and
/// its field writer.
pub trait DataObject: Fields + Default {
    /// The wire name of the type.
    const TYPE_NAME: &'static str;
    /// Writes all fields, inherited ones first, in schema order.
    fn write_fields(&self, w: &mut XmlWriter);
}

impl<T: DataObject> Decode for T {
    // One copy per type, not one per caller (`boxed`, `items`, `req_into`, ...): binary size.
    #[inline(never)]
    fn decode(r: &mut XmlReader<'_>) -> Result<Self, DecodeError> {
        r.charge(std::mem::size_of::<T>())?;
        let mut v = T::default();
        r.read_fields(&mut v)?;
        Ok(v)
    }
}

impl<T: DataObject> Encode for T {
    fn encode(&self, w: &mut XmlWriter, name: &str) {
        w.start(name, None);
        self.write_fields(w);
        w.end(name);
    }
}

/// Decodes a value of type `T` from a standalone document whose root element holds it.
/// The whole document must be there: a truncated one is an error even where the value would
/// decode.
pub fn decode_document<T: Decode>(xml: &[u8]) -> Result<T, DecodeError> {
    let mut r = XmlReader::from_slice(xml);
    r.enter_root()?;
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Encodes a value as a standalone document with root element `name` (namespaces declared).
pub fn encode_document(value: &dyn Encode, name: &str) -> Vec<u8> {
    let mut w = XmlWriter::new();
    w.declare_namespaces_on_next();
    value.encode(&mut w, name);
    w.into_bytes()
}

/// Reads a required value; `xsi:nil` gives the default.
#[inline]
pub fn req<T: Decode + Default>(r: &mut XmlReader<'_>) -> Result<T, DecodeError> {
    if r.is_nil() {
        r.skip()?;
        Ok(T::default())
    } else {
        T::decode(r)
    }
}

/// Reads a required value into `slot` (in place, so callers keep small stack frames).
#[inline(never)]
pub fn req_into<T: Decode + Default>(
    r: &mut XmlReader<'_>,
    slot: &mut T,
) -> Result<(), DecodeError> {
    *slot = req(r)?;
    Ok(())
}

/// Reads an optional value into `slot`.
#[inline(never)]
pub fn opt_into<T: Decode>(r: &mut XmlReader<'_>, slot: &mut Option<T>) -> Result<(), DecodeError> {
    *slot = opt(r)?;
    Ok(())
}

/// Reads an optional value into a boxed `slot`.
pub fn opt_box_into<T: Decode>(
    r: &mut XmlReader<'_>,
    slot: &mut Option<Box<T>>,
) -> Result<(), DecodeError> {
    *slot = opt(r)?.map(Box::new);
    Ok(())
}

/// Reads a data object into a new box, decoded in place (not built on the stack and copied).
/// Inlined into its one caller per type (`AnyData`'s decoder of the type): binary size.
#[inline]
pub fn boxed<T: DataObject>(r: &mut XmlReader<'_>) -> Result<Box<T>, DecodeError> {
    let mut b = Box::<T>::default();
    read_object(r, &mut *b)?;
    Ok(b)
}

/// Charges the object's size to the reader's cost budget, then reads its fields in place.
fn read_object(r: &mut XmlReader<'_>, obj: &mut dyn Fields) -> Result<(), DecodeError> {
    r.charge(std::mem::size_of_val(obj))?;
    r.read_fields(obj)
}

/// Reads a required data-object field in place (not generic: one function for every type).
/// `xsi:nil` leaves the field as it is (its default, unless the element came twice: a
/// repeated element's fields are read into the same value).
pub fn req_obj(r: &mut XmlReader<'_>, slot: &mut dyn Fields) -> Result<(), DecodeError> {
    if r.is_nil() {
        r.skip()
    } else {
        read_object(r, slot)
    }
}

/// Reads an optional data-object field in place; `xsi:nil` gives `None`.
#[inline(never)]
pub fn opt_obj<T: DataObject>(
    r: &mut XmlReader<'_>,
    slot: &mut Option<T>,
) -> Result<(), DecodeError> {
    if r.is_nil() {
        *slot = None;
        r.skip()
    } else {
        read_object(r, slot.insert(T::default()))
    }
}

/// Reads one more data object of a repeated field, in place at the end of `v` (charged like
/// [`push`]: the item's slot, then the object); an `xsi:nil` item is dropped.
#[inline(never)]
pub fn push_obj<T: DataObject>(r: &mut XmlReader<'_>, v: &mut Vec<T>) -> Result<(), DecodeError> {
    if r.is_nil() {
        return r.skip();
    }
    r.charge(std::mem::size_of::<T>())?;
    v.push(T::default());
    match v.last_mut() {
        Some(item) => read_object(r, item),
        None => Ok(()),
    }
}

/// Reads an optional value; `xsi:nil` gives `None`.
#[inline]
pub fn opt<T: Decode>(r: &mut XmlReader<'_>) -> Result<Option<T>, DecodeError> {
    if r.is_nil() {
        r.skip()?;
        Ok(None)
    } else {
        T::decode(r).map(Some)
    }
}

/// Reads one more item of a repeated field; an `xsi:nil` item is dropped. The item's slot is
/// charged to the reader's cost budget (the item's own data object, if any, is charged again
/// by its decoder: together they cover the vector's spare capacity).
#[inline]
pub fn push<T: Decode>(r: &mut XmlReader<'_>, v: &mut Vec<T>) -> Result<(), DecodeError> {
    if r.is_nil() {
        r.skip()
    } else {
        r.charge(std::mem::size_of::<T>())?;
        v.push(T::decode(r)?);
        Ok(())
    }
}

/// Reads the items of an `ArrayOf*` wrapper element (each child is one item).
pub fn items<T: Decode>(r: &mut XmlReader<'_>) -> Result<Vec<T>, DecodeError> {
    let mut out = Vec::new();
    while r.enter_child()? {
        push(r, &mut out)?;
    }
    Ok(out)
}

/// Reads the data-object items of an `ArrayOf*` wrapper element, each in place ([`push_obj`]).
pub fn obj_items<T: DataObject>(r: &mut XmlReader<'_>) -> Result<Vec<T>, DecodeError> {
    let mut out = Vec::new();
    while r.enter_child()? {
        push_obj(r, &mut out)?;
    }
    Ok(out)
}
