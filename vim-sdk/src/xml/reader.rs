//! The pull reader behind every generated decoder.

use std::borrow::Cow;
use std::io::{self, BufRead};

use bytes::Bytes;

use crate::chunks::{is_too_large, ChunkBuf, LimitedRead};
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::{DecodeError, DecodeErrorKind};
use super::{NameTable, XSD_NS, XSI_NS};

/// Bounds applied to untrusted documents.
///
/// Besides depth and size, what the decoded value may cost is bounded relative to the input
/// read so far: every decoded data object and every item of a repeated field is charged its
/// in-memory size ([`XmlReader::charge`]), and decoding fails with
/// [`DecodeErrorKind::TooCostly`] once the total passes
/// `cost_floor + cost_per_byte × bytes read`. A document of empty items (`<x></x>`, 7 bytes,
/// each a ~1.6 KB `VirtualDevice`) thus fails early instead of needing hundreds of GB.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest element nesting accepted. The default, 128, leaves a decoded value's `Debug`,
    /// `Clone` and drop (which recurse) half of a 2 MiB thread stack's room in debug builds
    /// (a snapshot tree 256 levels deep fitted, 300 did not); real replies nest about
    /// 8 levels plus one per snapshot of a snapshot tree.
    pub max_depth: usize,
    /// Largest document accepted, in bytes.
    pub max_bytes: u64,
    /// Deepest nesting of `anyType` values accepted (an `ArrayOfAnyType` holding one holding
    /// ...): such a value's `Debug`, `Clone` and drop recurse through frames large enough in
    /// debug builds that deeper values overflow a 2 MiB thread stack (at 90 `KeyAnyValue`
    /// levels, 150 `ArrayOfAnyType` levels); the default is 16. Real replies nest two or three.
    pub max_any_depth: usize,
    /// Bytes of decoded value allowed per byte of input (charged sizes, see above).
    pub cost_per_byte: u64,
    /// Bytes of decoded value allowed whatever the input's size (small replies of large
    /// types).
    pub cost_floor: u64,
}

/// Default [`Limits::cost_per_byte`]: real vcsim replies are charged 1.1-1.6 bytes per input
/// byte (README, "Fuzzing and hostile replies"); 16 leaves them ample room.
pub const DEFAULT_COST_PER_BYTE: u64 = 16;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_bytes: 1 << 30,
            max_any_depth: 16,
            cost_per_byte: DEFAULT_COST_PER_BYTE,
            cost_floor: 1 << 20,
        }
    }
}

/// The namespace of an `xsi:type` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeNs {
    /// `urn:vim25` (or `urn:reflect`), or a prefix the document never bound.
    Vim,
    /// The XML Schema namespace: a primitive such as `xsd:string`.
    Xsd,
    /// Some other namespace.
    Other,
}

/// The `xsi:type` of the element being decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XsiType {
    /// Its namespace.
    pub ns: TypeNs,
    /// Its local name (`VirtualDisk`, `string`).
    pub name: String,
}

/// The result of looking an `xsi:type` up in a sorted table of type names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeLookup {
    /// The element has no `xsi:type`: it holds the declared type.
    Absent,
    /// The type at this index of the table.
    Found(usize),
    /// A type not in the table (from a newer server, or outside `urn:vim25`): its local name.
    Unknown(String),
}

/// Longest element name the field matcher handles; longer names are skipped as unknown.
const MAX_NAME: usize = 128;

/// Where the bytes come from: a slice is parsed in place, a stream through a buffer.
enum Source<'r> {
    Slice(Reader<&'r [u8]>),
    Stream(Reader<LimitedRead<Box<dyn BufRead + 'r>>>),
    Chunks(Reader<Chunks<'r>>),
}

impl Source<'_> {
    fn position(&self) -> u64 {
        match self {
            Source::Slice(r) => r.buffer_position(),
            Source::Stream(r) => r.buffer_position(),
            Source::Chunks(r) => r.buffer_position(),
        }
    }
}

/// The function [`XmlReader::from_chunks`] pulls chunks from: the next chunk, `Ok(None)` at
/// the end.
pub type NextChunk<'r> = Box<dyn FnMut() -> io::Result<Option<Bytes>> + 'r>;

/// Chunks pulled from a [`NextChunk`].
type Chunks<'r> = ChunkBuf<NextChunk<'r>>;

/// What a namespace name means to the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NsKind {
    /// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
    Xsi,
    /// A type namespace: vim25/reflect, XML Schema, or another one.
    Type(TypeNs),
}

