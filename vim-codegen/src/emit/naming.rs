//! Every naming rule of the emitter: wire names to Rust identifiers.

/// Rust keywords that need a raw identifier or a suffix.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// Escapes a keyword: `type` → `r#type`, `self` → `self_`.
pub fn escape(ident: String) -> String {
    if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// `vmPathName` → `vm_path_name`, `_this` → `this`, `IPAddress` → `ip_address`.
pub fn snake(wire: &str) -> String {
    let chars: Vec<char> = wire.trim_start_matches('_').chars().collect();
    let mut out = String::with_capacity(chars.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '.' || c == ' ' || c == '_' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if (prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower))
                && !out.ends_with('_')
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'v');
    }
    escape(out)
}

/// An enum value → a variant name: `poweredOff` → `PoweredOff`, `AUTH_SYS` → `AuthSys`,
/// `vmx-07` → `Vmx07`, `rhel7_64Guest` → `Rhel7_64Guest`.
pub fn variant(wire: &str) -> String {
    let mut out = String::new();
    for part in wire
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let letters = part.chars().filter(|c| c.is_ascii_alphabetic()).count();
        let part = if letters > 1 && part.chars().all(|c| !c.is_ascii_lowercase()) {
            let lower = part.to_ascii_lowercase();
            let mut cs = lower.chars();
            let first = cs
                .next()
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_default();
            format!("{first}{}", cs.as_str())
        } else {
            let mut cs = part.chars();
            let first = cs
                .next()
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_default();
            format!("{first}{}", cs.as_str())
        };
        if out.ends_with(|c: char| c.is_ascii_digit())
            && part.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('_');
        }
        out.push_str(&part);
    }
    if out.is_empty() {
        out.push_str("Empty");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// The polymorphic enum for values declared as `base` (a type with subtypes).
pub fn poly_enum(base: &str) -> String {
    if base == "DynamicData" {
        "AnyData".to_string()
    } else {
        format!("Any{base}")
    }
}

/// An operation's function name: `PowerOnVM_Task` → `power_on_vm_task`.
pub fn method(wire: &str) -> String {
    snake(wire)
}

/// Escapes text for a `///` doc comment line.
pub fn doc(text: &str) -> String {
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        assert_eq!(snake("vmPathName"), "vm_path_name");
        assert_eq!(snake("_this"), "this");
        assert_eq!(snake("IPAddress"), "ip_address");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("ipV6Enabled"), "ip_v6_enabled");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("PowerOnVM_Task"), "power_on_vm_task");
        assert_eq!(snake("numCPU"), "num_cpu");
    }

    #[test]
    fn variants() {
        assert_eq!(variant("poweredOff"), "PoweredOff");
        assert_eq!(variant("AUTH_SYS"), "AuthSys");
        assert_eq!(variant("vmx-07"), "Vmx07");
        assert_eq!(variant("rhel7_64Guest"), "Rhel7_64Guest");
        assert_eq!(variant("1G"), "V1G");
        assert_eq!(variant(""), "Empty");
    }
}
