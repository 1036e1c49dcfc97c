//! Decoding errors: what went wrong, and where in the document.

use std::fmt;

/// What kind of problem stopped decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes are not well-formed XML (including mismatched or truncated tags).
    Syntax(String),
    /// The document ended before the element being decoded was closed.
    UnexpectedEof,
    /// Text that cannot be read as the declared type (`int`, `boolean`, base64, ...).
    InvalidValue {
        /// The XML Schema type expected.
        expected: &'static str,
        /// The offending text (cut to 64 characters).
        found: String,
    },
    /// Elements nested deeper than the reader's limit.
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// `anyType` values (`ArrayOfAnyType` within `ArrayOfAnyType` ...) nested deeper than the
    /// reader's limit ([`Limits::max_any_depth`](super::Limits::max_any_depth)).
    AnyTooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// The document is larger than the reader's limit.
    TooLarge {
        /// The limit in force, in bytes.
        limit: u64,
    },
    /// The decoded value would cost more memory than the reader's budget allows for the
    /// input read so far (`floor + per_byte × bytes read`, see
    /// [`Limits`](super::Limits)): a reply of many tiny items of large types.
    TooCostly {
        /// The limit in force: bytes of decoded value per byte of input.
        per_byte: u64,
        /// The limit in force: bytes allowed whatever the input's size.
        floor: u64,
    },
    /// A required element is missing where the reply cannot do without it.
    Missing(&'static str),
    /// The document has the wrong shape (e.g. no SOAP Body).
    Unexpected(String),
}

/// A decoding error, with the element path and byte offset where it happened: its
/// [`DecodeErrorInfo`] (`e.kind`, `e.path`, `e.position` through `Deref`).
///
/// One pointer wide: every decoder returns `Result<_, DecodeError>` and passes errors on
/// with `?`, so an error held inline (80 bytes) was copied by each of the bindings' tens of
/// thousands of decoding functions, about a megabyte of code in a binary holding them all.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorInfo>);

/// What a [`DecodeError`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeErrorInfo {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Element path from the document root, e.g. `/Envelope/Body/RetrievePropertiesExResponse/returnval`.
    pub path: String,
    /// Byte offset in the (decompressed) document.
    pub position: u64,
}

impl DecodeError {
    /// An error of `kind` at element `path`, byte `position`.
    #[cold]
    pub fn new(kind: DecodeErrorKind, path: impl Into<String>, position: u64) -> Self {
        DecodeError(Box::new(DecodeErrorInfo {
            kind,
            path: path.into(),
            position,
        }))
    }

    /// The error's parts, by value.
    pub fn into_info(self) -> DecodeErrorInfo {
        *self.0
    }
}

impl std::ops::Deref for DecodeError {
    type Target = DecodeErrorInfo;

    fn deref(&self) -> &DecodeErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for DecodeError {
    fn deref_mut(&mut self) -> &mut DecodeErrorInfo {
        &mut self.0
    }
}

impl From<DecodeErrorInfo> for DecodeError {
    fn from(info: DecodeErrorInfo) -> Self {
        DecodeError(Box::new(info))
    }
}

// The same text as the derived `Debug` of the struct it used to be.
impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("position", &self.position)
            .finish()
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Syntax(m) => write!(f, "malformed XML: {m}"),
            DecodeErrorKind::UnexpectedEof => {
                f.write_str("document ends before the element is closed")
            }
            DecodeErrorKind::InvalidValue { expected, found } => {
                write!(f, "invalid {expected} value {found:?}")
            }
            DecodeErrorKind::TooDeep { limit } => write!(f, "elements nested deeper than {limit}"),
            DecodeErrorKind::AnyTooDeep { limit } => {
                write!(f, "anyType values nested deeper than {limit}")
            }
            DecodeErrorKind::TooLarge { limit } => write!(f, "document larger than {limit} bytes"),
            DecodeErrorKind::TooCostly { per_byte, floor } => write!(
                f,
                "decoded value larger than {per_byte} bytes per input byte (+ {floor} bytes)"
            ),
            DecodeErrorKind::Missing(what) => write!(f, "missing {what}"),
            DecodeErrorKind::Unexpected(m) => f.write_str(m),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} (byte {})",
            self.kind,
            if self.path.is_empty() {
                "/"
            } else {
                &self.path
            },
            self.position
        )
    }
}

impl std::error::Error for DecodeError {}
