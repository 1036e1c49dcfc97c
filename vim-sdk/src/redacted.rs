//! What the generated `Debug` impls print in place of a secret field's value.

use core::fmt;

/// Stands for a secret value (or a list of them) in `Debug` output: `<redacted>`, or
/// `[<redacted>; N]` for a list of `N`.
pub(crate) struct Redacted {
    items: Option<usize>,
}

impl Redacted {
    /// One value.
    pub(crate) const ONE: Redacted = Redacted { items: None };

    /// A list of `n` values (no secret field of the 8.0 model is an array; other WSDL sets
    /// may have one).
    #[allow(dead_code)]
    pub(crate) fn items(n: usize) -> Redacted {
        Redacted { items: Some(n) }
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.items {
            None => f.write_str("<redacted>"),
            Some(n) => write!(f, "[<redacted>; {n}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_neither_value_nor_more_than_a_count() {
        assert_eq!(format!("{:?}", Redacted::ONE), "<redacted>");
        assert_eq!(
            format!("{:?}", Some(Redacted::ONE).as_ref()),
            "Some(<redacted>)"
        );
        assert_eq!(format!("{:?}", Redacted::items(2)), "[<redacted>; 2]");
    }
}
