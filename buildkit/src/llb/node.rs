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

/// `op`'s bytes in the order Go's protobuf writes them: its plain fields (inputs, platform,
/// constraints) in field order, then the `op` oneof. BuildKit up to v0.17 digests the bytes it is
/// sent, but later ones re-marshal every op and digest that; the same bytes keep the digests
/// (and the source locations keyed by them) the same on both. prost alone writes the oneof
/// in field order, between inputs and platform, and leaves out a map entry's empty value,
/// which Go writes.
fn encode_op(mut op: pb::Op) -> Vec<u8> {
    let oneof = op.op.take();
    let mut bytes =
        Vec::with_capacity(op.encoded_len() + oneof.as_ref().map_or(0, |o| o.encoded_len()));
    op.encode_raw(&mut bytes);
    match &oneof {
        Some(pb::op::Op::Source(source)) => encode_source(source, &mut bytes),
        Some(o) => o.encode(&mut bytes),
        None => {}
    }
    bytes
}

/// A source op as field 3 of an op, as Go writes it: every attr entry with its key and its
/// value, even an empty one (attrs are sorted: a `BTreeMap`).
fn encode_source(source: &pb::SourceOp, buf: &mut Vec<u8>) {
    use prost::encoding::{WireType, encode_key, encode_varint, string};
    let mut body = Vec::new();
    if !source.identifier.is_empty() {
        string::encode(1, &source.identifier, &mut body);
    }
    for (key, value) in &source.attrs {
        let mut entry = Vec::new();
        string::encode(1, key, &mut entry);
        string::encode(2, value, &mut entry);
        encode_key(2, WireType::LengthDelimited, &mut body);
        encode_varint(entry.len() as u64, &mut body);
        body.extend(entry);
    }
    encode_key(3, WireType::LengthDelimited, buf);
    encode_varint(body.len() as u64, buf);
    buf.extend(body);
}

impl Node {
    /// Encodes `op` with `inputs` filled in and wraps it as a node.
    pub(crate) fn new(mut op: pb::Op, inputs: Vec<Output>) -> Arc<Node> {
        op.inputs = inputs.iter().map(Output::as_input).collect();
        if op.constraints.is_none() {
            // Go's client sets an empty constraints message on every non-terminal op.
            op.constraints = Some(pb::WorkerConstraints::default());
        }
        let bytes = encode_op(op);
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

    /// The same op, run again in every build instead of taken from the cache.
    pub(crate) fn uncached(self: &Arc<Node>) -> Arc<Node> {
        let mut node = (**self).clone();
        node.metadata.ignore_cache = true;
        node.metadata
            .caps
            .insert("meta.ignorecache".to_string(), true);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn source(identifier: &str, attrs: &[(&str, &str)], platform: Option<pb::Platform>) -> pb::Op {
        pb::Op {
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: identifier.into(),
                attrs: attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })),
            platform,
            ..Default::default()
        }
    }

    /// The bytes BuildKit v0.32's Go code gives these ops when it re-marshals them (taken with
    /// `pb.Op.Marshal` from the vendored source): kiln's must be the same.
    #[test]
    fn ops_are_encoded_as_go_marshals_them() {
        let amd64 = pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        };
        let image = source(
            "docker-image://docker.io/library/debian:bookworm",
            &[],
            Some(amd64),
        );
        assert_eq!(
            hex::encode(&Node::new(image, vec![]).bytes),
            "520e0a05616d64363412056c696e75785a001a320a30646f636b65722d696d6167653a2f2f646f636b65722e696f2f6c6962726172792f64656269616e3a626f6f6b776f726d"
        );
        // An attr with an empty value keeps its value field.
        let local = source(
            "local://context",
            &[
                ("local.session", ""),
                ("local.sharedkeyhint", "kiln-context-context"),
            ],
            None,
        );
        assert_eq!(
            hex::encode(&Node::new(local, vec![]).bytes),
            "5a001a510a0f6c6f63616c3a2f2f636f6e7465787412110a0d6c6f63616c2e73657373696f6e1200122b0a136c6f63616c2e7368617265646b657968696e7412146b696c6e2d636f6e746578742d636f6e74657874"
        );
    }
}
