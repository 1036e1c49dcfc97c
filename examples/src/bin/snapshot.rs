//! The `snapshot` binary: the program is [`examples::programs::snapshot`] (`src/programs/snapshot.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::snapshot::main()
}
