//! The importer's error type: which file, where in it, and what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error found while importing a WSDL set or managed-object facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file being read (empty when the error is not tied to one file).
    pub file: PathBuf,
    /// 1-based line in `file`, where known.
    pub line: Option<usize>,
    /// 1-based column in `file`, where known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ImportError {
    /// An error about `file` as a whole.
    pub fn in_file(file: &Path, message: impl Into<String>) -> ImportError {
        ImportError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// An error at byte offset `pos` of `text`, the contents of `file`.
    pub fn at(file: &Path, text: &str, pos: usize, message: impl Into<String>) -> ImportError {
        let (line, column) = line_column(text, pos);
        ImportError {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

/// The 1-based line and column of byte offset `pos` in `text` (clamped to its length).
pub fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text.as_bytes()[..pos];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, pos - line_start + 1)
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}
