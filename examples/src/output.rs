//! Output: aligned tables with units for people, `--json` for scripts.
//!
//! Tables are plain text (no colours, no borders): a header row, then one row a line, columns
//! separated by two spaces, numbers right-aligned where [`Table::right`] says so, trailing
//! blanks trimmed, so `grep`, `sort -k` and `awk` work on them. JSON is one document, pretty-
//! printed, with the field names each example documents in its top comment; sizes in JSON are
//! plain numbers of bytes (or MHz, or percent), never formatted strings.
//!
//! Writing into a closed pipe (`ls | head`) ends the program quietly with exit code 0.
//!
//! A table, a JSON document or a list of [`lines`] goes out in a few large writes (standard
//! output alone is line-buffered: a write call per line, a thousand for `ls` of 1,000 VMs);
//! [`line`] writes its line at once, for output that follows events as they come.

use std::io::{BufWriter, StdoutLock, Write as _};

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement};
use serde::Serialize;

use crate::fail::{Failure, Result};

/// An aligned table (see the [module](self) for its look).
pub struct Table {
    inner: comfy_table::Table,
}

impl Table {
    /// A table with these column headers.
    pub fn new(header: &[&str]) -> Self {
        let mut inner = comfy_table::Table::new();
        inner
            .load_preset(comfy_table::presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(header.iter().copied());
        for col in inner.column_iter_mut() {
            col.set_padding((0, 2));
        }
        if let Some(last) = inner.column_iter_mut().last() {
            last.set_padding((0, 0));
            last.set_constraint(ColumnConstraint::ContentWidth);
        }
        Table { inner }
    }

    /// Right-aligns the columns at these indexes (numbers and sizes).
    pub fn right(mut self, columns: &[usize]) -> Self {
        for &i in columns {
            if let Some(col) = self.inner.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        self
    }

    /// Adds a row (as many cells as headers).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.inner
            .add_row(cells.into_iter().map(|c| one_line(&c.into())));
        self
    }

    /// The number of rows (header not counted).
    pub fn len(&self) -> usize {
        self.inner.row_count()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table's lines, trailing blanks trimmed.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    }

    /// Prints the table on standard output.
    pub fn print(&self) -> Result<()> {
        lines(self.lines())
    }
}

/// Standard output behind a large buffer: written in pieces of 64 KiB, and at `flush`.
fn buffered() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

/// A cell's text on one line (names can hold newlines and tabs).
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r', '\t'], " ")
}

/// Prints `value` as pretty JSON on standard output.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = buffered();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from(std::io::Error::from(kind)),
        None => Failure::new(format!("cannot write JSON: {e}")),
    })?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints lines on standard output, in a few large writes.
pub fn lines<T: std::fmt::Display>(lines: impl IntoIterator<Item = T>) -> Result<()> {
    let mut out = buffered();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// Prints one line on standard output, at once.
pub fn line(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// A byte count with binary units, as govc prints them: `512B`, `1.5KB`, `40.0GB`, `2.1TB`
/// (powers of 1024).
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n.unsigned_abs() < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1}{}", UNITS[unit])
}

/// A frequency in MHz as `800MHz` or `2.4GHz`.
pub fn mhz(n: i64) -> String {
    if n.unsigned_abs() < 1000 {
        format!("{n}MHz")
    } else {
        format!("{:.1}GHz", n as f64 / 1000.0)
    }
}

/// `part` as a percentage of `whole` (`37%`), `-` when `whole` is not positive.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "-".into()
    } else {
        format!("{}%", (part as f64 * 100.0 / whole as f64).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(bytes(0), "0B");
        assert_eq!(bytes(1023), "1023B");
        assert_eq!(bytes(1536), "1.5KB");
        assert_eq!(bytes(40 << 30), "40.0GB");
        assert_eq!(bytes(i64::MAX), "8.0EB");
        assert_eq!(mhz(800), "800MHz");
        assert_eq!(mhz(2400), "2.4GHz");
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(1, 0), "-");
    }

    #[test]
    fn tables_align_and_trim() {
        let mut t = Table::new(&["Name", "Size"]).right(&[1]);
        t.row(["a", "1.0GB"]).row(["long\nname", "12B"]);
        assert_eq!(
            t.lines(),
            vec!["Name        Size", "a          1.0GB", "long name    12B"]
        );
        assert_eq!(t.len(), 2);
    }
}
