//! Snapshots of one VM: the tree, create, revert and delete.
//!
//! ```text
//! snapshot tree   VM                      # the snapshot tree, `*` marks the current one
//! snapshot create VM NAME [-d TEXT] [--memory] [--quiesce]
//! snapshot revert VM NAME
//! snapshot delete VM NAME [--children]
//! ```
//!
//! VM is a name or an inventory path (`DC0/vm/web-1`). Shows reading the `snapshot`
//! property (a tree of `VirtualMachineSnapshotTree`), and `CreateSnapshot_Task`,
//! `RevertToSnapshot_Task` and `RemoveSnapshot_Task` waited for with a progress bar
//! (`vim_sdk::ops` helpers). A snapshot is named by its name; when several share it, the
//! first one depth first is taken, as govc does.
//!
//! `--json`: `tree` prints `{"vm": NAME, "current": NAME|null, "snapshots": [NODE]}` where a
//! NODE is `{"name", "description", "id", "created", "state", "quiesced", "current",
//! "children": [NODE]}`; `create`, `revert` and `delete` print
//! `{"vm": NAME, "snapshot": NAME, "action": "created"|"reverted"|"deleted"}`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use vim_sdk::types::VirtualMachineSnapshotTree;
use vim_sdk::{mo, Client};

use crate::{output, progress, rows, Common, Context as _, Failure, Result};

/// Snapshots of one VM: tree, create, revert, delete.
#[derive(Parser)]
#[command(name = "snapshot")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the snapshot tree (`*` marks the current snapshot).
    Tree {
        /// The VM: a name or an inventory path.
        vm: String,
    },
    /// Take a snapshot.
    Create {
        /// The VM: a name or an inventory path.
        vm: String,
        /// The new snapshot's name.
        name: String,
        /// A description.
        #[arg(short, long)]
        description: Option<String>,
        /// Include the VM's memory (a powered-on VM resumes from it on revert).
        #[arg(long)]
        memory: bool,
        /// Quiesce the guest's file systems first (needs VMware Tools).
        #[arg(long)]
        quiesce: bool,
    },
    /// Make a snapshot the VM's current state.
    Revert {
        /// The VM: a name or an inventory path.
        vm: String,
        /// The snapshot's name.
        name: String,
    },
    /// Delete a snapshot (its changes are merged into its child or the VM).
    Delete {
        /// The VM: a name or an inventory path.
        vm: String,
        /// The snapshot's name.
        name: String,
        /// Delete its children too.
        #[arg(long)]
        children: bool,
    },
}

/// A snapshot tree as JSON (see the top comment).
fn node_json(
    t: &VirtualMachineSnapshotTree,
    current: Option<&mo::VirtualMachineSnapshot>,
) -> Value {
    json!({
        "name": t.name,
        "description": t.description,
        "id": t.id,
        "created": t.create_time,
        "state": t.state.as_str(),
        "quiesced": t.quiesced,
        "current": current.is_some_and(|c| c.reference() == &t.snapshot),
        "children": t.child_snapshot_list.iter().map(|c| node_json(c, current)).collect::<Vec<_>>(),
    })
}

/// One table row per snapshot, the name indented by its depth.
fn tree_rows(
    trees: &[VirtualMachineSnapshotTree],
    current: Option<&mo::VirtualMachineSnapshot>,
    depth: usize,
    out: &mut Vec<Vec<String>>,
) {
    for t in trees {
        let mark = if current.is_some_and(|c| c.reference() == &t.snapshot) {
            " *"
        } else {
            ""
        };
        out.push(vec![
            format!("{}{}{mark}", "  ".repeat(depth), t.name),
            t.create_time.clone(),
            t.state.as_str().to_string(),
            t.description.clone(),
        ]);
        tree_rows(&t.child_snapshot_list, current, depth + 1, out);
    }
}

