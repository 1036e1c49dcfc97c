//! Waiting for a task by polling `info.state`, `info.progress`, `info.error` and
//! `info.result` through `RetrievePropertiesEx` (what vcsim answers reliably).
//!
//! Interim: the crate's task module (`TaskOf::wait`, built on `WaitForUpdatesEx`) replaces
//! this loop once it lands; the helpers here then call it instead.

use std::time::Duration;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Fault};
use crate::mo;
use crate::types::{Any, AnyData, FromAny, LocalizedMethodFault, TaskInfoState};

use super::properties::one_object;

/// First delay between two polls.
const FIRST_POLL: Duration = Duration::from_millis(20);
/// Longest delay between two polls.
const MAX_POLL: Duration = Duration::from_millis(500);

/// What a task reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskProgress {
    /// The task has started running (it may be queued before).
    pub running: bool,
    /// Percent done, when the server reports it (0–100).
    pub percent: Option<u8>,
}

/// The error of a failed task: its fault, under the operation's name.
pub(crate) fn task_error(op: &str, object: Option<String>, fault: LocalizedMethodFault) -> Error {
    let message = fault
        .localized_message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| fault.fault.type_name().to_string());
    Error::new(
        op,
        object,
        ErrorKind::Fault(Box::new(Fault {
            code: "TaskFault".into(),
            message,
            detail: Some(fault.fault),
        })),
    )
}

/// Waits until `task` succeeds or fails, calling `progress` whenever what it reports changes,
/// and returns `info.result` (`None` when the task has no result). A failed task becomes an
/// error named `op` on `object` (the object the operation was called on) carrying the task's
/// fault. There is no deadline: wrap the call in `tokio::time::timeout` when needed.
pub(crate) async fn wait_task_any(
    client: &Client,
    collector: &mo::PropertyCollector,
    task: &mo::Task,
    op: &str,
    object: Option<String>,
    mut progress: impl FnMut(TaskProgress),
) -> Result<Option<Any>, Error> {
    let mut delay = FIRST_POLL;
    let mut last: Option<TaskProgress> = None;
    loop {
        let mut info = one_object(
            client,
            collector,
            task.reference(),
            &["info.state", "info.progress", "info.error", "info.result"],
        )
        .await?;
        let Some(state) = info.str("info.state").map(TaskInfoState::from_wire) else {
            return Err(super::unexpected(
                op,
                Some(task.reference().to_string()),
                "the task reports no state".into(),
            ));
        };
        match state {
            TaskInfoState::Success => {
                let now = TaskProgress {
                    running: true,
                    percent: Some(100),
                };
                if last != Some(now) {
                    progress(now);
                }
                return Ok(info.take("info.result"));
            }
            TaskInfoState::Error => {
                let fault = match info.take("info.error") {
                    Some(Any::Data(AnyData::LocalizedMethodFault(f))) => Some(*f),
                    _ => None,
                };
                return Err(match fault {
                    Some(f) => task_error(op, object, f),
                    None => super::unexpected(
                        op,
                        object,
                        "the task failed without a readable fault".into(),
                    ),
                });
            }
            // Queued, running, or a state this model does not know: poll again.
            _ => {
                let now = TaskProgress {
                    running: state == TaskInfoState::Running,
                    percent: info.int("info.progress").map(|p| p.clamp(0, 100) as u8),
                };
                if last != Some(now) {
                    progress(now);
                    last = Some(now);
                }
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_POLL);
    }
}

/// [`wait_task_any`], with the result converted to `R`.
pub(crate) async fn wait_task<R: FromAny>(
    client: &Client,
    collector: &mo::PropertyCollector,
    task: &mo::TaskOf<R>,
    op: &str,
    object: Option<String>,
    progress: impl FnMut(TaskProgress),
) -> Result<R, Error> {
    let result = wait_task_any(client, collector, &task.task, op, object, progress).await?;
    R::from_any(result.unwrap_or(Any::Nil)).map_err(|other| {
        super::unexpected(
            op,
            Some(task.task.reference().to_string()),
            format!(
                "the task result is a {}, not a {}",
                other.type_name(),
                std::any::type_name::<R>()
            ),
        )
    })
}
