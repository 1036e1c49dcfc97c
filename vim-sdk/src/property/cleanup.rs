//! Best-effort clean-up calls spawned when a guard of this module (a view, a collector, a
//! property stream with pages left) is dropped.

use std::future::Future;

use crate::error::Error;

/// Spawns `call` (a `Destroy*` or `Cancel*` call) on the current tokio runtime and logs its failure at
/// debug level under `what`; does nothing outside a runtime (the server drops what the call
/// would have destroyed with the session).
pub(crate) fn spawn_best_effort<F>(what: &'static str, call: F)
where
    F: Future<Output = Result<(), Error>> + Send + 'static,
{
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    handle.spawn(async move {
        if let Err(e) = call.await {
            tracing::debug!(error = %e, "best-effort {what} failed");
        }
    });
}
