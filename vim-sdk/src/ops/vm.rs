//! Virtual machine conveniences: power operations and snapshots that wait for their task,
//! and the references a VM holds (its host, datastores, networks).
//!
//! Each waiting operation makes the operation's call, then waits for its task with
//! [`TaskOf::wait_with_progress`](crate::mo::TaskOf::wait_with_progress) (a private property
//! collector followed with `WaitForUpdatesEx`). The plain form (`power_on(&client)`) just
//! waits; the `*_with_progress` form calls `progress` on each change of the task's `info`. A
//! failed task is an error named after the operation and the object it was called on.

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::types::{Any, AnyData, FromAny, VirtualMachinePowerState, VirtualMachineSnapshotTree};

use super::follow::{follow_many, follow_one};
use super::TaskProgress;

/// Waits for `task`, started by `op` on `on`; a failure of the task is named `op` on `on`.
pub(crate) async fn finish<R: FromAny>(
    client: &Client,
    task: mo::TaskOf<R>,
    op: &str,
    on: &crate::xml::ManagedObjectReference,
    progress: impl FnMut(TaskProgress),
) -> Result<R, Error> {
    task.wait_named(client, op, Some(on.to_string()), progress)
        .await
}

/// The first snapshot named `name` in the snapshot trees `trees` (as
/// [`VirtualMachine::snapshots`](crate::mo::VirtualMachine::snapshots) reads them), depth
/// first: what [`VirtualMachine::find_snapshot`](crate::mo::VirtualMachine::find_snapshot)
/// searches, for a caller that has read the trees already.
pub fn find_in_tree<'a>(
    trees: &'a [VirtualMachineSnapshotTree],
    name: &str,
) -> Option<&'a VirtualMachineSnapshotTree> {
    trees.iter().find_map(|t| {
        if t.name == name {
            Some(t)
        } else {
            find_in_tree(&t.child_snapshot_list, name)
        }
    })
}

impl mo::VirtualMachine {
    /// Powers the VM on (`PowerOnVM_Task`) and waits. Faults `InvalidPowerState` when it is
    /// already on.
    pub async fn power_on(&self, client: &Client) -> Result<(), Error> {
        self.power_on_with_progress(client, |_| {}).await
    }

    /// [`power_on`](Self::power_on), calling `progress` on each change of the task.
    pub async fn power_on_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self.power_on_vm_task(client, None).await?;
        finish(client, task, "PowerOnVM_Task", self.reference(), progress).await
    }

    /// Powers the VM off (`PowerOffVM_Task`, a hard stop) and waits.
    pub async fn power_off(&self, client: &Client) -> Result<(), Error> {
        self.power_off_with_progress(client, |_| {}).await
    }

    /// [`power_off`](Self::power_off), calling `progress` on each change of the task.
    pub async fn power_off_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self.power_off_vm_task(client).await?;
        finish(client, task, "PowerOffVM_Task", self.reference(), progress).await
    }

    /// Suspends the VM (`SuspendVM_Task`) and waits.
    pub async fn suspend(&self, client: &Client) -> Result<(), Error> {
        self.suspend_with_progress(client, |_| {}).await
    }

    /// [`suspend`](Self::suspend), calling `progress` on each change of the task.
    pub async fn suspend_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self.suspend_vm_task(client).await?;
        finish(client, task, "SuspendVM_Task", self.reference(), progress).await
    }

    /// Resets the VM (`ResetVM_Task`) and waits.
    pub async fn reset(&self, client: &Client) -> Result<(), Error> {
        self.reset_with_progress(client, |_| {}).await
    }

    /// [`reset`](Self::reset), calling `progress` on each change of the task.
    pub async fn reset_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self.reset_vm_task(client).await?;
        finish(client, task, "ResetVM_Task", self.reference(), progress).await
    }

    /// The power state (`runtime.powerState`): one property read.
    pub async fn power_state(&self, client: &Client) -> Result<VirtualMachinePowerState, Error> {
        let mut props = self.properties(client, &["runtime.powerState"]).await?;
        props
            .take_as::<VirtualMachinePowerState>("runtime.powerState")
            .ok_or_else(|| {
                super::unexpected(
                    "RetrievePropertiesEx",
                    Some(self.reference().to_string()),
                    "the VM reports no runtime.powerState".into(),
                )
            })
    }

    /// Takes a snapshot (`CreateSnapshot_Task`) and waits; returns it.
    pub async fn create_snapshot(
        &self,
        client: &Client,
        name: &str,
        description: Option<&str>,
        memory: bool,
        quiesce: bool,
    ) -> Result<mo::VirtualMachineSnapshot, Error> {
        self.create_snapshot_with_progress(client, name, description, memory, quiesce, |_| {})
            .await
    }

    /// [`create_snapshot`](Self::create_snapshot), calling `progress` on each change of the
    /// task.
    pub async fn create_snapshot_with_progress(
        &self,
        client: &Client,
        name: &str,
        description: Option<&str>,
        memory: bool,
        quiesce: bool,
        progress: impl FnMut(TaskProgress),
    ) -> Result<mo::VirtualMachineSnapshot, Error> {
        let task = self
            .create_snapshot_task(client, name, description, memory, quiesce)
            .await?;
        finish(
            client,
            task,
            "CreateSnapshot_Task",
            self.reference(),
            progress,
        )
        .await
    }

    /// The snapshot trees and the current snapshot (`snapshot` property); empty when the VM
    /// has none.
    pub async fn snapshots(
        &self,
        client: &Client,
    ) -> Result<
        (
            Vec<VirtualMachineSnapshotTree>,
            Option<mo::VirtualMachineSnapshot>,
        ),
        Error,
    > {
        let mut props = self.properties(client, &["snapshot"]).await?;
        match props.take("snapshot") {
            Some(Any::Data(AnyData::VirtualMachineSnapshotInfo(info))) => Ok((
                info.root_snapshot_list,
                info.current_snapshot
                    .map(mo::VirtualMachineSnapshot::from_ref),
            )),
            _ => Ok((Vec::new(), None)),
        }
    }

    /// The first snapshot named `name` (depth first), if any.
    pub async fn find_snapshot(
        &self,
        client: &Client,
        name: &str,
    ) -> Result<Option<mo::VirtualMachineSnapshot>, Error> {
        let (trees, _) = self.snapshots(client).await?;
        Ok(find_in_tree(&trees, name)
            .map(|t| mo::VirtualMachineSnapshot::from_ref(t.snapshot.clone())))
    }

    /// The host the VM runs on or is registered with (`runtime.host`).
    pub async fn host(&self, client: &Client) -> Result<Option<mo::HostSystem>, Error> {
        follow_one(client, self, "runtime.host").await
    }

    /// The datastores holding the VM's files (`datastore`).
    pub async fn datastores(&self, client: &Client) -> Result<Vec<mo::Datastore>, Error> {
        follow_many(client, self, "datastore").await
    }

    /// The networks the VM's NICs use (`network`).
    pub async fn networks(&self, client: &Client) -> Result<Vec<mo::Network>, Error> {
        follow_many(client, self, "network").await
    }

    /// The resource pool the VM belongs to (`resourcePool`; unset for templates).
    pub async fn resource_pool(&self, client: &Client) -> Result<Option<mo::ResourcePool>, Error> {
        follow_one(client, self, "resourcePool").await
    }
}

