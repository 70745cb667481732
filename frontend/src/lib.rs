//! kiln-frontend: Dalec-format package specs to LLB, and the frontend that runs it in BuildKit.
//!
//! - [`spec`]: the spec model, loading with positions, validation, arg substitution.
//! - [`distro`]: the table of target distros (data, not code).
//! - [`targets`]: `--target` routing and the target list.
//! - [`debian`]: the generated `debian/` directory (pure text functions).
//! - [`sources`]: spec sources to LLB states.
//! - [`pipeline`]: worker → sources → package → container, as LLB.
//! - [`frontend`]: one BuildKit request, end to end.

pub mod date;
pub mod debian;
pub mod distro;
pub mod frontend;
pub mod pipeline;
pub mod shell;
pub mod sources;
pub mod spec;
pub mod targets;
