//! Exec ops: run a command on a state with mounts, env, working directory and network mode.

use super::node::{Node, Output};
use super::state::State;
use crate::pb;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The PATH every exec gets unless it sets its own.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Network access of an exec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetMode {
    /// BuildKit's default sandboxed network.
    #[default]
    Sandbox,
    /// No network at all.
    None,
}

/// Sharing mode of a cache mount between concurrent builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Used by all concurrent writers at once.
    Shared,
    /// A new cache when another build holds it.
    Private,
    /// Wait until the other build releases it.
    Locked,
}

#[derive(Debug, Clone)]
enum MountKind {
    Bind(State),
    Cache {
        id: String,
        sharing: Sharing,
    },
    Tmpfs,
    Secret {
        id: String,
        mode: u32,
        optional: bool,
    },
    Ssh {
        id: String,
    },
}

/// A mount of an exec.
#[derive(Debug, Clone)]
#[must_use]
pub struct Mount {
    dest: String,
    kind: MountKind,
    selector: String,
    readonly: bool,
}

impl Mount {
    /// Mounts `state` at `dest`, writable; its changes become an output of the exec.
    pub fn bind(dest: &str, state: State) -> Mount {
        Mount {
            dest: dest.into(),
            kind: MountKind::Bind(state),
            selector: String::new(),
            readonly: false,
        }
    }

    /// A persistent cache directory that outlives builds (not part of any output).
    pub fn cache(dest: &str, id: &str, sharing: Sharing) -> Mount {
        let kind = MountKind::Cache {
            id: id.into(),
            sharing,
        };
        Mount {
            dest: dest.into(),
            kind,
            selector: String::new(),
            readonly: false,
        }
    }

    /// An empty in-memory directory.
    pub fn tmpfs(dest: &str) -> Mount {
        Mount {
            dest: dest.into(),
            kind: MountKind::Tmpfs,
            selector: String::new(),
            readonly: false,
        }
    }

    /// The client's secret `id` as a read-only file (never stored in a layer).
    pub fn secret(dest: &str, id: &str) -> Mount {
        let kind = MountKind::Secret {
            id: id.into(),
            mode: 0o400,
            optional: false,
        };
        Mount {
            dest: dest.into(),
            kind,
            selector: String::new(),
            readonly: true,
        }
    }

    /// The client's SSH agent (or forwarded socket) `id` as a socket at `dest`, mode 0600; a
    /// build without that `--ssh` leaves the path absent.
    pub fn ssh_optional(dest: &str, id: &str) -> Mount {
        Mount {
            dest: dest.into(),
            kind: MountKind::Ssh { id: id.into() },
            selector: String::new(),
            readonly: true,
        }
    }

    /// The same secret mount, but a missing secret leaves the path absent instead of failing
    /// the step, so the step can say which secret is missing and why it is needed.
    pub fn optional(mut self) -> Mount {
        if let MountKind::Secret { optional, .. } = &mut self.kind {
            *optional = true;
        }
        self
    }

    /// The same mount, read-only (a read-only bind mount has no output).
    pub fn readonly(mut self) -> Mount {
        self.readonly = true;
        self
    }

    /// Mounts only `path` of the source state.
    pub fn selector(mut self, path: &str) -> Mount {
        self.selector = path.into();
        self
    }

    /// Mount order rule (Go's client): bind, cache and tmpfs by destination, then secrets,
    /// then SSH sockets.
    fn sort_key(&self) -> (u8, &str) {
        match self.kind {
            MountKind::Secret { .. } => (1, ""),
            MountKind::Ssh { .. } => (2, ""),
            _ => (0, self.dest.as_str()),
        }
    }
}

/// A command to run, with its environment and mounts.
#[derive(Debug, Clone)]
#[must_use]
pub struct Exec {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: String,
    user: String,
    network: NetMode,
    mounts: Vec<Mount>,
    name: Option<String>,
}

impl Exec {
    /// Runs `args` directly (no shell).
    pub fn new(args: impl IntoIterator<Item = impl Into<String>>) -> Exec {
        Exec {
            args: args.into_iter().map(Into::into).collect(),
            env: BTreeMap::new(),
            cwd: "/".into(),
            user: String::new(),
            network: NetMode::default(),
            mounts: Vec::new(),
            name: None,
        }
    }

