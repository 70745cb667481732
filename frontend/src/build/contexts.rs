//! Named build contexts (`--build-context NAME=VALUE`) that stand in for images kiln would
//! otherwise pull, under Dalec's names:
//!
//! - `dalec-<key>-worker` (e.g. `dalec-bookworm-worker`): a complete build worker, used as it
//!   is (the packaging tools are not installed again);
//! - the distro image's name (`debian:bookworm`, or in full `docker.io/library/debian:bookworm`):
//!   the image the worker is made from (the packaging tools are installed on top).
//!
//! - `<key>-pkg`, then `pkg` (e.g. `--build-context bookworm-pkg=out/`): packages built (and
//!   perhaps signed) earlier, which the container route installs instead of building them.
//!
//! As in Dalec (and BuildKit's Dockerfile frontend), `NAME::os/arch` is looked up before `NAME`,
//! so a multi-platform build can take a context per platform. The container route's base
//! stays the distro image, as in Dalec.

use crate::distro::Distro;
use kiln_buildkit::llb::{LocalOptions, State};
use kiln_buildkit::options::BuildOpts;
use kiln_buildkit::pb;

/// A replacement for the build worker.
#[derive(Debug, Clone)]
pub enum Worker {
    /// A complete worker, used as it is.
    Complete(State),
    /// The image to make the worker from.
    Base(State),
}

/// Docker's short name of an image reference: `docker.io/library/debian:bookworm` is
/// `debian:bookworm`, `docker.io/org/x:1` is `org/x:1`.
pub fn familiar(reference: &str) -> &str {
    let short = reference.strip_prefix("docker.io/").unwrap_or(reference);
    short.strip_prefix("library/").unwrap_or(short)
}

/// The named context `name` for `platform`: its option key (for messages) and value.
fn lookup<'a>(
    opts: &'a BuildOpts,
    name: &str,
    platform: &pb::Platform,
) -> Option<(String, &'a str)> {
    let mut id = format!("{}/{}", platform.os, platform.architecture);
    if !platform.variant.is_empty() {
        id = format!("{id}/{}", platform.variant);
    }
    [format!("{name}::{id}"), name.to_string()]
        .into_iter()
        .find_map(|key| opts.named_context(&key).map(|v| (key, v)))
}

/// The state a named context's value gives for `role` (named in messages and progress):
/// `docker-image://REF`, a state the client passed (`input:NAME`, e.g. bake's `target:`), or
/// with `directories` also a client directory (`local:NAME`).
fn context_state(
    opts: &BuildOpts,
    (key, value): (String, &str),
    platform: &pb::Platform,
    resolve_mode: Option<&str>,
    role: &str,
    directories: bool,
) -> Result<State, String> {
    let name = format!("[kiln] {role} from --build-context {key}");
    if let Some(reference) = value.strip_prefix("docker-image://") {
        if reference.trim().is_empty() {
            return Err(format!(
                "--build-context {key}={value}: the image reference is empty"
            ));
        }
        return Ok(State::image(reference, platform.clone(), resolve_mode).with_custom_name(name));
    }
    // A state the client built and passed as a frontend input (bake's `target:` contexts).
    if let Some(input) = value.strip_prefix("input:") {
        let def = opts.inputs.get(input).ok_or_else(|| {
            format!("--build-context {key}={value}: the client passed no input {input:?}")
        })?;
        return State::from_definition(def)
            .map(|s| s.with_custom_name(name))
            .map_err(|e| format!("--build-context {key}={value}: {e}"));
    }
    if let Some(dir) = value.strip_prefix("local:").filter(|_| directories) {
        let o = LocalOptions {
            session_id: opts.session_for_local(dir),
            shared_key_hint: Some(format!("kiln-context-{key}")),
            ..Default::default()
        };
        return Ok(State::local(dir, o).with_custom_name(name));
    }
    let allowed = if directories {
        "a directory, an image (docker-image://REF) or a bake target (target:NAME)"
    } else {
        "an image (docker-image://REF) or a bake target (target:NAME)"
    };
    Err(format!(
        "--build-context {key}={value}: {role} must be {allowed}"
    ))
}

