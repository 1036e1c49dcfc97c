//! OpenNebula template attributes as the probe prints them: `KEY=VALUE` lines and vectors
//! `KEY=[A=..,B=..]`, with string values double-quoted.
//!
//! oned reads the probe's output with its template parser, where a double-quoted value runs
//! to the next `"` (OpenNebula 4.x has no escapes inside quotes; later versions read `\"` as
//! an escaped quote). A VM or datastore name is chosen by whoever creates it, so a quoted
//! value never contains a `"` (printed as `'`) or a `\` (printed as `/`), and no control
//! character (newline, tab, ...: printed as a space). Commas, brackets and `=` are harmless
//! inside quotes and are kept.

/// `value` as a double-quoted template string that cannot end early.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        out.push(match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        });
    }
    out.push('"');
    out
}

/// OpenNebula's VM id for a VM named exactly `one-<id>` (digits only, no sign, no leading
/// zero, within OpenNebula's 32-bit ids); `-1` for every other name.
pub fn one_vm_id(name: &str) -> i64 {
    let Some(digits) = name.strip_prefix("one-") else {
        return -1;
    };
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return -1;
    }
    match digits.parse::<i64>() {
        Ok(id) if id <= i64::from(i32::MAX) => id,
        _ => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_cannot_be_broken() {
        assert_eq!(quote("one-7"), "\"one-7\"");
        assert_eq!(quote("a\",ID=3,B=\"[x]\\\nz"), "\"a',ID=3,B='[x]/ z\"");
        for hostile in ["\"", "\\", "\\\"", "x\n]", "\u{0}"] {
            let q = quote(hostile);
            let inner = &q[1..q.len() - 1];
            assert!(!inner.contains(['"', '\\', '\n', '\0']), "{q:?}");
        }
    }

    #[test]
    fn ids_only_for_exact_names() {
        assert_eq!(one_vm_id("one-7"), 7);
        assert_eq!(one_vm_id("one-0"), 0);
        assert_eq!(one_vm_id("one-2147483647"), 2_147_483_647);
        for other in [
            "one-",
            "one-07",
            "one-7a",
            "one--7",
            "one-+7",
            "xone-7",
            "one-7 ",
            "One-7",
            "one-2147483648",
            "one-99999999999999999999",
            "one-٣",
        ] {
            assert_eq!(one_vm_id(other), -1, "{other}");
        }
    }
}
