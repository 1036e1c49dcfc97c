//! The `find` binary: the program is [`examples::programs::find`] (`src/programs/find.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::find::main()
}
