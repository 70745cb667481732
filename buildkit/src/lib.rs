//! kiln-buildkit: everything kiln says to BuildKit.
//!
//! - [`transport`]: the gRPC channel over the frontend process's stdin/stdout.
//! - [`options`]: build options, session id and workers from the environment.
//! - [`gateway`]: a typed client for the `LLBBridge` service (Solve, ReadFile, Return, ...).
//! - [`caps`]: the capabilities the daemon reported through `Ping`.
//! - [`llb`]: an immutable `State` builder for LLB graphs with deterministic marshalling.
//! - [`entrypoint`]: reading the spec file the user passed with `-f`.
//! - [`serve`]: a whole frontend process (connect, handle one request, return) for small frontends.
//! - [`errdefs`]: error details BuildKit understands (source locations).
//! - [`excerpt`]: the lines of a source file that a location needs, for source maps and errors.
//!
//! **Architecture Invariant:** nothing in this crate knows about package specs.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod caps;
pub mod entrypoint;
pub mod errdefs;
pub mod excerpt;
pub mod gateway;
pub mod llb;
pub mod options;
pub mod serve;
pub mod transport;

/// The generated BuildKit protocol types (from `bollard-buildkit-proto`).
pub use bollard_buildkit_proto as proto;
/// BuildKit's LLB protobuf messages.
pub use bollard_buildkit_proto::pb;
