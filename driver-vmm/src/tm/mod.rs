//! The `vmfs` transfer manager actions (contract §7): one module per action, each with
//! `pub async fn run(args: &[String]) -> driver_common::Result<String>`, `args` being argv
//! after the script name as `one_tm` passes it (`host:path` arguments, the VM id, the
//! datastore id). Paths follow the layout of contract §9 and are checked before any call.
//!
//! Every action of §7 is built: clone, ln, mkimage, mkswap, mvds, cpds, delete, context, mv,
//! premigrate, postmigrate (context's http(s) URLs and mv between datastores are not yet:
//! they fail with a "not implemented yet" error block).

pub mod clone;
pub mod context;
pub mod delete;
pub mod ln;
pub mod migrate;
pub mod mkimage;
pub mod mv;
pub mod mvds;

use driver_common::Result;

use crate::storage::not_implemented;

/// Runs TM action `name`.
pub async fn dispatch(name: &str, args: &[String]) -> Result<String> {
    match name {
        "clone" => clone::run(args).await,
        "ln" => ln::run(args).await,
        "mkimage" => mkimage::run(args).await,
        "mkswap" => mkimage::run_mkswap(args).await,
        "delete" => delete::run(args).await,
        "context" => context::run(args).await,
        "mv" => mv::run(args).await,
        "mvds" | "cpds" => mvds::run(name, args).await,
        "premigrate" | "postmigrate" => migrate::run(name, args),
        other => Err(not_implemented("tm/vmfs", other)),
    }
}
