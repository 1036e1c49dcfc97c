//! The `create_vm` binary: the program is [`examples::programs::create_vm`] (`src/programs/create_vm.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::create_vm::main()
}
