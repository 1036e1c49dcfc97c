//! Release strings (`"8.0.1.0"`, `"2.5u2"`) as numbers, for ordering and comparing releases.

/// A release string parsed into numbers: `"8.0.1.0"` → `[8, 0, 1, 0]`, `"2.5u2"` →
/// `[2, 5, 2]`. `None` for anything else (`"VMC M5"`, `"vSAN 7.0U1"`, `""`).
pub fn parse_release(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let parts: Vec<&str> = s.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let (num, update) = match part.split_once('u') {
            Some((n, u)) if i + 1 == parts.len() => (n, Some(u)),
            Some(_) => return None,
            None => (*part, None),
        };
        out.push(digits(num)?);
        if let Some(u) = update {
            out.push(digits(u)?);
        }
    }
    Some(out)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Compares release `a` with release `b` on `b`'s precision: `"8.0.1.0"` is equal to `"8.0"`,
/// after `"5.5"` and before `"9.0"`. Missing components count as 0.
pub fn cmp_at_precision(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
    for (i, y) in b.iter().enumerate() {
        let x = a.get(i).copied().unwrap_or(0);
        match x.cmp(y) {
            std::cmp::Ordering::Equal => {}
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// The release as numbers for ordering; a string that does not parse orders first.
pub fn release_key(s: &str) -> Vec<u32> {
    parse_release(s).unwrap_or_default()
}
