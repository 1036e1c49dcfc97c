//! The errors of a call: transport, SOAP fault, decoding. Each says which call and which object.

use std::fmt;

use crate::transport::TransportError;
use crate::types::{AnyMethodFault, LocalizedMethodFault, TaskInfoState};
use crate::xml::{DecodeError, ManagedObjectReference};

/// A SOAP fault returned by the server, with the typed `MethodFault` from its detail.
#[derive(Debug, Clone)]
pub struct Fault {
    /// `faultcode` (e.g. `ServerFaultCode`).
    pub code: String,
    /// `faultstring`: the server's message.
    pub message: String,
    /// The typed fault from `detail`, if the server sent one.
    pub detail: Option<AnyMethodFault>,
}

impl Fault {
    /// The fault type's wire name (`InvalidLogin`), or `"unknown"` without detail.
    pub fn type_name(&self) -> &str {
        self.detail
            .as_ref()
            .map(|d| d.type_name())
            .unwrap_or("unknown")
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.type_name(), self.message)
    }
}

/// What failed in a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The HTTP exchange failed (connect, TLS, timeout, status).
    Transport(TransportError),
    /// The server answered with a SOAP fault.
    Fault(Box<Fault>),
    /// The reply could not be decoded.
    Decode(DecodeError),
    /// A task ended in error (`TaskInfo.error`); the error's method and object name the
    /// task's operation and entity, or, from the crate's helpers that start and wait for a
    /// task, the call they made and the object they made it on.
    Task(Box<TaskFault>),
    /// A datastore path given by the caller was refused before anything was sent (it names
    /// the datastore's root, is absolute, climbs out with `..`...).
    DatastorePath(DatastorePathError),
    /// A paged retrieval (`RetrievePropertiesEx`) still had a continuation token after the
    /// caller's limit of pages; the rest was not requested.
    TooManyPages {
        /// The limit of pages.
        limit: usize,
    },
    /// A task wait reached its deadline before the task ended (see
    /// [`WaitLimits`](crate::task::WaitLimits)).
    TaskTimeout(Box<UnfinishedTask>),
    /// A task wait was cancelled by its caller before the task ended.
    TaskWaitCancelled(Box<UnfinishedTask>),
    /// The server does not offer the manager a call needs: its `ServiceContent` leaves the
    /// slot unset (an ESX host has no vCenter-only managers). Holds the manager's type name
    /// (`ViewManager`, `PerformanceManager`, ...).
    MissingManager(&'static str),
    /// A reference is not of the managed object type expected (nor a subtype of it).
    WrongType(WrongType),
    /// The URL given to [`Client::connect`](crate::Client::connect) carries a password
    /// (`https://user:secret@host/sdk`). Refused before anything is sent: a URL ends up in
    /// process arguments, shell history and logs. Pass the password with
    /// [`ConnectOptions::credentials`](crate::session::ConnectOptions::credentials), read from
    /// the environment or a file. The error never repeats the URL.
    PasswordInUrl,
}

#[cfg(feature = "helpers")]
impl ErrorKind {
    /// What a decoder of a streamed reply reports when it stopped with `e`: the transport
    /// failure that broke the body's stream (an idle timeout, a reset connection), if one
    /// did, rather than the malformed XML its reader saw.
    pub(crate) fn of_streamed_decode(
        e: DecodeError,
        reader: &mut crate::transport::BlockingBodyReader,
    ) -> Self {
        match reader.take_stream_error() {
            Some(t) => ErrorKind::Transport(t),
            None => ErrorKind::Decode(e),
        }
    }
}

/// An error from a vSphere call, naming the operation and the object it was called on.
#[derive(Debug)]
pub struct Error {
    /// The operation (`PowerOnVM_Task`), or a helper's name.
    pub method: String,
    /// The object the operation was called on (`VirtualMachine:vm-42`), if any.
    pub object: Option<String>,
    /// What failed.
    pub kind: ErrorKind,
}

impl Error {
    /// An error of `kind` in `method` on `object`.
    pub fn new(method: impl Into<String>, object: Option<String>, kind: ErrorKind) -> Self {
        Error {
            method: method.into(),
            object,
            kind,
        }
    }

    /// The error for a call `method` needing manager `manager` (its type name, such as
    /// `ViewManager`) that the server does not offer: [`ErrorKind::MissingManager`].
    pub fn missing_manager(method: impl Into<String>, manager: &'static str) -> Self {
        Error::new(method, None, ErrorKind::MissingManager(manager))
    }

    /// The SOAP fault, if this is one.
    pub fn fault(&self) -> Option<&Fault> {
        match &self.kind {
            ErrorKind::Fault(f) => Some(f),
            _ => None,
        }
    }

    /// Whether the connection failed before a whole reply arrived: it could not be made, or it
    /// was reset or closed before or during the reply ([`TransportError::Connect`] and
    /// [`TransportError::Http`]). The server may or may not have carried the call out.
    /// Timeouts, statuses, TLS rejections, limits and undecodable bodies are not such failures.
    pub fn is_connection_failure(&self) -> bool {
        matches!(
            &self.kind,
            ErrorKind::Transport(TransportError::Connect { .. } | TransportError::Http { .. })
        )
    }

