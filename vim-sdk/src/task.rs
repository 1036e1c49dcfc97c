//! Waiting for tasks: [`TaskOf::wait`], [`TaskOf::wait_with_progress`],
//! [`TaskOf::wait_until`] and [`TaskOf::wait_with`] for one task, [`wait_all`],
//! [`wait_all_with_progress`] and [`wait_all_with`] for several.
//!
//! A wait first reads the tasks' `info` once (`RetrievePropertiesEx`): when every task has
//! already ended, that is the whole wait. Otherwise it creates a private `PropertyCollector`
//! with a filter on the tasks' `info`, follows it with `WaitForUpdatesEx` until every task has
//! ended, and destroys the collector. A task
//! that fails becomes an [`ErrorKind::Task`] error carrying its [`TaskFault`].
//!
//! A wait can be bounded ([`WaitLimits`]): by a deadline, after which it ends with an
//! [`ErrorKind::TaskTimeout`] error, and by a cancellation signal (any future, such as a
//! `CancellationToken::cancelled()` or `tokio::signal::ctrl_c()`), after which it ends with
//! [`ErrorKind::TaskWaitCancelled`]. Either way, a task the server marks `cancelable` is
//! asked to stop with `CancelTask` unless the limits say to leave it running; the error's
//! [`UnfinishedTask`] says what was done. The deadline covers the whole wait, the set-up of
//! the collector included.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::error::{Error, ErrorKind};
pub use crate::error::{TaskCancel, TaskFault, UnfinishedTask};
use crate::managed::TaskOf;
use crate::mo;
use crate::property::{objects_spec, retrieve, Paths, UpdateCollector, WaitOutcome};
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

/// A future that, once ready, ends a wait.
type CancelSignal<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// When a task wait gives up: a deadline, a cancellation signal, and whether the server is
/// then asked to cancel the tasks still running (`CancelTask`, sent only to tasks whose
/// `info.cancelable` is true; on by default).
///
/// ```no_run
/// # async fn f(client: &vim_sdk::Client, vm: &vim_sdk::mo::VirtualMachine) -> Result<(), vim_sdk::Error> {
/// use std::time::Duration;
/// use vim_sdk::task::WaitLimits;
/// let task = vm.power_on_vm_task(client, None).await?;
/// task.wait_with(client, WaitLimits::new().timeout(Duration::from_secs(120)), |_| {})
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct WaitLimits<'a> {
    deadline: Option<Instant>,
    cancel: Option<CancelSignal<'a>>,
    leave_running: bool,
}

impl std::fmt::Debug for WaitLimits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitLimits")
            .field("deadline", &self.deadline)
            .field("cancel", &self.cancel.is_some())
            .field("leave_running", &self.leave_running)
            .finish()
    }
}

impl<'a> WaitLimits<'a> {
    /// No limit: wait until the tasks end.
    pub fn new() -> Self {
        Self::default()
    }

    /// Give up at `deadline`.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Give up `timeout` from now.
    pub fn timeout(self, timeout: Duration) -> Self {
        // An unrepresentable instant (a timeout of centuries) is no deadline at all.
        match Instant::now().checked_add(timeout) {
            Some(d) => self.deadline(d),
            None => self,
        }
    }

    /// Give up when `signal` completes (e.g. `token.cancelled()` of a
    /// `tokio_util::sync::CancellationToken`, or `tokio::signal::ctrl_c()` mapped to `()`).
    pub fn cancel_on(mut self, signal: impl Future<Output = ()> + Send + 'a) -> Self {
        self.cancel = Some(Box::pin(signal));
        self
    }

    /// Do not send `CancelTask` when giving up: the tasks go on, only the wait stops.
    pub fn leave_running(mut self) -> Self {
        self.leave_running = true;
        self
    }
}

impl<R: FromAny> TaskOf<R> {
    /// Waits for the task to end; its result on success, its fault as an error.
    pub async fn wait(&self, client: &Client) -> Result<R, Error> {
        self.wait_with(client, WaitLimits::new(), |_| {}).await
    }

    /// Like [`TaskOf::wait`], calling `progress` each time the task's state or progress
    /// changes (at least once, with the state first seen).
    pub async fn wait_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<R, Error> {
        self.wait_with(client, WaitLimits::new(), progress).await
    }

    /// Like [`TaskOf::wait`], giving up at `deadline` with an [`ErrorKind::TaskTimeout`]
    /// error; the task is then cancelled (`CancelTask`) if the server says it can be.
    pub async fn wait_until(&self, client: &Client, deadline: Instant) -> Result<R, Error> {
        self.wait_with(client, WaitLimits::new().deadline(deadline), |_| {})
            .await
    }

