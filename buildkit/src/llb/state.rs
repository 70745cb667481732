//! [`State`]: an immutable handle on one output of an LLB graph (or on scratch).

use super::node::{Node, Output};
use crate::pb;

/// A filesystem state: one output of an op, or scratch (the empty filesystem).
///
/// States are values: every method returns a new state and leaves the receiver unchanged.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub(crate) output: Option<Output>,
    pub(crate) platform: Option<pb::Platform>,
}

impl State {
    /// The empty filesystem.
    pub fn scratch() -> State {
        State::default()
    }

    pub(crate) fn from_output(output: Output, platform: Option<pb::Platform>) -> State {
        State {
            output: Some(output),
            platform,
        }
    }

    /// Whether this is the empty filesystem.
    pub fn is_scratch(&self) -> bool {
        self.output.is_none()
    }

    /// The platform ops on this state run for (inherited from its image).
    pub fn platform(&self) -> Option<&pb::Platform> {
        self.platform.as_ref()
    }

    /// The same state with another platform for the execs run on it.
    pub fn with_platform(mut self, platform: pb::Platform) -> State {
        self.platform = Some(platform);
        self
    }

    /// The same state with a name for its op in the build progress.
    pub fn with_custom_name(mut self, name: impl AsRef<str>) -> State {
        if let Some(out) = self.output.as_mut() {
            out.node = out.node.named(name.as_ref());
        }
        self
    }

    /// The same state, its op tied to lines `first..=last` of the source file (1-based), so
    /// BuildKit shows those lines when the op fails.
    pub fn with_location(mut self, first: u32, last: u32) -> State {
        if let Some(out) = self.output.as_mut()
            && first > 0
        {
            out.node = out.node.located(first as i32, last.max(first) as i32);
        }
        self
    }

    /// The digest of the op that produces this state, and its output index (`None` for scratch).
    pub fn digest(&self) -> Option<(String, i64)> {
        self.output
            .as_ref()
            .map(|o| (o.node.digest.clone(), o.index))
    }

    /// Layers `states` on top of each other (BuildKit `MergeOp`, cap `mergeop`).
    ///
    /// Scratch inputs are dropped; merging one state gives that state.
    pub fn merge(states: &[State]) -> State {
        let outputs: Vec<Output> = states.iter().filter_map(|s| s.output.clone()).collect();
        let platform = states.iter().find_map(|s| s.platform.clone());
        match outputs.len() {
            0 => State {
                output: None,
                platform,
            },
            1 => State {
                output: outputs.into_iter().next(),
                platform,
            },
            n => {
                let merge = pb::MergeOp {
                    inputs: (0..n as i64)
                        .map(|input| pb::MergeInput { input })
                        .collect(),
                };
                let op = pb::Op {
                    op: Some(pb::op::Op::Merge(merge)),
                    ..Default::default()
                };
                State::from_output(
                    Output {
                        node: Node::new(op, outputs),
                        index: 0,
                    },
                    platform,
                )
            }
        }
    }
}
