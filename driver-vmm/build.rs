//! Links the `driver-vmm` binary with identical code folding (`lld --icf=all`).
//!
//! Without shared generics (a nightly-only option) every crate that drops a generated type
//! holds its own copy of that type's drop glue, and of everything it drops in turn: fat LTO
//! keeps the copies apart because their symbols differ. In `driver-vmm`, `vim-sdk`,
//! `driver-common` and `driver-vmm` each held one (`AnyData`'s drop glue four times, 19 KB
//! each). The linker folds byte-identical functions into one. Rust makes no promise that two
//! functions have distinct addresses, and nothing here compares function or vtable
//! addresses. The toolchain links with LLD (rustc's default on x86_64 Linux since 1.90), the
//! only target the project builds for; other linkers are left as they are.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_x86_64 = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    if linux_x86_64 && release {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}
