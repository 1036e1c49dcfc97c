//! Progress bars on standard error, drawn only when it is a terminal (never in pipes, logs or
//! tests): [`Tasks`] for task waits, [`Transfer`] for bytes moved.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use vim_sdk::managed::TaskOf;
use vim_sdk::task::TaskProgress;
use vim_sdk::types::{FromAny, TaskInfoState};
use vim_sdk::Client;

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// Bars for tasks waited on together, one line each (`power on web1  [#####   ] 60%`).
pub struct Tasks {
    multi: MultiProgress,
}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}

impl Tasks {
    /// A group of task bars (hidden unless standard error is a terminal).
    pub fn new() -> Self {
        Tasks {
            multi: MultiProgress::with_draw_target(draw_target()),
        }
    }

    /// A bar labelled `label`; pass [`TaskBar::update`] as the `*_with_progress` callback.
    pub fn bar(&self, label: impl Into<String>) -> TaskBar {
        let bar = self.multi.add(ProgressBar::new(100));
        bar.set_style(
            ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos:>3}% {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(label.into());
        bar.enable_steady_tick(Duration::from_millis(200));
        TaskBar { bar }
    }
}

/// Starts one task (`start`: the `*_task` call) and waits for it with a bar labelled `label`,
/// which ends "done" or "failed"; the task's result, or the call's or the task's error.
pub async fn task<R: FromAny>(
    client: &Client,
    label: impl Into<String>,
    start: impl std::future::Future<Output = Result<TaskOf<R>, vim_sdk::Error>>,
) -> Result<R, vim_sdk::Error> {
    let tasks = Tasks::new();
    let bar = tasks.bar(label);
    let done = async {
        start
            .await?
            .wait_with_progress(client, |p| bar.update(p))
            .await
    }
    .await;
    bar.finish(if done.is_ok() { "done" } else { "failed" });
    done
}

/// One task's bar.
pub struct TaskBar {
    bar: ProgressBar,
}

impl TaskBar {
    /// Shows the task's state and percentage.
    pub fn update(&self, p: TaskProgress) {
        match (p.state, p.progress) {
            (TaskInfoState::Success, _) => self.bar.set_position(100),
            (_, Some(pct)) => self.bar.set_position(pct.clamp(0, 100) as u64),
            _ => {}
        }
    }

    /// Ends the bar, leaving `outcome` (`done`, `failed`) beside its label.
    pub fn finish(&self, outcome: &str) {
        let label = self.bar.message();
        self.bar.finish_with_message(format!("{label}: {outcome}"));
    }
}

/// A byte transfer's bar (`upload disk.vmdk  [=====>   ] 1.2GiB/4.0GiB 85MiB/s`).
pub struct Transfer {
    bar: ProgressBar,
}

impl Transfer {
    /// A bar for `total` bytes (a spinner with a byte count when the size is unknown).
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Self {
        let bar = ProgressBar::with_draw_target(total, draw_target());
        let template = if total.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
        } else {
            "{msg} {spinner} {bytes} {bytes_per_sec}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(label.into());
        Transfer { bar }
    }

    /// Counts `n` more bytes.
    pub fn add(&self, n: u64) {
        self.bar.inc(n);
    }

    /// The bytes counted so far.
    pub fn done(&self) -> u64 {
        self.bar.position()
    }

    /// Ends the bar.
    pub fn finish(&self) {
        self.bar.finish();
    }
}