impl NsKind {
    fn of(uri: &[u8]) -> NsKind {
        if uri == XSI_NS.as_bytes() {
            NsKind::Xsi
        } else if uri == XSD_NS.as_bytes() {
            NsKind::Type(TypeNs::Xsd)
        } else if uri == b"urn:vim25" || uri == b"urn:reflect" {
            NsKind::Type(TypeNs::Vim)
        } else {
            NsKind::Type(TypeNs::Other)
        }
    }
}

/// One namespace declaration in scope: the prefix (empty for the default namespace) as a range
/// of `Namespaces::prefixes`, what it is bound to, and the depth of the element declaring it.
#[derive(Debug, Clone, Copy)]
struct Binding {
    depth: usize,
    start: usize,
    end: usize,
    kind: NsKind,
}

/// The namespace declarations in scope, innermost last. Only what the decoder needs is kept:
/// each prefix's meaning, not its URI (element names are matched by local name).
#[derive(Default)]
struct Namespaces {
    bindings: Vec<Binding>,
    prefixes: Vec<u8>,
}

impl Namespaces {
    fn declare(&mut self, depth: usize, prefix: &[u8], uri: &[u8]) {
        let start = self.prefixes.len();
        self.prefixes.extend_from_slice(prefix);
        self.bindings.push(Binding {
            depth,
            start,
            end: self.prefixes.len(),
            kind: NsKind::of(uri),
        });
    }

    /// Drops the declarations of elements deeper than `depth`.
    fn leave(&mut self, depth: usize) {
        while let Some(b) = self.bindings.last() {
            if b.depth <= depth {
                break;
            }
            self.prefixes.truncate(b.start);
            self.bindings.pop();
        }
    }

    /// The innermost binding of `prefix`, if any.
    fn lookup(&self, prefix: &[u8]) -> Option<NsKind> {
        self.bindings
            .iter()
            .rev()
            .find(|b| &self.prefixes[b.start..b.end] == prefix)
            .map(|b| b.kind)
    }
}

/// The attributes the decoder reads from a start tag.
#[derive(Default)]
struct Attrs {
    /// The namespace of the `xsi:type`, if the tag has one; its local name is `xsi_type_name`.
    xsi_type: Option<TypeNs>,
    xsi_type_name: Vec<u8>,
    /// `xsi:nil="true"`.
    xsi_nil: bool,
    /// The unqualified `type` attribute (a managed object reference's type), if present.
    type_attr: Vec<u8>,
    has_type_attr: bool,
}

impl Attrs {
    fn clear(&mut self) {
        self.xsi_type = None;
        self.xsi_nil = false;
        self.has_type_attr = false;
    }

    /// Reads the attributes of `start`, an element at `depth`: its namespace declarations
    /// first (into `ns`), then `xsi:type`, `xsi:nil` and `type` resolved against them. A tag
    /// may declare the prefix it uses (vcsim declares the instance namespace on every
    /// element), so prefixed attributes are resolved once the whole tag is read.
    fn read(
        &mut self,
        ns: &mut Namespaces,
        depth: usize,
        start: &BytesStart<'_>,
    ) -> Result<(), AttrError> {
        // Prefixed `type` and `nil` attributes: (prefix, value, whether it is `type`).
        type Candidate<'a> = (&'a [u8], Cow<'a, [u8]>, bool);
        let mut candidates: [Option<Candidate<'_>>; 2] = [None, None];
        let mut found = 0;
        for attr in start.attributes().with_checks(false) {
            let attr = attr?;
            let key = attr.key.into_inner();
            let (prefix, local) = split_qname(key);
            if prefix.is_empty() {
                if local == b"xmlns" {
                    ns.declare(depth, b"", &attr.value);
                } else if local == b"type" {
                    self.type_attr.clear();
                    match attr.unescape_value() {
                        Ok(v) => self.type_attr.extend_from_slice(v.as_bytes()),
                        Err(_) => self.type_attr.extend_from_slice(&attr.value),
                    }
                    self.has_type_attr = true;
                }
            } else if prefix == b"xmlns" {
                ns.declare(depth, local, &attr.value);
            } else if (local == b"type" || local == b"nil") && found < candidates.len() {
                candidates[found] = Some((prefix, attr.value, local == b"type"));
                found += 1;
            }
        }
        for (prefix, value, is_type) in candidates.into_iter().flatten() {
            if ns.lookup(prefix) != Some(NsKind::Xsi) {
                continue;
            }
            if is_type {
                let (tprefix, tlocal) = split_qname(&value);
                let tns = match ns.lookup(tprefix) {
                    Some(NsKind::Type(t)) => t,
                    Some(NsKind::Xsi) => TypeNs::Other,
                    // A prefix the document never bound: read it as vim25.
                    None => TypeNs::Vim,
                };
                self.xsi_type = Some(tns);
                self.xsi_type_name.clear();
                self.xsi_type_name.extend_from_slice(tlocal);
            } else {
                let v = value.as_ref();
                self.xsi_nil = v == b"true" || v == b"1";
            }
        }
        Ok(())
    }
}

/// Splits a qualified name at its first colon: `(prefix, local)`, the prefix empty when there
/// is none.
fn split_qname(name: &[u8]) -> (&[u8], &[u8]) {
    match name.iter().position(|&b| b == b':') {
        Some(i) => (&name[..i], &name[i + 1..]),
        None => (&[], name),
    }
}

fn configure(cfg: &mut quick_xml::reader::Config) {
    cfg.expand_empty_elements = true;
    cfg.check_end_names = true;
    cfg.trim_text(false);
}

/// A namespace-aware pull reader over an XML document, with the current element's `xsi:type`,
/// `xsi:nil` and `type` attributes at hand.
pub struct XmlReader<'r> {
    inner: Source<'r>,
    buf: Vec<u8>,
    limits: Limits,
    /// Element path: names separated by '/', and where each level starts.
    path: Vec<u8>,
    marks: Vec<usize>,
    /// The path segment of the element most recently closed (for value errors).
    last_closed: Vec<u8>,
    /// Namespace declarations in scope.
    ns: Namespaces,
    /// Attributes of the element most recently entered.
    attrs: Attrs,
    /// The last start tag read, waiting to be entered.
    pending_name: [u8; MAX_NAME],
    pending_len: usize,
    /// A reusable buffer for the text of scalar values (numbers, booleans, enums).
    scratch: String,
    /// What the decoded value has been charged so far ([`XmlReader::charge`]).
    charged: u64,
    /// `anyType` values being decoded ([`XmlReader::enter_any`]).
    any_depth: usize,
}