/// The snapshot `name` of `vm`, or an error saying which VM lacks it.
async fn snapshot_named(
    client: &Client,
    vm: &mo::VirtualMachine,
    vm_name: &str,
    name: &str,
) -> Result<mo::VirtualMachineSnapshot> {
    let (trees, _) = vm
        .snapshots(client)
        .await
        .with_context(|| format!("cannot read the snapshots of VM {vm_name}"))?;
    vim_sdk::ops::vm::find_in_tree(&trees, name)
        .map(|t| mo::VirtualMachineSnapshot::from_ref(t.snapshot.clone()))
        .ok_or_else(|| Failure::new(format!("VM {vm_name} has no snapshot named {name}")))
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let json = conn.json;
    let vm_arg = match &cli.command {
        Command::Tree { vm } | Command::Create { vm, .. } => vm,
        Command::Revert { vm, .. } | Command::Delete { vm, .. } => vm,
    };
    let vm = conn.vm(vm_arg).await?;
    let vm_name = vm_arg.clone();
    let (name, action) = match cli.command {
        Command::Tree { .. } => {
            let (trees, current) = vm
                .snapshots(client)
                .await
                .with_context(|| format!("cannot read the snapshots of VM {vm_name}"))?;
            if json {
                let current_name = current.as_ref().and_then(|c| {
                    let mut all = Vec::new();
                    flatten(&trees, &mut all);
                    all.into_iter()
                        .find(|t| &t.snapshot == c.reference())
                        .map(|t| t.name.clone())
                });
                let doc = json!({
                    "vm": vm_name,
                    "current": current_name,
                    "snapshots": trees.iter().map(|t| node_json(t, current.as_ref())).collect::<Vec<_>>(),
                });
                output::json(&doc)?;
            } else if trees.is_empty() {
                output::line(format!("VM {vm_name} has no snapshots"))?;
            } else {
                let mut out = Vec::new();
                tree_rows(&trees, current.as_ref(), 0, &mut out);
                rows::print(&["NAME", "CREATED", "STATE", "DESCRIPTION"], &out, true)?;
            }
            return conn.close().await;
        }
        Command::Create {
            name,
            description,
            memory,
            quiesce,
            ..
        } => {
            let tasks = progress::Tasks::new();
            let bar = tasks.bar(format!("snapshot {name} of {vm_name}"));
            vm.create_snapshot_with_progress(
                client,
                &name,
                description.as_deref(),
                memory,
                quiesce,
                |p| bar.update(p),
            )
            .await
            .with_context(|| format!("cannot take snapshot {name} of VM {vm_name}"))?;
            bar.finish("done");
            (name, "created")
        }
        Command::Revert { name, .. } => {
            let snap = snapshot_named(client, &vm, &vm_name, &name).await?;
            let tasks = progress::Tasks::new();
            let bar = tasks.bar(format!("revert {vm_name} to {name}"));
            snap.revert_with_progress(client, |p| bar.update(p))
                .await
                .with_context(|| format!("cannot revert VM {vm_name} to snapshot {name}"))?;
            bar.finish("done");
            (name, "reverted")
        }
        Command::Delete { name, children, .. } => {
            let snap = snapshot_named(client, &vm, &vm_name, &name).await?;
            let tasks = progress::Tasks::new();
            let bar = tasks.bar(format!("delete snapshot {name} of {vm_name}"));
            snap.remove_with_progress(client, children, |p| bar.update(p))
                .await
                .with_context(|| format!("cannot delete snapshot {name} of VM {vm_name}"))?;
            bar.finish("done");
            (name, "deleted")
        }
    };
    if json {
        output::json(&json!({"vm": vm_name, "snapshot": name, "action": action}))?;
    } else {
        output::line(format!("snapshot {name} of {vm_name} {action}"))?;
    }
    conn.close().await
}

/// Every node of `trees`, depth first.
fn flatten<'a>(
    trees: &'a [VirtualMachineSnapshotTree],
    out: &mut Vec<&'a VirtualMachineSnapshotTree>,
) {
    for t in trees {
        out.push(t);
        flatten(&t.child_snapshot_list, out);
    }
}

/// The `snapshot` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
