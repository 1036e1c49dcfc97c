//! A short, human-readable summary of how two models differ (used by `vim-codegen check` and
//! the staleness test).

use std::collections::BTreeMap;

use crate::model::Model;

/// How many names each summary line lists before "...".
const SHOWN: usize = 8;

/// One line per part of the model that differs (empty when `old == new`), e.g.
/// `types: 2 added (Foo, Bar), 1 changed (Baz)`.
pub fn summarize(old: &Model, new: &Model) -> Vec<String> {
    let mut out = Vec::new();
    if old.release != new.release {
        out.push(format!("release: {} -> {}", old.release, new.release));
    }
    if old.compared != new.compared {
        out.push(format!(
            "compared: {} -> {}",
            old.compared.join(" "),
            new.compared.join(" ")
        ));
    }
    section(&mut out, "types", &old.types, &new.types);
    section(&mut out, "arrays", &old.arrays, &new.arrays);
    section(&mut out, "enums", &old.enums, &new.enums);
    section(&mut out, "operations", &old.operations, &new.operations);
    section(
        &mut out,
        "managed objects",
        &old.managed_objects,
        &new.managed_objects,
    );
    out
}

fn section<T: PartialEq>(
    out: &mut Vec<String>,
    what: &str,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) {
    let added: Vec<&str> = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .map(String::as_str)
        .collect();
    let changed: Vec<&str> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k.as_str())
        .collect();
    let mut parts = Vec::new();
    for (label, names) in [("added", added), ("removed", removed), ("changed", changed)] {
        if !names.is_empty() {
            parts.push(format!("{} {label} ({})", names.len(), list(&names)));
        }
    }
    if !parts.is_empty() {
        out.push(format!("{what}: {}", parts.join(", ")));
    }
}

fn list(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(", ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnumType, Origin};

    fn with_enum(name: &str, since: &str) -> Model {
        let mut m = Model {
            release: "8.0".into(),
            ..Model::default()
        };
        m.enums.insert(
            name.into(),
            EnumType {
                name: name.into(),
                values: vec![],
                origin: Origin::Vim,
                since: since.into(),
            },
        );
        m
    }

    #[test]
    fn reports_added_removed_and_changed() {
        assert!(summarize(&with_enum("A", "4.1"), &with_enum("A", "4.1")).is_empty());
        assert_eq!(
            summarize(&with_enum("A", "4.1"), &with_enum("A", "5.5")),
            vec!["enums: 1 changed (A)".to_string()]
        );
        assert_eq!(
            summarize(&with_enum("A", "4.1"), &with_enum("B", "4.1")),
            vec!["enums: 1 added (B), 1 removed (A)".to_string()]
        );
    }
}
