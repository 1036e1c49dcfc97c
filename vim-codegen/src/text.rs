//! The committed text form of a [`Model`]: a directory of sorted, line-oriented, diffable
//! files, read by `vim-sdk`'s build script (so reading needs neither the importer nor JSON).
//!
//! Files (each starts with `#` comment lines saying how it was generated):
//!
//! | file | entry line | member lines (indented two spaces) |
//! |---|---|---|
//! | `release.txt` | `release 8.0`, `compared 4.1 5.5 8.0` | |
//! | `types.txt` | `type NAME [base=B] origin=O since=S` | `field NAME TYPE [min=N] [max=N\|unbounded] [mo=T] [since=S]` |
//! | `arrays.txt` | `array NAME ITEM_NAME ITEM_TYPE origin=O since=S` | |
//! | `enums.txt` | `enum NAME origin=O since=S` | `value NAME [since=S]` |
//! | `operations.txt` | `operation NAME [owner=MO] since=S` | `param NAME TYPE [min=] [max=] [mo=] [since=]`, `returns TYPE [min=] [max=] [mo=]`, `task-result TYPE [min=] [max=] [mo=]`, `fault NAME` |
//! | `managed-objects.txt` | `managed-object NAME [base=B] since=S` | `property NAME TYPE [array] [optional] [mo=T] [since=S]` |
//!
//! Entries are sorted by name; fields, parameters, values and faults keep schema order;
//! properties are sorted by name. `TYPE` is `xsd:NAME` for a primitive, else a vim25 type
//! name. Defaults are omitted: `min=1`, `max=1`, and a member's `since` equal to its entry's.
//! Tokens are separated by spaces; a space, tab, line break, `%` or `=` inside a value is
//! written `%XX` (hex), and an empty value is written `%`.

mod escape;
mod read;
mod write;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::Model;

pub use read::read;

/// The files of the text form, in the order they are written.
pub const FILES: [&str; 6] = [
    "release.txt",
    "types.txt",
    "arrays.txt",
    "enums.txt",
    "operations.txt",
    "managed-objects.txt",
];

/// Writes `model` into directory `dir` (created if needed), one file per [`FILES`] entry.
pub fn write(model: &Model, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in render(model) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The text of each file of [`FILES`] for `model`, in that order.
pub fn render(model: &Model) -> Vec<(&'static str, String)> {
    write::render(model)
}

/// An error reading the text form: which file, which line, what is wrong.
#[derive(Debug)]
pub struct TextError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number (0 when the error concerns the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for TextError {}
