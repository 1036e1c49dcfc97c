//! Stand-in for `driver_common::error` until the foundation branch is merged.

use std::fmt;

/// The message shown to the OpenNebula user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverError {
    msg: String,
}

/// The drivers' result type.
pub type Result<T> = std::result::Result<T, DriverError>;

impl DriverError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        DriverError { msg: msg.into() }
    }
    /// Bad arguments.
    pub fn usage(action: &str, expected: &str, got: &[String]) -> Self {
        DriverError::new(format!(
            "{action}: bad arguments: expected {expected}, got {got:?}"
        ))
    }
    /// `"<what>: <msg>"`.
    pub fn context(self, what: impl fmt::Display) -> Self {
        DriverError::new(format!("{what}: {}", self.msg))
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<vim_sdk::Error> for DriverError {
    fn from(e: vim_sdk::Error) -> Self {
        DriverError::new(e.to_string())
    }
}
