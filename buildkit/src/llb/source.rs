//! Source ops: images, local directories, HTTP files and git repositories.

use super::node::{Node, Output};
use super::state::State;
use crate::pb;
use std::collections::BTreeMap;

/// Options of a `local://` source (a directory of the client).
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// The client session that owns the directory.
    pub session_id: String,
    /// Only transfer paths matching these patterns.
    pub include_patterns: Vec<String>,
    /// Do not transfer paths matching these patterns.
    pub exclude_patterns: Vec<String>,
    /// Transfer exactly these paths (and symlink targets).
    pub follow_paths: Vec<String>,
    /// A hint to reuse transfers across builds.
    pub shared_key_hint: Option<String>,
    /// Skip content comparison with the previous transfer (for tiny, always-read files).
    pub differ_none: bool,
}

/// Options of an HTTP source.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Expected digest (`sha256:<hex>`); BuildKit fails the build on a mismatch.
    pub checksum: Option<String>,
    /// Name of the downloaded file in the result.
    pub filename: Option<String>,
    /// Permission bits of the file.
    pub permissions: Option<u32>,
}

/// Options of a git source.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// Keep the `.git` directory in the checkout.
    pub keep_git_dir: bool,
    /// Secret id holding a token for HTTPS auth (BuildKit's default: `GIT_AUTH_TOKEN`).
    pub auth_token_secret: Option<String>,
    /// Secret id holding a whole auth header (BuildKit's default: `GIT_AUTH_HEADER`).
    pub auth_header_secret: Option<String>,
    /// SSH agent id to clone with (`--ssh <id>`).
    pub ssh_id: Option<String>,
    /// The commit (or a prefix of it) the reference must resolve to; BuildKit fails the
    /// checkout otherwise (cap `source.git.checksum`, BuildKit v0.23).
    pub checksum: Option<String>,
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

/// Normalizes an image reference the way Docker does: `debian:bookworm` becomes
/// `docker.io/library/debian:bookworm`, a missing tag becomes `:latest`.
pub fn normalize_image_ref(image: &str) -> String {
    let (name, suffix) = match image.split_once('@') {
        Some((n, d)) => (n, format!("@{d}")),
        None => (image, String::new()),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    let tagged = last.contains(':');
    let mut name = name.to_string();
    let first = name.split('/').next().unwrap_or("").to_string();
    let has_domain =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_domain {
        name = if name.contains('/') {
            format!("docker.io/{name}")
        } else {
            format!("docker.io/library/{name}")
        };
    }
    if !tagged && suffix.is_empty() {
        name.push_str(":latest");
    }
    name + &suffix
}

fn source(
    identifier: String,
    attrs: BTreeMap<String, String>,
    platform: Option<pb::Platform>,
) -> State {
    let op = pb::Op {
        op: Some(pb::op::Op::Source(pb::SourceOp { identifier, attrs })),
        platform: platform.clone(),
        ..Default::default()
    };
    State::from_output(
        Output {
            node: Node::new(op, vec![]),
            index: 0,
        },
        platform,
    )
}

impl State {
    /// The root filesystem of a container image for `platform`.
    pub fn image(image: &str, platform: pb::Platform, resolve_mode: Option<&str>) -> State {
        let mut attrs = BTreeMap::new();
        if let Some(mode) = resolve_mode {
            attrs.insert("image.resolvemode".to_string(), mode.to_string());
        }
        source(
            format!("docker-image://{}", normalize_image_ref(image)),
            attrs,
            Some(platform),
        )
    }

    /// A directory of the client (`context`, `dockerfile`, a named context).
    pub fn local(name: &str, o: LocalOptions) -> State {
        let mut attrs = BTreeMap::new();
        attrs.insert("local.session".to_string(), o.session_id);
        if !o.include_patterns.is_empty() {
            attrs.insert(
                "local.includepattern".to_string(),
                json_list(&o.include_patterns),
            );
        }
        if !o.exclude_patterns.is_empty() {
            attrs.insert(
                "local.excludepatterns".to_string(),
                json_list(&o.exclude_patterns),
            );
        }
        if !o.follow_paths.is_empty() {
            attrs.insert("local.followpaths".to_string(), json_list(&o.follow_paths));
        }
        if let Some(hint) = o.shared_key_hint {
            attrs.insert("local.sharedkeyhint".to_string(), hint);
        }
        if o.differ_none {
            attrs.insert("local.differ".to_string(), "none".to_string());
        }
        source(format!("local://{name}"), attrs, None)
    }

    /// A file downloaded over HTTP(S).
    pub fn http(url: &str, o: HttpOptions) -> State {
        let mut attrs = BTreeMap::new();
        if let Some(c) = o.checksum {
            attrs.insert("http.checksum".to_string(), c);
        }
        if let Some(f) = o.filename {
            attrs.insert("http.filename".to_string(), f);
        }
        if let Some(p) = o.permissions {
            attrs.insert("http.perm".to_string(), format!("0{p:o}"));
        }
        source(url.to_string(), attrs, None)
    }

    /// A git checkout of `reference` (commit, tag or branch) from `remote`.
    pub fn git(remote: &str, reference: &str, o: GitOptions) -> State {
        let stripped = remote
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(remote)
            .trim_end_matches('/');
        let mut attrs = BTreeMap::new();
        attrs.insert("git.fullurl".to_string(), remote.to_string());
        if o.keep_git_dir {
            attrs.insert("git.keepgitdir".to_string(), "true".to_string());
        }
        if let Some(id) = o.auth_token_secret {
            attrs.insert("git.authtokensecret".to_string(), id);
        }
        if let Some(id) = o.auth_header_secret {
            attrs.insert("git.authheadersecret".to_string(), id);
        }
        if let Some(id) = o.ssh_id {
            attrs.insert("git.mountsshsock".to_string(), id);
        }
        if let Some(sum) = o.checksum {
            attrs.insert("git.checksum".to_string(), sum);
        }
        let fragment = if reference.is_empty() {
            String::new()
        } else {
            format!("#{reference}")
        };
        source(format!("git://{stripped}{fragment}"), attrs, None)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_image_ref;

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(
            normalize_image_ref("debian:bookworm"),
            "docker.io/library/debian:bookworm"
        );
        assert_eq!(
            normalize_image_ref("debian"),
            "docker.io/library/debian:latest"
        );
        assert_eq!(
            normalize_image_ref("kiln/frontend:dev"),
            "docker.io/kiln/frontend:dev"
        );
        assert_eq!(normalize_image_ref("ghcr.io/a/b"), "ghcr.io/a/b:latest");
        assert_eq!(
            normalize_image_ref("localhost:5000/a:1"),
            "localhost:5000/a:1"
        );
        assert_eq!(
            normalize_image_ref("debian@sha256:ab"),
            "docker.io/library/debian@sha256:ab"
        );
    }
}