/// How the request gives a build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given<'a> {
    /// A directory of the client, by its local name (`context` is always one).
    Directory(String),
    /// Some other value (`docker-image://REF`, `input:NAME`, a URL).
    Other(&'a str),
    /// Not given.
    Missing,
}

/// How the request gives the build context `name`: `context` is the main context, a directory;
/// other names are `--build-context` options.
pub fn given<'a>(opts: &'a BuildOpts, name: &str) -> Given<'a> {
    if name == "context" {
        return Given::Directory("context".to_string());
    }
    match opts.named_context(name) {
        Some(v) => match v.strip_prefix("local:") {
            Some(dir) => Given::Directory(dir.to_string()),
            None => Given::Other(v),
        },
        None => Given::Missing,
    }
}

/// The state of a named context whose value is an image or a bake target (`docker-image://`,
/// `input:`), for a `context:` source; `None` for other values (a local directory is
/// transferred by the caller, with its filters).
pub fn image_or_target(
    opts: &BuildOpts,
    key: &str,
    value: &str,
    platform: &pb::Platform,
    resolve_mode: Option<&str>,
) -> Option<Result<State, String>> {
    (value.starts_with("docker-image://") || value.starts_with("input:")).then(|| {
        context_state(
            opts,
            (key.to_string(), value),
            platform,
            resolve_mode,
            &format!("build context {key}"),
            false,
        )
    })
}

/// The image a named context names (`docker-image://REF`), when it is given.
fn image(
    opts: &BuildOpts,
    name: &str,
    platform: &pb::Platform,
    resolve_mode: Option<&str>,
    role: &str,
) -> Result<Option<State>, String> {
    lookup(opts, name, platform)
        .map(|found| context_state(opts, found, platform, resolve_mode, role, false))
        .transpose()
}

/// The prebuilt packages the request gives for `distro`'s container route, if any: a directory
/// of the client (`--build-context bookworm-pkg=out/`) or an image's root (`docker-image://`).
pub fn prebuilt_packages(
    opts: &BuildOpts,
    distro: &Distro,
    platform: &pb::Platform,
    resolve_mode: Option<&str>,
) -> Result<Option<State>, String> {
    [format!("{}-pkg", distro.key), "pkg".to_string()]
        .iter()
        .find_map(|n| lookup(opts, n, platform))
        .map(|found| {
            context_state(
                opts,
                found,
                platform,
                resolve_mode,
                "prebuilt packages",
                true,
            )
        })
        .transpose()
}

