//! The `annotate` binary: the program is [`examples::programs::annotate`] (`src/programs/annotate.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::annotate::main()
}
