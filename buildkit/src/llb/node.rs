//! Content-addressed LLB ops: an op's digest is the SHA-256 of its exact encoded bytes.

use crate::pb;
use prost::Message;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// One encoded op of the graph.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) digest: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) inputs: Vec<Output>,
    pub(crate) metadata: pb::OpMetadata,
    /// Lines of the source file (1-based, inclusive) this op comes from.
    pub(crate) location: Option<(i32, i32)>,
}

/// One output of an op: what a later op or mount consumes.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub(crate) node: Arc<Node>,
    pub(crate) index: i64,
}

impl Output {
    /// The protobuf input that names this output.
    pub(crate) fn as_input(&self) -> pb::Input {
        pb::Input {
            digest: self.node.digest.clone(),
            index: self.index,
        }
    }

    /// Whether two outputs name the same edge of the graph.
    pub(crate) fn same_as(&self, other: &Output) -> bool {
        self.index == other.index && self.node.digest == other.node.digest
    }
}

/// `sha256:<hex>` of some bytes.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Node {
    /// Encodes `op` with `inputs` filled in and wraps it as a node.
    pub(crate) fn new(mut op: pb::Op, inputs: Vec<Output>) -> Arc<Node> {
        op.inputs = inputs.iter().map(Output::as_input).collect();
        if op.constraints.is_none() {
            // Go's client sets an empty constraints message on every non-terminal op.
            op.constraints = Some(pb::WorkerConstraints::default());
        }
        let bytes = op.encode_to_vec();
        Arc::new(Node {
            digest: digest_of(&bytes),
            bytes,
            inputs,
            metadata: pb::OpMetadata::default(),
            location: None,
        })
    }

    /// The same op, tied to lines of the source file (for errors; does not change the digest).
    pub(crate) fn located(self: &Arc<Node>, first: i32, last: i32) -> Arc<Node> {
        let mut node = (**self).clone();
        node.location = Some((first, last));
        Arc::new(node)
    }

    /// The same op with a progress name (metadata does not change the digest).
    pub(crate) fn named(self: &Arc<Node>, name: &str) -> Arc<Node> {
        let mut node = (**self).clone();
        node.metadata
            .description
            .insert("llb.customname".to_string(), name.to_string());
        Arc::new(node)
    }
}
