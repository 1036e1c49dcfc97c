//! The keep-alive task: `CurrentTime` whenever the session has been idle for the interval.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::client::Client;

/// Shortest interval accepted, so that a mistaken zero does not flood the server.
const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// Spawns the task on the current tokio runtime. It stops when the handle is aborted.
pub(crate) fn spawn(client: Client, interval: Duration) -> JoinHandle<()> {
    let interval = interval.max(MIN_INTERVAL);
    tokio::spawn(async move {
        loop {
            let idle = client.idle_for();
            if idle < interval {
                tokio::time::sleep(interval - idle).await;
                continue;
            }
            let si = client.service_instance();
            let result = client
                .with_relogin(|c| {
                    let si = si.clone();
                    async move { si.current_time(&c).await }
                })
                .await;
            match result {
                Ok(_) => tracing::trace!("keep-alive sent"),
                Err(e) => tracing::warn!(error = %e, "keep-alive call failed"),
            }
        }
    })
}
