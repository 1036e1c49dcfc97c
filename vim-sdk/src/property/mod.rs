//! Reading properties of many managed objects through the `PropertyCollector`.
//!
//! - [`spec`]: filter specs for "these properties of every object in a view" or "of these
//!   objects".
//! - [`stream`]: `RetrievePropertiesEx` + `ContinueRetrievePropertiesEx` paging, decoded object
//!   by object while the reply arrives, so memory stays flat however large the inventory.
//! - [`object`]: [`ObjectProps`], one object's properties by name, with typed getters
//!   ([`convert`] holds the extra [`FromAny`](crate::types::FromAny) conversions they use).
//! - [`typed`]: the generated typed property sets (`mo::VirtualMachineProperties`) for one
//!   object, several, or every object of a container or view.
//! - [`view`]: container and list views as guards that destroy the view.
//! - [`updates`]: a `WaitForUpdatesEx` loop on a private collector.

mod cleanup;
pub mod convert;
pub mod object;
pub mod spec;
pub mod stream;
pub mod typed;
pub mod updates;
pub mod view;

pub use object::{ObjectProps, ValueError};
pub use spec::{objects_spec, view_spec, Paths};
pub use stream::{retrieve, retrieve_each, PropertyStream, StreamItem};
pub use typed::{
    typed_in_container, typed_in_view, typed_many, typed_one, typed_stream_in_view, TypedStream,
};
pub use updates::{UpdateCanceller, UpdateCollector, WaitOutcome};
pub use view::ViewGuard;
