//! The `vm_info` binary: the program is [`examples::programs::vm_info`] (`src/programs/vm_info.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::vm_info::main()
}
