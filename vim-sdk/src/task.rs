//! Waiting for tasks: [`TaskOf::wait`], [`TaskOf::wait_with_progress`], [`wait_all`] and
//! [`wait_all_with_progress`].
//!
//! A wait creates a private `PropertyCollector` with a filter on the tasks' `info`, follows it
//! with `WaitForUpdatesEx` until every task has ended, and destroys the collector. A task
//! that fails becomes an [`ErrorKind::Task`] error carrying its [`TaskFault`].

use crate::client::Client;
pub use crate::error::TaskFault;
use crate::error::{Error, ErrorKind};
use crate::managed::TaskOf;
use crate::property::{objects_spec, Paths, UpdateCollector, WaitOutcome};
use crate::types::{Any, AnyData, FromAny, TaskInfo, TaskInfoState};
use crate::xml::{DecodeError, DecodeErrorKind, ManagedObjectReference};

/// Longest single `WaitForUpdatesEx` of a task wait, in seconds.
const WAIT_SECONDS: i32 = 60;

/// A task's state, as handed to progress callbacks each time its `info` changes.
#[derive(Debug, Clone)]
pub struct TaskProgress {
    /// The task.
    pub task: ManagedObjectReference,
    /// `info.state`.
    pub state: TaskInfoState,
    /// `info.progress` (percent), when the server reports it.
    pub progress: Option<i32>,
    /// `info.descriptionId` (`VirtualMachine.powerOn`).
    pub description_id: String,
}

impl<R: FromAny> TaskOf<R> {
    /// Waits for the task to end; its result on success, its fault as an error.
    pub async fn wait(&self, client: &Client) -> Result<R, Error> {
        self.wait_with_progress(client, |_| {}).await
    }

    /// Like [`TaskOf::wait`], calling `progress` each time the task's state or progress
    /// changes (at least once, with the state first seen).
    pub async fn wait_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<R, Error> {
        let refs = [self.task.reference().clone()];
        let mut infos = wait_infos(client, &refs, progress).await?;
        match infos.pop() {
            Some(info) => outcome(info),
            None => Err(wait_error(&refs[0], "no task info received")),
        }
    }
}

impl<R: FromAny> TaskOf<R> {
    /// [`TaskOf::wait_with_progress`] for the helpers that started the task: a failure of the
    /// task is named `op` on `object` (the call and what it was called on, such as a
    /// datastore path), where the task's own `info` may name another object (a
    /// `FileManager` task names the manager). The [`TaskFault`] inside keeps what the task
    /// reported; errors of the wait's own calls keep their names.
    pub(crate) async fn wait_named(
        &self,
        client: &Client,
        op: &str,
        object: Option<String>,
        progress: impl FnMut(TaskProgress),
    ) -> Result<R, Error> {
        self.wait_with_progress(client, progress)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::Task(_) => Error::new(op, object, e.kind),
                _ => e,
            })
    }
}

/// Waits for all `tasks` at once (one collector); gives each task's outcome in order. The
/// outer error is a failure of the wait itself.
pub async fn wait_all<R: FromAny>(
    client: &Client,
    tasks: &[TaskOf<R>],
) -> Result<Vec<Result<R, Error>>, Error> {
    wait_all_with_progress(client, tasks, |_| {}).await
}

/// [`wait_all`], calling `progress` on every change of any of the tasks.
pub async fn wait_all_with_progress<R: FromAny>(
    client: &Client,
    tasks: &[TaskOf<R>],
    progress: impl FnMut(TaskProgress),
) -> Result<Vec<Result<R, Error>>, Error> {
    let refs: Vec<ManagedObjectReference> =
        tasks.iter().map(|t| t.task.reference().clone()).collect();
    let infos = wait_infos(client, &refs, progress).await?;
    Ok(infos.into_iter().map(outcome).collect())
}

fn wait_error(task: &ManagedObjectReference, message: &str) -> Error {
    let kind = ErrorKind::Decode(DecodeError {
        kind: DecodeErrorKind::Unexpected(message.into()),
        path: "TaskInfo".into(),
        position: 0,
    });
    Error::new("WaitForTask", Some(task.to_string()), kind)
}

fn ended(state: &TaskInfoState) -> bool {
    matches!(state, TaskInfoState::Success | TaskInfoState::Error)
}

/// Follows the `info` of `tasks` until each has ended; the final infos, in order.
async fn wait_infos(
    client: &Client,
    tasks: &[ManagedObjectReference],
    mut progress: impl FnMut(TaskProgress),
) -> Result<Vec<TaskInfo>, Error> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let content = client.service_content().await?;
    let mut collector = UpdateCollector::new(client, &content).await?;
    let spec = objects_spec(tasks, &Paths::Only(vec!["info".into()]));
    let mut infos: Vec<Option<TaskInfo>> = vec![None; tasks.len()];
    let res = async {
        collector.add_filter(&spec).await?;
        while infos
            .iter()
            .any(|i| !i.as_ref().is_some_and(|i| ended(&i.state)))
        {
            let set = match collector.wait(Some(WAIT_SECONDS), None).await? {
                WaitOutcome::Updates(set) => set,
                WaitOutcome::Timeout => continue,
                WaitOutcome::Cancelled => return Err(wait_error(&tasks[0], "wait cancelled")),
            };
            for update in set.filter_set.into_iter().flat_map(|f| f.object_set) {
                for change in update.change_set {
                    if change.name != "info" {
                        continue;
                    }
                    let info = match change.val {
                        Some(Any::Data(AnyData::TaskInfo(info))) => *info,
                        other => {
                            let found = other.as_ref().map_or("nothing", |v| v.type_name());
                            let msg = format!("task info holds {found}, not TaskInfo");
                            return Err(wait_error(&update.obj, &msg));
                        }
                    };
                    progress(TaskProgress {
                        task: update.obj.clone(),
                        state: info.state.clone(),
                        progress: info.progress,
                        description_id: info.description_id.clone(),
                    });
                    for (slot, _) in infos
                        .iter_mut()
                        .zip(tasks)
                        .filter(|(_, t)| **t == update.obj)
                    {
                        *slot = Some(info.clone());
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    let destroyed = collector.destroy().await;
    res?;
    if let Err(e) = destroyed {
        tracing::debug!(error = %e, "DestroyPropertyCollector after a task wait failed");
    }
    Ok(infos.into_iter().flatten().collect())
}

/// The task's result as `R`, or its fault as an error.
fn outcome<R: FromAny>(info: TaskInfo) -> Result<R, Error> {
    let method = info
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| info.description_id.clone());
    let object = info.entity.as_ref().map(|e| e.to_string());
    if info.state == TaskInfoState::Error {
        let fault = TaskFault {
            task: info.task,
            method: method.clone(),
            entity: info.entity,
            entity_name: info.entity_name,
            fault: info.error.unwrap_or_default(),
        };
        return Err(Error::new(method, object, ErrorKind::Task(Box::new(fault))));
    }
    R::from_any(info.result.unwrap_or(Any::Nil)).map_err(|found| {
        let kind = ErrorKind::Decode(DecodeError {
            kind: DecodeErrorKind::Unexpected(format!(
                "task result is {}, not {}",
                found.type_name(),
                std::any::type_name::<R>()
            )),
            path: "TaskInfo/result".into(),
            position: 0,
        });
        Error::new(method, object, kind)
    })
}