/// The worker replacement the request gives for `distro`, if any.
pub fn worker(
    opts: &BuildOpts,
    distro: &Distro,
    platform: &pb::Platform,
    resolve_mode: Option<&str>,
) -> Result<Option<Worker>, String> {
    let complete = format!("dalec-{}-worker", distro.key);
    if let Some(state) = image(opts, &complete, platform, resolve_mode, "the worker")? {
        return Ok(Some(Worker::Complete(state)));
    }
    for name in [familiar(distro.image), distro.image] {
        if let Some(state) = image(opts, name, platform, resolve_mode, "the worker's base")? {
            return Ok(Some(Worker::Base(state)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_buildkit::llb::definition_to_json;

    fn opts(contexts: &[(&str, &str)]) -> BuildOpts {
        let mut o = BuildOpts::default();
        for (k, v) in contexts {
            o.opts.insert(format!("context:{k}"), v.to_string());
        }
        o
    }

    fn platform(arch: &str) -> pb::Platform {
        pb::Platform {
            os: "linux".into(),
            architecture: arch.into(),
            ..Default::default()
        }
    }

    fn identifier(state: &State) -> String {
        let json = definition_to_json(&state.marshal()).to_string();
        let start = json.find("docker-image://").unwrap_or(0);
        json[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn short_names() {
        assert_eq!(
            familiar("docker.io/library/debian:bookworm"),
            "debian:bookworm"
        );
        assert_eq!(familiar("docker.io/org/x:1"), "org/x:1");
        assert_eq!(familiar("ghcr.io/org/x:1"), "ghcr.io/org/x:1");
    }

    #[test]
    fn workers_come_from_dalecs_context_names() {
        let bookworm = crate::distro::find("bookworm").unwrap();
        let amd64 = platform("amd64");
        assert!(
            worker(&opts(&[]), bookworm, &amd64, None)
                .unwrap()
                .is_none()
        );

        let o = opts(&[("debian:bookworm", "docker-image://example.org/debian:12")]);
        match worker(&o, bookworm, &amd64, None).unwrap() {
            Some(Worker::Base(s)) => {
                assert_eq!(identifier(&s), "docker-image://example.org/debian:12")
            }
            other => panic!("{other:?}"),
        }

        // The complete worker wins; a per-platform context wins over the plain one.
        let o = opts(&[
            ("debian:bookworm", "docker-image://example.org/debian:12"),
            (
                "dalec-bookworm-worker",
                "docker-image://example.org/worker:any",
            ),
            (
                "dalec-bookworm-worker::linux/386",
                "docker-image://example.org/worker:386",
            ),
        ]);
        match worker(&o, bookworm, &amd64, None).unwrap() {
            Some(Worker::Complete(s)) => {
                assert_eq!(identifier(&s), "docker-image://example.org/worker:any")
            }
            other => panic!("{other:?}"),
        }
        match worker(&o, bookworm, &platform("386"), None).unwrap() {
            Some(Worker::Complete(s)) => {
                assert_eq!(identifier(&s), "docker-image://example.org/worker:386")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prebuilt_packages_come_from_key_pkg_then_pkg() {
        let bookworm = crate::distro::find("bookworm").unwrap();
        let amd64 = platform("amd64");
        let found = |contexts: &[(&str, &str)]| {
            prebuilt_packages(&opts(contexts), bookworm, &amd64, None)
                .map(|s| s.map(|s| definition_to_json(&s.marshal()).to_string()))
        };
        assert_eq!(found(&[]), Ok(None));
        let json = found(&[("pkg", "local:a"), ("bookworm-pkg", "local:b")])
            .unwrap()
            .unwrap();
        assert!(json.contains("local://b"), "{json}");
        let json = found(&[("pkg", "docker-image://example.org/pkgs:1")])
            .unwrap()
            .unwrap();
        assert!(json.contains("docker-image://example.org/pkgs:1"), "{json}");
        assert_eq!(
            found(&[("pkg", "https://example.org/x.tar")]),
            Err("--build-context pkg=https://example.org/x.tar: prebuilt packages must be a directory, an image (docker-image://REF) or a bake target (target:NAME)".to_string())
        );
    }

    #[test]
    fn bake_targets_come_as_frontend_inputs() {
        let bookworm = crate::distro::find("bookworm").unwrap();
        let mut o = opts(&[("dalec-bookworm-worker", "input:worker")]);
        let e = worker(&o, bookworm, &platform("amd64"), None).unwrap_err();
        assert_eq!(
            e,
            "--build-context dalec-bookworm-worker=input:worker: the client passed no input \"worker\""
        );
        let given = State::image("example.org/worker:1", platform("amd64"), None);
        o.inputs.insert("worker".into(), given.marshal());
        match worker(&o, bookworm, &platform("amd64"), None).unwrap() {
            Some(Worker::Complete(s)) => {
                assert_eq!(identifier(&s), "docker-image://example.org/worker:1")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_worker_must_be_an_image() {
        let bookworm = crate::distro::find("bookworm").unwrap();
        let e = worker(
            &opts(&[("dalec-bookworm-worker", "local:worker")]),
            bookworm,
            &platform("amd64"),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "--build-context dalec-bookworm-worker=local:worker: the worker must be an image (docker-image://REF) or a bake target (target:NAME)"
        );
    }
}
