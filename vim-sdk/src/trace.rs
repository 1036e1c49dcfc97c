//! Observability: the redacted wire dump.
//!
//! Each call of [`Client::invoke`](crate::Client::invoke) runs in a `tracing` span named
//! `vim_call` (fields `method` and `object`) and ends with a `debug` event carrying `status`,
//! `bytes_out`, `bytes_in` and `elapsed_us`. No event carries a header value, a password or the
//! session cookie.
//!
//! The wire dump is opt-in: set [`WIRE_DUMP_ENV`] to a directory (read when a
//! [`Client`](crate::Client) is made) or call
//! [`Client::set_wire_dump`](crate::Client::set_wire_dump). Each call writes
//! `<seq>-<Method>.request.xml` and, for [`invoke`](crate::Client::invoke),
//! `<seq>-<Method>.response.xml` (mode 0600, directory 0700 when created). Before writing, the
//! content of every element holding a secret (passwords, session ids, tickets, login tokens,
//! `UserSession.key`, service ticket ids: see [`redact_call`]) is replaced by `***`, and so is
//! every occurrence of the session cookie in use and of the session key.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable naming the wire dump directory.
pub const WIRE_DUMP_ENV: &str = "VIM_SDK_WIRE_DUMP";

/// What replaces a redacted value.
pub const REDACTED: &str = "***";

/// Elements whose text is always redacted in dumps.
const SECRET_ELEMENTS: &[&str] = &["password", "sessionId", "sessionID", "cloneTicket"];

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A process-wide call number, to pair a request dump with its response dump.
pub(crate) fn next_sequence() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// Writes redacted request and response bodies into a directory.
#[derive(Debug)]
pub struct WireDump {
    dir: PathBuf,
}

impl WireDump {
    /// A dump into `dir` (created on first use).
    pub fn new(dir: PathBuf) -> Self {
        WireDump { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `body` as `<seq>-<op>.<kind>.xml`, redacted (secret elements and each of
    /// `secrets`). Failures are logged, never returned: a dump must not break a call.
    pub fn write(&self, seq: u64, op: &str, kind: &str, body: &[u8], secrets: &[Option<&str>]) {
        let text = redact_call(Some(op), body, secrets);
        let name = format!("{seq:06}-{op}.{kind}.xml");
        if let Err(e) = self.write_file(&name, &text) {
            tracing::warn!(dir = %self.dir.display(), file = %name, error = %e, "cannot write wire dump");
        }
    }

    fn write_file(&self, name: &str, text: &[u8]) -> std::io::Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir)?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(self.dir.join(name))?;
        f.write_all(text)
    }
}

/// `body` with the content of secret elements and every occurrence of each secret (and of the
/// secret without surrounding double quotes) replaced by [`REDACTED`]. See [`redact_call`] for
/// which elements are secret.
pub fn redact(body: &[u8], secrets: &[Option<&str>]) -> Vec<u8> {
    redact_call(None, body, secrets)
}

/// [`redact`] for a request to or a reply from operation `op`: the content of these elements
/// is replaced by [`REDACTED`] (nested elements included):
///
/// - by name, wherever they are: passwords (any name containing `password`, `passwd` or
///   `secret`), `sessionId`/`sessionID`, `ticket`, `cloneTicket` and the login tokens
///   (`base64Token`, `sspiToken`, ...);
/// - by the type of the object holding them (its `xsi:type`, the item type of an array, or the
///   return type of `op` for `returnval`): `UserSession.key` and
///   `SessionManagerGenericServiceTicket.id`;
/// - the `returnval` of an operation returning a ticket as a string (`AcquireCloneTicket`).
///
/// Then every occurrence of each of `secrets` (the session cookie, the session key) is
/// replaced too.
pub fn redact_call(op: Option<&str>, body: &[u8], secrets: &[Option<&str>]) -> Vec<u8> {
    let mut out = redact_elements(op, body);
    for secret in secrets.iter().flatten() {
        let bare = secret.trim_matches('"');
        for s in [*secret, bare] {
            if s.len() >= 4 {
                out = replace_all(&out, s.as_bytes(), REDACTED.as_bytes());
            }
        }
    }
    out
}

/// Whether an element of this local name holds a secret wherever it appears.
fn secret_by_name(local: &[u8]) -> bool {
    let lower = local.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    SECRET_ELEMENTS.iter().any(|e| e.as_bytes() == local)
        || has(b"password")
        || has(b"passwd")
        || has(b"secret")
        || lower == b"ticket"
        || (lower.ends_with(b"token") && lower != b"token" && lower != b"nexttoken")
}

/// Fields holding a secret, by the type that holds them.
const SECRET_FIELDS: &[(&str, &str)] = &[
    ("UserSession", "key"),
    ("SessionManagerGenericServiceTicket", "id"),
];

/// The wire return type of operation `op`, from the model (`meta::operation_return`, not
/// `OPERATIONS`: every client links this, and it needs no parameter tables nor a relocated
/// string per operation).
fn return_type(op: &str) -> Option<&'static str> {
    crate::meta::operation_return(op)
}

