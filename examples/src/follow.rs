//! Following changes as they happen: a private property collector with one filter,
//! `WaitForUpdatesEx` in a loop, the collector destroyed at the end (`events --follow`,
//! `tasks --follow`).

use vim_sdk::property::{UpdateCollector, WaitOutcome};
use vim_sdk::types::{PropertyFilterSpec, UpdateSet};
use vim_sdk::Client;

use crate::fail::{Context as _, Result};

/// Longest single wait, in seconds (a wait that times out just waits again).
const WAIT_SECONDS: i32 = 60;

/// Hands every update set of `spec` to `each` (the first holds the current values) until
/// `each` returns `false` or fails; the collector is destroyed either way. Dropped before
/// its end (Ctrl-C), the collector is destroyed by a spawned best-effort call.
pub async fn changes(
    client: &Client,
    spec: &PropertyFilterSpec,
    mut each: impl FnMut(UpdateSet) -> Result<bool>,
) -> Result<()> {
    let content = client.service_content().await?;
    let mut updates = UpdateCollector::new(client, &content)
        .await
        .context("cannot create a property collector")?;
    let result: Result<()> = async {
        updates
            .add_filter(spec)
            .await
            .context("cannot create a property filter")?;
        loop {
            let outcome = updates
                .wait(Some(WAIT_SECONDS), None)
                .await
                .context("cannot wait for changes")?;
            match outcome {
                WaitOutcome::Updates(set) => {
                    if !each(set)? {
                        return Ok(());
                    }
                }
                WaitOutcome::Timeout => {}
                WaitOutcome::Cancelled => return Ok(()),
            }
        }
    }
    .await;
    let destroyed = updates.destroy().await;
    result?;
    destroyed.context("cannot remove the property collector")
}
