//! Reads or sets a VM's annotation (the "Notes" of the vSphere Client).
//!
//! ```text
//! annotate VM            # print the annotation
//! annotate VM TEXT       # replace it (`-`: read the text from standard input)
//! annotate VM --clear    # remove it
//! ```
//!
//! VM is a name or an inventory path. Shows reading `config.annotation` (one
//! `RetrievePropertiesEx`) and changing it with `ReconfigVM_Task`, a `VirtualMachineConfigSpec`
//! holding only `annotation`: everything left unset in a config spec is left as it is. The
//! task is waited for with a progress bar. `--clear` sends an empty annotation, which ESX and
//! vCenter store as none (govmomi's simulator vcsim 0.24 ignores empty strings in a config
//! spec and keeps the old text).
//!
//! `--json`: `{"vm": NAME, "annotation": TEXT}` (the annotation after the change).

use std::io::Read as _;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::types::VirtualMachineConfigSpec;

use crate::reconfig::reconfigure;
use crate::{output, Common, Context as _, Result};

/// Reads or sets a VM's annotation.
#[derive(Parser)]
#[command(name = "annotate")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The VM: a name or an inventory path.
    vm: String,
    /// The new annotation (`-`: read it from standard input).
    #[arg(conflicts_with = "clear")]
    text: Option<String>,
    /// Remove the annotation.
    #[arg(long)]
    clear: bool,
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let vm = conn.vm(&cli.vm).await?;
    let name = cli.vm.clone();
    let new = match (cli.text.as_deref(), cli.clear) {
        (_, true) => Some(String::new()),
        (Some("-"), _) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the annotation from standard input")?;
            Some(text)
        }
        (Some(t), _) => Some(t.to_string()),
        (None, false) => None,
    };
    let annotation = match new {
        Some(text) => {
            let spec = VirtualMachineConfigSpec {
                annotation: Some(text.clone()),
                ..Default::default()
            };
            reconfigure(&conn, &vm, &name, &spec).await?;
            text
        }
        None => vm
            .properties(&conn.session, &["config.annotation"])
            .await
            .with_context(|| format!("cannot read the annotation of VM {name}"))?
            .str("config.annotation")
            .unwrap_or_default()
            .to_string(),
    };
    if conn.json {
        output::json(&json!({"vm": name, "annotation": annotation}))?;
    } else if annotation.is_empty() {
        output::line(format!("VM {name} has no annotation"))?;
    } else {
        output::line(annotation.trim_end_matches('\n'))?;
    }
    conn.close().await
}

/// The `annotate` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
