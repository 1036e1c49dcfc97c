//! The examples' shared helper: connecting, output, progress and errors, so that each program
//! in [`programs`] (`src/programs/`) holds only what it shows.
//!
//! Programs (one binary each, named after what it does, whose `main` calls the program's
//! module): see the README's "Examples". A program of your own can be a binary of its own
//! with the same shape:
//!
//! # The shape of an example
//!
//! ```no_run
//! use clap::Parser;
//! use examples::{output, Common, Result};
//!
//! /// Prints the server's product name.
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     common: Common,
//! }
//!
//! async fn body(args: Args) -> Result<()> {
//!     let conn = args.common.connect().await?;
//!     let name = conn.content().about.full_name.clone();
//!     if conn.json {
//!         output::json(&serde_json::json!({ "fullName": name }))?;
//!     } else {
//!         output::line(name)?;
//!     }
//!     conn.close().await
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     examples::run(body)
//! }
//! ```
//!
//! # What is here
//!
//! - [`Common`] (in [`connect`]): the options every example flattens into its `Args`: `--url`
//!   (else `GOVC_URL`), `--user` (else `GOVC_USERNAME`), `--password-file` (the password
//!   otherwise from `GOVC_PASSWORD`, or a prompt; never from argv), `-k`/`--insecure` (else
//!   `GOVC_INSECURE`), `--thumbprint`, `--ca-file`, `--dc` (else `GOVC_DATACENTER`),
//!   `--no-session-cache`, `--json`. [`Common::connect`] gives a [`Conn`]: the session
//!   (reused from the session cache when still valid), [`Conn::finder`],
//!   [`Conn::datacenter`], `conn.json`, and [`Conn::close`] (keeps a cached session valid,
//!   else logs out). Call [`Conn::close`] on success; on failure the cached session stays
//!   valid anyway and an uncached one is logged out when the session is dropped.
//! - [`lookup`]: `conn.vm(arg)`, `conn.host(arg)`, `conn.datastore(arg)` and
//!   [`Conn::find_one`] / [`Conn::find_all`] for any entity type: `arg` is an inventory path
//!   when it holds a `/`, else a name (within `--dc` when given; several matches are an
//!   error asking for the path).
//! - [`inventory`]: [`inventory::list`] (the objects below a path with their inventory paths,
//!   types and states, in one paged retrieval) and [`inventory::resolve`] (path to reference).
//! - [`output`]: [`output::Table`] (aligned, right-aligned numbers, trimmed), [`output::json`]
//!   (pretty JSON of any `Serialize`), [`output::line`], and units: [`output::bytes`]
//!   (`40.0GB`), [`output::mhz`], [`output::percent`]. A closed pipe ends quietly.
//! - [`progress`]: [`progress::Tasks`] (one bar per task waited on, e.g.
//!   `vm.power_on_with_progress(&conn, |p| bar.update(p))`) and [`progress::Transfer`]
//!   (bytes), drawn on a terminal only.
//! - [`fail`]: [`Failure`] (one line: what failed, then `FaultName: message`; exit code 1, or
//!   2 for a usage mistake found before anything was sent), [`Context`] to say what was being
//!   done (`.context("cannot power on web1")?` on any vim-sdk or I/O result), and
//!   [`fail::describe`] for a vim-sdk error's fault name and message.
//! - [`run`]: parses the arguments, runs the async body on a single-threaded runtime (enough
//!   for concurrent calls: use `futures`-free joins such as `tokio::task::JoinSet` or
//!   `tokio::join!`), prints a failure as `PROGRAM: LINE` on standard error and exits with its
//!   code.
//!
//! The tests run each binary against the simulator through `tests/support/mod.rs` (a shared
//! simulator per test binary, a cleared environment, a private session cache, and the
//! captured stdout, stderr and exit code).

pub mod connect;
pub mod fail;
pub mod follow;
pub mod inventory;
pub mod lookup;
pub mod output;
pub mod place;
pub mod programs;
pub mod progress;
pub mod reconfig;
pub mod rows;

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;

pub use connect::{Common, Conn, Target};
pub use fail::{Context, Failure, Result};

/// Runs an example: parses `A` from the command line (clap prints help and usage errors
/// itself, exit code 2), runs `body` on a single-threaded tokio runtime, and prints a
/// [`Failure`] as one line `PROGRAM: what failed: Fault: message` on standard error.
pub fn run<A, F, Fut>(body: F) -> ExitCode
where
    A: Parser,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let args = A::parse();
    let name = A::command().get_name().to_string();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(body(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.is_quiet() => ExitCode::from(f.exit_code()),
        Err(f) => {
            eprintln!("{name}: {f}");
            ExitCode::from(f.exit_code())
        }
    }
}
