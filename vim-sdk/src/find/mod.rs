//! Inventory lookup with typed results: by inventory path ([`path`]), by name within a
//! container ([`name`]), by UUID, IP address or DNS name ([`search`]), and the inventory path
//! of an object.
//!
//! A [`Finder`] holds the handles it needs (from [`Managers`]); each lookup is one or a few
//! explicit calls, and a miss is `Ok(None)`.

pub mod entity;
pub mod name;
pub mod path;
pub mod search;

pub use entity::Entity;
pub use search::UuidKind;

use crate::error::Error;
use crate::mo;
use crate::ops::Managers;
use crate::xml::ManagedObjectReference;

/// Inventory lookups against one server.
#[derive(Debug, Clone)]
pub struct Finder {
    root: mo::Folder,
    collector: mo::PropertyCollector,
    search_index: Option<mo::SearchIndex>,
    view_manager: Option<mo::ViewManager>,
}

impl Finder {
    /// A finder using the managers of `managers`.
    pub fn new(managers: &Managers) -> Self {
        Finder {
            root: managers.root_folder.clone(),
            collector: managers.property_collector.clone(),
            search_index: managers.search_index.clone(),
            view_manager: managers.view_manager.clone(),
        }
    }

    /// The inventory's root folder.
    pub fn root(&self) -> &mo::Folder {
        &self.root
    }

    fn search_index(&self, op: &str) -> Result<&mo::SearchIndex, Error> {
        self.search_index
            .as_ref()
            .ok_or_else(|| Error::missing_manager(op, "SearchIndex"))
    }

    fn view_manager(&self, op: &str) -> Result<&mo::ViewManager, Error> {
        self.view_manager
            .as_ref()
            .ok_or_else(|| Error::missing_manager(op, "ViewManager"))
    }
}

/// `found` as a `T`, or an error naming both types when it is something else.
pub(crate) fn typed<T: Entity>(op: &str, found: ManagedObjectReference) -> Result<T, Error> {
    if T::accepts(&found.r#type) {
        Ok(T::from_reference(found))
    } else {
        Err(crate::ops::unexpected(
            op,
            Some(found.to_string()),
            format!("found a {}, not a {}", found.r#type, T::TYPE),
        ))
    }
}
