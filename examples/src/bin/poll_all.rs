//! The `poll_all` binary: the program is [`examples::programs::poll_all`] (`src/programs/poll_all.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::poll_all::main()
}
