//! The bindings for the older WSDL sets in `../shared/wsdl` (vSphere 4.1 and 5.5) generate and
//! compile with the core runtime (codec, SOAP, transport, client, sessions; the `helpers`
//! feature is written against 8.0): `cargo check` of this crate with `VIM_WSDL_DIR` pointing at
//! each set, in a target directory of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn check_release(release: &str) {
    let root = workspace();
    let set = root.join("../shared/wsdl").join(format!("vim25-{release}"));
    assert!(
        set.join("vimService.wsdl").is_file(),
        "the WSDL set {} is missing: it is needed to test the {release} bindings",
        set.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args([
            "check",
            "-p",
            "vim-sdk",
            "--lib",
            "--no-default-features",
            "--quiet",
            "--message-format=short",
        ])
        .env("VIM_WSDL_DIR", &set)
        .env("CARGO_TARGET_DIR", root.join("target/other-releases"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the {release} bindings do not compile:\n{stderr}"
    );
    assert!(
        !stderr.contains("warning"),
        "the {release} bindings compile with warnings:\n{stderr}"
    );
}

#[test]
fn bindings_for_4_1_and_5_5_compile() {
    check_release("4.1");
    check_release("5.5");
}
