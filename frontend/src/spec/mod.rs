//! The package spec: its model, loading with positions, validation, per-target merging and
//! arg substitution.
//!
//! **Architecture Invariant:** the spec model never talks to BuildKit; loading is a pure
//! function from text to a checked value or located errors.

mod args;
mod error;
mod load;
mod located;
mod merge;
mod model;
mod validate;
mod yaml;

pub use args::{SubstituteOptions, substitute};
pub use error::{SpecError, SpecErrors};
pub use load::{load, load_package_config};
pub use located::{Located, Pos};
pub use merge::for_target;
pub use model::*;
pub use validate::spec as validate;
