//! kiln-spec: the package spec in Dalec's format, pure: its model, loading with positions,
//! validation, per-target merging, arg substitution, located errors, changelog dates and shell
//! words.
//!
//! **Architecture Invariant:** the spec crate never talks to BuildKit and has no gRPC or async
//! dependency; loading is a pure function from text to a checked value or located errors.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod args;
pub mod date;
mod error;
mod kinds;
mod load;
mod located;
mod merge;
mod model;
pub mod names;
pub mod parsed;
pub mod regex;
#[cfg(test)]
mod schema;
mod validate;
pub mod version;
pub mod words;
mod yaml;

pub use args::{SubstituteOptions, substitute};
pub use error::{SpecError, SpecErrors};
pub use kinds::{Date, GeneratorKind, Network, RepoStage, Sharing, SourceKind};
pub use load::{load, load_package_config, load_yaml, text};
pub use located::{Located, Pos};
pub use merge::for_target;
pub use model::*;
pub use names::{DependencyName, EnvName, Host};
pub use parsed::{FromText, Parsed};
pub use validate::spec as validate;

/// The JSON Schema of the spec format (generated from the model; a test keeps it current).
pub const SCHEMA: &str = include_str!("../../docs/spec.schema.json");

/// Checks a spec the way a build would, without an engine: syntax, shape, rules and arg
/// references. Partial specs (no name or version) pass: those are only needed to build.
pub fn lint(file: &str, text: &str) -> Result<(), SpecErrors> {
    let mut s = load(file, text)?;
    let o = SubstituteOptions {
        allow_any_arg: true,
        ..Default::default()
    };
    // Arg values are checked again when a target is built, with the real build args.
    substitute(&mut s, file, text, &o)
}
