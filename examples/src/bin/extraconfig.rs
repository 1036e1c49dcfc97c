//! The `extraconfig` binary: the program is [`examples::programs::extraconfig`] (`src/programs/extraconfig.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::extraconfig::main()
}
