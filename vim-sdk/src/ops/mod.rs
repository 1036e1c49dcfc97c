//! Conveniences over the generated handles: property reads of known objects in one round
//! trip ([`properties`]), the `ServiceContent` managers at hand ([`managers`]), the
//! references a VM, host or datastore holds and VM operations that wait for their task
//! ([`vm`], [`host`]; tasks are waited for with [`crate::task`]).
//!
//! Every helper is one explicit `async` call that says how many round trips it makes.

mod follow;
pub mod host;
pub mod managers;
pub mod properties;
pub mod vm;

pub use crate::task::TaskProgress;
pub use managers::Managers;
pub use properties::{retrieve_properties, Properties};

use crate::error::{Error, ErrorKind};
use crate::xml::{DecodeError, DecodeErrorKind};

/// An error for a reply that decoded but does not hold what the helper needs.
pub(crate) fn unexpected(method: &str, object: Option<String>, message: String) -> Error {
    Error::new(
        method,
        object,
        ErrorKind::Decode(DecodeError::new(
            DecodeErrorKind::Unexpected(message),
            String::new(),
            0,
        )),
    )
}
