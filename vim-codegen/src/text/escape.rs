//! Escaping of values in the text form: a space, tab, line break, `%` or `=` becomes `%XX`;
//! an empty value is `%`.

use std::borrow::Cow;

fn needs_escape(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'%' | b'=')
}

/// The escaped form of `s`.
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.is_empty() {
        return Cow::Borrowed("%");
    }
    if !s.bytes().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii() && needs_escape(c as u8) {
            out.push_str(&format!("%{:02X}", c as u8));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The value that `escape` turned into `s`; `None` if `s` has a malformed escape.
pub fn unescape(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    if s == "%" {
        return Some(Cow::Borrowed(""));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_awkward_values() {
        for s in [
            "",
            "plain",
            "VMC M5",
            "a=b",
            "100%",
            "tab\there",
            "line\nbreak",
            "é x",
        ] {
            let e = escape(s);
            assert!(!e.contains(' ') && !e.contains('=') && !e.is_empty(), "{e}");
            assert_eq!(unescape(&e).as_deref(), Some(s));
        }
        assert_eq!(escape("VMC M5"), "VMC%20M5");
    }

    #[test]
    fn rejects_bad_escapes() {
        assert_eq!(unescape("%G0"), None);
        assert_eq!(unescape("ab%2"), None);
    }
}
