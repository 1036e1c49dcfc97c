//! The `datastore` binary: the program is [`examples::programs::datastore`] (`src/programs/datastore.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::datastore::main()
}
