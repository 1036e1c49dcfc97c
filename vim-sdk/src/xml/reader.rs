//! The pull reader behind every generated decoder.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::name::{LocalName, Namespace, QName, ResolveResult};
use quick_xml::NsReader;

use super::error::{DecodeError, DecodeErrorKind};
use super::{XSD_NS, XSI_NS};

/// Bounds applied to untrusted documents.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest element nesting accepted.
    pub max_depth: usize,
    /// Largest document accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            max_bytes: 1 << 30,
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
    Slice(NsReader<&'r [u8]>),
    Stream(NsReader<Box<dyn BufRead + 'r>>),
}

impl Source<'_> {
    fn position(&self) -> u64 {
        match self {
            Source::Slice(r) => r.buffer_position(),
            Source::Stream(r) => r.buffer_position(),
        }
    }

    fn resolve_attribute<'n>(&self, name: QName<'n>) -> (ResolveResult<'_>, LocalName<'n>) {
        match self {
            Source::Slice(r) => r.resolve_attribute(name),
            Source::Stream(r) => r.resolve_attribute(name),
        }
    }

    fn resolve_element<'n>(&self, name: QName<'n>) -> (ResolveResult<'_>, LocalName<'n>) {
        match self {
            Source::Slice(r) => r.resolve_element(name),
            Source::Stream(r) => r.resolve_element(name),
        }
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
    /// Attributes of the element most recently entered.
    xsi_type: Option<(TypeNs, Vec<u8>)>,
    xsi_nil: bool,
    type_attr: Vec<u8>,
    has_type_attr: bool,
    /// The last start tag read, waiting to be entered.
    pending_name: [u8; MAX_NAME],
    pending_len: usize,
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
        let mut inner = NsReader::from_reader(xml);
        configure(inner.config_mut());
        Self::with_source(Source::Slice(inner))
    }

    /// A reader over a stream (e.g. a response body as it arrives).
    pub fn from_bufread(src: Box<dyn BufRead + 'r>) -> Self {
        let mut inner = NsReader::from_reader(src);
        configure(inner.config_mut());
        Self::with_source(Source::Stream(inner))
    }

    fn with_source(inner: Source<'r>) -> Self {
        XmlReader {
            inner,
            buf: Vec::with_capacity(1024),
            limits: Limits::default(),
            path: Vec::with_capacity(256),
            marks: Vec::with_capacity(32),
            last_closed: Vec::with_capacity(64),
            xsi_type: None,
            xsi_nil: false,
            type_attr: Vec::new(),
            has_type_attr: false,
            pending_name: [0; MAX_NAME],
            pending_len: 0,
        }
    }

    /// Replaces the default limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
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
        self.xsi_type.as_ref().map(|(ns, n)| (*ns, n.as_slice()))
    }

    /// The `xsi:type` as an owned value.
    pub fn xsi_type_owned(&self) -> Option<XsiType> {
        self.xsi_type.as_ref().map(|(ns, n)| XsiType {
            ns: *ns,
            name: String::from_utf8_lossy(n).into_owned(),
        })
    }

    /// Looks the current element's `urn:vim25` `xsi:type` up in `table` (sorted by bytes).
    pub fn lookup_type(&self, table: &[&str]) -> TypeLookup {
        match &self.xsi_type {
            None => TypeLookup::Absent,
            Some((TypeNs::Vim, name)) => match table.binary_search_by(|p| p.as_bytes().cmp(name)) {
                Ok(i) => TypeLookup::Found(i),
                Err(_) => TypeLookup::Unknown(String::from_utf8_lossy(name).into_owned()),
            },
            Some((_, name)) => TypeLookup::Unknown(String::from_utf8_lossy(name).into_owned()),
        }
    }

    /// Looks the current element's XML Schema `xsi:type` (`xsd:int`, ...) up in `table`.
    pub fn lookup_xsd(&self, table: &[&str]) -> Option<usize> {
        match &self.xsi_type {
            Some((TypeNs::Xsd, name)) => table.binary_search_by(|p| p.as_bytes().cmp(name)).ok(),
            _ => None,
        }
    }

    /// Treats the current element as having `xsi:type` `name` if it states none (a fault
    /// detail element named `XxxFault`, for example).
    pub fn assume_type(&mut self, name: &[u8]) {
        if self.xsi_type.is_none() {
            self.xsi_type = Some((TypeNs::Vim, name.to_vec()));
        }
    }

    /// Whether the element most recently entered has `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        self.xsi_nil
    }

    /// The unqualified `type` attribute of the element most recently entered (a managed object
    /// reference's type).
    pub fn type_attr(&self) -> Option<&[u8]> {
        self.has_type_attr.then_some(self.type_attr.as_slice())
    }

    fn syntax(&self, e: quick_xml::Error) -> DecodeError {
        match e {
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
                    self.xsi_type = None;
                    self.xsi_nil = false;
                    self.has_type_attr = false;
                    for attr in start.attributes() {
                        let attr = match attr {
                            Ok(a) => a,
                            Err(e) => {
                                let kind = DecodeErrorKind::Syntax(e.to_string());
                                return Err(make_error(&self.path, self.inner.position(), kind));
                            }
                        };
                        let (ns, local) = self.inner.resolve_attribute(attr.key);
                        match ns {
                            ResolveResult::Bound(Namespace(ns)) if ns == XSI_NS.as_bytes() => {
                                if local.as_ref() == b"type" {
                                    let (tns, tlocal) =
                                        self.inner.resolve_element(QName(&attr.value));
                                    let tns = match tns {
                                        ResolveResult::Bound(Namespace(n))
                                            if n == XSD_NS.as_bytes() =>
                                        {
                                            TypeNs::Xsd
                                        }
                                        ResolveResult::Bound(Namespace(n))
                                            if n == b"urn:vim25" || n == b"urn:reflect" =>
                                        {
                                            TypeNs::Vim
                                        }
                                        ResolveResult::Bound(_) => TypeNs::Other,
                                        _ => TypeNs::Vim,
                                    };
                                    self.xsi_type = Some((tns, tlocal.as_ref().to_vec()));
                                } else if local.as_ref() == b"nil" {
                                    let v = attr.value.as_ref();
                                    self.xsi_nil = v == b"true" || v == b"1";
                                }
                            }
                            ResolveResult::Unbound if local.as_ref() == b"type" => {
                                self.type_attr.clear();
                                match attr.unescape_value() {
                                    Ok(v) => self.type_attr.extend_from_slice(v.as_bytes()),
                                    Err(_) => self.type_attr.extend_from_slice(&attr.value),
                                }
                                self.has_type_attr = true;
                            }
                            _ => {}
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
    DecodeError {
        kind,
        path: String::from_utf8_lossy(path).into_owned(),
        position,
    }
}
