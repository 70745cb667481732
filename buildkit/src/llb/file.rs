//! File ops: mkdir, mkfile, copy, rm and symlink, chained into one op.

use super::node::{Node, Output};
use super::state::State;
use crate::pb;

/// Options of a copy action.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CopyOptions {
    /// Copy the contents of a source directory rather than the directory itself.
    pub dir_copy_contents: bool,
    /// Create missing parent directories of the destination.
    pub create_dest_path: bool,
    /// The source path may contain globs.
    pub allow_wildcard: bool,
    /// A glob that matches nothing is not an error.
    pub allow_empty_wildcard: bool,
    /// Resolve a symlink at the source path.
    pub follow_symlink: bool,
    /// Only copy paths matching these patterns (relative to the source).
    pub include_patterns: Vec<String>,
    /// Skip paths matching these patterns.
    pub exclude_patterns: Vec<String>,
    /// Permission bits for everything copied (`None` keeps the source modes).
    pub mode: Option<u32>,
    /// The mtime, in seconds since 1970, of everything copied and of the destination's
    /// parents it creates (`None`: the sources' mtimes, and the build's clock for parents).
    pub timestamp: Option<i64>,
}

/// Numeric owner of a created file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    fn to_pb(self) -> pb::ChownOpt {
        let id = |n| {
            Some(pb::UserOpt {
                user: Some(pb::user_opt::User::ById(n)),
            })
        };
        pb::ChownOpt {
            user: id(self.uid),
            group: id(self.gid),
        }
    }
}

/// A file op timestamp as BuildKit takes it, from `seconds`: nanoseconds, or -1 ("not set")
/// for a negative value.
fn nanoseconds(seconds: i64) -> i64 {
    if seconds < 0 {
        -1
    } else {
        seconds.saturating_mul(1_000_000_000)
    }
}

#[derive(Debug, Clone)]
enum Action {
    Mkdir {
        path: String,
        mode: u32,
        parents: bool,
        owner: Option<Owner>,
    },
    Mkfile {
        path: String,
        mode: u32,
        data: Vec<u8>,
        owner: Option<Owner>,
    },
    Copy {
        from: State,
        src: String,
        dest: String,
        opts: CopyOptions,
    },
    Rm {
        path: String,
        allow_not_found: bool,
    },
    Symlink {
        target: String,
        link: String,
        owner: Option<Owner>,
        timestamp: i64,
    },
}

/// A chain of file actions applied in order to one state.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct FileActions {
    actions: Vec<Action>,
}

impl FileActions {
    /// An empty chain.
    pub fn new() -> FileActions {
        FileActions::default()
    }

    /// This chain followed by `more` (the same actions as one chain of both).
    pub fn then(mut self, mut more: FileActions) -> FileActions {
        self.actions.append(&mut more.actions);
        self
    }

    /// Creates a directory.
    pub fn mkdir(self, path: &str, mode: u32, parents: bool) -> FileActions {
        self.mkdir_owned(path, mode, parents, None)
    }

    /// Creates a directory owned by `owner` (root when `None`).
    pub fn mkdir_owned(
        mut self,
        path: &str,
        mode: u32,
        parents: bool,
        owner: Option<Owner>,
    ) -> FileActions {
        self.actions.push(Action::Mkdir {
            path: path.into(),
            mode,
            parents,
            owner,
        });
        self
    }

    /// Creates a file with `data`.
    pub fn mkfile(self, path: &str, mode: u32, data: Vec<u8>) -> FileActions {
        self.mkfile_owned(path, mode, data, None)
    }

    /// Creates a file with `data`, owned by `owner` (root when `None`).
    pub fn mkfile_owned(
        mut self,
        path: &str,
        mode: u32,
        data: Vec<u8>,
        owner: Option<Owner>,
    ) -> FileActions {
        self.actions.push(Action::Mkfile {
            path: path.into(),
            mode,
            data,
            owner,
        });
        self
    }

    /// Copies `src` of `from` to `dest`.
    pub fn copy(mut self, from: &State, src: &str, dest: &str, opts: CopyOptions) -> FileActions {
        self.actions.push(Action::Copy {
            from: from.clone(),
            src: src.into(),
            dest: dest.into(),
            opts,
        });
        self
    }

