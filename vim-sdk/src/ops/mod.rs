//! Conveniences over the generated handles: typed property reads in one round trip
//! ([`properties`]), the `ServiceContent` managers at hand ([`managers`]), following
//! references and waiting VM operations ([`vm`], [`host`]), and the task wait they share
//! ([`task_wait`]).
//!
//! Every helper is one explicit `async` call that says how many round trips it makes.

pub mod host;
pub mod managers;
pub mod properties;
pub mod task_wait;
pub mod vm;

pub use managers::Managers;
pub use properties::{retrieve_properties, Properties};
pub use task_wait::TaskProgress;

use crate::error::{Error, ErrorKind};
use crate::xml::{DecodeError, DecodeErrorKind};

/// An error for a reply that decoded but does not hold what the helper needs.
pub(crate) fn unexpected(method: &str, object: Option<String>, message: String) -> Error {
    Error::new(
        method,
        object,
        ErrorKind::Decode(DecodeError {
            kind: DecodeErrorKind::Unexpected(message),
            path: String::new(),
            position: 0,
        }),
    )
}
