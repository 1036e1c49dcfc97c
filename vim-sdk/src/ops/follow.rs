//! Following the references an object holds: one property read, the values as handles.

use crate::client::Client;
use crate::error::Error;
use crate::types::{Any, FromAny};
use crate::xml::ManagedObjectReference;

/// The handle at property `path` of `obj` (`runtime.host` of a VM); `None` when unset or not a
/// reference. Two round trips, as [`ManagedObjectReference::properties`].
pub(crate) async fn follow_one<T: FromAny>(
    client: &Client,
    obj: &ManagedObjectReference,
    path: &str,
) -> Result<Option<T>, Error> {
    let mut props = obj.properties(client, &[path]).await?;
    Ok(props.take_as(path))
}

/// The handles at array property `path` of `obj` (`datastore` of a host); empty when unset or
/// not an array of references. Two round trips, as [`ManagedObjectReference::properties`].
pub(crate) async fn follow_many<T: FromAny>(
    client: &Client,
    obj: &ManagedObjectReference,
    path: &str,
) -> Result<Vec<T>, Error> {
    let mut props = obj.properties(client, &[path]).await?;
    let refs: Vec<ManagedObjectReference> = props.take_as(path).unwrap_or_default();
    Ok(refs
        .into_iter()
        .filter_map(|r| T::from_any(Any::Reference(r)).ok())
        .collect())
}
