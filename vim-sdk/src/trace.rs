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
//! content of every `password`, `sessionId`/`sessionID` and `cloneTicket` element is replaced
//! by `***`, and so is every occurrence of the session cookie in use.

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
        let text = redact(body, secrets);
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

/// `body` with the text of secret elements and every occurrence of each secret (and of the
/// secret without surrounding double quotes) replaced by [`REDACTED`].
pub fn redact(body: &[u8], secrets: &[Option<&str>]) -> Vec<u8> {
    let mut out = body.to_vec();
    for name in SECRET_ELEMENTS {
        out = redact_element(&out, name);
    }
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

/// Replaces the text of every `<name>`/`<prefix:name ...>` element with [`REDACTED`].
fn redact_element(body: &[u8], name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    while let Some(lt) = find(body, b"<", at) {
        let tag_end = match find(body, b">", lt) {
            Some(e) => e,
            None => break,
        };
        let tag = &body[lt + 1..tag_end];
        let local = tag
            .split(|b| b.is_ascii_whitespace() || *b == b'/')
            .next()
            .unwrap_or(&[]);
        let local = match local.iter().rposition(|b| *b == b':') {
            Some(c) => &local[c + 1..],
            None => local,
        };
        let self_closing = tag.last() == Some(&b'/');
        if local == name.as_bytes() && !self_closing && tag.first() != Some(&b'/') {
            // Copy the start tag, skip the content up to the next end tag.
            out.extend_from_slice(&body[at..=tag_end]);
            out.extend_from_slice(REDACTED.as_bytes());
            at = find(body, b"</", tag_end + 1).unwrap_or(body.len());
        } else {
            out.extend_from_slice(&body[at..=tag_end]);
            at = tag_end + 1;
        }
    }
    out.extend_from_slice(&body[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn short_secrets_are_not_replaced_everywhere() {
        let out = redact(b"<a>ab</a>", &[Some("ab")]);
        assert_eq!(out, b"<a>ab</a>");
    }
}
