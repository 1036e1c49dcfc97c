//! The `power` binary: the program is [`examples::programs::power`] (`src/programs/power.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::power::main()
}
