//! The `perf` binary: the program is [`examples::programs::perf`] (`src/programs/perf.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::perf::main()
}