enum Step {
    Start,
    End,
    Text,
    Eof,
}

impl<'r> XmlReader<'r> {
    /// A reader over a complete document in memory (parsed in place, without copying).
    pub fn from_slice(xml: &'r [u8]) -> Self {
        let mut inner = Reader::from_reader(xml);
        configure(inner.config_mut());
        Self::with_source(Source::Slice(inner))
    }

    /// A reader over a stream (e.g. a response body as it arrives).
    pub fn from_bufread(src: Box<dyn BufRead + 'r>) -> Self {
        let mut inner = Reader::from_reader(LimitedRead::new(src));
        configure(inner.config_mut());
        Self::with_source(Source::Stream(inner))
    }

    /// A reader over a stream delivered in chunks (a response body as it arrives): `next`
    /// returns the next chunk, `Ok(None)` at the end. Cheaper per token than
    /// [`from_bufread`](Self::from_bufread).
    pub fn from_chunks(next: NextChunk<'r>) -> Self {
        let mut inner = Reader::from_reader(ChunkBuf::new(Bytes::new(), next));
        configure(inner.config_mut());
        Self::with_source(Source::Chunks(inner))
    }

    fn with_source(inner: Source<'r>) -> Self {
        let mut r = XmlReader {
            inner,
            buf: Vec::with_capacity(1024),
            limits: Limits::default(),
            path: Vec::with_capacity(256),
            marks: Vec::with_capacity(32),
            last_closed: Vec::with_capacity(64),
            ns: Namespaces::default(),
            attrs: Attrs::default(),
            pending_name: [0; MAX_NAME],
            pending_len: 0,
            scratch: String::new(),
            charged: 0,
            any_depth: 0,
        };
        r.bound_input();
        r
    }