impl mo::VirtualMachineSnapshot {
    /// Makes this the VM's current state (`RevertToSnapshot_Task`) and waits.
    pub async fn revert(&self, client: &Client) -> Result<(), Error> {
        self.revert_with_progress(client, |_| {}).await
    }

    /// [`revert`](Self::revert), calling `progress` on each change of the task.
    pub async fn revert_with_progress(
        &self,
        client: &Client,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self.revert_to_snapshot_task(client, None, None).await?;
        finish(
            client,
            task,
            "RevertToSnapshot_Task",
            self.reference(),
            progress,
        )
        .await
    }

    /// Deletes this snapshot (`RemoveSnapshot_Task`), with its children when
    /// `remove_children`, and waits.
    pub async fn remove(&self, client: &Client, remove_children: bool) -> Result<(), Error> {
        self.remove_with_progress(client, remove_children, |_| {})
            .await
    }

    /// [`remove`](Self::remove), calling `progress` on each change of the task.
    pub async fn remove_with_progress(
        &self,
        client: &Client,
        remove_children: bool,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        let task = self
            .remove_snapshot_task(client, remove_children, None)
            .await?;
        finish(
            client,
            task,
            "RemoveSnapshot_Task",
            self.reference(),
            progress,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::ManagedObjectReference;

    fn tree(
        name: &str,
        id: &str,
        children: Vec<VirtualMachineSnapshotTree>,
    ) -> VirtualMachineSnapshotTree {
        VirtualMachineSnapshotTree {
            snapshot: ManagedObjectReference::new("VirtualMachineSnapshot", id),
            name: name.into(),
            child_snapshot_list: children,
            ..Default::default()
        }
    }

    #[test]
    fn snapshot_search_walks_children() {
        let trees = vec![tree(
            "a",
            "s1",
            vec![tree("b", "s2", vec![tree("c", "s3", vec![])])],
        )];
        assert_eq!(
            find_in_tree(&trees, "c").map(|t| t.snapshot.value.as_str()),
            Some("s3")
        );
        assert_eq!(
            find_in_tree(&trees, "a").map(|t| t.snapshot.value.as_str()),
            Some("s1")
        );
        assert!(find_in_tree(&trees, "z").is_none());
    }
}
