//! A `WaitForUpdatesEx` loop on a private `PropertyCollector`.

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::types::{PropertyFilterSpec, ServiceContent, UpdateSet, WaitOptions};

use super::cleanup::spawn_best_effort;

/// What one [`UpdateCollector::wait`] gave.
#[derive(Debug)]
pub enum WaitOutcome {
    /// Changes since the previous version. When `truncated` is `Some(true)` more are ready:
    /// wait again at once.
    Updates(UpdateSet),
    /// `maxWaitSeconds` passed without a change.
    Timeout,
    /// [`UpdateCanceller::cancel`] (`CancelWaitForUpdates`) ended the wait.
    Cancelled,
}

/// A private `PropertyCollector` (made with `CreatePropertyCollector`) with its filters and
/// the version of the last update set received.
///
/// [`UpdateCollector::destroy`] removes it from the server; dropping the collector without
/// it spawns a best-effort `DestroyPropertyCollector` on the current tokio runtime.
#[derive(Debug)]
pub struct UpdateCollector {
    client: Client,
    collector: mo::PropertyCollector,
    version: String,
    live: bool,
}

/// Ends a pending [`UpdateCollector::wait`] from another task.
#[derive(Debug, Clone)]
pub struct UpdateCanceller {
    client: Client,
    collector: mo::PropertyCollector,
}

impl UpdateCanceller {
    /// Sends `CancelWaitForUpdates`: the pending wait returns [`WaitOutcome::Cancelled`].
    pub async fn cancel(&self) -> Result<(), Error> {
        self.collector.cancel_wait_for_updates(&self.client).await
    }
}

impl UpdateCollector {
    /// Creates a private collector from the session's `PropertyCollector`.
    pub async fn new(client: &Client, content: &ServiceContent) -> Result<Self, Error> {
        let root = mo::PropertyCollector::from_ref(content.property_collector.clone());
        let collector = root.create_property_collector(client).await?;
        Ok(UpdateCollector {
            client: client.clone(),
            collector,
            version: String::new(),
            live: true,
        })
    }

    /// The private collector.
    pub fn collector(&self) -> &mo::PropertyCollector {
        &self.collector
    }

    /// Adds a filter (`CreateFilter`, whole values rather than partial updates). The next
    /// wait reports the filter's objects as entering, with their current values.
    pub async fn add_filter(&self, spec: &PropertyFilterSpec) -> Result<mo::PropertyFilter, Error> {
        self.collector
            .create_filter(&self.client, spec, false)
            .await
    }

    /// The version of the last update set received (empty before the first).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A handle that cancels a pending wait.
    pub fn canceller(&self) -> UpdateCanceller {
        UpdateCanceller {
            client: self.client.clone(),
            collector: self.collector.clone(),
        }
    }

    /// Calls `WaitForUpdatesEx` once with the current version: waits up to
    /// `max_wait_seconds` (`Some(0)`: only what is ready; `None`: until a change), with at
    /// most `max_object_updates` object updates per set (the server may truncate).
    pub async fn wait(
        &mut self,
        max_wait_seconds: Option<i32>,
        max_object_updates: Option<i32>,
    ) -> Result<WaitOutcome, Error> {
        let options = WaitOptions {
            max_wait_seconds,
            max_object_updates,
        };
        let version = (!self.version.is_empty()).then_some(self.version.as_str());
        match self
            .collector
            .wait_for_updates_ex(&self.client, version, Some(&options))
            .await
        {
            Ok(Some(set)) => {
                self.version = set.version.clone();
                Ok(WaitOutcome::Updates(set))
            }
            Ok(None) => Ok(WaitOutcome::Timeout),
            Err(e) if e.fault_type() == Some("RequestCanceled") => Ok(WaitOutcome::Cancelled),
            Err(e) => Err(e),
        }
    }

    /// Waits in a loop, handing each update set to `f` until it returns `false` or the wait
    /// is cancelled (then `Ok(false)`); timeouts just wait again.
    pub async fn run(
        &mut self,
        max_wait_seconds: Option<i32>,
        max_object_updates: Option<i32>,
        mut f: impl FnMut(&UpdateSet) -> bool,
    ) -> Result<bool, Error> {
        loop {
            match self.wait(max_wait_seconds, max_object_updates).await? {
                WaitOutcome::Updates(set) => {
                    if !f(&set) {
                        return Ok(true);
                    }
                }
                WaitOutcome::Timeout => {}
                WaitOutcome::Cancelled => return Ok(false),
            }
        }
    }

    /// Destroys the collector and its filters (`DestroyPropertyCollector`).
    pub async fn destroy(mut self) -> Result<(), Error> {
        self.live = false;
        self.collector
            .destroy_property_collector(&self.client)
            .await
    }
}

impl Drop for UpdateCollector {
    fn drop(&mut self) {
        if !std::mem::take(&mut self.live) {
            return;
        }
        let client = self.client.clone();
        let collector = self.collector.clone();
        spawn_best_effort("DestroyPropertyCollector", async move {
            collector.destroy_property_collector(&client).await
        });
    }
}