/// The local part of a qualified name.
fn local_part(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(c) => &name[c + 1..],
        None => name,
    }
}

/// The local part of the `xsi:type` (any prefix) value among a start tag's attributes.
fn xsi_type_of(tag: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while let Some(p) = find(tag, b":type=", at) {
        at = p + 6;
        let quote = *tag.get(at)?;
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let end = find(tag, &[quote], at + 1)?;
        return Some(local_part(&tag[at + 1..end]));
    }
    None
}

/// An element open around the scanner: its local name and the type it holds, if known.
struct Open {
    local: Vec<u8>,
    ty: Option<Vec<u8>>,
}

/// Replaces the content of every secret element (see [`redact_call`]) with [`REDACTED`].
fn redact_elements(op: Option<&str>, body: &[u8]) -> Vec<u8> {
    let response = op.map(|o| format!("{o}Response"));
    let string_ticket =
        op.is_some_and(|o| o.contains("Ticket") && return_type(o) == Some("xsd:string"));
    let mut out = Vec::with_capacity(body.len());
    let mut stack: Vec<Open> = Vec::new();
    let mut at = 0;
    while let Some(lt) = find(body, b"<", at) {
        let Some(tag_end) = find(body, b">", lt) else {
            break;
        };
        out.extend_from_slice(&body[at..=tag_end]);
        at = tag_end + 1;
        let tag = &body[lt + 1..tag_end];
        match tag.first() {
            Some(b'/') => {
                stack.pop();
                continue;
            }
            Some(b'!') | Some(b'?') | None => continue,
            _ => {}
        }
        let qname = tag
            .split(|b| b.is_ascii_whitespace() || *b == b'/')
            .next()
            .unwrap_or(&[]);
        let local = local_part(qname);
        let parent = stack.last();
        let parent_ty = parent.and_then(|p| p.ty.as_deref());
        let in_response =
            parent.is_some_and(|p| response.as_deref().map(str::as_bytes) == Some(&p.local[..]));
        let secret = secret_by_name(local)
            || SECRET_FIELDS
                .iter()
                .any(|(t, f)| parent_ty == Some(t.as_bytes()) && f.as_bytes() == local)
            || (string_ticket && in_response && local == b"returnval");
        if tag.last() == Some(&b'/') {
            continue;
        }
        if secret {
            out.extend_from_slice(REDACTED.as_bytes());
            let close = end_of_element(body, at);
            out.extend_from_slice(&body[close.min(body.len())..close_tag_end(body, close)]);
            at = close_tag_end(body, close);
            continue;
        }
        let ty = match xsi_type_of(tag) {
            Some(t) => Some(t.to_vec()),
            None if in_response && local == b"returnval" => {
                op.and_then(return_type).map(|t| t.as_bytes().to_vec())
            }
            None => Some(local.to_vec()),
        };
        stack.push(Open {
            local: local.to_vec(),
            ty,
        });
    }
    out.extend_from_slice(&body[at.min(body.len())..]);
    out
}

/// Where the end tag closing the element whose content starts at `from` begins (the body's
/// length if it never closes).
fn end_of_element(body: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut at = from;
    while let Some(lt) = find(body, b"<", at) {
        let Some(gt) = find(body, b">", lt) else {
            break;
        };
        let tag = &body[lt + 1..gt];
        match tag.first() {
            Some(b'/') if depth == 0 => return lt,
            Some(b'/') => depth -= 1,
            Some(b'!') | Some(b'?') => {}
            _ if tag.last() == Some(&b'/') => {}
            _ => depth += 1,
        }
        at = gt + 1;
    }
    body.len()
}

