//! kiln-frontend: Dalec-format package specs to LLB, and the frontend that runs it in BuildKit.
//!
//! - [`spec`]: the spec model, loading with positions, validation, arg substitution.
//! - [`distro`]: the table of target distros (data, not code).
//! - [`targets`]: `--target` routing and the target list.
//! - [`debian`]: the generated `debian/` directory (pure text functions).
//! - [`sources`]: spec sources to LLB states.
//! - [`contexts`]: named build contexts that replace the build worker.
//! - [`repos`]: the spec's extra package repositories as mounts for apt steps.
//! - [`signing`]: the signer frontend a build hands its packages to.
//! - [`handoff`]: the `gateway.v0` requests to other frontends (forwarded targets, signers).
//! - [`pipeline`]: worker → sources → package → container, as LLB.
//! - [`plan`]: spec text and options to the LLB of one target (pure).
//! - [`resolve`]: the offline `lint` and `resolve` views.
//! - [`support`]: what parses but cannot be built yet (errors, never silent skips).
//! - [`frontend`]: one BuildKit request, end to end.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub use kiln_spec as spec;
pub use kiln_spec::date;

pub mod contexts;
pub mod debian;
pub mod distro;
pub mod frontend;
pub mod generators;
pub mod handoff;
pub mod pipeline;
pub mod plan;
pub mod repos;
pub mod resolve;
pub mod shell;
pub mod signing;
pub mod sources;
pub mod spectests;
pub mod support;
pub mod targets;

/// The JSON Schema of the spec format (generated from the model; a test keeps it current).
pub use kiln_spec::SCHEMA;
