//! [`DriverError`]: what failed, in words an OpenNebula user can act on.

use std::fmt;

/// The message shown to the OpenNebula user (what failed, on which VM/host, the server's fault
/// name and message). Never contains a secret: build it from names, paths and server faults,
/// never from a password, cookie or ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverError {
    msg: String,
    /// The server fault's type name, when the error came from one.
    fault: Option<String>,
}

/// The drivers' result type.
pub type Result<T> = std::result::Result<T, DriverError>;

impl DriverError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        DriverError {
            msg: msg.into(),
            fault: None,
        }
    }

    /// An error standing for a server fault of type `fault` (e.g. `ManagedObjectNotFound`
    /// when a reply silently left an object out).
    pub fn with_fault(msg: impl Into<String>, fault: &str) -> Self {
        DriverError {
            msg: msg.into(),
            fault: Some(fault.to_string()),
        }
    }

    /// Bad arguments: what the action expects and what it was given (argument values are
    /// OpenNebula's, never secrets).
    pub fn usage(action: &str, expected: &str, got: &[String]) -> Self {
        let shown: Vec<String> = got.iter().map(|a| format!("'{a}'")).collect();
        DriverError::new(format!(
            "{action}: bad arguments: expected {expected}, got {} argument(s): {}",
            got.len(),
            if shown.is_empty() {
                "(none)".to_string()
            } else {
                shown.join(" ")
            }
        ))
    }

    /// Prefixes the message with what was being done: `"<what>: <msg>"`.
    pub fn context(self, what: impl fmt::Display) -> Self {
        DriverError {
            msg: format!("{what}: {}", self.msg),
            fault: self.fault,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// The type name of the server fault behind the error (`InvalidPowerState`), if any.
    pub fn fault_type(&self) -> Option<&str> {
        self.fault.as_deref()
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for DriverError {}

/// What a timed-out call's message adds: where the limit is set.
pub const CALL_TIMEOUT_HINT: &str =
    "the server did not answer in time; :call_timeout: of vmwarerc sets the limit";

/// The fault's type name and the server's message (or the transport or decoding failure),
/// with the call and the object it was made on: vim-sdk's own `Display`, which never shows
/// credentials.
impl From<vim_sdk::Error> for DriverError {
    fn from(e: vim_sdk::Error) -> Self {
        let timed_out = matches!(
            e.kind,
            vim_sdk::ErrorKind::Transport(vim_sdk::transport::TransportError::Timeout { .. })
        );
        DriverError {
            msg: if timed_out {
                format!("{e} ({CALL_TIMEOUT_HINT})")
            } else {
                e.to_string()
            },
            fault: e.fault_type().map(str::to_string),
        }
    }
}

impl From<std::io::Error> for DriverError {
    fn from(e: std::io::Error) -> Self {
        DriverError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_names_action_expectation_and_arguments() {
        let e = DriverError::usage(
            "poll",
            "<deploy_id> <host> <vmid> <host>",
            &["one-1".into()],
        );
        assert_eq!(
            e.to_string(),
            "poll: bad arguments: expected <deploy_id> <host> <vmid> <host>, got 1 argument(s): 'one-1'"
        );
        let e = DriverError::usage("poll", "x", &[]);
        assert!(e.to_string().ends_with("(none)"), "{e}");
    }

    #[test]
    fn context_prefixes() {
        let e = DriverError::new("NotFound").context("cannot find VM one-3 on esx1");
        assert_eq!(e.to_string(), "cannot find VM one-3 on esx1: NotFound");
    }
}