/// The position just after the end tag starting at `lt`.
fn close_tag_end(body: &[u8], lt: usize) -> usize {
    find(body, b">", lt).map_or(body.len(), |gt| gt + 1)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut at = 0;
    while let Some(p) = find(hay, needle, at) {
        out.extend_from_slice(&hay[at..p]);
        out.extend_from_slice(with);
        at = p + needle.len();
    }
    out.extend_from_slice(&hay[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_returns_hold_every_result_type() {
        let from_ops: Vec<(&str, &str)> = crate::meta::OPERATIONS
            .iter()
            .filter_map(|o| o.returns.map(|r| (o.name, r)))
            .collect();
        assert!(from_ops.len() > 500, "{}", from_ops.len());
        let returns: Vec<(&str, &str)> = crate::meta::operation_returns().collect();
        assert_eq!(returns, from_ops);
        assert_eq!(crate::meta::operation_returns().len(), from_ops.len());
        // The relocation-free lookup `return_type` reads says the same for every operation.
        for o in crate::meta::OPERATIONS {
            assert_eq!(return_type(o.name), o.returns, "{}", o.name);
        }
        assert_eq!(return_type("Login"), Some("UserSession"));
        assert_eq!(return_type("AcquireCloneTicket"), Some("xsd:string"));
        assert_eq!(return_type("Logout"), None);
    }

    #[test]
    fn redacts_passwords_session_ids_and_cookies() {
        let body = br#"<Login xmlns="urn:vim25"><_this type="SessionManager">sm</_this><userName>root</userName><password>s3cr&amp;t</password></Login><x:sessionId a="1">"abcd-1234"</x:sessionId><key>abcd-1234</key><password/>"#;
        let out = redact(body, &[Some("\"abcd-1234\""), None]);
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("s3cr"), "{out}");
        assert!(!out.contains("abcd-1234"), "{out}");
        assert!(out.contains("<userName>root</userName>"), "{out}");
        assert!(out.contains("<password>***</password>"), "{out}");
        assert!(
            out.contains("<x:sessionId a=\"1\">***</x:sessionId>"),
            "{out}"
        );
        assert!(out.contains("<key>***</key>"), "{out}");
        assert!(out.ends_with("<password/>"), "{out}");
    }

    fn redacted(op: &str, body: &str) -> String {
        String::from_utf8(redact_call(Some(op), body.as_bytes(), &[])).unwrap()
    }

    #[test]
    fn session_keys_and_tickets_are_redacted_where_they_are_secrets() {
        let r = r#"<LoginResponse xmlns="urn:vim25"><returnval><key>k-1</key><userName>u</userName></returnval></LoginResponse>"#;
        assert_eq!(
            redacted("Login", r),
            r#"<LoginResponse xmlns="urn:vim25"><returnval><key>***</key><userName>u</userName></returnval></LoginResponse>"#
        );
        // A key of another object is data, a UserSession's is not, wherever it is.
        let r = r#"<R><val xsi:type="OptionValue"><key>k-2</key></val><val xsi:type="ArrayOfUserSession"><UserSession><key>k-3</key></UserSession></val><val xsi:type="v:UserSession"><key>k-4</key></val></R>"#;
        assert_eq!(
            redacted("RetrievePropertiesEx", r),
            r#"<R><val xsi:type="OptionValue"><key>k-2</key></val><val xsi:type="ArrayOfUserSession"><UserSession><key>***</key></UserSession></val><val xsi:type="v:UserSession"><key>***</key></val></R>"#
        );
        let r =
            "<AcquireCloneTicketResponse><returnval>t-1</returnval></AcquireCloneTicketResponse>";
        assert_eq!(
            redacted("AcquireCloneTicket", r),
            "<AcquireCloneTicketResponse><returnval>***</returnval></AcquireCloneTicketResponse>"
        );
        // The same shape from an operation returning no ticket is left alone.
        let r = "<CurrentTimeResponse><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>";
        assert_eq!(redacted("CurrentTime", r), r);
        let r = "<AcquireGenericServiceTicketResponse><returnval><id>t-2</id><hostName>h</hostName></returnval></AcquireGenericServiceTicketResponse>";
        assert_eq!(
            redacted("AcquireGenericServiceTicket", r),
            "<AcquireGenericServiceTicketResponse><returnval><id>***</id><hostName>h</hostName></returnval></AcquireGenericServiceTicketResponse>"
        );
        let r = "<R><returnval><ticket>t-3</ticket><port>902</port></returnval></R>";
        assert_eq!(
            redacted("AcquireTicket", r),
            "<R><returnval><ticket>***</ticket><port>902</port></returnval></R>"
        );
        // A password made of elements is redacted whole; the rest of the document is kept.
        let r = "<s><adminPassword><value>p-1</value><plainText>true</plainText></adminPassword><chapSecret>c</chapSecret><token>page-2</token><n>1</n></s>";
        assert_eq!(
            redacted("X", r),
            "<s><adminPassword>***</adminPassword><chapSecret>***</chapSecret><token>page-2</token><n>1</n></s>"
        );
    }

    #[test]
    fn short_secrets_are_not_replaced_everywhere() {
        let out = redact(b"<a>ab</a>", &[Some("ab")]);
        assert_eq!(out, b"<a>ab</a>");
    }
}
