//! The server's recent tasks, and their changes as they happen (`--follow`).
//!
//! ```text
//! tasks [--follow [--max N]]
//! ```
//!
//! Shows the `TaskManager`'s `recentTask` list (the last tasks of the last minutes, running
//! ones included) and each task's `info` (`TaskInfo`: what, on which entity, state,
//! progress, times). Without `--follow`: two `RetrievePropertiesEx`. With it: a private
//! property collector whose filter starts at the `TaskManager` and follows `recentTask` to
//! every `Task`'s `info`; `WaitForUpdatesEx` then reports new tasks as they enter the list
//! and each change of state or progress, printed one line each until Ctrl-C (or `--max`
//! lines after the first table). The collector is destroyed at the end.
//!
//! Output: a table `QUEUED TASK ENTITY STATE PROGRESS COMPLETED USER`; with `--json`, one JSON
//! object a line: `{"task": "task-12", "name": "VirtualMachine.powerOn", "entity": NAME|null,
//! "entity_id": "vm-57"|null, "state": "queued"|"running"|"success"|"error", "progress":
//! N|null, "queued": "xsd:dateTime", "completed": "xsd:dateTime"|null, "user": NAME|null,
//! "error": TEXT|null}`.
//!
//! ENTITY and `entity` are the entity's name as the task recorded it (`TaskInfo.entityName`,
//! govc's "Target"), `entity_id` its managed object id (`TaskInfo.entity`), stable across
//! renames. (govmomi's simulator vcsim 0.24 records the id as the name: `vm-57`.)

use std::collections::HashMap;
use std::process::ExitCode;

use clap::Parser;
use serde_json::json;
use vim_sdk::property::{typed_many, typed_one};
use vim_sdk::types::{
    Any, AnyData, AnySelectionSpec, AnyTaskReason, ObjectSpec, PropertyFilterSpec, PropertySpec,
    TaskInfo, TaskInfoState, TraversalSpec,
};
use vim_sdk::xml::ManagedObjectReference;
use vim_sdk::{mo, Client};

use crate::{follow, output, rows, Common, Context as _, Failure, Result};

/// Recent tasks, and their changes as they happen.
#[derive(Parser)]
#[command(name = "tasks")]
struct Cli {
    #[command(flatten)]
    common: Common,
    /// Keep printing task changes until interrupted.
    #[arg(short, long)]
    follow: bool,
    /// With --follow, stop after this many change lines.
    #[arg(long, requires = "follow")]
    max: Option<usize>,
}

/// Who started the task, when a user did.
fn user(info: &TaskInfo) -> Option<&str> {
    match &info.reason {
        AnyTaskReason::TaskReasonUser(r) => Some(r.user_name.as_str()),
        _ => None,
    }
}

/// The task's name: its method (`VirtualMachine.powerOn`).
fn name(info: &TaskInfo) -> &str {
    if info.description_id.is_empty() {
        info.name.as_deref().unwrap_or("?")
    } else {
        &info.description_id
    }
}

/// The fault of a failed task, as `Fault: message`.
fn error(info: &TaskInfo) -> Option<String> {
    let f = info.error.as_ref()?;
    let kind = f.fault.type_name();
    Some(match f.localized_message.as_deref() {
        Some(m) if !m.is_empty() => format!("{kind}: {m}"),
        _ => kind.to_string(),
    })
}

