//! Typed property reads: the generated property sets (`mo::VirtualMachineProperties`, ...)
//! filled for one object ([`typed_one`]), for several ([`typed_many`]), or for every object of
//! a type inside a container ([`typed_in_container`]) or an existing view ([`typed_in_view`],
//! [`typed_stream_in_view`]), with the property paths chosen by the caller.
//!
//! Each value is decoded straight from the reply into the typed set; the top-level properties
//! asked for fill their fields, every other field stays `None`. A nested path
//! (`runtime.powerState`, `summary.quickStats`) is not a field of the set: it comes in
//! [`TypedObject::other`], readable with [`TypedObject::take_other`]. Properties the server
//! could not read are in [`TypedObject::missing`].
//!
//! ```no_run
//! # async fn f(client: &vim_sdk::Client, vm: &vim_sdk::mo::VirtualMachine) -> Result<(), vim_sdk::Error> {
//! use vim_sdk::property::typed_one;
//! let vm = typed_one(client, vm, &["name", "runtime"]).await?;
//! let state = vm.props.runtime.as_ref().map(|r| r.power_state.clone());
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use crate::client::Client;
use crate::error::Error;
use crate::managed::{ManagedType, PropertySet, TypedObject};
use crate::mo;
use crate::xml::ManagedObjectReference;

use super::spec::{objects_spec, view_spec, Paths};
use super::stream::PropertyStream;
use super::view::ViewGuard;

/// The objects of a retrieval, decoded into `T`'s typed property set.
pub type TypedStream<T> = PropertyStream<TypedObject<<T as ManagedType>::Properties>>;

async fn default_collector(client: &Client) -> Result<mo::PropertyCollector, Error> {
    let content = client.service_content().await?;
    Ok(mo::PropertyCollector::from_ref(
        content.property_collector.clone(),
    ))
}

/// Reads `paths` of `obj` into its typed property set. One `RetrievePropertiesEx` (plus a
/// `RetrieveServiceContent` the first time the client needs its property collector). An
/// object the server does not return (deleted meanwhile) is an error.
pub async fn typed_one<T: ManagedType>(
    client: &Client,
    obj: &T,
    paths: &[&str],
) -> Result<TypedObject<T::Properties>, Error> {
    let r = obj.as_reference();
    typed_many(client, std::slice::from_ref(obj), paths)
        .await?
        .pop()
        .ok_or_else(|| {
            crate::ops::unexpected(
                "RetrievePropertiesEx",
                Some(r.to_string()),
                "the server returned no properties for the object".into(),
            )
        })
}

/// Reads `paths` of every object in `objs` in one `RetrievePropertiesEx` (more only when the
/// server pages), in the order of `objs`; an object the server does not return (deleted
/// meanwhile) is left out.
pub async fn typed_many<T: ManagedType>(
    client: &Client,
    objs: &[T],
    paths: &[&str],
) -> Result<Vec<TypedObject<T::Properties>>, Error> {
    if objs.is_empty() {
        return Ok(Vec::new());
    }
    let refs: Vec<ManagedObjectReference> = objs.iter().map(|o| o.as_reference().clone()).collect();
    let collector = default_collector(client).await?;
    let spec = objects_spec(&refs, &Paths::only(paths));
    let mut found: HashMap<ManagedObjectReference, TypedObject<T::Properties>> =
        PropertyStream::<TypedObject<T::Properties>>::start_as(client, &collector, &[spec], None)
            .await?
            .collect()
            .await?
            .into_iter()
            .map(|o| (o.obj.clone(), o))
            .collect();
    Ok(refs.iter().filter_map(|r| found.remove(r)).collect())
}

/// Streams `paths` of every object of type `T` (subtypes included) that `view` (a container
/// or list view the caller keeps) shows: one `RetrievePropertiesEx`, paged by
/// `max_objects` (the server's choice when `None`), decoded as the reply arrives.
pub async fn typed_stream_in_view<T: ManagedType>(
    client: &Client,
    view: &ManagedObjectReference,
    paths: &[&str],
    max_objects: Option<i32>,
) -> Result<TypedStream<T>, Error> {
    let collector = default_collector(client).await?;
    let spec = view_spec(
        view,
        &[<T::Properties as PropertySet>::TYPE_NAME],
        &Paths::only(paths),
    );
    PropertyStream::start_as(client, &collector, &[spec], max_objects).await
}

/// Reads `paths` of every object of type `T` (subtypes included) that `view` shows, in one
/// `RetrievePropertiesEx` (more only when the server pages).
pub async fn typed_in_view<T: ManagedType>(
    client: &Client,
    view: &ManagedObjectReference,
    paths: &[&str],
) -> Result<Vec<TypedObject<T::Properties>>, Error> {
    typed_stream_in_view::<T>(client, view, paths, None)
        .await?
        .collect()
        .await
}

/// Reads `paths` of every object of type `T` (subtypes included) in `container` (a folder,
/// datacenter, compute resource, host or resource pool), and below it when `recursive`:
/// `CreateContainerView`, one `RetrievePropertiesEx` (more only when the server pages),
/// `DestroyView`.
pub async fn typed_in_container<T: ManagedType>(
    client: &Client,
    container: &ManagedObjectReference,
    recursive: bool,
    paths: &[&str],
) -> Result<Vec<TypedObject<T::Properties>>, Error> {
    let content = client.service_content().await?;
    let view = ViewGuard::container(
        client,
        &content,
        container,
        &[<T::Properties as PropertySet>::TYPE_NAME],
        recursive,
    )
    .await?;
    let read = typed_in_view::<T>(client, view.reference(), paths).await;
    let destroyed = view.destroy().await;
    let objects = read?;
    destroyed?;
    Ok(objects)
}
