//! Reading properties of one or a few known objects, in their order: a convenience over the
//! [`property`](crate::property) layer (an [`objects_spec`] retrieved with
//! `RetrievePropertiesEx`, paged with `ContinueRetrievePropertiesEx`).

use std::collections::HashMap;

use crate::client::Client;
use crate::error::Error;
use crate::mo;
use crate::property::{objects_spec, retrieve, ObjectProps, Paths};
use crate::xml::ManagedObjectReference;

/// The properties read from one object: the [`property`](crate::property) layer's
/// [`ObjectProps`], under the name the helpers of [`ops`](super) have always used.
pub type Properties = ObjectProps;

/// Reads `paths` of every object in `objs` through `collector` in one `RetrievePropertiesEx`
/// call (more only when the server pages the result), returning one [`Properties`] per object
/// in the order of `objs`. An object the server does not return (deleted meanwhile) is left
/// out; the server faults (e.g. `ManagedObjectNotFound`, `InvalidProperty`) come back as
/// errors.
pub async fn retrieve_properties(
    client: &Client,
    collector: &mo::PropertyCollector,
    objs: &[ManagedObjectReference],
    paths: &[&str],
) -> Result<Vec<Properties>, Error> {
    if objs.is_empty() {
        return Ok(Vec::new());
    }
    let spec = objects_spec(objs, &Paths::only(paths));
    let mut found: HashMap<ManagedObjectReference, Properties> =
        retrieve(client, collector, &[spec], None)
            .await?
            .into_iter()
            .map(|content| (content.obj.clone(), Properties::from(content)))
            .collect();
    Ok(objs.iter().filter_map(|o| found.remove(o)).collect())
}

/// The property collector of the server `client` talks to.
async fn default_collector(client: &Client) -> Result<mo::PropertyCollector, Error> {
    let content = client.service_content().await?;
    Ok(mo::PropertyCollector::from_ref(
        content.property_collector.clone(),
    ))
}

impl ManagedObjectReference {
    /// Reads `paths` of this object (any handle derefs to its reference, so this works as
    /// `vm.properties(&client, &["name", "runtime.powerState"])`).
    ///
    /// One `RetrievePropertiesEx` (plus a `RetrieveServiceContent` the first time the client
    /// needs its property collector, see [`Client::service_content`]).
    pub async fn properties(&self, client: &Client, paths: &[&str]) -> Result<Properties, Error> {
        let collector = default_collector(client).await?;
        one_object(client, &collector, self, paths).await
    }
}

/// Reads `paths` of `obj`; an object the server leaves out of the result is an error.
pub(crate) async fn one_object(
    client: &Client,
    collector: &mo::PropertyCollector,
    obj: &ManagedObjectReference,
    paths: &[&str],
) -> Result<Properties, Error> {
    retrieve_properties(client, collector, std::slice::from_ref(obj), paths)
        .await?
        .pop()
        .ok_or_else(|| {
            super::unexpected(
                "RetrievePropertiesEx",
                Some(obj.to_string()),
                "the server returned no properties for the object".into(),
            )
        })
}
