//! The `tasks` binary: the program is [`examples::programs::tasks`] (`src/programs/tasks.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::tasks::main()
}
