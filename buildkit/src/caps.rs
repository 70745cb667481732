//! The capabilities a daemon reports through `Ping`.

use crate::pb;
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

    /// Whether the daemon reported any LLB caps.
    pub fn reports_llb(&self) -> bool {
        !self.llb.is_empty()
    }

    /// The caps the ops of `def` need and this daemon lacks. None when the daemon reported no
    /// LLB caps at all: then BuildKit alone judges the definition.
    pub fn missing_llb(&self, def: &pb::Definition) -> Vec<&'static LlbCap> {
        if self.llb.is_empty() {
            return Vec::new();
        }
        required_llb_caps(def)
            .into_iter()
            .filter(|c| !self.llb.contains(c.id))
            .collect()
    }
}

/// Says which caps an engine lacks, what they are for, and which release has them.
pub fn missing_caps_message(missing: &[&LlbCap]) -> String {
    let list: Vec<String> = missing
        .iter()
        .map(|c| format!("`{}` ({}; {} or later)", c.id, c.what, c.since))
        .collect();
    format!(
        "this BuildKit lacks the LLB capabilit{} {}: update the engine",
        if missing.len() == 1 { "y" } else { "ies" },
        list.join(", ")
    )
}

/// An LLB capability kiln's definitions can need: its id, what it is for, and the first
/// BuildKit (and Docker) release that has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LlbCap {
    /// The cap id BuildKit reports (`file.symlink.create`).
    pub id: &'static str,
    /// What an op uses it for, in words.
    pub what: &'static str,
    /// The oldest engine that has it.
    pub since: &'static str,
}

const fn cap(id: &'static str, what: &'static str, since: &'static str) -> LlbCap {
    LlbCap { id, what, since }
}

/// Releases, for the caps' `since`.
const V0_3: &str = "BuildKit v0.3 (Docker 19.03)";
const V0_5: &str = "BuildKit v0.5 (Docker 19.03)";
const V0_8: &str = "BuildKit v0.8 (Docker 20.10)";
const V0_9: &str = "BuildKit v0.9 (Docker 20.10.8)";
const V0_10: &str = "BuildKit v0.10 (Docker 23.0)";
const V0_19: &str = "BuildKit v0.19 (Docker 28.0)";
const V0_23: &str = "BuildKit v0.23 (Docker 28.3)";

/// The LLB caps kiln's builder can emit, by id (from BuildKit's `solver/pb/caps.go` history).
pub const LLB_CAPS: &[LlbCap] = &[
    cap("diffop", "diff ops", V0_10),
    cap("exec.meta.network", "steps with a network mode", V0_3),
    cap("exec.meta.security", "steps with a security mode", V0_5),
    cap("exec.mount.bind", "bind mounts", V0_3),
    cap("exec.mount.cache", "cache mounts", V0_3),
    cap(
        "exec.mount.cache.sharing",
        "cache mounts with a sharing mode",
        V0_3,
    ),
    cap("exec.mount.secret", "secret mounts", V0_3),
    cap("exec.mount.selector", "mounts of a subdirectory", V0_3),
    cap("exec.mount.ssh", "SSH agent mounts", V0_3),
    cap("exec.mount.tmpfs", "tmpfs mounts", V0_3),
    cap("exec.secretenv", "secrets as environment variables", V0_10),
    cap("file.base", "file ops", V0_5),
    cap(
        "file.copy.includeexcludepatterns",
        "copies with include or exclude patterns",
        V0_9,
    ),
    cap("file.symlink.create", "the symlink file action", V0_19),
    cap("mergeop", "merge ops", V0_10),
    cap("source.git", "git sources", V0_3),
    cap(
        "source.git.checksum",
        "git sources pinned by checksum",
        V0_23,
    ),
    cap("source.git.fullurl", "git sources by full URL", V0_3),
    cap(
        "source.git.httpauth",
        "git sources with an auth token",
        V0_8,
    ),
    cap("source.git.keepgitdir", "git sources that keep .git", V0_3),
    cap("source.git.mountsshsock", "git sources over SSH", V0_8),
    cap("source.http", "HTTP sources", V0_3),
    cap(
        "source.http.checksum",
        "HTTP sources pinned by digest",
        V0_3,
    ),
    cap("source.http.perm", "HTTP sources with a file mode", V0_3),
    cap("source.image", "image sources", V0_3),
    cap(
        "source.image.resolvemode",
        "image sources with a resolve mode",
        V0_3,
    ),
    cap("source.local", "local sources (build contexts)", V0_3),
    cap(
        "source.local.differ",
        "local sources without a differ",
        V0_9,
    ),
    cap(
        "source.local.excludepatterns",
        "local sources with exclude patterns",
        V0_3,
    ),
    cap(
        "source.local.followpaths",
        "local sources with follow paths",
        V0_3,
    ),
    cap(
        "source.local.includepatterns",
        "local sources with include patterns",
        V0_3,
    ),
    cap("source.local.sessionid", "local sources of a session", V0_3),
    cap(
        "source.local.sharedkeyhint",
        "local sources with a shared key",
        V0_3,
    ),
];

/// The entry of [`LLB_CAPS`] for `id`.
fn llb_cap(id: &str) -> Option<&'static LlbCap> {
    LLB_CAPS.iter().find(|c| c.id == id)
}

/// The caps of [`LLB_CAPS`] the ops of `def` need. Ops that do not decode are left to
/// BuildKit to reject.
pub fn required_llb_caps(def: &pb::Definition) -> BTreeSet<&'static LlbCap> {
    let mut ids = BTreeSet::new();
    for bytes in &def.def {
        if let Ok(op) = <pb::Op as prost::Message>::decode(bytes.as_slice()) {
            op_caps(&op, &mut ids);
        }
    }
    ids.into_iter().filter_map(llb_cap).collect()
}