    /// Waits within `limits`, calling `progress` on each change of the task.
    pub async fn wait_with(
        &self,
        client: &Client,
        limits: WaitLimits<'_>,
        progress: impl FnMut(TaskProgress),
    ) -> Result<R, Error> {
        let refs = [self.task.reference().clone()];
        match wait_infos(client, &refs, limits, progress).await?.pop() {
            Some(Ok(info)) => outcome(info),
            Some(Err(e)) => Err(e),
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
/// outer error is a failure of the wait itself. A task listed more than once has its outcome
/// at its first place and an error at the others.
pub async fn wait_all<R: FromAny>(
    client: &Client,
    tasks: &[TaskOf<R>],
) -> Result<Vec<Result<R, Error>>, Error> {
    wait_all_with(client, tasks, WaitLimits::new(), |_| {}).await
}

/// [`wait_all`], calling `progress` on every change of any of the tasks.
pub async fn wait_all_with_progress<R: FromAny>(
    client: &Client,
    tasks: &[TaskOf<R>],
    progress: impl FnMut(TaskProgress),
) -> Result<Vec<Result<R, Error>>, Error> {
    wait_all_with(client, tasks, WaitLimits::new(), progress).await
}

/// [`wait_all`] within `limits`: when the wait gives up, each task that had not ended gets
/// an [`ErrorKind::TaskTimeout`] or [`ErrorKind::TaskWaitCancelled`] outcome, the others
/// their result.
pub async fn wait_all_with<R: FromAny>(
    client: &Client,
    tasks: &[TaskOf<R>],
    limits: WaitLimits<'_>,
    progress: impl FnMut(TaskProgress),
) -> Result<Vec<Result<R, Error>>, Error> {
    let refs: Vec<ManagedObjectReference> =
        tasks.iter().map(|t| t.task.reference().clone()).collect();
    let infos = wait_infos(client, &refs, limits, progress).await?;
    Ok(infos.into_iter().map(|i| i.and_then(outcome)).collect())
}

fn wait_error(task: &ManagedObjectReference, message: &str) -> Error {
    let kind = ErrorKind::Decode(DecodeError::new(
        DecodeErrorKind::Unexpected(message.into()),
        "TaskInfo",
        0,
    ));
    Error::new("WaitForTask", Some(task.to_string()), kind)
}

fn ended(state: &TaskInfoState) -> bool {
    matches!(state, TaskInfoState::Success | TaskInfoState::Error)
}

/// Why a wait stopped before every task ended.
#[derive(Debug, Clone, Copy)]
enum GaveUp {
    Deadline,
    Cancelled,
}

/// Follows the `info` of `tasks` until each has ended or `limits` stop the wait; the final
/// infos in order, or for a task that had not ended when the wait gave up, its
/// timeout/cancellation error. The outer error is a failure of the wait's own calls.
async fn wait_infos(
    client: &Client,
    tasks: &[ManagedObjectReference],
    limits: WaitLimits<'_>,
    mut progress: impl FnMut(TaskProgress),
) -> Result<Vec<Result<TaskInfo, Error>>, Error> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let WaitLimits {
        deadline,
        cancel,
        leave_running,
    } = limits;
    // Each task is followed once; a task listed again gets an error at its later places
    // (its info is moved out, not cloned: see `record`).
    let mut unique: Vec<ManagedObjectReference> = Vec::with_capacity(tasks.len());
    for t in tasks {
        if !unique.contains(t) {
            unique.push(t.clone());
        }
    }
    let mut infos: Vec<Option<TaskInfo>> =
        std::iter::repeat_with(|| None).take(unique.len()).collect();
    let mut collector: Option<UpdateCollector> = None;
    let follow = follow_infos(
        client,
        &unique,
        deadline,
        &mut collector,
        &mut infos,
        &mut progress,
    );
    let until_deadline = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => std::future::pending().await,
        }
    };
    let cancel = async {
        match cancel {
            Some(signal) => signal.await,
            None => std::future::pending().await,
        }
    };
    let res = tokio::select! {
        biased;
        r = follow => r.map(|()| None),
        () = cancel => Ok(Some(GaveUp::Cancelled)),
        () = until_deadline => Ok(Some(GaveUp::Deadline)),
    };
    if let Some(collector) = collector {
        if let Err(e) = collector.destroy().await {
            tracing::debug!(error = %e, "DestroyPropertyCollector after a task wait failed");
        }
    }
    let gave_up = res?;
    let mut out = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.iter().enumerate() {
        if tasks[..i].contains(task) {
            out.push(Err(wait_error(
                task,
                "task listed more than once in one wait",
            )));
            continue;
        }
        let info = unique
            .iter()
            .position(|t| t == task)
            .and_then(|u| infos[u].take());
        match (info, gave_up) {
            (Some(info), _) if ended(&info.state) => out.push(Ok(info)),
            (info, Some(why)) => {
                let cancel = if leave_running {
                    TaskCancel::NotAsked
                } else if info.as_ref().is_some_and(|i| i.cancelable) {
                    match mo::Task::from_ref(task.clone()).cancel_task(client).await {
                        Ok(()) => TaskCancel::Requested,
                        Err(e) => TaskCancel::Refused(e.to_string()),
                    }
                } else {
                    TaskCancel::NotCancelable
                };
                let unfinished = Box::new(UnfinishedTask {
                    task: task.clone(),
                    state: info.as_ref().map(|i| i.state.clone()),
                    progress: info.as_ref().and_then(|i| i.progress),
                    cancel,
                });
                let kind = match why {
                    GaveUp::Deadline => ErrorKind::TaskTimeout(unfinished),
                    GaveUp::Cancelled => ErrorKind::TaskWaitCancelled(unfinished),
                };
                out.push(Err(Error::new("WaitForTask", Some(task.to_string()), kind)));
            }
            (_, None) => out.push(Err(wait_error(task, "no final task info received"))),
        }
    }
    Ok(out)
}

