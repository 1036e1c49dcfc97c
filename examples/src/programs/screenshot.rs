//! Takes a screenshot of a VM's console and downloads it as a PNG file.
//!
//! ```text
//! screenshot VM [OUT.png] [--keep]     # OUT defaults to NAME.png; `-` writes to stdout
//! ```
//!
//! VM is a name or an inventory path; it must be powered on. Shows
//! `VirtualMachine.CreateScreenshot_Task`, whose result is the datastore path of the PNG the
//! host wrote into the VM's folder (`[ds] vm/vm-1.png`), then a streaming download of that
//! file through the HTTP file interface (`vim_sdk::datastore::DatastoreFiles`) with a
//! progress bar, and the removal of the server's copy (`DeleteDatastoreFile_Task`) unless
//! `--keep`. vcsim has no `CreateScreenshot_Task`: the tests use a loopback fixture.
//!
//! `--json`: `{"vm": NAME, "remote": "[ds] path.png", "file": OUT, "bytes": N, "kept": BOOL}`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;

use crate::{output, place, progress, Common, Context as _, Failure, Result};

/// Takes a screenshot of a VM's console and downloads it.
#[derive(Parser)]
#[command(name = "screenshot")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The VM: a name or an inventory path.
    vm: String,
    /// Where to write the PNG (default: NAME.png; `-`: standard output).
    out: Option<PathBuf>,
    /// Keep the server's copy in the VM's folder.
    #[arg(long)]
    keep: bool,
}

/// `[ds] dir/file.png` as (`ds`, `dir/file.png`).
fn split_datastore_path(p: &str) -> Option<(&str, &str)> {
    let rest = p.strip_prefix('[')?;
    let (ds, path) = rest.split_once(']')?;
    Some((ds, path.trim_start()))
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let vm = conn.vm(&cli.vm).await?;
    let name = cli.vm.rsplit('/').next().unwrap_or(&cli.vm).to_string();

    let remote: String = progress::task(
        client,
        format!("screenshot of {name}"),
        vm.create_screenshot_task(client),
    )
    .await
    .with_context(|| format!("cannot take a screenshot of VM {name}"))?;
    let (ds, path) = split_datastore_path(&remote).ok_or_else(|| {
        Failure::new(format!(
            "the server named the screenshot {remote:?}, not [datastore] path"
        ))
    })?;
    let (files, _) = place::datastore_files(&conn, Some(ds)).await?;

    let out = cli
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{name}.png")));
    let xfer = progress::Transfer::new(format!("download {remote}"), None);
    let to_stdout = out.as_os_str() == "-";
    let bytes = if to_stdout {
        let mut stdout = place::stdout_file()?;
        files
            .download(client, path, &mut stdout, |n| xfer.add(n))
            .await
    } else {
        files
            .download_file(client, path, &out, |n| xfer.add(n))
            .await
    }
    .with_context(|| format!("cannot download {remote}"))?;
    xfer.finish();
    if !cli.keep {
        files
            .delete(client, path)
            .await
            .with_context(|| format!("cannot delete {remote}"))?;
    }
    if to_stdout {
    } else if conn.json {
        let doc =
            json!({"vm": name, "remote": remote, "file": out, "bytes": bytes, "kept": cli.keep});
        output::json(&doc)?;
    } else {
        output::line(format!(
            "{}: {} from {remote}",
            out.display(),
            output::bytes(bytes as i64)
        ))?;
    }
    conn.close().await
}

/// The `screenshot` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
