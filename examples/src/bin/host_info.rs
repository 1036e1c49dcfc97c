//! The `host_info` binary: the program is [`examples::programs::host_info`] (`src/programs/host_info.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::host_info::main()
}
