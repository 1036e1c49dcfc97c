//! Datastore folders and files through the `FileManager`: `MakeDirectory` and
//! `DeleteDatastoreFile_Task`.

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::mo;
use crate::ops::TaskProgress;

use super::DatastoreFiles;

impl DatastoreFiles {
    /// `[ds] path`, or the typed error refusing `path`.
    pub(super) fn checked_path(&self, op: &str, path: &str) -> Result<String, Error> {
        self.location
            .datastore_path(path)
            .map_err(|e| Error::new(op, None, ErrorKind::DatastorePath(e)))
    }

    fn file_manager(&self, op: &str) -> Result<&mo::FileManager, Error> {
        self.file_manager
            .as_ref()
            .ok_or_else(|| Error::missing_manager(op, "FileManager"))
    }

    /// Creates the folder `path` (relative to the datastore root); with `parents`, also its
    /// missing parents, and an existing folder is then no error (`FileAlreadyExists`
    /// otherwise).
    pub async fn make_directory(
        &self,
        client: &Client,
        path: &str,
        parents: bool,
    ) -> Result<(), Error> {
        let name = self.checked_path("MakeDirectory", path)?;
        self.file_manager("MakeDirectory")?
            .make_directory(
                client,
                &name,
                Some(self.datacenter.reference()),
                Some(parents),
            )
            .await
    }

    /// Deletes the file or folder (recursively) at `path` and waits for the task; a missing
    /// file gives the `FileNotFound` fault. The root (`""`) and paths climbing out of the
    /// datastore are refused with [`ErrorKind::DatastorePath`] before anything is sent.
    pub async fn delete(&self, client: &Client, path: &str) -> Result<(), Error> {
        self.delete_with_progress(client, path, |_| {}).await
    }

    /// [`delete`](Self::delete), calling `progress` on each change of the task.
    pub async fn delete_with_progress(
        &self,
        client: &Client,
        path: &str,
        progress: impl FnMut(TaskProgress),
    ) -> Result<(), Error> {
        const OP: &str = "DeleteDatastoreFile_Task";
        let name = self.checked_path(OP, path)?;
        let fm = self.file_manager(OP)?;
        let task = fm
            .delete_datastore_file_task(client, &name, Some(self.datacenter.reference()))
            .await?;
        task.wait_named(client, OP, Some(name), progress).await
    }
}
