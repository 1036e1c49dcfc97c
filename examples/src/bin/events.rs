//! The `events` binary: the program is [`examples::programs::events`] (`src/programs/events.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::events::main()
}
