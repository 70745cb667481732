//! The package spec: its model, loading with positions, validation and arg substitution.
//!
//! **Architecture Invariant:** the spec model never talks to BuildKit; loading is a pure
//! function from text to a checked value or located errors.

mod args;
mod error;
mod load;
mod model;

pub use args::substitute;
pub use error::{SpecError, SpecErrors};
pub use load::{load, parse_mode};
pub use model::*;
