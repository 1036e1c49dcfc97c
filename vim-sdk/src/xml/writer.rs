//! The XML writer behind every generated encoder.

use super::values::ManagedObjectReference;
use super::{XSD_NS, XSI_NS};

/// Appends XML to a byte buffer. Element names are written unqualified: the vim25 namespace is
/// the default namespace declared by the envelope (or by [`XmlWriter::declare_namespaces_on_next`]),
/// `xsi` and `xsd` are declared there too.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buf: Vec<u8>,
    level: Option<u8>,
    declare_next: bool,
}

impl XmlWriter {
    /// An empty writer that writes every field.
    pub fn new() -> Self {
        XmlWriter {
            buf: Vec::with_capacity(512),
            level: None,
            declare_next: false,
        }
    }

    /// Limits what is written to what a server knows: `level` is the number of compared releases
    /// (see the model's `compared` list) older than the server's API version; a field first seen
    /// in compared release `n` is written only if `n <= level`.
    pub fn set_server_level(&mut self, level: Option<u8>) {
        self.level = level;
    }

    /// Whether a field first seen in compared release index `since` may be sent.
    #[inline]
    pub fn knows(&self, since: u8) -> bool {
        match self.level {
            Some(l) => since <= l,
            None => true,
        }
    }

    /// Makes the next start tag declare `xmlns="urn:vim25"`, `xmlns:xsi` and `xmlns:xsd`.
    pub fn declare_namespaces_on_next(&mut self) {
        self.declare_next = true;
    }

    /// Appends raw, already well-formed markup.
    pub fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn open(&mut self, name: &str, xsi_type: Option<&str>) {
        self.buf.push(b'<');
        self.buf.extend_from_slice(name.as_bytes());
        if self.declare_next {
            self.declare_next = false;
            self.buf
                .extend_from_slice(b" xmlns=\"urn:vim25\" xmlns:xsi=\"");
            self.buf.extend_from_slice(XSI_NS.as_bytes());
            self.buf.extend_from_slice(b"\" xmlns:xsd=\"");
            self.buf.extend_from_slice(XSD_NS.as_bytes());
            self.buf.push(b'"');
        }
        if let Some(t) = xsi_type {
            self.buf.extend_from_slice(b" xsi:type=\"");
            self.buf.extend_from_slice(t.as_bytes());
            self.buf.push(b'"');
        }
    }

    /// Writes a start tag, with `xsi:type` when given (e.g. `VirtualDisk` or `xsd:string`).
    pub fn start(&mut self, name: &str, xsi_type: Option<&str>) {
        self.open(name, xsi_type);
        self.buf.push(b'>');
    }

    /// Writes an end tag.
    pub fn end(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</");
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.push(b'>');
    }

    /// Writes escaped text.
    pub fn text(&mut self, s: &str) {
        escape_into(&mut self.buf, s, false);
    }

    /// Writes `<name xsi:type?>text</name>`.
    pub fn simple(&mut self, name: &str, xsi_type: Option<&str>, text: &str) {
        self.start(name, xsi_type);
        self.text(text);
        self.end(name);
    }

    /// Writes a managed object reference: `<name type="T">value</name>`.
    pub fn reference(&mut self, name: &str, xsi_type: Option<&str>, r: &ManagedObjectReference) {
        self.open(name, xsi_type);
        self.buf.extend_from_slice(b" type=\"");
        escape_into(&mut self.buf, &r.r#type, true);
        self.buf.extend_from_slice(b"\">");
        self.text(&r.value);
        self.end(name);
    }

    /// Writes `<name xsi:nil="true"></name>`.
    pub fn nil(&mut self, name: &str) {
        self.open(name, None);
        self.buf.extend_from_slice(b" xsi:nil=\"true\">");
        self.end(name);
    }

    /// Writes a data object's fields as `<name xsi:type="ty">...</name>`.
    pub fn typed<F: super::DataObject>(&mut self, name: &str, ty: &str, value: &F) {
        self.start(name, Some(ty));
        value.write_fields(self);
        self.end(name);
    }

    /// Writes a floating-point value in XML Schema form (`INF`, `-INF`, `NaN`).
    pub fn float(&mut self, name: &str, xsi_type: Option<&str>, v: f64) {
        let text = if v.is_nan() {
            "NaN".to_string()
        } else if v.is_infinite() {
            if v > 0.0 { "INF" } else { "-INF" }.to_string()
        } else {
            format!("{v:?}")
        };
        self.simple(name, xsi_type, &text);
    }

    /// Writes bytes as `xsd:base64Binary`.
    pub fn base64(&mut self, name: &str, xsi_type: Option<&str>, v: &[u8]) {
        use base64::Engine;
        let s = base64::engine::general_purpose::STANDARD.encode(v);
        self.simple(name, xsi_type, &s);
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the bytes written (keeping the buffer and the server level), to write the next
    /// piece of a body that is sent piece by piece.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

fn escape_into(out: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'&' => b"&amp;",
            b'"' if attr => b"&quot;",
            b'\r' => b"&#13;",
            b'\t' if attr => b"&#9;",
            b'\n' if attr => b"&#10;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}
