//! An LLB builder in the shape of BuildKit's Go `client/llb`: immutable [`State`] values,
//! chained methods, content-addressed ops, and a deterministic [`State::marshal`].
//!
//! **Architecture Invariant:** the same calls give byte-identical definitions. Maps are
//! `BTreeMap`s, mounts and inputs are ordered by rule, and nothing depends on time or on
//! hash-map iteration order; BuildKit's cache relies on it.

mod exec;
mod file;
mod json;
mod marshal;
mod node;
mod source;
mod state;

pub use exec::{Exec, ExecResult, Mount, NetMode, Sharing};
pub use file::{CopyOptions, FileActions, Owner};
pub use json::definition_to_json;
pub use marshal::{MarshalOptions, SourceFile};
pub use source::{GitOptions, HttpOptions, LocalOptions, normalize_image_ref};
pub use state::State;
