//! The programs, one module each, each a page to read on its own: its top comment says what it
//! shows and documents its `--json` shape, and its `main` is the whole program.
//!
//! Every program lives here, in the library, and each binary of `src/bin/` is one line that
//! calls its `main`. So the code the programs share and the generic code they instantiate
//! (argument parsing, property reads, task waits, tables, JSON) is compiled once for all the
//! binaries, not once per binary; a binary then costs a link (README, "Examples": "Building").

pub mod about;
pub mod annotate;
pub mod clone_vm;
pub mod create_vm;
pub mod datastore;
pub mod events;
pub mod extraconfig;
pub mod find;
pub mod host_info;
pub mod logtail;
pub mod ls;
pub mod one_sim;
pub mod perf;
pub mod poll_all;
pub mod power;
pub mod screenshot;
pub mod snapshot;
pub mod tasks;
pub mod tour;
pub mod vdf;
pub mod vm_info;
