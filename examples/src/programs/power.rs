//! Powering VMs on, off, resetting, suspending, or asking their guests to shut down or
//! reboot: many VMs at once, in parallel, each with its own progress bar on a terminal.
//!
//! `power ACTION VM...`: ACTION is `on`, `off` (hard), `reset`, `suspend`, `shutdown` or
//! `reboot` (the last two ask VMware Tools in the guest, and return once asked); each VM by
//! name or inventory path (a VM named twice is acted on once). All the tasks are started at once and waited on together; a line
//! per VM tells how it went (`DC0/vm/web1  on  ok`), a failing VM also gets one line on
//! standard error (`power: cannot power on web1: InvalidPowerState: ...`), and the exit code
//! is 1 when any failed. A VM already in the state asked for fails with the server's
//! `InvalidPowerState`, as govc reports it.
//!
//! `--json`: an array of `{"vm", "action", "ok", "error"}` (`error` is the one line, or
//! `null`).

use crate::progress::Tasks;
use crate::{fail, output, Common, Failure, Result};
use clap::{Parser, ValueEnum};
use serde::Serialize;
use tokio::task::JoinSet;
use vim_sdk::{mo, Client};

/// Powers VMs on, off, reset, suspend, or shuts down / reboots their guests, in parallel
#[derive(Parser)]
#[command(name = "power")]
struct Args {
    /// What to do
    #[arg(value_enum)]
    action: Action,
    /// VMs (names or inventory paths)
    #[arg(value_name = "VM", required = true)]
    vms: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    On,
    Off,
    Reset,
    Suspend,
    Shutdown,
    Reboot,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::On => "power on",
            Action::Off => "power off",
            Action::Reset => "reset",
            Action::Suspend => "suspend",
            Action::Shutdown => "shut down",
            Action::Reboot => "reboot",
        }
    }
}

#[derive(Serialize)]
struct Outcome {
    vm: String,
    action: Action,
    ok: bool,
    error: Option<String>,
}

/// Runs `action` on `vm`, showing the task's progress on `bar`.
async fn act(
    client: Client,
    vm: mo::VirtualMachine,
    action: Action,
    bar: crate::progress::TaskBar,
) -> std::result::Result<(), vim_sdk::Error> {
    let progress = |p| bar.update(p);
    let done = match action {
        Action::On => vm.power_on_with_progress(&client, progress).await,
        Action::Off => vm.power_off_with_progress(&client, progress).await,
        Action::Reset => vm.reset_with_progress(&client, progress).await,
        Action::Suspend => vm.suspend_with_progress(&client, progress).await,
        Action::Shutdown => vm.shutdown_guest(&client).await,
        Action::Reboot => vm.reboot_guest(&client).await,
    };
    bar.finish(if done.is_ok() { "done" } else { "failed" });
    done
}

async fn body(args: Args) -> Result<()> {
    let conn = args.common.connect().await?;
    let mut vms: Vec<(String, mo::VirtualMachine)> = Vec::new();
    for arg in &args.vms {
        let vm = conn.vm(arg).await?;
        // A VM named twice (by name and by path) is acted on once.
        if !vms.iter().any(|(_, v)| v.reference() == vm.reference()) {
            vms.push((arg.clone(), vm));
        }
    }
    let tasks = Tasks::new();
    let mut running = JoinSet::new();
    for (i, (name, vm)) in vms.into_iter().enumerate() {
        let bar = tasks.bar(format!("{} {name}", args.action.verb()));
        let client = conn.session.client().clone();
        let action = args.action;
        running.spawn(async move { (i, name, act(client, vm, action, bar).await) });
    }
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    while let Some(joined) = running.join_next().await {
        let (i, vm, done) = joined.map_err(|e| Failure::new(format!("a power task died: {e}")))?;
        let error = done.err().map(|e| {
            Failure::new(fail::describe(&e))
                .context(format!("cannot {} {vm}", args.action.verb()))
                .to_string()
        });
        if let Some(line) = &error {
            eprintln!("power: {line}");
        }
        outcomes.push((
            i,
            Outcome {
                vm,
                action: args.action,
                ok: error.is_none(),
                error,
            },
        ));
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    if conn.json {
        output::json(&outcomes)?;
    } else {
        let mut table = output::Table::new(&["VM", "Action", "Result"]);
        for o in &outcomes {
            table.row([
                o.vm.as_str(),
                args.action.verb(),
                if o.ok { "ok" } else { "failed" },
            ]);
        }
        table.print()?;
    }
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    conn.close().await?;
    if failed > 0 {
        // Each failure has had its line; exit 1 without another.
        return Err(Failure::silent(1));
    }
    Ok(())
}

/// The `power` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> std::process::ExitCode {
    crate::run(body)
}
