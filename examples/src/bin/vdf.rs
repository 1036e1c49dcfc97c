//! The `vdf` binary: the program is [`examples::programs::vdf`] (`src/programs/vdf.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::vdf::main()
}
