//! Files of a datastore: list a folder, upload a file, download a file.
//!
//! ```text
//! datastore [--ds NAME] ls [FOLDER]           # FOLDER relative to the datastore root
//! datastore [--ds NAME] upload LOCAL REMOTE
//! datastore [--ds NAME] download REMOTE LOCAL # LOCAL `-` writes to standard output
//! ```
//!
//! Shows `HostDatastoreBrowser.SearchDatastore_Task` with a search spec (pattern `*`, file
//! type, size and modification time), and the HTTP file interface
//! (`/folder/<path>?dcPath=&dsName=`) through `vim_sdk::datastore::DatastoreFiles`: bytes
//! stream in both directions through a small buffer, never a whole file in memory, with a
//! progress bar on a terminal. A download goes to a temporary file renamed into place at
//! the end, so a failed one leaves an existing LOCAL as it was.
//!
//! The datastore: `--ds`, else `GOVC_DATASTORE`, else the only datastore of the datacenter
//! (`GOVC_DATACENTER` / `--datacenter`, else the only datacenter).
//!
//! `--json`: `ls` prints `{"datastore": NAME, "folder": PATH, "files": [{"name", "type",
//! "size", "modified"}]}` (`type` is `folder`, `vmdk`, `vmx`, `iso`, `log`, `nvram`,
//! `snapshot`, `file`; `size` in bytes or null; `modified` an `xsd:dateTime` or null);
//! `upload` and `download` print `{"datastore": NAME, "path": PATH, "bytes": N}`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use serde_json::json;
use vim_sdk::datastore::{check_relative_path, DatastoreFiles};
use vim_sdk::mo;
use vim_sdk::types::{AnyFileInfo, FileQueryFlags, HostDatastoreBrowserSearchSpec};

use crate::{output, place, progress, rows, Common, Conn, Context as _, Failure, Result};

/// Files of a datastore: ls, upload, download.
#[derive(Parser)]
#[command(name = "datastore")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The datastore's name (default: `GOVC_DATASTORE`, else the datacenter's only one).
    #[arg(long = "ds", global = true)]
    datastore: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List a folder (default: the datastore's root).
    Ls {
        /// A folder relative to the datastore root (`vm-1`, `iso/linux`).
        folder: Option<String>,
    },
    /// Upload a local file (creating or replacing REMOTE).
    Upload {
        /// The local file.
        local: PathBuf,
        /// Where to put it, relative to the datastore root.
        remote: String,
    },
    /// Download a file (`-` as LOCAL: to standard output).
    Download {
        /// The file, relative to the datastore root.
        remote: String,
        /// The local file, or `-`.
        local: PathBuf,
    },
}

/// What `SearchDatastore_Task` says a file is, in one word.
fn kind(f: &AnyFileInfo) -> &'static str {
    match f {
        AnyFileInfo::FolderFileInfo(_) => "folder",
        AnyFileInfo::VmDiskFileInfo(_) => "vmdk",
        AnyFileInfo::VmConfigFileInfo(_) => "vmx",
        AnyFileInfo::IsoImageFileInfo(_) => "iso",
        AnyFileInfo::VmLogFileInfo(_) => "log",
        AnyFileInfo::VmNvramFileInfo(_) => "nvram",
        AnyFileInfo::VmSnapshotFileInfo(_) => "snapshot",
        _ => "file",
    }
}

/// Lists `folder` (`None`: the root) of the datastore.
async fn ls(
    conn: &Conn,
    files: &DatastoreFiles,
    ds: &mo::Datastore,
    folder: Option<&str>,
) -> Result<()> {
    let client = &conn.session;
    let ds_name = &files.location().datastore;
    let path = match folder {
        Some(f) => {
            let f = f.trim_end_matches('/');
            check_relative_path(f).map_err(|e| Failure::usage(e.to_string()))?;
            format!("[{ds_name}] {f}")
        }
        None => format!("[{ds_name}]"),
    };
    let browser = ds
        .browser(client)
        .await
        .context("cannot find the datastore's browser")?;
    let spec = HostDatastoreBrowserSearchSpec {
        // Every name (vcsim matches nothing without a pattern).
        match_pattern: vec!["*".into()],
        details: Some(FileQueryFlags {
            file_type: true,
            file_size: true,
            modification: true,
            file_owner: Some(false),
        }),
        ..Default::default()
    };
    let found = async {
        browser
            .search_datastore_task(client, &path, Some(&spec))
            .await?
            .wait(client)
            .await
    }
    .await
    .with_context(|| format!("cannot list {path}"))?;
    let mut entries: Vec<&AnyFileInfo> = found.file.iter().collect();
    entries.sort_by(|a, b| a.base().path.cmp(&b.base().path));
    if conn.json {
        let files: Vec<_> = entries
            .iter()
            .map(|f| {
                json!({
                    "name": f.base().path,
                    "type": kind(f),
                    "size": f.base().file_size,
                    "modified": f.base().modification,
                })
            })
            .collect();
        let doc = json!({"datastore": ds_name, "folder": folder.unwrap_or(""), "files": files});
        return output::json(&doc);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|f| {
            vec![
                f.base().path.clone(),
                kind(f).to_string(),
                f.base().file_size.map_or("-".into(), output::bytes),
                f.base().modification.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    rows::print(&["NAME", "TYPE", "SIZE", "MODIFIED"], &rows, true)
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let named = cli
        .datastore
        .or_else(|| std::env::var("GOVC_DATASTORE").ok());
    let (files, ds) = place::datastore_files(&conn, named.as_deref()).await?;
    let ds_name = files.location().datastore.clone();
    let (path, bytes) = match cli.command {
        Command::Ls { folder } => {
            ls(&conn, &files, &ds, folder.as_deref()).await?;
            return conn.close().await;
        }
        Command::Upload { local, remote } => {
            let size = std::fs::metadata(&local)
                .with_context(|| format!("cannot read {}", local.display()))?
                .len();
            let xfer = Arc::new(progress::Transfer::new(
                format!("upload {remote}"),
                Some(size),
            ));
            let counter = Arc::clone(&xfer);
            files
                .upload_file(client, &local, &remote, move |n| counter.add(n))
                .await
                .with_context(|| {
                    format!("cannot upload {} to [{ds_name}] {remote}", local.display())
                })?;
            xfer.finish();
            (remote, size)
        }
        Command::Download { remote, local } => {
            let xfer = progress::Transfer::new(format!("download {remote}"), None);
            let what = || format!("cannot download [{ds_name}] {remote}");
            if local.as_os_str() == "-" {
                let mut out = place::stdout_file()?;
                files
                    .download(client, &remote, &mut out, |n| xfer.add(n))
                    .await
                    .with_context(what)?;
                xfer.finish();
                return conn.close().await;
            }
            let n = files
                .download_file(client, &remote, &local, |n| xfer.add(n))
                .await
                .with_context(what)?;
            xfer.finish();
            (remote, n)
        }
    };
    if conn.json {
        output::json(&json!({"datastore": ds_name, "path": path, "bytes": bytes}))?;
    } else {
        output::line(format!(
            "[{ds_name}] {path}: {}",
            output::bytes(bytes as i64)
        ))?;
    }
    conn.close().await
}

/// The `datastore` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
