//! Sorted tables of wire names stored without pointers.
//!
//! A `static [&str; N]` holds one pointer per name, and in a position-independent executable
//! each pointer is a load-time relocation that the dynamic loader writes (and so copies the
//! page it is on) at every process start: the bindings' type name tables alone are thousands
//! of them. A [`NameTable`] holds every name in one string and their end offsets as integers:
//! two pointers whatever its length.

/// A table of names sorted by their bytes: one string holding them all, concatenated, and
/// the end offset of each.
#[derive(Debug, Clone, Copy)]
pub struct NameTable {
    text: &'static str,
    ends: &'static [u32],
}

impl NameTable {
    /// A table of the names `text` holds back to back, the `i`th ending at `ends[i]`
    /// (the generated bindings build theirs sorted, as [`NameTable::binary_search`] needs).
    pub const fn new(text: &'static str, ends: &'static [u32]) -> NameTable {
        NameTable { text, ends }
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the table holds no name.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th name, if there is one.
    pub fn get(&self, i: usize) -> Option<&'static str> {
        let end = usize::try_from(*self.ends.get(i)?).ok()?;
        let start = match i.checked_sub(1) {
            Some(prev) => usize::try_from(*self.ends.get(prev)?).ok()?,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// Finds `name` in the (sorted) table: `Ok(index)`, or `Err(index)` where it would go.
    ///
    /// Compares bytes: each probe slices `text` as bytes, without the two char-boundary
    /// checks and the `Option` chain of [`NameTable::get`] (every `xsi:type` in a reply is
    /// looked up here, a dozen probes each in the 2,864 type names).
    pub fn binary_search(&self, name: &[u8]) -> Result<usize, usize> {
        let text = self.text.as_bytes();
        let end = |i: usize| {
            self.ends
                .get(i)
                .map_or(0, |&e| usize::try_from(e).unwrap_or(usize::MAX))
        };
        let (mut lo, mut hi) = (0, self.ends.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = if mid == 0 { 0 } else { end(mid - 1) };
            match text.get(start..end(mid)).unwrap_or_default().cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// The names in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::NameTable;

    static T: NameTable = NameTable::new("AboutInfoActionVirtualMachine", &[9, 15, 29]);

    #[test]
    fn reads_and_finds_names() {
        assert_eq!(T.len(), 3);
        assert_eq!(T.get(0), Some("AboutInfo"));
        assert_eq!(T.get(1), Some("Action"));
        assert_eq!(T.get(2), Some("VirtualMachine"));
        assert_eq!(T.get(3), None);
        assert_eq!(T.binary_search(b"Action"), Ok(1));
        assert_eq!(T.binary_search(b"VirtualMachine"), Ok(2));
        assert_eq!(T.binary_search(b"Alarm"), Err(2));
        assert_eq!(T.binary_search(b""), Err(0));
        assert_eq!(T.binary_search(b"Zz"), Err(3));
        assert_eq!(
            T.iter().collect::<Vec<_>>(),
            ["AboutInfo", "Action", "VirtualMachine"]
        );
    }

    #[test]
    fn bad_offsets_give_none_not_a_panic() {
        let t = NameTable::new("abc", &[2, 1, 9]);
        assert_eq!(t.get(0), Some("ab"));
        assert_eq!(t.get(1), None);
        assert_eq!(t.get(2), None);
        assert_eq!(NameTable::new("", &[]).binary_search(b"x"), Err(0));
        // Probes over offsets that cut no valid slice compare as empty names.
        assert_eq!(t.binary_search(b"ab"), Err(3));
    }
}
