//! Spec sources to LLB.
//!
//! [`fetch`] gives the state of a source on its own (a directory, or a single file named by
//! the source key); [`place`] copies it into the build root under its key, applying `path`,
//! `includes` and `excludes`; [`mount`] mounts it for a command.
//!
//! **Architecture Invariant:** the LLB of a source does not depend on the target, so a source
//! is fetched once per build however many targets use it.

use crate::build::contexts::Given;
use crate::shell::quote;
use crate::spec::{InlineFile, Located, Mode, Pos, Source, SourceKind, SourceMount, SpecError};
use kiln_buildkit::llb::{
    CopyOptions, Exec, FileActions, GitOptions, HttpOptions, LocalOptions, Mount, Owner, State,
};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;
use std::collections::BTreeMap;

/// What sources need from the request: the session, named contexts and the platform.
pub struct SourceInputs<'a> {
    /// Build options (session id, `context:NAME` options, image resolve mode).
    pub opts: &'a BuildOpts,
    /// The spec's file name, for errors.
    pub file: &'a str,
    /// The spec's text, for errors.
    pub text: &'a str,
    /// The platform image sources are pulled for.
    pub platform: pb::Platform,
    /// Results of the spec's Dockerfile `build` sources, by source key (the frontend runs
    /// those builds before planning; offline there are none).
    pub built: &'a BTreeMap<String, State>,
    /// Excluded from every directory source, relative to its root (Dalec's global source
    /// filter, `DALEC_SOURCE_FILTER_CONFIG_PATH`).
    pub global_excludes: &'a [String],
    /// An image with a shell for kiln's own source steps (the distro's image).
    pub tool_image: &'a str,
}

impl SourceInputs<'_> {
    /// An error at `pos` in the spec.
    pub fn error(&self, pos: Pos, message: String) -> SpecError {
        SpecError::at(self.file, self.text, pos, message)
    }
}

/// A source on its own.
pub struct Fetched {
    /// Its state.
    pub state: State,
    /// For a single-file source: the file's name at the root of `state`.
    pub file_name: Option<String>,
}

fn owner(uid: Option<u32>, gid: Option<u32>) -> Option<Owner> {
    (uid.is_some() || gid.is_some()).then(|| Owner {
        uid: uid.unwrap_or(0),
        gid: gid.unwrap_or(0),
    })
}

fn mode(field: &Option<Located<Mode>>, default: u32) -> u32 {
    field.as_ref().map_or(default, |m| m.value.0)
}

fn inline_file(files: FileActions, path: &str, f: &InlineFile) -> FileActions {
    files.mkfile_owned(
        path,
        mode(&f.permissions, 0o644),
        f.contents.clone().into_bytes(),
        owner(f.uid, f.gid),
    )
}

/// A git checkout (with `.git`) whose commit is checked against `checksum` in a step of
/// kiln's own, on the distro image (a shell is all it needs), then copied without `.git`
/// unless the spec keeps it; a mismatch points at the source's `lines`.
fn checked_checkout(
    checkout: State,
    key: &str,
    checksum: &str,
    keep_git_dir: bool,
    inp: &SourceInputs,
    lines: (u32, u32),
) -> State {
    const REPO: &str = "/run/kiln/repo";
    let script = format!(
        "set -e\ncd {REPO}\nhead=$(cat .git/HEAD)\ncase $head in\n  'ref: '*)\n    ref=${{head#ref: }}\n    if [ -f \".git/$ref\" ]; then head=$(cat \".git/$ref\"); else head=$(grep \" $ref\\$\" .git/packed-refs | cut -d' ' -f1); fi ;;\nesac\ncase $head in\n  {}*) ;;\n  *) echo {} \"$head\" >&2; exit 1 ;;\nesac\n",
        quote(checksum),
        quote(&format!(
            "kiln: git source {key}: the checksum {checksum} does not match the commit checked out:"
        )),
    );
    // The checkout as the check's writable mount: its output is the checkout, once checked.
    let checked = State::image(
        inp.tool_image,
        inp.platform.clone(),
        inp.opts.image_resolve_mode(),
    )
    .run(
        Exec::shell(script)
            .mount(Mount::bind(REPO, checkout))
            .network(kiln_buildkit::llb::NetMode::None)
            .name(format!("[kiln] check the commit of git source {key}")),
    )
    .output(REPO)
    .unwrap_or_default()
    .with_location(lines.0, lines.1);
    let opts = CopyOptions {
        dir_copy_contents: true,
        exclude_patterns: if keep_git_dir {
            vec![]
        } else {
            vec![".git".to_string()]
        },
        ..Default::default()
    };
    State::scratch().file(
        FileActions::new().copy(&checked, "/", "/", opts),
        &format!("[kiln] git source {key} at its checked commit"),
    )
}