/// The wait proper: reads every task's `info` once (`RetrievePropertiesEx`) and, when that
/// shows a task still running, creates the collector (left in `collector` for the caller to
/// destroy) and records each task's latest `info` in `infos` until all have ended. A task that
/// has already ended (on vcsim, always: it runs tasks inside the `*_Task` call) thus costs
/// one round trip instead of four (collector, filter, wait, destroy).
async fn follow_infos(
    client: &Client,
    tasks: &[ManagedObjectReference],
    deadline: Option<Instant>,
    collector: &mut Option<UpdateCollector>,
    infos: &mut [Option<TaskInfo>],
    progress: &mut impl FnMut(TaskProgress),
) -> Result<(), Error> {
    let content = client.service_content().await?;
    let spec = objects_spec(tasks, &Paths::Only(vec!["info".into()]));
    let root = mo::PropertyCollector::from_ref(content.property_collector.clone());
    for object in retrieve(client, &root, std::slice::from_ref(&spec), None).await? {
        for prop in object.prop_set {
            if prop.name == "info" {
                let info = task_info(&object.obj, Some(prop.val))?;
                record(tasks, infos, &object.obj, info, progress);
            }
        }
    }
    if all_ended(infos) {
        return Ok(());
    }
    let collector = collector.insert(UpdateCollector::new(client, &content).await?);
    collector.add_filter(&spec).await?;
    while !all_ended(infos) {
        // With a deadline, ask the server to answer by then (whole seconds, at least one);
        // never for longer than half the client's call timeout, which would fail the call.
        let longest = client.longest_server_wait().min(WAIT_SECONDS);
        let max_wait = deadline.map_or(longest, |d| {
            let left = d.saturating_duration_since(Instant::now()).as_millis();
            i32::try_from(left.div_ceil(1000)).map_or(longest, |s| s.clamp(1, longest))
        });
        let set = match collector.wait(Some(max_wait), None).await? {
            WaitOutcome::Updates(set) => set,
            WaitOutcome::Timeout => continue,
            WaitOutcome::Cancelled => return Err(wait_error(&tasks[0], "wait cancelled")),
        };
        for update in set.filter_set.into_iter().flat_map(|f| f.object_set) {
            for change in update.change_set {
                if change.name == "info" {
                    let info = task_info(&update.obj, change.val)?;
                    record(tasks, infos, &update.obj, info, progress);
                }
            }
        }
    }
    Ok(())
}

fn all_ended(infos: &[Option<TaskInfo>]) -> bool {
    infos
        .iter()
        .all(|i| i.as_ref().is_some_and(|i| ended(&i.state)))
}

/// The `TaskInfo` in a task's `info` value.
fn task_info(task: &ManagedObjectReference, val: Option<Any>) -> Result<TaskInfo, Error> {
    match val {
        Some(Any::Data(AnyData::TaskInfo(info))) => Ok(*info),
        other => {
            let found = other.as_ref().map_or("nothing", |v| v.type_name());
            let msg = format!("task info holds {found}, not TaskInfo");
            Err(wait_error(task, &msg))
        }
    }
}

/// Keeps `info` as the latest of `task` (its first position in `tasks`) and reports it to
/// `progress` when its state or progress changed. The info is moved, never cloned: cloning a
/// `TaskInfo` (its `result` is an `anyType`) would link the `Clone` of every generated type
/// into each program that waits for a task.
fn record(
    tasks: &[ManagedObjectReference],
    infos: &mut [Option<TaskInfo>],
    task: &ManagedObjectReference,
    info: TaskInfo,
    progress: &mut impl FnMut(TaskProgress),
) {
    let Some(slot) = tasks.iter().position(|t| t == task).map(|i| &mut infos[i]) else {
        return;
    };
    let changed = slot
        .as_ref()
        .is_none_or(|old| old.state != info.state || old.progress != info.progress);
    if changed {
        progress(TaskProgress {
            task: task.clone(),
            state: info.state.clone(),
            progress: info.progress,
            description_id: info.description_id.clone(),
        });
    }
    *slot = Some(info);
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
        let kind = ErrorKind::Decode(DecodeError::new(
            DecodeErrorKind::Unexpected(format!(
                "task result is {}, not {}",
                found.type_name(),
                std::any::type_name::<R>()
            )),
            "TaskInfo/result",
            0,
        ));
        Error::new(method, object, kind)
    })
}
