//! The `tour` binary: the program is [`examples::programs::tour`] (`src/programs/tour.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::tour::main()
}