/// The state of a build context (`context` or a `--build-context` name).
fn context_state(
    name: &str,
    pos: Pos,
    inp: &SourceInputs,
    include: Vec<String>,
    exclude: Vec<String>,
) -> Result<State, SpecError> {
    let local_name = match crate::build::contexts::given(inp.opts, name) {
        Given::Directory(dir) => dir,
        Given::Other(v) => {
            let resolve_mode = inp.opts.image_resolve_mode();
            let Some(state) = crate::build::contexts::image_or_target(
                inp.opts,
                name,
                v,
                &inp.platform,
                resolve_mode,
            ) else {
                return Err(inp.error(pos, format!("build context {name:?} is {v:?}: a context source takes a directory, an image (docker-image://REF) or a bake target (target:NAME)")));
            };
            let state = state.map_err(|e| inp.error(pos, e))?;
            // A local directory is filtered during its transfer; these are filtered here.
            if include.is_empty() && exclude.is_empty() {
                return Ok(state);
            }
            let opts = CopyOptions {
                dir_copy_contents: true,
                include_patterns: include,
                exclude_patterns: exclude,
                ..Default::default()
            };
            return Ok(State::scratch().file(
                FileActions::new().copy(&state, "/", "/", opts),
                &format!("[kiln] filter build context {name}"),
            ));
        }
        Given::Missing => {
            return Err(inp.error(
                pos,
                format!("build context {name:?} was not given: pass --build-context {name}=<dir>"),
            ));
        }
    };
    let o = LocalOptions {
        session_id: inp.opts.session_for_local(&local_name),
        include_patterns: include,
        exclude_patterns: exclude,
        shared_key_hint: Some(format!("kiln-context-{name}")),
        ..Default::default()
    };
    Ok(State::local(&local_name, o).with_custom_name(format!("[kiln] load build context {name}")))
}

fn sub_path(src: &Source) -> Option<String> {
    src.path
        .as_ref()
        .map(|p| p.value.trim_matches('/').to_string())
        .filter(|p| !p.is_empty())
}

