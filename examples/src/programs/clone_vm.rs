//! Clones a VM (or a template), full or linked, optionally onto another host or datastore.
//!
//! ```text
//! clone_vm SOURCE NAME [--host NAME] [--ds NAME] [--linked SNAPSHOT] [--template] [--on]
//! ```
//!
//! SOURCE is a name or an inventory path. Shows `VirtualMachine.CloneVM_Task` with a
//! `VirtualMachineCloneSpec`: the relocation (`location`: pool, host, datastore), a linked
//! clone (`snapshot` plus `diskMoveType=createNewChildDiskBacking`: the clone's disks are
//! children of the snapshot's, nothing is copied), `template` and `powerOn`; the task is
//! waited for with a progress bar. The clone lands in the source's folder (the datacenter's
//! VM folder for a VM in a vApp). Without `--host` and `--ds` it stays where the source is.
//!
//! `--json`: `{"source": NAME, "name": NAME, "vm": "vm-43", "path": "DC0/vm/NAME",
//! "linked": SNAPSHOT|null, "template": BOOL, "powered_on": BOOL}`.

use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::mo;
use vim_sdk::types::{VirtualMachineCloneSpec, VirtualMachineRelocateSpec};

use crate::place::{self, Placement};
use crate::{output, progress, Common, Context as _, Failure, Result};

/// Clones a VM, full or linked.
#[derive(Parser)]
#[command(name = "clone_vm")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// The VM or template to clone: a name or an inventory path.
    source: String,
    /// The clone's name.
    name: String,
    /// Put the clone on this host (its compute resource's root pool).
    #[arg(long)]
    host: Option<String>,
    /// Put the clone's files on this datastore.
    #[arg(long = "ds")]
    datastore: Option<String>,
    /// A linked clone from this snapshot of the source.
    #[arg(long, value_name = "SNAPSHOT")]
    linked: Option<String>,
    /// Make the clone a template.
    #[arg(long, conflicts_with = "on")]
    template: bool,
    /// Power the clone on.
    #[arg(long)]
    on: bool,
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let source = conn.vm(&cli.source).await?;
    let source_name = cli.source.clone();

    let mut location = VirtualMachineRelocateSpec::default();
    if cli.host.is_some() || cli.datastore.is_some() {
        let place =
            Placement::resolve(&conn, cli.host.as_deref(), cli.datastore.as_deref()).await?;
        if cli.host.is_some() {
            location.pool = Some(place.pool.reference().clone());
            location.host = place.host.as_ref().map(|h| h.reference().clone());
        }
        if cli.datastore.is_some() {
            location.datastore = Some(place.datastore.reference().clone());
        }
    }
    let mut snapshot = None;
    if let Some(name) = &cli.linked {
        let snap = source
            .find_snapshot(client, name)
            .await
            .with_context(|| format!("cannot read the snapshots of VM {source_name}"))?
            .ok_or_else(|| {
                Failure::new(format!("VM {source_name} has no snapshot named {name}"))
            })?;
        location.disk_move_type = Some("createNewChildDiskBacking".into());
        snapshot = Some(snap.reference().clone());
    }
    let spec = VirtualMachineCloneSpec {
        location,
        template: cli.template,
        power_on: cli.on,
        snapshot,
        ..Default::default()
    };
    let parent = source
        .properties(client, &["parent"])
        .await
        .with_context(|| format!("cannot read the folder of VM {source_name}"))?;
    let folder = match parent.reference("parent") {
        Some(p) if p.r#type == "Folder" => p.clone(),
        _ => {
            let (_, dc) = conn.datacenter().await?;
            place::vm_folder(&conn, &dc).await?.reference().clone()
        }
    };

    let clone: mo::VirtualMachine = progress::task(
        client,
        format!("clone {source_name} to {}", cli.name),
        source.clone_vm_task(client, &folder, &cli.name, &spec),
    )
    .await
    .with_context(|| format!("cannot clone VM {source_name} to {}", cli.name))?;
    let path = conn
        .finder()
        .inventory_path(client, clone.reference())
        .await
        .context("cannot read the clone's inventory path")?;
    if conn.json {
        let doc = json!({
            "source": source_name,
            "name": cli.name,
            "vm": clone.reference().value,
            "path": path,
            "linked": cli.linked,
            "template": cli.template,
            "powered_on": cli.on,
        });
        output::json(&doc)?;
    } else {
        output::line(format!(
            "cloned {source_name} to {} ({}) at {path}",
            cli.name,
            clone.reference().value
        ))?;
    }
    conn.close().await
}

/// The `clone_vm` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
