//! Errors as one clear line: what failed, then the fault's name and the server's message.
//!
//! `ls: cannot log in to https://vc.example.com/sdk as admin: InvalidLogin: Cannot complete
//! login due to an incorrect user name or password.` An example returns [`Failure`] from its
//! body and [`crate::run`] prints it on standard error with the program's name and exits with
//! [`Failure::exit_code`]: 2 for a usage or configuration mistake (nothing was sent), 1 for a
//! failure on the way.

use std::fmt;
use std::io;

/// The result of an example's steps.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// What failed, and why, as one line.
#[derive(Debug)]
pub struct Failure {
    what: String,
    cause: Option<String>,
    code: u8,
    quiet: bool,
}

impl Failure {
    /// A failure described by `what` alone (exit code 1).
    pub fn new(what: impl Into<String>) -> Self {
        Failure {
            what: what.into(),
            cause: None,
            code: 1,
            quiet: false,
        }
    }

    /// A usage or configuration mistake found before anything was sent (exit code 2).
    pub fn usage(what: impl Into<String>) -> Self {
        Failure {
            code: 2,
            ..Failure::new(what)
        }
    }

    /// Standard output was closed by its reader (`ls | head`): not an error, exit 0 quietly.
    fn closed_output() -> Self {
        Failure::silent(0)
    }

    /// Ends with exit code `code` and no message: the example has already said what failed
    /// (one line per failed object, as `power` does).
    pub fn silent(code: u8) -> Self {
        Failure {
            code,
            quiet: true,
            ..Failure::new(String::new())
        }
    }

    /// The exit code: 1 for a failure, 2 for a usage mistake, 0 when output was closed.
    pub fn exit_code(&self) -> u8 {
        self.code
    }

    /// Whether there is nothing to print (output closed by its reader, or already said).
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Prefixes the failure with what was being done: `cannot power on vm/web1: ...`.
    pub fn context(mut self, what: impl Into<String>) -> Self {
        let outer = what.into();
        self.cause = Some(match self.cause.take() {
            Some(c) => format!("{}: {c}", self.what),
            None => self.what,
        });
        self.what = outer;
        self
    }
}

/// The fault name and the server's message of a vim-sdk error (`InvalidLogin: Cannot
/// complete login...`); other errors as vim-sdk words them (call, object, reason).
pub fn describe(e: &vim_sdk::Error) -> String {
    match (e.fault(), &e.kind) {
        (Some(f), _) => format!("{}: {}", f.type_name(), f.message),
        (None, vim_sdk::ErrorKind::Task(t)) => match t.fault.localized_message.as_deref() {
            Some(m) if !m.is_empty() => format!("{}: {m}", t.type_name()),
            _ => t.type_name().to_string(),
        },
        _ => e.to_string(),
    }
}

impl From<vim_sdk::Error> for Failure {
    fn from(e: vim_sdk::Error) -> Self {
        Failure::new(describe(&e))
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::closed_output()
        } else {
            Failure::new(format!("cannot write the output: {e}"))
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = match &self.cause {
            Some(c) => format!("{}: {c}", self.what),
            None => self.what.clone(),
        };
        // One line, whatever the server put in its message.
        let mut words = line.split_whitespace();
        if let Some(first) = words.next() {
            f.write_str(first)?;
            for w in words {
                write!(f, " {w}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// `.context("cannot ...")` on results from vim-sdk, I/O or the helper.
pub trait Context<T> {
    /// Turns the error into a [`Failure`] saying `what` failed.
    fn context(self, what: impl Into<String>) -> Result<T>;
    /// [`context`](Context::context) with the words computed only on failure.
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Failure>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_one_line_with_its_context_first() {
        let f = Failure::new("Bad\nthing  happened").context("cannot list vm");
        assert_eq!(f.to_string(), "cannot list vm: Bad thing happened");
        assert_eq!(f.exit_code(), 1);
        let f = Failure::usage("no server").context("cannot connect");
        assert_eq!(f.exit_code(), 2);
    }

    #[test]
    fn a_closed_pipe_is_quiet() {
        let f: Failure = io::Error::from(io::ErrorKind::BrokenPipe).into();
        assert!(f.is_quiet());
        assert_eq!(f.exit_code(), 0);
        let f: Failure = io::Error::from(io::ErrorKind::PermissionDenied).into();
        assert!(!f.is_quiet());
    }
}
