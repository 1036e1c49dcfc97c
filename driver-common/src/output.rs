//! OpenNebula's output conventions for driver actions (contract §1.3).
//!
//! stdout carries the action's result (deploy id, poll string, snapshot id) and nothing else.
//! stderr carries log lines `<SEVERITY>: <action>: <text>` (the MAD turns them into `LOG`
//! messages) and, on failure, the error block whose text OpenNebula shows to the user:
//!
//! ```text
//! ERROR MESSAGE --8<------
//! <message>
//! ERROR MESSAGE ------>8--
//! ```

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::OnceLock;

use crate::error::Result;

/// The opening line of the error block.
pub const BLOCK_START: &str = "ERROR MESSAGE --8<------";
/// The closing line of the error block.
pub const BLOCK_END: &str = "ERROR MESSAGE ------>8--";

/// Environment variables that switch the debug lines on (OpenNebula's `ONE_MAD_DEBUG` from
/// defaultrc, or the driver's own).
pub const DEBUG_ENV: [&str; 2] = ["ONE_MAD_DEBUG", "VMWARE_DRIVER_DEBUG"];

static ACTION: OnceLock<String> = OnceLock::new();

/// Names the running action for the log lines (the dispatcher calls it once, first).
pub fn set_action(action: &str) {
    let _ = ACTION.set(action.to_string());
}

fn action() -> &'static str {
    ACTION.get().map(String::as_str).unwrap_or("vmware")
}

/// Whether debug output is on: `ONE_MAD_DEBUG` or `VMWARE_DRIVER_DEBUG` set to anything but
/// empty or `0`.
pub fn debug_enabled() -> bool {
    DEBUG_ENV
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|val| !val.is_empty() && val != "0"))
}

/// One line per line of `msg`, so that every stderr line carries the prefix.
fn log(severity: &str, msg: &str) {
    let mut err = std::io::stderr().lock();
    for line in msg.lines() {
        let _ = writeln!(err, "{severity}: {}: {line}", action());
    }
}

/// `INFO: <action>: msg` on stderr.
pub fn info(msg: &str) {
    log("INFO", msg);
}

/// `ERROR: <action>: msg` on stderr.
pub fn error(msg: &str) {
    log("ERROR", msg);
}

/// `DEBUG: <action>: msg` on stderr, only when [`debug_enabled`].
pub fn debug(msg: &str) {
    if debug_enabled() {
        log("DEBUG", msg);
    }
}

/// The error block for `msg` (lines kept; the MAD joins them with spaces).
pub fn error_block(msg: &str) -> String {
    let body = if msg.trim().is_empty() {
        "unknown error"
    } else {
        msg.trim()
    };
    format!("{BLOCK_START}\n{body}\n{BLOCK_END}\n")
}

/// Work left for after a success is reported ([`after_success`]).
type AfterSuccess = Box<dyn FnOnce() + Send>;

static AFTER_SUCCESS: std::sync::Mutex<Vec<AfterSuccess>> = std::sync::Mutex::new(Vec::new());

/// Runs `f` once [`finish`] has reported the action's success (its result written to
/// stdout), just before the process exits 0; when the action ends in failure instead, `f` is
/// dropped without running. For state that must outlive the output, such as the record of an
/// upload: it must stay until OpenNebula could have read the SOURCE, and it must stay when
/// the action fails (a process killed first exits by a signal, and oned takes nothing from
/// a run that did not exit 0).
pub fn after_success(f: impl FnOnce() + Send + 'static) {
    AFTER_SUCCESS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Box::new(f));
}

/// Runs the [`after_success`] work when `succeeded`, else drops it.
fn run_after_success(succeeded: bool) {
    let work = std::mem::take(
        &mut *AFTER_SUCCESS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if succeeded {
        for f in work {
            f();
        }
    }
}

/// Writes the action's result (if any) on stdout, newline-terminated, and flushes it.
fn write_result(out: &str) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    if out.ends_with('\n') {
        write!(stdout, "{out}")?;
    } else {
        writeln!(stdout, "{out}")?;
    }
    stdout.flush()
}

/// Ends an action: on success prints its output (if any) on stdout and exits 0; on failure,
/// or when the output cannot be written (OpenNebula would not get it), writes
/// `ERROR: <action>: <msg>` and the error block on stderr and exits 1. The
/// [`after_success`] work runs after a success only.
pub fn finish(action: &str, r: Result<String>) -> ExitCode {
    set_action(action);
    crate::rtt::report();
    let written = r.and_then(|out| {
        write_result(&out)
            .map_err(|e| crate::DriverError::new(format!("cannot write the result to stdout: {e}")))
    });
    let code = match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error(e.message());
            let _ = std::io::stderr()
                .lock()
                .write_all(error_block(e.message()).as_bytes());
            ExitCode::FAILURE
        }
    };
    run_after_success(code == ExitCode::SUCCESS);
    code
}

/// Makes a panic end like any other failure: the `ERROR:` line and the error block
/// ([`panic_message`]) on stderr, then the default report (message, location, backtrace when
/// `RUST_BACKTRACE` asks). The release profile's `panic = "abort"` then ends the process with
/// `SIGABRT` (exit status 134 in a shell); without the hook OpenNebula would get a non-zero
/// exit but no block to show the user.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = panic_message(info.payload(), info.location());
        error(&msg);
        let _ = std::io::stderr()
            .lock()
            .write_all(error_block(&msg).as_bytes());
        default(info);
    }));
}

/// The text a panic reports: `internal error (a bug in the driver): <message> at
/// <file>:<line>`.
pub fn panic_message(
    payload: &(dyn std::any::Any + Send),
    location: Option<&std::panic::Location<'_>>,
) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic");
    let at = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!("internal error (a bug in the driver): {what}{at}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_text() {
        let here = std::panic::Location::caller();
        let msg = panic_message(&"index out of bounds", Some(here));
        assert_eq!(
            msg,
            format!(
                "internal error (a bug in the driver): index out of bounds at {}:{}",
                here.file(),
                here.line()
            )
        );
        let owned: Box<dyn std::any::Any + Send> = Box::new(String::from("bad state"));
        assert_eq!(
            panic_message(owned.as_ref(), None),
            "internal error (a bug in the driver): bad state"
        );
        assert!(panic_message(&42u8, None).ends_with(": panic"));
    }

    #[test]
    fn after_success_work_runs_only_after_a_success() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        after_success(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        run_after_success(false);
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not after a failure");
        run_after_success(true);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            0,
            "dropped, not kept for later"
        );
        let counter = runs.clone();
        after_success(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        run_after_success(true);
        run_after_success(true);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "once, after the success");
    }

    #[test]
    fn block_format() {
        assert_eq!(
            error_block("VM one-1 not found\n"),
            "ERROR MESSAGE --8<------\nVM one-1 not found\nERROR MESSAGE ------>8--\n"
        );
        assert!(error_block("  ").contains("unknown error"));
    }
}
