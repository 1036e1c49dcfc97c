//! Reads properties of every VirtualMachine through a ContainerView, with
//! `RetrievePropertiesEx` paging (1000 objects a page), decoding each object as it arrives.
//!
//! `poll_all [--url https://USER@HOST/sdk] [PROPS]` (connection options: README, "Examples";
//! the password from `GOVC_PASSWORD` or `VIM_SDK_PASSWORD`, `--password-file` or a prompt,
//! never from the command line). The URL may also come first without `--url`, as before.
//!
//! PROPS is a comma-separated list of property paths (default
//! `name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage`).
//! Prints `vms=N values=M`, M being the number of property values received; `--json`:
//! `{"vms": N, "values": M}`.

use crate::{output, Common, Context as _, Result};
use clap::Parser;
use vim_sdk::mo;
use vim_sdk::property::{retrieve_each, view_spec, Paths, ViewGuard};

const DEFAULT_PROPS: &str =
    "name,runtime.powerState,summary.quickStats.overallCpuUsage,summary.quickStats.guestMemoryUsage";
const PAGE_OBJECTS: i32 = 1000;

/// Reads properties of every VirtualMachine through a paged, streamed retrieval
#[derive(Parser)]
#[command(name = "poll_all")]
struct Args {
    /// The server, as --url (https://[USER@]HOST/sdk, no password here)
    #[arg(value_name = "URL")]
    server: Option<String>,
    /// Comma-separated property paths
    #[arg(default_value = DEFAULT_PROPS)]
    props: String,
    #[command(flatten)]
    common: Common,
}

async fn body(mut args: Args) -> Result<()> {
    if args.common.url.is_none() {
        args.common.url = args.server.take();
    }
    let conn = args.common.connect().await?;
    let content = conn.content();
    let view = ViewGuard::container(
        &conn.session,
        content,
        &content.root_folder,
        &["VirtualMachine"],
        true,
    )
    .await
    .context("cannot create a view of the VMs")?;
    let spec = view_spec(
        view.reference(),
        &["VirtualMachine"],
        &Paths::parse_list(&args.props),
    );
    let collector = mo::PropertyCollector::from_ref(content.property_collector.clone());
    let mut values = 0;
    let vms = retrieve_each(
        &conn.session,
        &collector,
        &[spec],
        Some(PAGE_OBJECTS),
        |o| {
            values += o.prop_set.len();
        },
    )
    .await
    .context("cannot read the VMs' properties")?;
    view.destroy().await.context("cannot destroy the view")?;
    if conn.json {
        output::json(&serde_json::json!({ "vms": vms, "values": values }))?;
    } else {
        output::line(format!("vms={vms} values={values}"))?;
    }
    conn.close().await
}

/// The `poll_all` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
