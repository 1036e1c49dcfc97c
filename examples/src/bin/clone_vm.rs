//! The `clone_vm` binary: the program is [`examples::programs::clone_vm`] (`src/programs/clone_vm.rs`).

fn main() -> std::process::ExitCode {
    examples::programs::clone_vm::main()
}
