//! The `ServiceContent` managers as typed handles, read once per session.

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::types::{AboutInfo, FromAny, ServiceContent};
use crate::xml::ManagedObjectReference;

use super::properties::{one_object, retrieve_properties, Properties};
use super::TaskProgress;

/// The managers of one server, from its `ServiceContent`: a root folder and property
/// collector always, the others as the server offers them (an ESX host has no view of
/// vCenter-only managers).
#[derive(Debug, Clone)]
pub struct Managers {
    /// What the server says about itself.
    pub about: AboutInfo,
    /// The inventory's root folder.
    pub root_folder: mo::Folder,
    /// The session's default property collector.
    pub property_collector: mo::PropertyCollector,
    /// Logins and logouts.
    pub session_manager: Option<mo::SessionManager>,
    /// Inventory lookups by path, UUID, IP address or DNS name.
    pub search_index: Option<mo::SearchIndex>,
    /// Container and list views.
    pub view_manager: Option<mo::ViewManager>,
    /// Datastore file operations (`MakeDirectory`, `DeleteDatastoreFile_Task`).
    pub file_manager: Option<mo::FileManager>,
    /// Virtual disk files (`CreateVirtualDisk_Task`, ...).
    pub virtual_disk_manager: Option<mo::VirtualDiskManager>,
    /// Recent and historical tasks.
    pub task_manager: Option<mo::TaskManager>,
    /// Events.
    pub event_manager: Option<mo::EventManager>,
    /// Performance counters.
    pub perf_manager: Option<mo::PerformanceManager>,
    /// OVF descriptors.
    pub ovf_manager: Option<mo::OvfManager>,
    /// Distributed switches (vCenter).
    pub dv_switch_manager: Option<mo::DistributedVirtualSwitchManager>,
    /// Guest operations (files, processes) through VMware Tools.
    pub guest_operations_manager: Option<mo::GuestOperationsManager>,
    /// Custom attributes.
    pub custom_fields_manager: Option<mo::CustomFieldsManager>,
}

fn handle<T>(
    r: &Option<ManagedObjectReference>,
    wrap: fn(ManagedObjectReference) -> T,
) -> Option<T> {
    r.clone().map(wrap)
}

impl Managers {
    /// The managers named by `content`.
    pub fn from_content(content: &ServiceContent) -> Self {
        Managers {
            about: content.about.clone(),
            root_folder: mo::Folder::from_ref(content.root_folder.clone()),
            property_collector: mo::PropertyCollector::from_ref(content.property_collector.clone()),
            session_manager: handle(&content.session_manager, mo::SessionManager::from_ref),
            search_index: handle(&content.search_index, mo::SearchIndex::from_ref),
            view_manager: handle(&content.view_manager, mo::ViewManager::from_ref),
            file_manager: handle(&content.file_manager, mo::FileManager::from_ref),
            virtual_disk_manager: handle(
                &content.virtual_disk_manager,
                mo::VirtualDiskManager::from_ref,
            ),
            task_manager: handle(&content.task_manager, mo::TaskManager::from_ref),
            event_manager: handle(&content.event_manager, mo::EventManager::from_ref),
            perf_manager: handle(&content.perf_manager, mo::PerformanceManager::from_ref),
            ovf_manager: handle(&content.ovf_manager, mo::OvfManager::from_ref),
            dv_switch_manager: handle(
                &content.dv_switch_manager,
                mo::DistributedVirtualSwitchManager::from_ref,
            ),
            guest_operations_manager: handle(
                &content.guest_operations_manager,
                mo::GuestOperationsManager::from_ref,
            ),
            custom_fields_manager: handle(
                &content.custom_fields_manager,
                mo::CustomFieldsManager::from_ref,
            ),
        }
    }

    /// The managers of the server `client` talks to (see [`Client::service_content`]).
    pub async fn retrieve(client: &Client) -> Result<Self, Error> {
        let content = client.service_content().await?;
        Ok(Self::from_content(&content))
    }

    /// Whether the server is a vCenter (`VirtualCenter`) rather than an ESX host.
    pub fn is_vcenter(&self) -> bool {
        self.about.api_type == "VirtualCenter"
    }

    /// Reads `paths` of `obj` in one `RetrievePropertiesEx`.
    pub async fn properties(
        &self,
        client: &Client,
        obj: &ManagedObjectReference,
        paths: &[&str],
    ) -> Result<Properties, Error> {
        one_object(client, &self.property_collector, obj, paths).await
    }

    /// Reads `paths` of every object in `objs` in one `RetrievePropertiesEx` (paged when the
    /// server pages), in the order of `objs`.
    pub async fn properties_of(
        &self,
        client: &Client,
        objs: &[ManagedObjectReference],
        paths: &[&str],
    ) -> Result<Vec<Properties>, Error> {
        retrieve_properties(client, &self.property_collector, objs, paths).await
    }

    /// Waits for `task` (started by operation `op` on `object`) to finish; returns its
    /// result, or its fault as an error named `op` on `object`. The wait is
    /// [`TaskOf::wait`](mo::TaskOf::wait)'s.
    pub async fn wait<R: FromAny>(
        &self,
        client: &Client,
        task: &mo::TaskOf<R>,
        op: &str,
        object: Option<&ManagedObjectReference>,
    ) -> Result<R, Error> {
        self.wait_with_progress(client, task, op, object, |_| {})
            .await
    }

    /// [`wait`](Self::wait), calling `progress` on each change of the task.
    pub async fn wait_with_progress<R: FromAny>(
        &self,
        client: &Client,
        task: &mo::TaskOf<R>,
        op: &str,
        object: Option<&ManagedObjectReference>,
        progress: impl FnMut(TaskProgress),
    ) -> Result<R, Error> {
        task.wait_named(client, op, object.map(ToString::to_string), progress)
            .await
    }
}