/// The state of source `key` on its own.
pub fn fetch(key: &str, src: &Located<Source>, inp: &SourceInputs) -> Result<Fetched, SpecError> {
    let s = &src.value;
    let dir = |state: State| {
        Ok(Fetched {
            state,
            file_name: None,
        })
    };
    // Validation gave every source exactly one kind.
    let kind = s.kind();
    if let Some(SourceKind::Http(http)) = kind {
        let url = &http.url.value;
        let state = State::http(
            url,
            HttpOptions {
                checksum: http.digest.as_ref().map(|d| d.value.clone()),
                filename: Some(key.to_string()),
                permissions: http.permissions.as_ref().map(|p| p.value.0),
            },
        )
        .with_custom_name(format!("[kiln] fetch {url}"))
        .with_location(
            http.url.pos.line,
            http.digest
                .as_ref()
                .map_or(http.url.pos.line, |d| d.pos.line),
        );
        return Ok(Fetched {
            state,
            file_name: Some(key.to_string()),
        });
    }
    if let Some(SourceKind::Context(ctx)) = kind {
        let name = ctx
            .name
            .as_ref()
            .map(|n| n.value.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("context");
        // Transfer only what the source uses: its path, filtered.
        let sub = sub_path(s);
        let prefixed = |pats: &[Located<String>]| -> Vec<String> {
            pats.iter()
                .map(|p| match &sub {
                    Some(sub) => format!("{sub}/{}", p.value.trim_start_matches('/')),
                    None => p.value.clone(),
                })
                .collect()
        };
        let mut include = prefixed(&s.includes);
        if include.is_empty()
            && let Some(sub) = &sub
        {
            include.push(sub.clone());
        }
        let mut exclude = prefixed(&s.excludes);
        exclude.extend(inp.global_excludes.iter().map(|p| match &sub {
            Some(sub) => format!("{sub}/{}", p.trim_start_matches('/')),
            None => p.clone(),
        }));
        return dir(context_state(
            name,
            ctx.name.as_ref().map(|n| n.pos).unwrap_or(src.pos),
            inp,
            include,
            exclude,
        )?);
    }
    if let Some(SourceKind::Git(git)) = kind {
        let g = &git;
        let auth = g.auth.clone().unwrap_or_default();
        let checksum = g.checksum.as_ref().map(|c| c.value.to_ascii_lowercase());
        // Engines before BuildKit v0.23 cannot check it: kiln's own step does, on a
        // checkout that keeps `.git`.
        let own_check = checksum.is_some() && !inp.opts.llb_cap("source.git.checksum");
        let o = GitOptions {
            keep_git_dir: g.keep_git_dir || own_check,
            auth_token_secret: auth.token,
            auth_header_secret: auth.header,
            ssh_id: auth.ssh,
            checksum: checksum.clone().filter(|_| !own_check),
        };
        let commit = g.commit.as_ref().map_or("", |c| c.value.as_str());
        let lines = (
            g.url.pos.line,
            [g.commit.as_ref(), g.checksum.as_ref()]
                .into_iter()
                .flatten()
                .map(|c| c.pos.line)
                .max()
                .unwrap_or(g.url.pos.line),
        );
        let checkout = State::git(&g.url.value, commit, o)
            .with_custom_name(format!("[kiln] git {} {commit}", g.url.value))
            .with_location(lines.0, lines.1);
        return match checksum.filter(|_| own_check) {
            Some(sum) => dir(checked_checkout(
                checkout,
                key,
                &sum,
                g.keep_git_dir,
                inp,
                lines,
            )),
            None => dir(checkout),
        };
    }
    if let Some(SourceKind::Inline(inline)) = kind {
        if let Some(f) = &inline.file {
            let files = inline_file(FileActions::new(), &format!("/{key}"), f);
            let state = State::scratch().file(files, &format!("[kiln] inline {key}"));
            return Ok(Fetched {
                state,
                file_name: Some(key.to_string()),
            });
        }
        if let Some(d) = &inline.dir {
            let d = &d;
            let mut files = FileActions::new().mkdir_owned(
                "/",
                mode(&d.permissions, 0o755),
                true,
                owner(d.uid, d.gid),
            );
            for (name, f) in &d.files {
                files = inline_file(files, &format!("/{name}"), f);
            }
            return dir(State::scratch().file(files, &format!("[kiln] inline {key}")));
        }
    }
    if let Some(SourceKind::Image(img)) = kind {
        let i = &img;
        let mut state = State::image(
            &i.reference.value,
            inp.platform.clone(),
            inp.opts.image_resolve_mode(),
        );
        if let Some(cmd) = &i.cmd {
            let c = &cmd;
            let mounts = mounts(&c.mounts, inp)?;
            for (n, step) in c.steps.iter().enumerate() {
                let mut exec = Exec::shell(step.command.value.clone())
                    .cwd(c.dir.as_ref().map_or("/", |d| d.value.as_str()))
                    .name(format!("[kiln] source {key}: step {}", n + 1));
                for (k, v) in c.env.iter().chain(&step.env) {
                    exec = exec.env(k, &v.value);
                }
                for m in mounts
                    .iter()
                    .cloned()
                    .chain(self::mounts(&step.mounts, inp)?)
                {
                    exec = exec.mount(m);
                }
                let lines = step.command.value.trim_end().lines().count().max(1) as u32;
                state = state
                    .run(exec)
                    .root()
                    .with_location(step.command.pos.line, step.command.pos.line + lines - 1);
            }
        }
        return dir(state);
    }
    if let Some(SourceKind::Build(_)) = kind {
        return match inp.built.get(key) {
            Some(state) => dir(state.clone()),
            None => Err(inp.error(
                src.pos,
                format!("source {key:?} is a Dockerfile build: it needs a BuildKit engine (run it with docker build)"),
            )),
        };
    }
    Err(inp.error(src.pos, format!("source {key:?} has no kind")))
}

/// Read-only mounts of sources at their destinations.
pub fn mounts(list: &[SourceMount], inp: &SourceInputs) -> Result<Vec<Mount>, SpecError> {
    list.iter().map(|m| mount(m, inp)).collect()
}

/// A read-only mount of a source at its destination.
pub fn mount(m: &SourceMount, inp: &SourceInputs) -> Result<Mount, SpecError> {
    let key = m
        .dest
        .value
        .trim_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("mount")
        .to_string();
    let f = fetch(&key, &m.spec, inp)?;
    let selector = match (&f.file_name, sub_path(&m.spec.value)) {
        (Some(name), _) => format!("/{name}"),
        (None, Some(sub)) => format!("/{sub}"),
        (None, None) => String::new(),
    };
    let mount = Mount::bind(&m.dest.value, f.state).readonly();
    Ok(if selector.is_empty() {
        mount
    } else {
        mount.selector(&selector)
    })
}

/// Adds the actions that place source `key` at `<root>/<key>` to `files`.
pub fn place(
    files: FileActions,
    root: &str,
    key: &str,
    src: &Located<Source>,
    inp: &SourceInputs,
) -> Result<FileActions, SpecError> {
    let f = fetch(key, src, inp)?;
    let dest = format!("{root}/{key}");
    if let Some(name) = &f.file_name {
        return Ok(files.copy(&f.state, &format!("/{name}"), &dest, CopyOptions::default()));
    }
    let s = &src.value;
    let from = sub_path(s)
        .map(|p| format!("/{p}"))
        .unwrap_or_else(|| "/".to_string());
    // Context sources are filtered during the transfer.
    let filtered = !matches!(s.kind(), Some(SourceKind::Context(_)));
    let opts = CopyOptions {
        dir_copy_contents: true,
        create_dest_path: true,
        include_patterns: if filtered {
            s.includes.iter().map(|p| p.value.clone()).collect()
        } else {
            vec![]
        },
        exclude_patterns: if filtered {
            s.excludes
                .iter()
                .map(|p| p.value.clone())
                .chain(inp.global_excludes.iter().cloned())
                .collect()
        } else {
            vec![]
        },
        ..Default::default()
    };
    Ok(files
        .mkdir(&dest, 0o755, true)
        .copy(&f.state, &from, &dest, opts))
}
