//! kiln-frontend: Dalec-format package specs to LLB, and the frontend that runs it in BuildKit.
//!
//! - [`spec`]: kiln-spec, the spec model (loading with positions, validation, arg substitution).
//! - [`distro`]: the table of target distros (data, not code).
//! - [`targets`]: `--target` routing and the target list.
//! - [`plan`]: spec text and options to the LLB of one target (pure).
//! - [`build`]: family-agnostic LLB: worker, sources, patches, generators, build steps,
//!   dependencies, container, tests, repos, contexts.
//! - [`family`]: the package families behind one trait; [`family::deb`] is Debian's.
//! - [`request`]: one BuildKit request, end to end (subrequests, platforms, image config,
//!   forwarding, the signing hand-off).
//! - [`resolve`]: the offline `lint` and `resolve` views.
//! - [`support`]: what parses but cannot be built yet (errors, never silent skips).
//! - [`shell`]: the one place where text becomes shell words, script lines or Makefile text.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub use kiln_spec as spec;
pub use kiln_spec::date;

pub mod build;
pub mod distro;
pub mod family;
pub mod install;
pub mod plan;
pub mod request;
pub mod resolve;
pub mod shell;
pub mod support;
pub mod targets;

/// The JSON Schema of the spec format (generated from the model; a test keeps it current).
pub use kiln_spec::SCHEMA;
