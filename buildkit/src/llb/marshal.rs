//! Turning a [`State`] into a `pb::Definition`: dependencies first, each op once, then the
//! terminal op that names the result.

use super::node::{Node, Output};
use super::state::State;
use crate::pb;
use prost::Message;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How to marshal a state beyond the ops themselves.
#[derive(Debug, Clone, Default)]
pub struct MarshalOptions<'a> {
    /// The spec the ops' locations refer to; recorded in `Definition.source` so a failing op
    /// points at its lines. Only the lines the locations need are sent ([`crate::excerpt`]).
    pub source: Option<&'a SourceFile>,
    /// Run every op again instead of using the cache (`docker build --no-cache`).
    pub ignore_cache: bool,
}

/// The file the ops' locations refer to (the spec), so BuildKit can show its lines on errors.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// File name shown to the user.
    pub filename: String,
    /// The file's bytes.
    pub data: Vec<u8>,
    /// Language for highlighting (`YAML`).
    pub language: String,
}

impl State {
    /// The LLB definition whose result is this state. Scratch gives the empty definition.
    pub fn marshal(&self) -> pb::Definition {
        self.marshal_with(&MarshalOptions::default())
    }

    /// Like [`State::marshal`], with the options' source locations and cache setting.
    pub fn marshal_with(&self, options: &MarshalOptions) -> pb::Definition {
        let source = options.source;
        let Some(out) = &self.output else {
            return pb::Definition::default();
        };
        let mut def = pb::Definition::default();
        let mut seen = BTreeSet::new();
        let mut locations = Vec::new();
        visit(&out.node, &mut seen, &mut def, &mut locations);
        if options.ignore_cache {
            for bytes in &def.def {
                let meta = def
                    .metadata
                    .entry(super::node::digest_of(bytes))
                    .or_default();
                meta.ignore_cache = true;
                meta.caps.insert("meta.ignorecache".to_string(), true);
            }
        }
        // The file's lines the ops point at, each at its line number; the rest of the file
        // stays out of the request. A definition whose excerpt would be too large goes without.
        let data = source.and_then(|src| {
            crate::excerpt::excerpt(
                &src.data,
                locations
                    .iter()
                    .map(|(_, (first, last))| (*first as u32, *last as u32)),
            )
        });
        if let (Some(src), Some(data)) = (source, data) {
            let info = pb::SourceInfo {
                filename: src.filename.clone(),
                data,
                language: src.language.clone(),
                definition: None,
            };
            let mut map = std::collections::BTreeMap::new();
            for (digest, (first, last)) in locations {
                let range = pb::Range {
                    start: Some(pb::Position {
                        line: first,
                        character: 0,
                    }),
                    end: Some(pb::Position {
                        line: last,
                        character: 0,
                    }),
                };
                let loc = pb::Location {
                    source_index: 0,
                    ranges: vec![range],
                };
                map.insert(
                    digest,
                    pb::Locations {
                        locations: vec![loc],
                    },
                );
            }
            def.source = Some(pb::Source {
                locations: map,
                infos: vec![info],
            });
        }
        let terminal = pb::Op {
            inputs: vec![out.as_input()],
            ..Default::default()
        };
        let bytes = terminal.encode_to_vec();
        // A metadata entry for the terminal op: Go consumers treat empty metadata as a nil definition.
        let mut meta = pb::OpMetadata {
            caps: [
                ("constraints".to_string(), true),
                ("platform".to_string(), true),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        if options.ignore_cache {
            meta.caps.insert("meta.ignorecache".to_string(), true);
        }
        def.metadata.insert(super::node::digest_of(&bytes), meta);
        def.def.push(bytes);
        def
    }
}

fn visit(
    node: &Arc<Node>,
    seen: &mut BTreeSet<String>,
    def: &mut pb::Definition,
    locations: &mut Vec<(String, (i32, i32))>,
) {
    if !seen.insert(node.digest.clone()) {
        return;
    }
    for Output { node: input, .. } in &node.inputs {
        visit(input, seen, def, locations);
    }
    if let Some(loc) = node.location {
        locations.push((node.digest.clone(), loc));
    }
    def.def.push(node.bytes.clone());
    // Every op gets a metadata entry, empty or not: Go's LLB client (`llb.NewDefinitionOp`,
    // used by buildx for bake `target:` contexts) rejects a definition with an op that has none.
    def.metadata
        .insert(node.digest.clone(), node.metadata.clone());
}

#[cfg(test)]
mod tests {
    use crate::llb::{
        CopyOptions, Exec, FileActions, HttpOptions, LocalOptions, Mount, Sharing, State,
    };
    use crate::pb;
    use prost::Message;

    fn amd64() -> pb::Platform {
        pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        }
    }

    fn sample() -> State {
        let base = State::image("debian:bookworm", amd64(), Some("local"));
        let src = State::http(
            "http://example.invalid/a.tar.gz",
            HttpOptions {
                checksum: Some("sha256:00".into()),
                filename: Some("a".into()),
                permissions: Some(0o644),
            },
        );
        let ctx = State::local(
            "context",
            LocalOptions {
                session_id: "s".into(),
                ..Default::default()
            },
        );
        let tree = State::scratch().file(
            FileActions::new()
                .mkdir("/pkg", 0o755, true)
                .copy(&src, "/a", "/pkg/a", CopyOptions::default())
                .copy(
                    &ctx,
                    "/",
                    "/pkg/ctx",
                    CopyOptions {
                        dir_copy_contents: true,
                        ..Default::default()
                    },
                )
                .mkfile("/pkg/x", 0o644, b"x".to_vec()),
            "tree",
        );
        let run = base.run(
            Exec::shell("make")
                .env("A", "1")
                .cwd("/build/pkg")
                .mount(Mount::bind("/build", tree))
                .mount(Mount::cache("/var/cache/apt", "apt", Sharing::Locked))
                .mount(Mount::tmpfs("/tmp"))
                .mount(Mount::secret("/run/secrets/k", "k")),
        );
        run.output("/build").unwrap_or_default()
    }

    #[test]
    fn marshal_is_deterministic() {
        let a = sample().marshal().encode_to_vec();
        let b = sample().marshal().encode_to_vec();
        assert_eq!(a, b);
    }

    #[test]
    fn golden_digest_is_stable_across_runs() {
        // If this changes, every user's BuildKit cache is invalidated: change it deliberately.
        // (Last changed when ops took Go's field order, which BuildKit after v0.13 digests.)
        let def = sample().marshal();
        let head = pb::Op::decode(def.def.last().unwrap().as_slice()).unwrap();
        assert_eq!(
            head.inputs[0].digest,
            "sha256:4febdae2f03516685129ee981a75c1e5fae32ad48d55e137d61fe5ccaf7c2717"
        );
        assert_eq!(head.inputs[0].index, 1);
    }

    #[test]
    fn definition_lists_dependencies_first_and_each_op_once() {
        let def = sample().marshal();
        let mut known = std::collections::BTreeSet::new();
        for bytes in &def.def {
            let op = pb::Op::decode(bytes.as_slice()).unwrap();
            for input in &op.inputs {
                assert!(
                    known.contains(&input.digest),
                    "input listed after its consumer"
                );
            }
            assert!(
                known.insert(crate::llb::node::digest_of(bytes)),
                "op listed twice"
            );
        }
        // image, http, local, file, exec, terminal
        assert_eq!(def.def.len(), 6);
    }

    #[test]
    fn a_definition_round_trips_through_from_definition() {
        let def = sample().marshal();
        let again = State::from_definition(&def).unwrap().marshal();
        assert_eq!(def.def, again.def);
        let on_top = State::from_definition(&def)
            .unwrap()
            .file(FileActions::new().mkdir("/x", 0o755, false), "x");
        assert_eq!(on_top.marshal().def.len(), def.def.len() + 1);
        assert!(
            State::from_definition(&pb::Definition {
                def: vec![vec![0xff]],
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn ignore_cache_marks_every_op() {
        let def = sample().marshal_with(&super::MarshalOptions {
            ignore_cache: true,
            ..Default::default()
        });
        assert_eq!(def.metadata.len(), def.def.len());
        // Every op but the terminal one (which only names the result).
        assert_eq!(
            def.metadata.values().filter(|m| m.ignore_cache).count(),
            def.def.len() - 1
        );
        assert!(
            sample()
                .marshal()
                .metadata
                .values()
                .all(|m| !m.ignore_cache)
        );
    }

    #[test]
    fn every_op_has_metadata_as_go_requires() {
        let def = sample().marshal();
        for bytes in &def.def {
            let digest = super::super::node::digest_of(bytes);
            assert!(
                def.metadata.contains_key(&digest),
                "no metadata for {digest}"
            );
        }
    }

    #[test]
    fn the_source_map_carries_only_the_located_lines() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let file = super::SourceFile {
            filename: "spec.yml".into(),
            data: text.clone().into_bytes(),
            language: "YAML".into(),
        };
        let located = sample().with_location(500, 501);
        let def = located.marshal_with(&super::MarshalOptions {
            source: Some(&file),
            ..Default::default()
        });
        let source = def.source.unwrap();
        let data = String::from_utf8(source.infos[0].data.clone()).unwrap();
        let lines: Vec<&str> = data.split('\n').collect();
        assert_eq!(lines.len(), 503);
        assert_eq!(
            &lines[497..503],
            [
                "line 498", "line 499", "line 500", "line 501", "line 502", "line 503"
            ]
        );
        assert!(lines[..497].iter().all(|l| l.is_empty()));
        let range = &source.locations.values().next().unwrap().locations[0].ranges[0];
        assert_eq!(range.start.as_ref().map(|p| p.line), Some(500));
        // The ops are the same as without a source.
        assert_eq!(def.def, located.marshal().def);
    }

    #[test]
    fn scratch_marshals_to_the_empty_definition() {
        assert!(State::scratch().marshal().def.is_empty());
    }

    #[test]
    fn exec_mounts_are_ordered_and_outputs_numbered() {
        let def = sample().marshal();
        let exec = def
            .def
            .iter()
            .filter_map(|b| pb::Op::decode(b.as_slice()).ok())
            .find_map(|op| match op.op {
                Some(pb::op::Op::Exec(e)) => Some(e),
                _ => None,
            })
            .unwrap();
        let dests: Vec<_> = exec
            .mounts
            .iter()
            .map(|m| (m.dest.as_str(), m.output))
            .collect();
        assert_eq!(
            dests,
            vec![
                ("/", 0),
                ("/build", 1),
                ("/tmp", -1),
                ("/var/cache/apt", -1),
                ("/run/secrets/k", -1)
            ]
        );
    }
}
