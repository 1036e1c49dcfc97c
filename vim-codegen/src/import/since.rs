//! First-seen releases: merging the models of several WSDL sets, and comparing release
//! strings.
//!
//! [`merge_since`] sets every `since` of the newest model to the oldest compared release that
//! has the same item: types, arrays and enums by name; fields by owning type and field name;
//! enum values by enum and value; operations by name; parameters by operation and parameter
//! name. "4.1" therefore means "in 4.1 or earlier", and "8.0" means "after 5.5, by 8.0".

use crate::model::{Field, Model};
pub use crate::release::{cmp_at_precision, parse_release};

/// Sets the `since` of everything in `newest` to the oldest of `older` (oldest first) that has
/// it, and records the compared releases (oldest first, `newest` last) in `newest.compared`.
pub fn merge_since(newest: &mut Model, older: &[&Model]) {
    newest.compared = older
        .iter()
        .map(|m| m.release.clone())
        .chain(std::iter::once(newest.release.clone()))
        .collect();
    for t in newest.types.values_mut() {
        if let Some(r) = first(older, |m| m.types.contains_key(&t.name)) {
            t.since = r.to_string();
        }
        merge_fields(&mut t.fields, older, |m| {
            m.types.get(&t.name).map(|o| o.fields.as_slice())
        });
    }
    for a in newest.arrays.values_mut() {
        if let Some(r) = first(older, |m| m.arrays.contains_key(&a.name)) {
            a.since = r.to_string();
        }
    }
    for e in newest.enums.values_mut() {
        if let Some(r) = first(older, |m| m.enums.contains_key(&e.name)) {
            e.since = r.to_string();
        }
        for v in &mut e.values {
            let seen = first(older, |m| {
                m.enums
                    .get(&e.name)
                    .is_some_and(|o| o.values.iter().any(|ov| ov.name == v.name))
            });
            if let Some(r) = seen {
                v.since = r.to_string();
            }
        }
    }
    for op in newest.operations.values_mut() {
        if let Some(r) = first(older, |m| m.operations.contains_key(&op.name)) {
            op.since = r.to_string();
        }
        merge_fields(&mut op.params, older, |m| {
            m.operations.get(&op.name).map(|o| o.params.as_slice())
        });
    }
}

fn merge_fields<'m>(
    fields: &mut [Field],
    older: &[&'m Model],
    owner_fields: impl Fn(&'m Model) -> Option<&'m [Field]>,
) {
    for f in fields {
        let seen = first(older, |m| {
            owner_fields(m).is_some_and(|fs| fs.iter().any(|o| o.name == f.name))
        });
        if let Some(r) = seen {
            f.since = r.to_string();
        }
    }
}

/// The release of the first (oldest) model for which `has` is true.
fn first<'m>(older: &[&'m Model], has: impl Fn(&'m Model) -> bool) -> Option<&'m str> {
    older.iter().find(|m| has(m)).map(|m| m.release.as_str())
}

/// True if release `a` is after release `b` at `b`'s precision (both must parse; otherwise
/// false).
pub fn is_after(a: &str, b: &str) -> bool {
    match (parse_release(a), parse_release(b)) {
        (Some(a), Some(b)) => cmp_at_precision(&a, &b) == std::cmp::Ordering::Greater,
        _ => false,
    }
}

/// Drops trailing `.0` components beyond the second: `"7.0.0.0"` → `"7.0"`, `"8.0.1.0"` →
/// `"8.0.1"`. Other strings are returned as they are.
pub fn normalize(s: &str) -> String {
    if parse_release(s).is_none() {
        return s.to_string();
    }
    let mut parts: Vec<&str> = s.split('.').collect();
    while parts.len() > 2 && parts.last() == Some(&"0") {
        parts.pop();
    }
    parts.join(".")
}

/// The finer release to use instead of `coarse`, a `since` from comparing the WSDL sets
/// `compared` (oldest first), given the release `fact` that managed-object facts give.
///
/// `fact` is used when it parses and lies in the window `coarse` stands for: after the
/// compared release before `coarse` (if any) and not after `coarse`, both at the precision of
/// those releases. A fact outside the window contradicts the WSDL sets, which win.
pub fn finer(coarse: &str, compared: &[String], fact: &str) -> Option<String> {
    let idx = compared.iter().position(|c| c == coarse)?;
    let f = parse_release(fact)?;
    let upper = parse_release(coarse)?;
    if cmp_at_precision(&f, &upper) == std::cmp::Ordering::Greater {
        return None;
    }
    if idx > 0 {
        let lower = parse_release(&compared[idx - 1])?;
        if cmp_at_precision(&f, &lower) != std::cmp::Ordering::Greater {
            return None;
        }
    }
    let fine = normalize(fact);
    (fine != coarse).then_some(fine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared() -> Vec<String> {
        vec!["4.1".into(), "5.5".into(), "8.0".into()]
    }

    #[test]
    fn parses_releases() {
        assert_eq!(parse_release("8.0.1.0"), Some(vec![8, 0, 1, 0]));
        assert_eq!(parse_release("2.5u2"), Some(vec![2, 5, 2]));
        assert_eq!(parse_release("vSAN 7.0U1"), None);
        assert_eq!(parse_release("2.5u2server"), None);
        assert_eq!(parse_release(""), None);
    }

    #[test]
    fn finer_stays_in_the_window() {
        let c = compared();
        assert_eq!(finer("8.0", &c, "6.7"), Some("6.7".into()));
        assert_eq!(finer("8.0", &c, "8.0.1.0"), Some("8.0.1".into()));
        assert_eq!(finer("8.0", &c, "8.0.0.0"), None);
        assert_eq!(finer("8.0", &c, "5.5"), None);
        assert_eq!(finer("8.0", &c, "9.0.0.0"), None);
        assert_eq!(finer("4.1", &c, "2.0"), Some("2.0".into()));
        assert_eq!(finer("4.1", &c, "5.0"), None);
        assert_eq!(finer("5.5", &c, "5.0"), Some("5.0".into()));
        assert_eq!(finer("5.5", &c, "VMC M5"), None);
        assert_eq!(finer("2.0", &c, "2.0"), None);
    }

    #[test]
    fn after_at_precision() {
        assert!(is_after("9.0.0.0", "8.0"));
        assert!(!is_after("8.0.2.0", "8.0"));
        assert!(!is_after("odd", "8.0"));
    }
}
