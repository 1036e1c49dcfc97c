//! The inventory as paths: what is below a folder, datacenter, cluster or pool, like `ls`.
//!
//! `ls [-l] [-r] [PATH...]`: the children of each PATH (default: the root), `-r` the whole
//! subtree, `-l` a table with each object's type and state (`poweredOn`, `connected`,
//! `accessible`, `green`...). Paths are inventory paths (`DC0/vm/web1`), usable by every
//! other example. One paged property retrieval per PATH, however large the inventory.
//!
//! `--json`: an array of `{"path", "name", "type", "ref", "state"}` (`state` `null` without
//! `-l`).

use crate::inventory::{self, Item};
use crate::{Common, Result};
use clap::Parser;

/// Lists the inventory below paths (default: the root)
#[derive(Parser)]
#[command(name = "ls")]
struct Args {
    /// Inventory paths (DC0/vm, DC0/host/cluster1); default the root
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    /// Long listing: type and state
    #[arg(short = 'l', long = "long")]
    long: bool,
    /// The whole subtree, not only the children
    #[arg(short = 'r', long = "recursive")]
    recursive: bool,
    #[command(flatten)]
    common: Common,
}

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let paths = if args.paths.is_empty() {
        vec![String::new()]
    } else {
        args.paths
    };
    let mut items: Vec<Item> = Vec::new();
    for path in &paths {
        items.extend(inventory::list(&conn, path, args.recursive, args.long).await?);
    }
    inventory::print(&items, args.long, conn.json)?;
    conn.close().await
}

/// The `ls` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
