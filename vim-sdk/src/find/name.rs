//! Lookup by name within a container, through a `ContainerView` and the `name` property.

use crate::client::Client;
use crate::error::Error;
use crate::ops::properties::retrieve_properties;
use crate::property::ViewGuard;
use crate::xml::ManagedObjectReference;

use super::{Entity, Finder};

impl Finder {
    /// Every `T` in `container` (recursively when `recursive`) with its name, sorted by name.
    ///
    /// Four calls: `CreateContainerView`, reading the view's `view`, reading `name` of every
    /// object found (paged by the server when large), `DestroyView` (also attempted when a
    /// read fails, and spawned when the call is dropped before its end).
    pub async fn list<T: Entity>(
        &self,
        client: &Client,
        container: &ManagedObjectReference,
        recursive: bool,
    ) -> Result<Vec<(String, T)>, Error> {
        let views = self.view_manager("CreateContainerView")?;
        let view = views
            .create_container_view(client, container, &[T::TYPE.to_string()], recursive)
            .await?;
        let view = ViewGuard::adopt(client, view.into());
        let read = async {
            let objs = retrieve_properties(
                client,
                &self.collector,
                std::slice::from_ref(view.reference()),
                &["view"],
            )
            .await?
            .pop()
            .map(|p| p.references("view").to_vec())
            .unwrap_or_default();
            retrieve_properties(client, &self.collector, &objs, &["name"]).await
        };
        let named = read.await;
        let destroyed = view.destroy().await;
        let named = named?;
        destroyed?;
        let mut out: Vec<(String, T)> = named
            .into_iter()
            .filter(|p| T::accepts(&p.object().r#type))
            .filter_map(|p| {
                let name = p.str("name")?.to_string();
                Some((name, T::from_reference(p.object().clone())))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The first `T` named `name` in `container` (recursively when `recursive`); `None` when
    /// there is none. Names are compared exactly, as the server reports them (with `/`, `\`
    /// and `%` escaped).
    pub async fn by_name<T: Entity>(
        &self,
        client: &Client,
        container: &ManagedObjectReference,
        name: &str,
        recursive: bool,
    ) -> Result<Option<T>, Error> {
        Ok(self
            .list::<T>(client, container, recursive)
            .await?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, obj)| obj))
    }
}
