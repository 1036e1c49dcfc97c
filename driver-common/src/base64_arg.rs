//! The base64 arguments OpenNebula hands the drivers (the `<VM>` document of the network
//! driver, `DS_DRIVER_ACTION_DATA` of the datastore driver): decoded with a bound on the size,
//! before any XML is parsed.

use base64::Engine as _;

/// Decodes `arg` (standard alphabet; line breaks and other ASCII white space tolerated) into
/// UTF-8 text of at most about `max_len` bytes. The error says what is wrong (`too large`,
/// `not base64: ...`, `not UTF-8`) for the caller to put in its own message.
pub fn decode_text(arg: &str, max_len: usize) -> Result<String, String> {
    let compact: String = arg.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > max_len * 4 / 3 + 4 {
        return Err("too large".into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("not base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::decode_text;

    #[test]
    fn decodes_wrapped_text_and_names_each_failure() {
        assert_eq!(decode_text("aGVs\nbG8=\n", 16).as_deref(), Ok("hello"));
        assert_eq!(decode_text(&"QUFB".repeat(10), 8), Err("too large".into()));
        assert!(decode_text("a*b=", 16)
            .unwrap_err()
            .starts_with("not base64: "));
        assert_eq!(decode_text("/w==", 16), Err("not UTF-8".into()));
    }
}