    /// Replaces the default limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.bound_input();
        self
    }

    /// Bounds what a stream or chunk source may deliver to `max_bytes` (and a chunk), so that
    /// a text node, comment or tag that never ends fails as [`DecodeErrorKind::TooLarge`]
    /// instead of being buffered whole; the position check in `step` covers slices (already
    /// in memory) and every event.
    fn bound_input(&mut self) {
        let limit = self.limits.max_bytes;
        match &mut self.inner {
            Source::Slice(_) => {}
            Source::Stream(r) => r.get_mut().set_limit(limit),
            Source::Chunks(r) => r.get_mut().set_limit(limit),
        }
    }

    /// Charges `bytes` (the in-memory size of a value being decoded) to the document's cost
    /// budget: an error once the total exceeds `cost_floor + cost_per_byte × bytes read`
    /// (see [`Limits`]).
    #[inline]
    pub fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        self.charged += bytes as u64;
        if self.charged <= self.limits.cost_floor {
            return Ok(());
        }
        let allowed = self
            .limits
            .cost_per_byte
            .saturating_mul(self.inner.position())
            .saturating_add(self.limits.cost_floor);
        if self.charged <= allowed {
            Ok(())
        } else {
            Err(self.too_costly())
        }
    }

    #[cold]
    #[inline(never)]
    fn too_costly(&self) -> DecodeError {
        self.error(DecodeErrorKind::TooCostly {
            per_byte: self.limits.cost_per_byte,
            floor: self.limits.cost_floor,
        })
    }

    /// Notes the start of an `anyType` value (within those already being decoded): an error
    /// past [`Limits::max_any_depth`]. Each call is paired with [`XmlReader::leave_any`].
    pub fn enter_any(&mut self) -> Result<(), DecodeError> {
        if self.any_depth >= self.limits.max_any_depth {
            return Err(self.error(DecodeErrorKind::AnyTooDeep {
                limit: self.limits.max_any_depth,
            }));
        }
        self.any_depth += 1;
        Ok(())
    }

    /// Notes the end of the `anyType` value last entered with [`XmlReader::enter_any`].
    pub fn leave_any(&mut self) {
        self.any_depth = self.any_depth.saturating_sub(1);
    }

    /// What the value decoded so far has been charged, in bytes ([`XmlReader::charge`]).
    pub fn charged(&self) -> u64 {
        self.charged
    }

    /// Current nesting depth (0 outside the root element).
    pub fn depth(&self) -> usize {
        self.marks.len()
    }

    /// The element path, e.g. `/Envelope/Body/RetrievePropertiesExResponse`.
    pub fn path(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
    }

    /// Builds an error at the current position.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        make_error(&self.path, self.inner.position(), kind)
    }

    /// An invalid-value error for `text` read as `expected` from the element just closed.
    pub fn invalid(&self, expected: &'static str, text: &str) -> DecodeError {
        let found: String = text.chars().take(64).collect();
        let mut e = self.error(DecodeErrorKind::InvalidValue { expected, found });
        e.path.push_str(&String::from_utf8_lossy(&self.last_closed));
        e
    }

    /// The `xsi:type` of the element most recently entered, if it had one.
    pub fn xsi_type(&self) -> Option<(TypeNs, &[u8])> {
        self.attrs
            .xsi_type
            .map(|ns| (ns, self.attrs.xsi_type_name.as_slice()))
    }

    /// The `xsi:type` as an owned value.
    pub fn xsi_type_owned(&self) -> Option<XsiType> {
        self.xsi_type().map(|(ns, n)| XsiType {
            ns,
            name: String::from_utf8_lossy(n).into_owned(),
        })
    }

    /// Looks the current element's `urn:vim25` `xsi:type` up in `table` (sorted by bytes).
    pub fn lookup_type(&self, table: &NameTable) -> TypeLookup {
        match self.xsi_type() {
            None => TypeLookup::Absent,
            Some((TypeNs::Vim, name)) => match table.binary_search(name) {
                Ok(i) => TypeLookup::Found(i),
                Err(_) => TypeLookup::Unknown(String::from_utf8_lossy(name).into_owned()),
            },
            Some((_, name)) => TypeLookup::Unknown(String::from_utf8_lossy(name).into_owned()),
        }
    }

    /// Looks the current element's XML Schema `xsi:type` (`xsd:int`, ...) up in `table`.
    pub fn lookup_xsd(&self, table: &NameTable) -> Option<usize> {
        match self.xsi_type() {
            Some((TypeNs::Xsd, name)) => table.binary_search(name).ok(),
            _ => None,
        }
    }

    /// Treats the current element as having `xsi:type` `name` if it states none (a fault
    /// detail element named `XxxFault`, for example).
    pub fn assume_type(&mut self, name: &[u8]) {
        if self.attrs.xsi_type.is_none() {
            self.attrs.xsi_type = Some(TypeNs::Vim);
            self.attrs.xsi_type_name.clear();
            self.attrs.xsi_type_name.extend_from_slice(name);
        }
    }

    /// Whether the element most recently entered has `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        self.attrs.xsi_nil
    }

    /// The unqualified `type` attribute of the element most recently entered (a managed object
    /// reference's type).
    pub fn type_attr(&self) -> Option<&[u8]> {
        self.attrs
            .has_type_attr
            .then_some(self.attrs.type_attr.as_slice())
    }

    fn syntax(&self, e: quick_xml::Error) -> DecodeError {
        match e {
            quick_xml::Error::Io(io) if is_too_large(&io) => {
                self.error(DecodeErrorKind::TooLarge {
                    limit: self.limits.max_bytes,
                })
            }
            quick_xml::Error::Syntax(_) | quick_xml::Error::IllFormed(_)
                if self.at_eof_error(&e) =>
            {
                self.error(DecodeErrorKind::UnexpectedEof)
            }
            other => self.error(DecodeErrorKind::Syntax(other.to_string())),
        }
    }

    fn at_eof_error(&self, e: &quick_xml::Error) -> bool {
        matches!(
            e,
            quick_xml::Error::Syntax(
                quick_xml::errors::SyntaxError::UnclosedTag
                    | quick_xml::errors::SyntaxError::UnclosedComment
                    | quick_xml::errors::SyntaxError::UnclosedCData
                    | quick_xml::errors::SyntaxError::UnclosedPIOrXmlDecl
                    | quick_xml::errors::SyntaxError::UnclosedDoctype
            ) | quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MissingEndTag(_))
        )
    }

    /// Reads the next event of interest. On `Start`, records the element's name (as pending)
    /// and its attributes, pushes it on the path and checks the limits.
    fn step(&mut self, text: Option<&mut String>) -> Result<Step, DecodeError> {
        loop {
            self.buf.clear();
            let read = match &mut self.inner {
                Source::Slice(r) => r.read_event(),
                Source::Stream(r) => r.read_event_into(&mut self.buf),
                Source::Chunks(r) => r.read_event_into(&mut self.buf),
            };
            let ev = match read {
                Ok(ev) => ev,
                Err(e) => return Err(self.syntax(e)),
            };
            if self.inner.position() > self.limits.max_bytes {
                return Err(self.error(DecodeErrorKind::TooLarge {
                    limit: self.limits.max_bytes,
                }));
            }
            match ev {
                Event::Start(start) => {
                    if self.marks.len() >= self.limits.max_depth {
                        let kind = DecodeErrorKind::TooDeep {
                            limit: self.limits.max_depth,
                        };
                        return Err(make_error(&self.path, self.inner.position(), kind));
                    }
                    let local = start.local_name();
                    let local = local.as_ref();
                    let n = local.len().min(MAX_NAME);
                    self.pending_name[..n].copy_from_slice(&local[..n]);
                    self.pending_len = if local.len() > MAX_NAME {
                        MAX_NAME + 1
                    } else {
                        n
                    };
                    self.marks.push(self.path.len());
                    self.path.push(b'/');
                    self.path.extend_from_slice(local);
                    self.attrs.clear();
                    if start
                        .attributes_raw()
                        .iter()
                        .any(|b| !b.is_ascii_whitespace())
                    {
                        let depth = self.marks.len();
                        if let Err(e) = self.attrs.read(&mut self.ns, depth, &start) {
                            let kind = DecodeErrorKind::Syntax(e.to_string());
                            return Err(make_error(&self.path, self.inner.position(), kind));
                        }
                    }
                    return Ok(Step::Start);
                }
                Event::End(_) => {
                    if let Some(m) = self.marks.pop() {
                        self.last_closed.clear();
                        self.last_closed.extend_from_slice(&self.path[m..]);
                        self.path.truncate(m);
                    }
                    self.ns.leave(self.marks.len());
                    return Ok(Step::End);
                }
                Event::Text(t) => {
                    if let Some(out) = text {
                        match t.unescape() {
                            Ok(s) => out.push_str(&s),
                            Err(e) => {
                                let kind = DecodeErrorKind::Syntax(e.to_string());
                                return Err(make_error(&self.path, self.inner.position(), kind));
                            }
                        }
                        return Ok(Step::Text);
                    }
                }
                Event::CData(c) => {
                    if let Some(out) = text {
                        out.push_str(&String::from_utf8_lossy(&c));
                        return Ok(Step::Text);
                    }
                }
                Event::Eof => return Ok(Step::Eof),
                Event::Empty(_) => unreachable_empty(),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }

    /// Moves to the document's root element and enters it.
    pub fn enter_root(&mut self) -> Result<(), DecodeError> {
        match self.step(None)? {
            Step::Start => Ok(()),
            _ => Err(self.error(DecodeErrorKind::Unexpected("no root element".into()))),
        }
    }

    /// Enters the next child element of the current element, returning its local name, or
    /// `None` once the current element ends (its end tag is consumed).
    pub fn next_child(&mut self) -> Result<Option<String>, DecodeError> {
        match self.step(None)? {
            Step::Start => Ok(Some(String::from_utf8_lossy(self.pending()).into_owned())),
            Step::End => Ok(None),
            Step::Eof => Err(self.error(DecodeErrorKind::UnexpectedEof)),
            Step::Text => unreachable_text(),
        }
    }

    /// Enters the next child element of the current element (returning `true`), or consumes
    /// the current element's end tag (returning `false`).
    pub fn enter_child(&mut self) -> Result<bool, DecodeError> {
        match self.step(None)? {
            Step::Start => Ok(true),
            Step::End => Ok(false),
            Step::Eof => Err(self.error(DecodeErrorKind::UnexpectedEof)),
            Step::Text => unreachable_text(),
        }
    }

    /// The local name of the element most recently entered.
    pub fn current_name(&self) -> &[u8] {
        self.pending()
    }

    fn pending(&self) -> &[u8] {
        &self.pending_name[..self.pending_len.min(MAX_NAME)]
    }

    /// Skips the rest of the element most recently entered, through its end tag.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        let target = self.marks.len() - 1;
        while self.marks.len() > target {
            if let Step::Eof = self.step(None)? {
                return Err(self.error(DecodeErrorKind::UnexpectedEof));
            }
        }
        Ok(())
    }

    /// Reads the child elements of the element just entered into `obj`, skipping those it does
    /// not know, through the element's end tag.
    pub fn read_fields(&mut self, obj: &mut dyn super::Fields) -> Result<(), DecodeError> {
        loop {
            match self.step(None)? {
                Step::Start => {
                    let mut name = [0u8; MAX_NAME];
                    let long = self.pending_len > MAX_NAME;
                    let n = self.pending_len.min(MAX_NAME);
                    name[..n].copy_from_slice(&self.pending_name[..n]);
                    if long || !obj.read_field(self, &name[..n])? {
                        self.skip()?;
                    }
                }
                Step::End => return Ok(()),
                Step::Eof => return Err(self.error(DecodeErrorKind::UnexpectedEof)),
                Step::Text => unreachable_text(),
            }
        }
    }

    /// Reads the rest of the document after the element being read: the end tags of the
    /// elements still open (their remaining children skipped), then the end of input. A
    /// document cut short anywhere is an [`UnexpectedEof`](DecodeErrorKind::UnexpectedEof)
    /// error, content after the root element is an error too; a reply decoded with this
    /// never gives a result from a truncated body.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.step(None)? {
                Step::Start => {
                    if self.marks.len() == 1 {
                        let kind = DecodeErrorKind::Unexpected("a second root element".into());
                        return Err(self.error(kind));
                    }
                    self.skip()?;
                }
                Step::End => {}
                Step::Eof if self.marks.is_empty() => return Ok(()),
                Step::Eof => return Err(self.error(DecodeErrorKind::UnexpectedEof)),
                Step::Text => unreachable_text(),
            }
        }
    }

    /// Reads the text content of the element just entered, through its end tag, into `out`
    /// (cleared first). Nested elements are skipped.
    pub fn read_text_into(&mut self, out: &mut String) -> Result<(), DecodeError> {
        out.clear();
        let depth = self.marks.len();
        loop {
            match self.step(Some(out))? {
                Step::Text => {}
                Step::Start => {
                    self.skip()?;
                }
                Step::End => {
                    if self.marks.len() < depth {
                        return Ok(());
                    }
                }
                Step::Eof => return Err(self.error(DecodeErrorKind::UnexpectedEof)),
            }
        }
    }

    /// Reads the text content of the element just entered, through its end tag, into a buffer
    /// the reader reuses: for scalars (numbers, booleans, enum values) that need no owned copy.
    pub fn read_scalar(&mut self) -> Result<&str, DecodeError> {
        let mut s = std::mem::take(&mut self.scratch);
        let read = self.read_text_into(&mut s);
        self.scratch = s;
        read?;
        Ok(&self.scratch)
    }

    /// The text most recently read by [`XmlReader::read_scalar`].
    pub fn last_scalar(&self) -> &str {
        &self.scratch
    }

    /// Reads the text content of the element just entered, through its end tag.
    pub fn read_text(&mut self) -> Result<String, DecodeError> {
        let mut s = String::new();
        self.read_text_into(&mut s)?;
        Ok(s)
    }
}