/// Prints `infos` as JSON lines or table rows.
fn print(infos: &[TaskInfo], json: bool, header: bool) -> Result<()> {
    if json {
        for i in infos {
            let line = json!({
                "task": i.task.value,
                "name": name(i),
                "entity": i.entity_name,
                "entity_id": i.entity.as_ref().map(|e| e.value.as_str()),
                "state": i.state.as_str(),
                "progress": i.progress,
                "queued": i.queue_time,
                "completed": i.complete_time,
                "user": user(i),
                "error": error(i),
            });
            output::line(line)?;
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = infos
        .iter()
        .map(|i| {
            let state = match error(i) {
                Some(e) => format!("{} ({e})", i.state.as_str()),
                None => i.state.as_str().to_string(),
            };
            vec![
                i.queue_time.clone(),
                name(i).to_string(),
                i.entity_name.clone().unwrap_or_else(|| "-".into()),
                state,
                i.progress.map_or("-".into(), |p| format!("{p}%")),
                i.complete_time.clone().unwrap_or_else(|| "-".into()),
                user(i).unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let head = [
        "QUEUED",
        "TASK",
        "ENTITY",
        "STATE",
        "PROGRESS",
        "COMPLETED",
        "USER",
    ];
    rows::print(&head, &rows, header)
}

/// The recent tasks' infos, oldest first (two reads).
async fn recent(client: &Client, manager: &mo::TaskManager) -> Result<Vec<TaskInfo>> {
    let tasks = typed_one(client, manager, &["recentTask"])
        .await
        .context("cannot read the recent tasks")?
        .props
        .recent_task
        .unwrap_or_default();
    let mut infos: Vec<TaskInfo> = typed_many(client, &tasks, &["info"])
        .await
        .context("cannot read the recent tasks")?
        .into_iter()
        .filter_map(|t| t.props.info)
        .collect();
    infos.sort_by(|a, b| a.queue_time.cmp(&b.queue_time));
    Ok(infos)
}

/// Follows `recentTask` → `info` and prints each change; the first update set (every
/// recent task, entering) as a table.
async fn follow(
    client: &Client,
    manager: &mo::TaskManager,
    json: bool,
    max: Option<usize>,
) -> Result<()> {
    let spec = PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: "Task".into(),
            all: Some(false),
            path_set: vec!["info".into()],
        }],
        object_set: vec![ObjectSpec {
            obj: manager.reference().clone(),
            skip: Some(true),
            select_set: vec![AnySelectionSpec::TraversalSpec(Box::new(TraversalSpec {
                r#type: "TaskManager".into(),
                path: "recentTask".into(),
                skip: Some(false),
                ..Default::default()
            }))],
        }],
        ..Default::default()
    };
    // What was last printed of each task, to print only real changes.
    let mut seen: HashMap<ManagedObjectReference, (TaskInfoState, Option<i32>)> = HashMap::new();
    let mut first = true;
    let mut printed = 0usize;
    follow::changes(client, &spec, |set| {
        let mut changed: Vec<TaskInfo> = Vec::new();
        for update in set.filter_set.into_iter().flat_map(|f| f.object_set) {
            for change in update.change_set {
                let Some(Any::Data(AnyData::TaskInfo(info))) = change.val else {
                    continue;
                };
                let now = (info.state.clone(), info.progress);
                if seen.get(&info.task) != Some(&now) {
                    seen.insert(info.task.clone(), now);
                    changed.push(*info);
                }
            }
        }
        changed.sort_by(|a, b| a.queue_time.cmp(&b.queue_time));
        if !first {
            if let Some(m) = max {
                changed.truncate(m - printed);
            }
            printed += changed.len();
        }
        print(&changed, json, first)?;
        first = false;
        Ok(max.is_none_or(|m| printed < m))
    })
    .await
}

async fn body(cli: Cli) -> Result<()> {
    let conn = cli.common.connect().await?;
    let client = &conn.session;
    let manager = conn
        .managers
        .task_manager
        .clone()
        .ok_or_else(|| Failure::new("the server has no TaskManager"))?;
    if cli.follow {
        follow(client, &manager, conn.json, cli.max).await?;
    } else {
        let infos = recent(client, &manager).await?;
        print(&infos, conn.json, true)?;
    }
    conn.close().await
}

/// The `tasks` program: parses its arguments, runs, and gives its exit code.
pub fn main() -> ExitCode {
    crate::run(body)
}
