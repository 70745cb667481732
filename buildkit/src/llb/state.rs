//! [`State`]: an immutable handle on one output of an LLB graph (or on scratch).

use super::node::{Node, Output};
use crate::pb;

/// A filesystem state: one output of an op, or scratch (the empty filesystem).
///
/// States are values: every method returns a new state and leaves the receiver unchanged.
#[derive(Debug, Clone, Default)]
#[must_use]
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

    /// The same state, its op run again in every build: for a step whose result depends on
    /// what the cache cannot see (a secret's content).
    pub fn never_cached(mut self) -> State {
        if let Some(out) = self.output.as_mut() {
            out.node = out.node.uncached();
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

impl State {
    /// The state an existing definition produces (e.g. the result of another frontend), so
    /// new ops can build on it. The definition's ops are kept byte for byte.
    pub fn from_definition(def: &pb::Definition) -> Result<State, String> {
        use prost::Message;
        use std::collections::BTreeMap;
        let Some(last) = def.def.last() else {
            return Ok(State::scratch());
        };
        let terminal =
            pb::Op::decode(last.as_slice()).map_err(|e| format!("invalid definition: {e}"))?;
        let head = terminal
            .inputs
            .first()
            .ok_or("invalid definition: the last op has no input")?;
        let mut ops: BTreeMap<String, (Vec<u8>, pb::Op)> = BTreeMap::new();
        for bytes in &def.def[..def.def.len() - 1] {
            let op =
                pb::Op::decode(bytes.as_slice()).map_err(|e| format!("invalid definition: {e}"))?;
            ops.insert(super::node::digest_of(bytes), (bytes.clone(), op));
        }
        let mut built: BTreeMap<String, std::sync::Arc<Node>> = BTreeMap::new();
        let node = build_node(&head.digest, &ops, def, &mut built, 0)?;
        let platform = ops
            .get(&head.digest)
            .and_then(|(_, op)| op.platform.clone());
        Ok(State::from_output(
            Output {
                node,
                index: head.index,
            },
            platform,
        ))
    }
}

/// Rebuilds the node for `digest` and its inputs, memoised, refusing cycles (depth bound).
fn build_node(
    digest: &str,
    ops: &std::collections::BTreeMap<String, (Vec<u8>, pb::Op)>,
    def: &pb::Definition,
    built: &mut std::collections::BTreeMap<String, std::sync::Arc<Node>>,
    depth: usize,
) -> Result<std::sync::Arc<Node>, String> {
    if let Some(n) = built.get(digest) {
        return Ok(n.clone());
    }
    if depth > 10_000 {
        return Err("invalid definition: too deep or cyclic".into());
    }
    let (bytes, op) = ops
        .get(digest)
        .ok_or_else(|| format!("invalid definition: missing op {digest}"))?;
    let mut inputs = Vec::new();
    for input in &op.inputs {
        let n = build_node(&input.digest, ops, def, built, depth + 1)?;
        inputs.push(Output {
            node: n,
            index: input.index,
        });
    }
    let node = std::sync::Arc::new(Node {
        digest: digest.to_string(),
        bytes: bytes.clone(),
        inputs,
        metadata: def.metadata.get(digest).cloned().unwrap_or_default(),
        location: None,
    });
    built.insert(digest.to_string(), node.clone());
    Ok(node)
}
