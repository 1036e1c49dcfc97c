//! Container and list views, destroyed when done.

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::types::ServiceContent;
use crate::xml::ManagedObjectReference;

use super::cleanup::spawn_best_effort;

/// A view (`ContainerView` or `ListView`) that lives until [`ViewGuard::destroy`] is awaited.
/// Dropping the guard without it spawns a best-effort `DestroyView` on the current tokio
/// runtime (nothing happens outside one; the server drops views with the session).
#[derive(Debug)]
pub struct ViewGuard {
    client: Client,
    view: ManagedObjectReference,
    live: bool,
}

fn view_manager(content: &ServiceContent) -> Result<mo::ViewManager, Error> {
    content
        .view_manager
        .clone()
        .map(mo::ViewManager::from_ref)
        .ok_or_else(|| Error::missing_manager("CreateView", "ViewManager"))
}

impl ViewGuard {
    /// Creates a `ContainerView` of the objects of `types` (all types when empty) in
    /// `container`, and below it when `recursive`.
    pub async fn container(
        client: &Client,
        content: &ServiceContent,
        container: &ManagedObjectReference,
        types: &[&str],
        recursive: bool,
    ) -> Result<Self, Error> {
        let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        let view = view_manager(content)?
            .create_container_view(client, container, &types, recursive)
            .await?;
        Ok(Self::adopt(client, view.into()))
    }

    /// Creates a `ListView` of `objs`.
    pub async fn list(
        client: &Client,
        content: &ServiceContent,
        objs: &[ManagedObjectReference],
    ) -> Result<Self, Error> {
        let view = view_manager(content)?
            .create_list_view(client, objs)
            .await?;
        Ok(Self::adopt(client, view.into()))
    }

    /// Takes charge of an existing view.
    pub fn adopt(client: &Client, view: ManagedObjectReference) -> Self {
        ViewGuard {
            client: client.clone(),
            view,
            live: true,
        }
    }

    /// The view.
    pub fn reference(&self) -> &ManagedObjectReference {
        &self.view
    }

    /// Destroys the view (`DestroyView`).
    pub async fn destroy(mut self) -> Result<(), Error> {
        self.live = false;
        mo::View::from_ref(self.view.clone())
            .destroy_view(&self.client)
            .await
    }
}

impl Drop for ViewGuard {
    fn drop(&mut self) {
        if !std::mem::take(&mut self.live) {
            return;
        }
        let view = mo::View::from_ref(self.view.clone());
        let client = self.client.clone();
        spawn_best_effort(
            "DestroyView",
            async move { view.destroy_view(&client).await },
        );
    }
}
