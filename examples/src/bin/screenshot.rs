//! The `screenshot` binary: the program is [`examples::programs::screenshot`] (`src/programs/screenshot.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::screenshot::main()
}
