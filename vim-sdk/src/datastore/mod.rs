//! Datastore files: streaming upload and download over HTTP (`/folder/<path>?dcPath=&dsName=`)
//! with the session cookie ([`http`]), and `MakeDirectory` / `DeleteDatastoreFile_Task`
//! ([`files`]).
//!
//! [`DatastoreFiles`] names one datastore as the HTTP interface wants it (the datacenter's
//! inventory path and the datastore's name) and as the file manager wants it (the datacenter
//! handle and `[ds] path` names).

pub mod files;
pub mod http;
pub mod location;

pub use location::{check_relative_path, DatastoreLocation, DatastorePathError, PathProblem};

use crate::mo;
use crate::ops::Managers;

/// File access to one datastore of one datacenter.
#[derive(Debug, Clone)]
pub struct DatastoreFiles {
    location: DatastoreLocation,
    datacenter: mo::Datacenter,
    file_manager: Option<mo::FileManager>,
}

impl DatastoreFiles {
    /// Files of datastore `location.datastore` in `datacenter` (whose inventory path is
    /// `location.datacenter_path`; `ha-datacenter` on an ESX host).
    pub fn new(
        managers: &Managers,
        datacenter: mo::Datacenter,
        location: DatastoreLocation,
    ) -> Self {
        DatastoreFiles {
            location,
            datacenter,
            file_manager: managers.file_manager.clone(),
        }
    }

    /// Where the files are.
    pub fn location(&self) -> &DatastoreLocation {
        &self.location
    }

    /// The datacenter the datastore belongs to.
    pub fn datacenter(&self) -> &mo::Datacenter {
        &self.datacenter
    }
}
