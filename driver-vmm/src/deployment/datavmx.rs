//! DATA_VMX: VMX lines (`key = "value"`) that OpenNebula passes through the deployment file's
//! metadata, separated by real newlines or by the literal two characters `\n`.

/// Parses DATA_VMX text into `(key, value)` pairs: each key once (the last value wins, at the
/// key's first position), quotes around the value removed. Blank lines are skipped; a line
/// without `=` or with an empty key is returned as a warning.
pub fn parse_data_vmx(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut warnings = Vec::new();
    let normalised = text.replace("\\n", "\n");
    for line in normalised.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            warnings.push(format!(
                "DATA_VMX line without '=' ignored: {}",
                short(line)
            ));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == '"') {
            warnings.push(format!(
                "DATA_VMX line with a bad key ignored: {}",
                short(line)
            ));
            continue;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        match pairs.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(existing) => existing.1 = value.to_string(),
            None => pairs.push((key.to_string(), value.to_string())),
        }
    }
    (pairs, warnings)
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_backslash_n_separates_lines_and_keys_are_set_once() {
        let (pairs, warnings) = parse_data_vmx(
            r#"ethernet0.pciSlotNumber = "33"\nfoo=bar\n  \nFOO = "baz"\nsched.mem.min = "512""#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            pairs,
            vec![
                ("ethernet0.pciSlotNumber".to_string(), "33".to_string()),
                ("foo".to_string(), "baz".to_string()),
                ("sched.mem.min".to_string(), "512".to_string()),
            ]
        );
    }

    #[test]
    fn real_newlines_and_bad_lines() {
        let (pairs, warnings) = parse_data_vmx("a = \"1\"\nno equals here\n= x\nb=\"\"\n");
        assert_eq!(
            pairs,
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), String::new())
            ]
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }
}
