//! `vim-codegen`: the project's model of the vSphere Web Services API (`urn:vim25`).
//!
//! - [`model`]: the model itself (data types, arrays, enums, operations, managed objects).
//! - [`text`]: the committed, line-oriented text form of the model (`wsdl/vim25/`), read by
//!   `vim-sdk`'s build script without the importer.
//! - [`diff`]: a short human-readable summary of the differences between two models.
//! - `import` (feature `import`): builds the model from VMware's WSDL sets and managed-object
//!   facts.

pub mod diff;
pub mod model;
pub mod release;
pub mod text;

#[cfg(feature = "import")]
pub mod import;

// emit: owned by the lead
pub mod emit;
