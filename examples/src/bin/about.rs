//! The `about` binary: the program is [`examples::programs::about`] (`src/programs/about.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::about::main()
}
