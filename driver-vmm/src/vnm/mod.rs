//! The network driver's actions (contract §10): `pre`, `post` and `clean`, with the same
//! `run` signature as the VMM actions.

pub mod clean;
pub mod portgroup;
pub mod post;
pub mod pre;
pub mod record;
