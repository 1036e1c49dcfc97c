//! The `logtail` binary: the program is [`examples::programs::logtail`] (`src/programs/logtail.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::logtail::main()
}