    /// Runs a script with `/bin/sh -c`.
    pub fn shell(script: impl Into<String>) -> Exec {
        Exec::new(["/bin/sh".to_string(), "-c".to_string(), script.into()])
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Exec {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: &str) -> Exec {
        self.cwd = dir.into();
        self
    }

    /// Runs as `user` (`uid[:gid]` or a name).
    pub fn user(mut self, user: &str) -> Exec {
        self.user = user.into();
        self
    }

    /// Sets the network mode.
    pub fn network(mut self, mode: NetMode) -> Exec {
        self.network = mode;
        self
    }

    /// Adds a mount.
    pub fn mount(mut self, mount: Mount) -> Exec {
        self.mounts.push(mount);
        self
    }

    /// Names the step in the build progress.
    pub fn name(mut self, name: impl Into<String>) -> Exec {
        self.name = Some(name.into());
        self
    }
}

/// The outputs of an exec: its root filesystem and each writable bind mount.
#[derive(Debug, Clone)]
#[must_use]
pub struct ExecResult {
    node: Arc<Node>,
    outputs: BTreeMap<String, i64>,
    platform: Option<pb::Platform>,
}

impl ExecResult {
    /// The root filesystem after the command ran.
    pub fn root(&self) -> State {
        self.output("/").unwrap_or_default()
    }

    /// The state of the writable mount at `dest` after the command ran (`None` if there is none).
    pub fn output(&self, dest: &str) -> Option<State> {
        let index = *self.outputs.get(dest)?;
        Some(State::from_output(
            Output {
                node: self.node.clone(),
                index,
            },
            self.platform.clone(),
        ))
    }
}

impl State {
    /// Runs `exec` with this state as the root filesystem.
    pub fn run(&self, exec: Exec) -> ExecResult {
        let mut mounts = vec![Mount::bind("/", self.clone())];
        mounts.extend(exec.mounts.iter().filter(|m| m.dest != "/").cloned());
        mounts.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

        let mut inputs: Vec<Output> = Vec::new();
        let mut outputs = BTreeMap::new();
        let mut pb_mounts = Vec::new();
        for m in &mounts {
            let mut pm = pb::Mount {
                dest: m.dest.clone(),
                selector: m.selector.clone(),
                readonly: m.readonly,
                input: -1,
                output: -1,
                ..Default::default()
            };
            match &m.kind {
                MountKind::Bind(state) => {
                    if let Some(out) = &state.output {
                        pm.input = match inputs.iter().position(|i| i.same_as(out)) {
                            Some(i) => i as i64,
                            None => {
                                inputs.push(out.clone());
                                inputs.len() as i64 - 1
                            }
                        };
                    }
                    if !m.readonly {
                        pm.output = outputs.len() as i64;
                        outputs.insert(m.dest.clone(), pm.output);
                    }
                }
                MountKind::Cache { id, sharing } => {
                    pm.mount_type = pb::MountType::Cache as i32;
                    let sharing = match sharing {
                        Sharing::Shared => pb::CacheSharingOpt::Shared,
                        Sharing::Private => pb::CacheSharingOpt::Private,
                        Sharing::Locked => pb::CacheSharingOpt::Locked,
                    };
                    pm.cache_opt = Some(pb::CacheOpt {
                        id: id.clone(),
                        sharing: sharing as i32,
                    });
                }
                MountKind::Tmpfs => {
                    pm.mount_type = pb::MountType::Tmpfs as i32;
                    pm.tmpfs_opt = Some(pb::TmpfsOpt::default());
                }
                MountKind::Secret { id, mode, optional } => {
                    pm.mount_type = pb::MountType::Secret as i32;
                    pm.secret_opt = Some(pb::SecretOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: *mode,
                        optional: *optional,
                    });
                }
                MountKind::Ssh { id } => {
                    pm.mount_type = pb::MountType::Ssh as i32;
                    pm.ssh_opt = Some(pb::SshOpt {
                        id: id.clone(),
                        uid: 0,
                        gid: 0,
                        mode: 0o600,
                        optional: true,
                    });
                }
            }
            pb_mounts.push(pm);
        }

        let mut env = exec.env.clone();
        env.entry("PATH".into())
            .or_insert_with(|| DEFAULT_PATH.into());
        let meta = pb::Meta {
            args: exec.args.clone(),
            env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            cwd: exec.cwd.clone(),
            user: exec.user.clone(),
            remove_mount_stubs_recursive: true,
            ..Default::default()
        };
        let network = match exec.network {
            NetMode::Sandbox => pb::NetMode::Unset,
            NetMode::None => pb::NetMode::None,
        };
        let op = pb::Op {
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                meta: Some(meta),
                mounts: pb_mounts,
                network: network as i32,
                ..Default::default()
            })),
            platform: self.platform.clone(),
            ..Default::default()
        };
        let mut node = Node::new(op, inputs);
        if let Some(name) = &exec.name {
            node = node.named(name);
        }
        ExecResult {
            node,
            outputs,
            platform: self.platform.clone(),
        }
    }
}
