//! Tables built from rows of cells, for examples that print rows in batches (`events
//! --follow`, `tasks --follow`): each batch is aligned within itself, and only the first
//! carries the header.

use crate::fail::Result;
use crate::output::{self, Table};

/// Prints `rows` under `header` as an aligned [`Table`]; without the header line when
/// `with_header` is false (a later batch of a followed stream).
pub fn print(header: &[&str], rows: &[Vec<String>], with_header: bool) -> Result<()> {
    if rows.is_empty() && !with_header {
        return Ok(());
    }
    let mut table = Table::new(header);
    for r in rows {
        table.row(r.iter().cloned());
    }
    output::lines(table.lines().into_iter().skip(usize::from(!with_header)))
}
