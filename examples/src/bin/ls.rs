//! The `ls` binary: the program is [`examples::programs::ls`] (`src/programs/ls.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::ls::main()
}
