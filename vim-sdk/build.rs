//! Generates the vim25 bindings into OUT_DIR from the committed model (`../wsdl/vim25`) or, when
//! `VIM_WSDL_DIR` names a WSDL set, from that set (with first-seen releases and managed object
//! facts taken from the committed model where names match).

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let model_dir = manifest.join("../wsdl/vim25");
    println!("cargo:rerun-if-env-changed=VIM_WSDL_DIR");
    println!("cargo:rerun-if-changed={}", model_dir.display());
    let committed = match vim_codegen::text::read(&model_dir) {
        Ok(m) => m,
        Err(e) => fail(&format!(
            "cannot read the committed model in {}: {e}",
            model_dir.display()
        )),
    };
    let model = match std::env::var_os("VIM_WSDL_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            println!("cargo:rerun-if-changed={}", dir.display());
            from_wsdl(&dir, committed)
        }
        None => committed,
    };
    if let Err(e) = vim_codegen::emit::emit(&model, &out) {
        fail(&format!(
            "cannot write the generated bindings to {}: {e}",
            out.display()
        ));
    }
}

fn from_wsdl(dir: &Path, committed: vim_codegen::model::Model) -> vim_codegen::model::Model {
    match vim_codegen::import::import_with_reference(dir, &committed) {
        Ok(m) => m,
        Err(e) => fail(&format!(
            "cannot import the WSDL set in {} (VIM_WSDL_DIR): {e}",
            dir.display()
        )),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("vim-sdk build: {msg}");
    std::process::exit(1)
}