    /// The fault's wire type name (`InvalidLogin`), if this is a fault or a failed task.
    pub fn fault_type(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Task(t) => Some(t.type_name()),
            _ => self.fault().map(|f| f.type_name()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.method)?;
        if let Some(o) = &self.object {
            write!(f, " on {o}")?;
        }
        match &self.kind {
            ErrorKind::Transport(e) => write!(f, ": {e}"),
            ErrorKind::Fault(e) => write!(f, ": fault {e}"),
            ErrorKind::Decode(e) => write!(f, ": cannot decode reply: {e}"),
            ErrorKind::Task(e) => write!(f, ": task failed: {e}"),
            ErrorKind::DatastorePath(e) => write!(f, ": {e}"),
            ErrorKind::TooManyPages { limit } => {
                write!(f, ": the server sent more than {limit} pages")
            }
            ErrorKind::TaskTimeout(e) => write!(f, ": gave up waiting (deadline): {e}"),
            ErrorKind::TaskWaitCancelled(e) => write!(f, ": gave up waiting (cancelled): {e}"),
            ErrorKind::MissingManager(m) => write!(f, ": the server offers no {m}"),
            ErrorKind::WrongType(e) => write!(f, ": {e}"),
            ErrorKind::PasswordInUrl => write!(
                f,
                ": the URL carries a password; give it with ConnectOptions::credentials \
                 (read from the environment or a file), never in the URL"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Transport(e) => Some(e),
            ErrorKind::Decode(e) => Some(e),
            ErrorKind::DatastorePath(e) => Some(e),
            ErrorKind::WrongType(e) => Some(e),
            ErrorKind::MissingManager(_)
            | ErrorKind::Fault(_)
            | ErrorKind::Task(_)
            | ErrorKind::TaskTimeout(_)
            | ErrorKind::TaskWaitCancelled(_)
            | ErrorKind::TooManyPages { .. }
            | ErrorKind::PasswordInUrl => None,
        }
    }
}

/// The failure of a task: `info.error`, with what the task was doing.
#[derive(Debug, Clone)]
pub struct TaskFault {
    /// The task.
    pub task: ManagedObjectReference,
    /// The operation (`info.name`, else `info.descriptionId`).
    pub method: String,
    /// `info.entity`, the object the task ran on (not always a managed entity: a snapshot,
    /// a `VirtualDiskManager`...).
    pub entity: Option<ManagedObjectReference>,
    /// `info.entityName`.
    pub entity_name: Option<String>,
    /// The typed fault and the server's message.
    pub fault: LocalizedMethodFault,
}

impl TaskFault {
    /// The fault's wire type name (`InvalidPowerState`).
    pub fn type_name(&self) -> &str {
        self.fault.fault.type_name()
    }
}

impl fmt::Display for TaskFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.type_name(), self.task)?;
        match self.fault.localized_message.as_deref() {
            Some(m) if !m.is_empty() => write!(f, ": {m}"),
            _ => Ok(()),
        }
    }
}

/// A caller's datastore path that the crate refuses to send (see
/// `datastore::location::check_relative_path`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid datastore path \"{path}\": {problem}")]
pub struct DatastorePathError {
    /// The path as given, with control characters escaped.
    pub path: String,
    /// What is wrong with it.
    pub problem: PathProblem,
}

/// Why a datastore path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathProblem {
    /// The empty path: the datastore's root.
    #[error("it names the datastore's root")]
    Root,
    /// It starts with `/`; paths are relative to the datastore's root.
    #[error("it is absolute (starts with '/')")]
    Absolute,
    /// It starts with `[`, like a `[datastore] path` name.
    #[error("it starts with '[' (a datastore name)")]
    OtherDatastore,
    /// A `.` or `..` component.
    #[error("it has a '.' or '..' component")]
    DotComponent,
    /// An empty component (`a//b`, a trailing `/`).
    #[error("it has an empty component")]
    EmptyComponent,
    /// A backslash, which some servers take as a separator.
    #[error("it holds a backslash")]
    Backslash,
    /// NUL or another control character.
    #[error("it holds a control character")]
    ControlCharacter,
}

/// A task a wait gave up on: what was last seen of it and whether it was asked to stop.
#[derive(Debug, Clone)]
pub struct UnfinishedTask {
    /// The task.
    pub task: ManagedObjectReference,
    /// `info.state` when the wait gave up (`None`: no `info` was received yet).
    pub state: Option<TaskInfoState>,
    /// `info.progress` (percent) when the wait gave up, if reported.
    pub progress: Option<i32>,
    /// Whether `CancelTask` was sent.
    pub cancel: TaskCancel,
}

impl fmt::Display for UnfinishedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.task)?;
        match &self.state {
            Some(s) => write!(f, "still {s}")?,
            None => f.write_str("state unknown")?,
        }
        if let Some(p) = self.progress {
            write!(f, " at {p}%")?;
        }
        match &self.cancel {
            TaskCancel::NotAsked => f.write_str(", left running"),
            TaskCancel::NotCancelable => f.write_str(", not cancelable"),
            TaskCancel::Requested => f.write_str(", CancelTask sent"),
            TaskCancel::Refused(e) => write!(f, ", CancelTask failed: {e}"),
        }
    }
}

/// What a wait that gave up did about the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCancel {
    /// Nothing: the caller asked to leave the task running.
    NotAsked,
    /// Nothing: the server did not say the task can be cancelled (`info.cancelable`).
    NotCancelable,
    /// `CancelTask` was accepted; the task may still take a moment to stop.
    Requested,
    /// `CancelTask` failed, with the error's message.
    Refused(String),
}

/// A reference that is not of the managed object type a typed handle needs (see
/// [`ManagedType::try_from_reference`](crate::managed::ManagedType::try_from_reference)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongType {
    /// The type expected (`VirtualMachine`).
    pub expected: &'static str,
    /// The reference given.
    pub found: ManagedObjectReference,
}

impl fmt::Display for WrongType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not a {}", self.found, self.expected)
    }
}

impl std::error::Error for WrongType {}

impl From<WrongType> for Error {
    fn from(e: WrongType) -> Self {
        Error::new(
            "TryFrom<ManagedObjectReference>",
            Some(e.found.to_string()),
            ErrorKind::WrongType(e),
        )
    }
}
