//! SOAP 1.1 envelopes: writing a request, reading a reply's `returnval`s or its fault.

use crate::error::{Error, ErrorKind, Fault};
use crate::types::AnyMethodFault;
use crate::xml::{
    opt, Decode, DecodeError, DecodeErrorKind, Limits, ManagedObjectReference, XmlReader, XmlWriter,
};

const SOAPENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The closing tags after the operation element.
const ENVELOPE_END: &str = "</soapenv:Body></soapenv:Envelope>";

/// A request being written: the envelope, the operation element and `_this` are open.
pub struct Request {
    op: &'static str,
    object: String,
    level: Option<u8>,
    w: XmlWriter,
}

impl Request {
    /// Starts a request for `op` on `this`; `level` limits fields to what the server knows
    /// (see [`XmlWriter::set_server_level`]).
    pub fn new(op: &'static str, this: &ManagedObjectReference, level: Option<u8>) -> Self {
        let mut w = XmlWriter::new();
        w.set_server_level(level);
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        w.raw("<soapenv:Envelope xmlns:soapenv=\"");
        w.raw(SOAPENV_NS);
        w.raw("\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>");
        w.raw("<");
        w.raw(op);
        w.raw(" xmlns=\"urn:vim25\">");
        w.reference("_this", None, this);
        Request {
            op,
            object: this.to_string(),
            level,
            w,
        }
    }

    /// The operation's wire name.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The object the call is made on, as `Type:id`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The writer for the parameters.
    pub fn writer(&mut self) -> &mut XmlWriter {
        &mut self.w
    }

    /// Closes the envelope and returns the body bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.w.end(self.op);
        self.w.raw(ENVELOPE_END);
        self.w.into_bytes()
    }

    /// What is written so far, the closing tags, and a writer (empty, with the same server
    /// level) for the parameters in between: for a body written piece by piece as it is
    /// sent ([`Client::send_pieces`](crate::Client::send_pieces)).
    pub(crate) fn split(self) -> (Vec<u8>, Vec<u8>, XmlWriter) {
        let mut tail = XmlWriter::new();
        tail.end(self.op);
        tail.raw(ENVELOPE_END);
        let mut middle = XmlWriter::new();
        middle.set_server_level(self.level);
        (self.w.into_bytes(), tail.into_bytes(), middle)
    }
}

/// A reply body, decoded on demand into the operation's result.
pub struct Response {
    op: &'static str,
    object: String,
    body: bytes::Bytes,
    limits: Limits,
}

impl Response {
    /// Wraps the reply `body` to `op` on `object`, decoded under the default [`Limits`].
    pub fn new(op: &'static str, object: String, body: bytes::Bytes) -> Self {
        Response {
            op,
            object,
            body,
            limits: Limits::default(),
        }
    }

    /// Decodes under `limits` instead (the client passes its
    /// [`decode_limits`](crate::Client::decode_limits)).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The raw body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    fn err(&self, kind: ErrorKind) -> Error {
        Error::new(self.op, Some(self.object.clone()), kind)
    }

    /// Walks to the response element; a fault becomes an error.
    fn open<'a>(&self, body: &'a [u8]) -> Result<XmlReader<'a>, Error> {
        let mut r = XmlReader::from_slice(body).with_limits(self.limits);
        match enter_body(&mut r) {
            Ok(BodyContent::Response) => Ok(r),
            // A fault counts only if the whole reply arrived.
            Ok(BodyContent::Fault(f)) => match r.finish() {
                Ok(()) => Err(self.err(ErrorKind::Fault(Box::new(f)))),
                Err(e) => Err(self.err(ErrorKind::Decode(e))),
            },
            Err(e) => Err(self.err(ErrorKind::Decode(e))),
        }
    }

    fn collect<T: Decode>(&self, max: usize) -> Result<Vec<T>, Error> {
        let mut r = self.open(&self.body)?;
        let mut out = Vec::new();
        let res: Result<(), DecodeError> = (|| {
            while r.enter_child()? {
                if r.current_name() == b"returnval" && out.len() < max {
                    if let Some(v) = opt::<T>(&mut r)? {
                        out.push(v);
                    }
                } else {
                    r.skip()?;
                }
            }
            // The closing tags of Body and Envelope: a reply cut after the last result is an
            // error, not a complete result (more results may have followed).
            r.finish()
        })();
        res.map_err(|e| self.err(ErrorKind::Decode(e)))?;
        Ok(out)
    }

    /// Checks the reply is not a fault (for operations without a result) and is complete.
    pub fn empty(&self) -> Result<(), Error> {
        let mut r = self.open(&self.body)?;
        let res: Result<(), DecodeError> = (|| {
            while r.enter_child()? {
                r.skip()?;
            }
            r.finish()
        })();
        res.map_err(|e| self.err(ErrorKind::Decode(e)))
    }

    /// The single required result.
    pub fn one<T: Decode>(&self) -> Result<T, Error> {
        self.collect(1)?
            .pop()
            .ok_or_else(|| self.err(ErrorKind::Decode(missing_returnval())))
    }

    /// The optional result.
    pub fn opt<T: Decode>(&self) -> Result<Option<T>, Error> {
        Ok(self.collect(1)?.pop())
    }

    /// All results (an array result).
    pub fn many<T: Decode>(&self) -> Result<Vec<T>, Error> {
        self.collect(usize::MAX)
    }
}

fn missing_returnval() -> DecodeError {
    DecodeError::new(DecodeErrorKind::Missing("returnval"), "/Envelope/Body", 0)
}

/// What a SOAP body holds.
pub enum BodyContent {
    /// The operation's response element, entered (its children are the `returnval`s).
    Response,
    /// A SOAP fault.
    Fault(Fault),
}

/// Enters `Envelope/Body` and its first child: the response element, or a fault (read whole).
pub fn enter_body(r: &mut XmlReader<'_>) -> Result<BodyContent, DecodeError> {
    r.enter_root()?;
    if r.current_name() != b"Envelope" {
        return Err(r.error(DecodeErrorKind::Unexpected("not a SOAP envelope".into())));
    }
    loop {
        if !r.enter_child()? {
            return Err(r.error(DecodeErrorKind::Unexpected("no SOAP Body".into())));
        }
        if r.current_name() == b"Body" {
            break;
        }
        r.skip()?;
    }
    if !r.enter_child()? {
        return Err(r.error(DecodeErrorKind::Unexpected("empty SOAP Body".into())));
    }
    if r.current_name() == b"Fault" {
        return read_fault(r).map(BodyContent::Fault);
    }
    Ok(BodyContent::Response)
}

/// Reads a `Fault` element just entered.
pub fn read_fault(r: &mut XmlReader<'_>) -> Result<Fault, DecodeError> {
    let mut fault = Fault {
        code: String::new(),
        message: String::new(),
        detail: None,
    };
    while r.enter_child()? {
        match r.current_name() {
            b"faultcode" => fault.code = r.read_text()?,
            b"faultstring" => fault.message = r.read_text()?,
            b"detail" => {
                while r.enter_child()? {
                    if fault.detail.is_none() {
                        let name = r.current_name().to_vec();
                        if let Some(ty) = name.strip_suffix(b"Fault") {
                            r.assume_type(ty);
                        }
                        fault.detail = Some(AnyMethodFault::decode(r)?);
                    } else {
                        r.skip()?;
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(fault)
}