fn op_caps(op: &pb::Op, ids: &mut BTreeSet<&'static str>) {
    use pb::op::Op;
    match &op.op {
        Some(Op::Exec(exec)) => exec_caps(exec, ids),
        Some(Op::Source(source)) => source_caps(source, ids),
        Some(Op::File(file)) => {
            ids.insert("file.base");
            for action in &file.actions {
                match &action.action {
                    Some(pb::file_action::Action::Copy(c))
                        if !c.include_patterns.is_empty() || !c.exclude_patterns.is_empty() =>
                    {
                        ids.insert("file.copy.includeexcludepatterns");
                    }
                    Some(pb::file_action::Action::Symlink(_)) => {
                        ids.insert("file.symlink.create");
                    }
                    _ => {}
                }
            }
        }
        Some(Op::Merge(_)) => {
            ids.insert("mergeop");
        }
        Some(Op::Diff(_)) => {
            ids.insert("diffop");
        }
        Some(Op::Build(_)) | None => {}
    }
}

fn exec_caps(exec: &pb::ExecOp, ids: &mut BTreeSet<&'static str>) {
    if exec.network != pb::NetMode::Unset as i32 {
        ids.insert("exec.meta.network");
    }
    if exec.security != pb::SecurityMode::Sandbox as i32 {
        ids.insert("exec.meta.security");
    }
    if !exec.secretenv.is_empty() {
        ids.insert("exec.secretenv");
    }
    for m in &exec.mounts {
        if !m.selector.is_empty() {
            ids.insert("exec.mount.selector");
        }
        match pb::MountType::try_from(m.mount_type) {
            Ok(pb::MountType::Bind) => {}
            Ok(pb::MountType::Cache) => {
                ids.insert("exec.mount.cache");
                if m.cache_opt
                    .as_ref()
                    .is_some_and(|c| c.sharing != pb::CacheSharingOpt::Shared as i32)
                {
                    ids.insert("exec.mount.cache.sharing");
                }
            }
            Ok(pb::MountType::Secret) => {
                ids.insert("exec.mount.secret");
            }
            Ok(pb::MountType::Ssh) => {
                ids.insert("exec.mount.ssh");
            }
            Ok(pb::MountType::Tmpfs) => {
                ids.insert("exec.mount.tmpfs");
            }
            Err(_) => {}
        }
    }
}

fn source_caps(source: &pb::SourceOp, ids: &mut BTreeSet<&'static str>) {
    let scheme = source.identifier.split("://").next().unwrap_or_default();
    let kind = match scheme {
        "docker-image" => "source.image",
        "local" => "source.local",
        "git" => "source.git",
        "http" | "https" => "source.http",
        _ => return,
    };
    ids.insert(kind);
    for key in source.attrs.keys() {
        let id = match key.as_str() {
            "image.resolvemode" => "source.image.resolvemode",
            "local.session" => "source.local.sessionid",
            "local.includepattern" | "local.includepatterns" => "source.local.includepatterns",
            "local.excludepatterns" => "source.local.excludepatterns",
            "local.followpaths" => "source.local.followpaths",
            "local.sharedkeyhint" => "source.local.sharedkeyhint",
            "local.differ" => "source.local.differ",
            "git.fullurl" => "source.git.fullurl",
            "git.keepgitdir" => "source.git.keepgitdir",
            "git.authtokensecret" | "git.authheadersecret" => "source.git.httpauth",
            "git.mountsshsock" => "source.git.mountsshsock",
            "git.checksum" => "source.git.checksum",
            "http.checksum" => "source.http.checksum",
            "http.perm" => "source.http.perm",
            _ => continue,
        };
        ids.insert(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::{Exec, FileActions, Mount, Sharing, State};

    #[test]
    fn the_table_is_sorted_and_without_duplicates() {
        let ids: Vec<&str> = LLB_CAPS.iter().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn a_definition_needs_the_caps_of_its_ops() {
        let base = State::image("debian:bookworm", pb::Platform::default(), None);
        let linked = base
            .run(Exec::shell("true").mount(Mount::cache("/var/cache/apt", "apt", Sharing::Locked)))
            .root()
            .file(
                FileActions::new().symlink("/bin/true", "/usr/local/bin/t", None, -1),
                "link",
            );
        let needed: Vec<&str> = required_llb_caps(&linked.marshal())
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            needed,
            [
                "exec.mount.cache",
                "exec.mount.cache.sharing",
                "file.base",
                "file.symlink.create",
                "source.image",
            ]
        );
    }

    #[test]
    fn a_daemon_without_a_cap_is_named_with_the_release_that_has_it() {
        let def = State::image("debian:bookworm", pb::Platform::default(), None)
            .file(FileActions::new().symlink("a", "/b", None, -1), "link")
            .marshal();
        let old = Caps::with(&[], &["source.image", "file.base"]);
        let missing = old.missing_llb(&def);
        assert_eq!(
            missing_caps_message(&missing),
            "this BuildKit lacks the LLB capability `file.symlink.create` (the symlink file action; BuildKit v0.19 (Docker 28.0) or later): update the engine"
        );
        assert!(
            Caps::with(&[], &["source.image", "file.base", "file.symlink.create"])
                .missing_llb(&def)
                .is_empty()
        );
        // A daemon that reports no LLB caps is not second-guessed.
        assert!(Caps::default().missing_llb(&def).is_empty());
    }
}