    /// Removes a path.
    pub fn rm(mut self, path: &str, allow_not_found: bool) -> FileActions {
        self.actions.push(Action::Rm {
            path: path.into(),
            allow_not_found,
        });
        self
    }

    /// Creates the symlink `link` pointing at `target` (cap `file.symlink.create`), owned by
    /// `owner` (root when `None`), with mtime `timestamp` (seconds; -1 for the time of the
    /// build). An existing `link` is an error, as BuildKit makes it.
    pub fn symlink(
        mut self,
        target: &str,
        link: &str,
        owner: Option<Owner>,
        timestamp: i64,
    ) -> FileActions {
        self.actions.push(Action::Symlink {
            target: target.into(),
            link: link.into(),
            owner,
            timestamp,
        });
        self
    }

    /// Whether the chain has no actions.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

fn index_of(inputs: &mut Vec<Output>, state: &State) -> i64 {
    let Some(out) = &state.output else { return -1 };
    match inputs.iter().position(|i| i.same_as(out)) {
        Some(i) => i as i64,
        None => {
            inputs.push(out.clone());
            inputs.len() as i64 - 1
        }
    }
}

impl State {
    /// Applies `actions` to this state, as one op named `name` in the progress.
    /// An empty chain gives this state unchanged.
    pub fn file(&self, actions: FileActions, name: &str) -> State {
        if actions.is_empty() {
            return self.clone();
        }
        let mut inputs = Vec::new();
        let base = index_of(&mut inputs, self);
        let secondaries: Vec<i64> = actions
            .actions
            .iter()
            .map(|a| match a {
                Action::Copy { from, .. } => index_of(&mut inputs, from),
                _ => -1,
            })
            .collect();
        let n = inputs.len() as i64;
        let last = actions.actions.len() - 1;
        let pb_actions = actions
            .actions
            .into_iter()
            .enumerate()
            .map(|(j, a)| {
                let action = match a {
                    Action::Mkdir {
                        path,
                        mode,
                        parents,
                        owner,
                    } => pb::file_action::Action::Mkdir(pb::FileActionMkDir {
                        path,
                        mode: mode as i32,
                        make_parents: parents,
                        owner: owner.map(Owner::to_pb),
                        timestamp: -1,
                    }),
                    Action::Mkfile {
                        path,
                        mode,
                        data,
                        owner,
                    } => pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                        path,
                        mode: mode as i32,
                        data,
                        owner: owner.map(Owner::to_pb),
                        timestamp: -1,
                    }),
                    Action::Copy {
                        src, dest, opts, ..
                    } => pb::file_action::Action::Copy(pb::FileActionCopy {
                        src,
                        dest,
                        mode: opts.mode.map_or(-1, |m| m as i32),
                        follow_symlink: opts.follow_symlink,
                        dir_copy_contents: opts.dir_copy_contents,
                        create_dest_path: opts.create_dest_path,
                        allow_wildcard: opts.allow_wildcard,
                        allow_empty_wildcard: opts.allow_empty_wildcard,
                        timestamp: nanoseconds(opts.timestamp.unwrap_or(-1)),
                        include_patterns: opts.include_patterns,
                        exclude_patterns: opts.exclude_patterns,
                        ..Default::default()
                    }),
                    Action::Rm {
                        path,
                        allow_not_found,
                    } => pb::file_action::Action::Rm(pb::FileActionRm {
                        path,
                        allow_not_found,
                        allow_wildcard: false,
                    }),
                    Action::Symlink {
                        target,
                        link,
                        owner,
                        timestamp,
                    } => pb::file_action::Action::Symlink(pb::FileActionSymlink {
                        oldpath: target,
                        newpath: link,
                        owner: owner.map(Owner::to_pb),
                        timestamp: nanoseconds(timestamp),
                    }),
                };
                pb::FileAction {
                    input: if j == 0 { base } else { n + j as i64 - 1 },
                    secondary_input: secondaries[j],
                    output: if j == last { 0 } else { -1 },
                    action: Some(action),
                }
            })
            .collect();
        let op = pb::Op {
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: pb_actions,
            })),
            ..Default::default()
        };
        let node = Node::new(op, inputs).named(name);
        State::from_output(Output { node, index: 0 }, self.platform.clone())
    }
}
