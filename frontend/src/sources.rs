//! Spec sources to LLB: each source becomes file actions that place it in the build root
//! under its key (a directory for directory sources, a file for file sources).
//!
//! **Architecture Invariant:** the LLB of a source does not depend on the target, so a source
//! is fetched once per build however many targets use it.

use crate::spec::{ContextSource, Located, Source, SpecError, parse_mode};
use kiln_buildkit::llb::{CopyOptions, FileActions, HttpOptions, LocalOptions, Owner, State};
use kiln_buildkit::options::BuildOpts;

/// What sources need from the request: the session and the named contexts.
pub struct SourceInputs<'a> {
    /// Build options (session id, `context:NAME` options).
    pub opts: &'a BuildOpts,
    /// The spec's file name, for errors.
    pub file: &'a str,
    /// The spec's text, for errors.
    pub text: &'a str,
}

fn owner(uid: Option<u32>, gid: Option<u32>) -> Option<Owner> {
    (uid.is_some() || gid.is_some()).then(|| Owner {
        uid: uid.unwrap_or(0),
        gid: gid.unwrap_or(0),
    })
}

fn mode(field: &Option<Located<String>>, default: u32) -> u32 {
    field
        .as_ref()
        .and_then(|m| parse_mode(&m.value))
        .unwrap_or(default)
}

/// The state of a build context (`context` or a `--build-context` name), transferring only
/// what `include`/`exclude` select.
fn context_state(
    name: &str,
    at: &Located<ContextSource>,
    include: Vec<String>,
    exclude: Vec<String>,
    inp: &SourceInputs,
) -> Result<State, SpecError> {
    let local_name = if name == "context" {
        "context".to_string()
    } else {
        match inp.opts.named_context(name) {
            Some(v) => match v.strip_prefix("local:") {
                Some(dir) => dir.to_string(),
                None => {
                    return Err(SpecError::at(
                        inp.file,
                        inp.text,
                        at.referenced,
                        format!(
                            "build context {name:?} is {v:?}: only local directories are supported as context sources yet"
                        ),
                    ));
                }
            },
            None => {
                return Err(SpecError::at(
                    inp.file,
                    inp.text,
                    at.referenced,
                    format!(
                        "build context {name:?} was not given: pass --build-context {name}=<dir>"
                    ),
                ));
            }
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

/// Adds the actions that place source `key` at `<root>/<key>` to `files`.
pub fn place(
    files: FileActions,
    root: &str,
    key: &str,
    src: &Located<Source>,
    inp: &SourceInputs,
) -> Result<FileActions, SpecError> {
    let s = &src.value;
    let dest = format!("{root}/{key}");
    if let Some(http) = &s.http {
        let state = State::http(
            &http.value.url.value,
            HttpOptions {
                checksum: http.value.digest.as_ref().map(|d| d.value.clone()),
                filename: Some(key.to_string()),
                permissions: http
                    .value
                    .permissions
                    .as_ref()
                    .and_then(|p| parse_mode(&p.value)),
            },
        )
        .with_custom_name(format!("[kiln] fetch {}", http.value.url.value));
        return Ok(files.copy(&state, &format!("/{key}"), &dest, CopyOptions::default()));
    }
    if let Some(ctx) = &s.context {
        let name = ctx
            .value
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("context");
        let sub = s
            .path
            .as_ref()
            .map(|p| p.value.trim_matches('/').to_string())
            .filter(|p| !p.is_empty());
        let prefixed = |pats: &[String]| -> Vec<String> {
            pats.iter()
                .map(|p| match &sub {
                    Some(sub) => format!("{sub}/{}", p.trim_start_matches('/')),
                    None => p.clone(),
                })
                .collect()
        };
        let mut include = prefixed(&s.includes);
        if include.is_empty()
            && let Some(sub) = &sub
        {
            include.push(sub.clone());
        }
        let state = context_state(name, ctx, include, prefixed(&s.excludes), inp)?;
        let from = sub
            .map(|p| format!("/{p}"))
            .unwrap_or_else(|| "/".to_string());
        let opts = CopyOptions {
            dir_copy_contents: true,
            create_dest_path: true,
            ..Default::default()
        };
        return Ok(files
            .mkdir(&dest, 0o755, true)
            .copy(&state, &from, &dest, opts));
    }
    if let Some(inline) = &s.inline {
        if let Some(f) = &inline.value.file {
            let data = f.contents.clone().into_bytes();
            return Ok(files.mkfile_owned(
                &dest,
                mode(&f.permissions, 0o644),
                data,
                owner(f.uid, f.gid),
            ));
        }
        if let Some(d) = &inline.value.dir {
            let mut files = files.mkdir_owned(
                &dest,
                mode(&d.permissions, 0o755),
                true,
                owner(d.uid, d.gid),
            );
            for (name, f) in &d.files {
                let data = f.value.contents.clone().into_bytes();
                let path = format!("{dest}/{name}");
                files = files.mkfile_owned(
                    &path,
                    mode(&f.value.permissions, 0o644),
                    data,
                    owner(f.value.uid, f.value.gid),
                );
            }
            return Ok(files);
        }
    }
    // The validator rejects sources of other kinds before we get here.
    Err(SpecError::at(
        inp.file,
        inp.text,
        src.referenced,
        format!("source {key:?} has no supported kind"),
    ))
}