#[cold]
fn unreachable_empty() -> ! {
    // `expand_empty_elements` is always on, so quick-xml never yields `Empty`.
    unreachable!("empty elements are expanded")
}

#[cold]
fn unreachable_text() -> ! {
    unreachable!("text is only reported when asked for")
}

fn make_error(path: &[u8], position: u64, kind: DecodeErrorKind) -> DecodeError {
    DecodeError::new(kind, String::from_utf8_lossy(path), position)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    const XSD: &str = "http://www.w3.org/2001/XMLSchema";

    /// The `xsi:type` and `xsi:nil` of each child of the root, read from a slice, from a
    /// stream and from chunks of 3 bytes (tokens cut anywhere).
    fn children(doc: &str) -> Vec<(Option<(TypeNs, String)>, bool)> {
        let slice = read_children(XmlReader::from_slice(doc.as_bytes()));
        let stream = read_children(XmlReader::from_bufread(Box::new(doc.as_bytes())));
        assert_eq!(slice, stream);
        let mut pieces = doc.as_bytes().chunks(3).map(Bytes::copy_from_slice);
        let chunks = read_children(XmlReader::from_chunks(Box::new(move || Ok(pieces.next()))));
        assert_eq!(slice, chunks);
        slice
    }

    fn read_children(mut r: XmlReader<'_>) -> Vec<(Option<(TypeNs, String)>, bool)> {
        r.enter_root().unwrap();
        let mut out = Vec::new();
        while r.enter_child().unwrap() {
            let t = r
                .xsi_type()
                .map(|(ns, n)| (ns, String::from_utf8(n.to_vec()).unwrap()));
            out.push((t, r.is_nil()));
            r.skip().unwrap();
        }
        out
    }

    fn vim(name: &str) -> Option<(TypeNs, String)> {
        Some((TypeNs::Vim, name.to_string()))
    }

    #[test]
    fn a_tag_may_declare_the_prefixes_it_uses_in_any_order() {
        let doc = format!(
            r#"<r><a XMLSchema-instance:type="xsd:int" xmlns:xsd="{XSD}" xmlns:XMLSchema-instance="{XSI}">1</a></r>"#
        );
        assert_eq!(
            children(&doc),
            [(Some((TypeNs::Xsd, "int".to_string())), false)]
        );
    }

    #[test]
    fn a_declaration_ends_with_its_element() {
        let doc = format!(r#"<r><a xmlns:x="{XSI}" x:type="Foo"/><b x:type="Bar"/></r>"#);
        assert_eq!(children(&doc), [(vim("Foo"), false), (None, false)]);
    }

    #[test]
    fn an_inner_rebinding_hides_the_outer_one_until_it_ends() {
        let doc = format!(
            r#"<r xmlns:x="{XSI}"><a xmlns:x="urn:other" x:type="Foo" x:nil="true"/><b x:type="Bar" x:nil="true"/></r>"#
        );
        assert_eq!(children(&doc), [(None, false), (vim("Bar"), true)]);
    }

    #[test]
    fn type_values_resolve_through_their_own_prefix() {
        let doc = format!(
            r#"<r xmlns:i="{XSI}" xmlns:v="urn:vim25" xmlns:o="urn:other" xmlns:s="{XSD}"><a i:type="v:VirtualDisk"/><b i:type="o:Thing"/><c i:type="s:string"/><d i:type="unbound:Disk"/><e i:type="Plain"/></r>"#
        );
        assert_eq!(
            children(&doc),
            [
                (vim("VirtualDisk"), false),
                (Some((TypeNs::Other, "Thing".to_string())), false),
                (Some((TypeNs::Xsd, "string".to_string())), false),
                (vim("Disk"), false),
                (vim("Plain"), false),
            ]
        );
    }

    #[test]
    fn an_unprefixed_type_value_is_in_the_default_namespace() {
        let doc = format!(
            r#"<r xmlns="urn:other" xmlns:xsi="{XSI}"><a xsi:type="Thing"/><b xmlns="urn:vim25" xsi:type="Disk"/></r>"#
        );
        assert_eq!(
            children(&doc),
            [
                (Some((TypeNs::Other, "Thing".to_string())), false),
                (vim("Disk"), false)
            ]
        );
    }

    #[test]
    fn a_prefix_is_what_it_is_bound_to_not_its_spelling() {
        // `xsi` bound to another namespace is not the instance namespace.
        let doc = r#"<r xmlns:xsi="urn:not-xsi"><a xsi:type="Foo" xsi:nil="true"/></r>"#;
        assert_eq!(children(doc), [(None, false)]);
    }

    #[test]
    fn the_reference_type_attribute_is_unqualified() {
        let doc = format!(
            r#"<r xmlns:xsi="{XSI}"><a type="VirtualMachine" xsi:type="ManagedObjectReference">vm-1</a><b>x</b></r>"#
        );
        let mut r = XmlReader::from_slice(doc.as_bytes());
        r.enter_root().unwrap();
        assert!(r.enter_child().unwrap());
        assert_eq!(r.type_attr(), Some(&b"VirtualMachine"[..]));
        assert_eq!(r.read_text().unwrap(), "vm-1");
        assert!(r.enter_child().unwrap());
        assert_eq!(r.type_attr(), None);
    }

    #[test]
    fn a_malformed_attribute_is_a_syntax_error_with_a_path() {
        let mut r = XmlReader::from_slice(b"<r><a x=1>t</a></r>");
        r.enter_root().unwrap();
        let e = r.enter_child().unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::Syntax(_)), "{e:?}");
        assert_eq!(e.path, "/r/a");
    }

    #[test]
    fn a_failing_chunk_source_is_an_error_not_an_end() {
        let mut calls = 0;
        let mut r = XmlReader::from_chunks(Box::new(move || {
            calls += 1;
            match calls {
                1 => Ok(Some(Bytes::from_static(b"<r><a>1</a>"))),
                _ => Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            }
        }));
        r.enter_root().unwrap();
        assert!(r.enter_child().unwrap());
        assert_eq!(r.read_text().unwrap(), "1");
        assert!(r.enter_child().is_err());
    }

    const CHUNK: usize = 64 * 1024;
    const LIMIT: u64 = 1 << 20;
    /// Text far past the limit: what an old reader buffered whole before checking its size.
    const HUGE: usize = 64 << 20;

    /// `<r><a>`, `text` bytes of text, `</a></r>`, in chunks of [`CHUNK`], counting the bytes
    /// handed out in `served`.
    fn text_chunks(text: usize, served: std::rc::Rc<std::cell::Cell<usize>>) -> NextChunk<'static> {
        let mut doc = b"<r><a>".to_vec();
        doc.resize(doc.len() + text, b'a');
        doc.extend_from_slice(b"</a></r>");
        let doc = Bytes::from(doc);
        let mut at = 0;
        Box::new(move || {
            let end = (at + CHUNK).min(doc.len());
            let chunk = doc.slice(at..end);
            at = end;
            served.set(served.get() + chunk.len());
            Ok(Some(chunk).filter(|c| !c.is_empty()))
        })
    }

    /// Reads the text of `<a>` with the test's limit.
    fn read_a(r: XmlReader<'_>) -> Result<String, DecodeError> {
        let mut r = r.with_limits(Limits {
            max_bytes: LIMIT,
            ..Limits::default()
        });
        r.enter_root()?;
        assert!(r.enter_child()?);
        r.read_text()
    }

    #[test]
    fn a_huge_text_node_from_chunks_fails_before_it_is_buffered_whole() {
        let served = std::rc::Rc::new(std::cell::Cell::new(0));
        let e = read_a(XmlReader::from_chunks(text_chunks(HUGE, served.clone()))).unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::TooLarge { limit: LIMIT }),
            "{e:?}"
        );
        let served = served.get() as u64;
        assert!(
            served <= LIMIT + CHUNK as u64,
            "{served} bytes pulled for a limit of {LIMIT}"
        );
        // A document of exactly the limit still decodes.
        let fits = LIMIT as usize - b"<r><a></a></r>".len();
        let fine = std::rc::Rc::new(std::cell::Cell::new(0));
        assert_eq!(
            read_a(XmlReader::from_chunks(text_chunks(fits, fine)))
                .unwrap()
                .len(),
            fits
        );
    }

    /// A `Read` that counts the bytes it hands out.
    struct Counting<R> {
        inner: R,
        read: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl<R: io::Read> io::Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.set(self.read.get() + n);
            Ok(n)
        }
    }

    #[test]
    fn a_huge_text_node_from_a_stream_fails_before_it_is_buffered_whole() {
        use std::io::Read as _;
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let body = (&b"<r><a>"[..])
            .chain(io::repeat(b'a').take(HUGE as u64))
            .chain(&b"</a></r>"[..]);
        let src = io::BufReader::with_capacity(
            CHUNK,
            Counting {
                inner: body,
                read: read.clone(),
            },
        );
        let e = read_a(XmlReader::from_bufread(Box::new(src))).unwrap_err();
        assert!(
            matches!(e.kind, DecodeErrorKind::TooLarge { limit: LIMIT }),
            "{e:?}"
        );
        let read = read.get() as u64;
        assert!(
            read <= LIMIT + 2 * CHUNK as u64,
            "{read} bytes read for a limit of {LIMIT}"
        );
    }

    #[test]
    fn scalars_reuse_one_buffer_and_report_bad_text() {
        let mut r = XmlReader::from_slice(b"<r><a> 42 </a><b>x&amp;y</b></r>");
        r.enter_root().unwrap();
        assert!(r.enter_child().unwrap());
        assert_eq!(r.read_scalar().unwrap(), " 42 ");
        assert!(r.enter_child().unwrap());
        assert_eq!(r.read_scalar().unwrap(), "x&y");
        assert_eq!(r.last_scalar(), "x&y");
    }
}
