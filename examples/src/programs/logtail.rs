//! The end of a host's log (hostd, vpxa, vmkernel...), and new lines as they come.
//!
//! ```text
//! logtail [--host NAME] [--key hostd] [-n 20] [--follow [--interval 2]]
//! logtail [--host NAME] --list        # the logs the server offers
//! ```
//!
//! Shows the `DiagnosticManager`: `QueryDescriptions` (the log keys: `hostd`, `vmkernel`,
//! `vpxa`, `vpxd:vpxd-N.log` on vCenter...) and `BrowseDiagnosticLog`, which reads lines by
//! number: one call with a huge start line learns the last line's number, one reads the
//! last N lines, and with `--follow` a call every `--interval` seconds reads the lines after
//! the last one printed (from line 1 again when the log was rotated). On vCenter, `--host`
//! names the host whose logs to read (without it, vCenter's own logs); on ESX, leave it out.
//! vcsim has no `DiagnosticManager`: the tests use a loopback fixture.
//!
//! Output: the log lines as they are; `--list` prints a table `KEY FILE CREATOR FORMAT`.
//! With `--json`: one `{"line": N, "text": TEXT}` a line (`--list`: one `{"key", "file",
//! "creator", "format", "mime"}` a line).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use vim_sdk::types::DiagnosticManagerLogHeader;
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::{mo, Client};

use crate::{output, rows, Common, Context as _, Failure, Result};

/// A start line past the end of any log: the reply's `lineEnd` is then the last line.
const PAST_THE_END: i32 = 999_999_999;

/// The end of a host's log, and new lines as they come.
#[derive(Parser)]
#[command(name = "logtail")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The host whose log to read (vCenter only: without it, vCenter's own logs).
    #[arg(long)]
    host: Option<String>,
    /// The log's key (see --list).
    #[arg(long, default_value = "hostd")]
    key: String,
    /// How many lines from the end.
    #[arg(short = 'n', default_value_t = 20, value_parser = clap::value_parser!(i32).range(1..=100_000))]
    lines: i32,
    /// Keep printing new lines until interrupted.
    #[arg(short, long)]
    follow: bool,
    /// With --follow, seconds between reads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,
    /// List the logs the server offers instead.
    #[arg(long, conflicts_with_all = ["follow", "key"])]
    list: bool,
}

/// Prints the lines of `header` (numbered from `header.line_start`).
fn print(header: &DiagnosticManagerLogHeader, json: bool) -> Result<()> {
    for (i, text) in header.line_text.iter().enumerate() {
        if json {
            let n = header.line_start.saturating_add(i as i32);
            output::line(json!({"line": n, "text": text}))?;
        } else {
            output::line(text)?;
        }
    }
    Ok(())
}

/// Prints the last `cli.lines` lines, then follows when asked.
async fn tail(
    client: &Client,
    manager: &mo::DiagnosticManager,
    host: Option<&ManagedObjectReference>,
    cli: &Cli,
    json: bool,
) -> Result<()> {
    let key = cli.key.as_str();
    let end = manager
        .browse_diagnostic_log(client, host, key, Some(PAST_THE_END), Some(1))
        .await?
        .line_end;
    let start = end.saturating_sub(cli.lines - 1).max(1);
    let header = manager
        .browse_diagnostic_log(client, host, key, Some(start), Some(cli.lines))
        .await?;
    print(&header, json)?;
    if !cli.follow {
        return Ok(());
    }
    let mut next = header.line_end.max(end).saturating_add(1);
    loop {
        tokio::time::sleep(Duration::from_secs(cli.interval)).await;
        let header = manager
            .browse_diagnostic_log(client, host, key, Some(next), None)
            .await?;
        if header.line_end < next.saturating_sub(1) {
            // Fewer lines than before: the log was rotated; read the new one from the start.
            next = 1;
            continue;
        }
        print(&header, json)?;
        if !header.line_text.is_empty() {
            next = header.line_end.saturating_add(1);
        }
    }
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let json = conn.json;
    let manager = conn
        .content()
        .diagnostic_manager
        .clone()
        .map(mo::DiagnosticManager::from_ref)
        .ok_or_else(|| Failure::new("the server has no DiagnosticManager"))?;
    let host = match &cli.host {
        Some(h) => Some(conn.host(h).await?.reference().clone()),
        None => None,
    };
    if cli.list {
        let logs = manager
            .query_descriptions(client, host.as_ref())
            .await
            .context("cannot list the logs")?;
        if json {
            for l in &logs {
                let line = json!({"key": l.key, "file": l.file_name, "creator": l.creator,
                    "format": l.format, "mime": l.mime_type});
                output::line(line)?;
            }
        } else {
            let rows: Vec<Vec<String>> = logs
                .iter()
                .map(|l| {
                    vec![
                        l.key.clone(),
                        l.file_name.clone(),
                        l.creator.clone(),
                        l.format.clone(),
                    ]
                })
                .collect();
            rows::print(&["KEY", "FILE", "CREATOR", "FORMAT"], &rows, true)?;
        }
        return conn.close().await;
    }
    tail(client, &manager, host.as_ref(), &cli, json)
        .await
        .with_context(|| format!("cannot read log {}", cli.key))?;
    conn.close().await
}

/// The `logtail` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
