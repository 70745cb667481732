//! The capabilities a daemon reports through `Ping`.

use crate::proto::moby::buildkit::v1::apicaps::ApiCap;
use std::collections::BTreeSet;

/// Enabled gateway and LLB capabilities of the daemon.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    gateway: BTreeSet<String>,
    llb: BTreeSet<String>,
}

impl Caps {
    /// Builds the set from `Ping`'s answer, keeping only enabled caps.
    pub fn from_pong(gateway: &[ApiCap], llb: &[ApiCap]) -> Self {
        let enabled = |caps: &[ApiCap]| {
            caps.iter()
                .filter(|c| c.enabled)
                .map(|c| c.id.clone())
                .collect()
        };
        Caps {
            gateway: enabled(gateway),
            llb: enabled(llb),
        }
    }

    /// A cap set with everything given enabled (for tests and offline use).
    pub fn with(gateway: &[&str], llb: &[&str]) -> Self {
        Caps {
            gateway: gateway.iter().map(|s| s.to_string()).collect(),
            llb: llb.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Whether the gateway API has `cap` enabled.
    pub fn gateway(&self, cap: &str) -> bool {
        self.gateway.contains(cap)
    }

    /// Whether LLB supports `cap` (e.g. `mergeop`, `file.symlink.create`).
    pub fn llb(&self, cap: &str) -> bool {
        self.llb.contains(cap)
    }
}
