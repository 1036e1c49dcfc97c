//! The `one_sim` binary: the program is [`examples::programs::one_sim`] (`src/programs/one_sim.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::one_sim::main()
}
