//! The spec's `build.caches` as mounts and environment of the package build: cache
//! directories, Go's build cache (added for a Go build unless disabled, as Dalec does),
//! Bazel's disk cache (and a remote cache over `--ssh bazel-default`), and sccache for Rust.

use super::Context;
use crate::distro::Distro;
use kiln_buildkit::llb::{Exec, HttpOptions, Mount, NetMode, Sharing, State};
use kiln_spec::{self as spec, Spec};

/// Where the Go build cache is mounted (`GOCACHE`).
pub const GO_BUILD_CACHE: &str = "/var/cache/kiln/go-build";
/// Where Bazel's disk cache is mounted (`--disk_cache` in the system bazelrc).
pub const BAZEL_CACHE: &str = "/var/cache/kiln/bazel";
/// Where the `bazel-default` SSH socket (a remote cache) is forwarded.
pub const BAZEL_SOCKET: &str = "/run/kiln/bazel-remote.sock";
/// The `--ssh` id of Bazel's remote cache, Dalec's.
pub const BAZEL_SOCKET_ID: &str = "bazel-default";
/// Bazel's system rc file, which kiln writes for the build.
const BAZELRC: &str = "/etc/bazel.bazelrc";
/// Where sccache keeps its cache (`SCCACHE_DIR`).
pub const SCCACHE_DIR: &str = "/var/cache/kiln/sccache";
/// Where a downloaded sccache is mounted (`RUSTC_WRAPPER`).
pub const SCCACHE_BIN: &str = "/usr/local/libexec/kiln/sccache";
/// The sccache release kiln downloads when the build dependencies have none: Dalec's pin.
const SCCACHE_VERSION: &str = "v0.10.0";

/// Adds every cache of the spec's `build.caches` to the package build `exec` run on
/// `builder`; a Go build (a `golang*` build dependency or a `gomod` generator) gets Go's
/// build cache even when the spec declares none, as in Dalec.
pub fn add(
    mut exec: Exec,
    builder: &State,
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, (String, spec::Pos)> {
    let caches = spec.build.as_ref().map_or(&[][..], |b| &b.caches[..]);
    let namespace = format!(
        "{}-{}-{}",
        distro.key,
        ctx.platform().os,
        ctx.platform().architecture
    );
    let scoped = |scope: &Option<String>| {
        scope
            .as_deref()
            .map(|s| format!("{namespace}-{s}"))
            .unwrap_or_else(|| namespace.clone())
    };
    for c in caches {
        if let Some(d) = &c.dir {
            let key = d
                .key
                .as_ref()
                .map_or(d.dest.value.as_str(), |k| k.value.as_str());
            let id = if d.no_auto_namespace {
                key.to_string()
            } else {
                format!("{namespace}-{key}")
            };
            let sharing = match d.sharing() {
                spec::Sharing::Private => Sharing::Private,
                spec::Sharing::Locked => Sharing::Locked,
                spec::Sharing::Shared => Sharing::Shared,
            };
            exec = exec.mount(Mount::cache(&d.dest.value, &id, sharing));
        }
        if let Some(g) = &c.gobuild
            && !g.disabled
        {
            exec = go_build_cache(exec, &scoped(&g.scope));
        }
        if let Some(b) = &c.bazel {
            exec = bazel(exec, builder, &scoped(&b.scope), distro);
        }
        if let Some(r) = &c.rustsccache {
            exec = sccache(exec, builder, &scoped(&r.scope), spec, distro, ctx)
                .map_err(|message| (message, c.pos))?;
        }
    }
    if !caches.iter().any(|c| c.gobuild.is_some()) && builds_go(spec) {
        exec = go_build_cache(exec, &namespace);
    }
    Ok(exec)
}

/// Whether the spec builds Go, by Dalec's rule: a build dependency `golang`, `msft-golang`
/// or `golang-*`, or a `gomod` generator.
fn builds_go(spec: &Spec) -> bool {
    build_dependencies(spec)
        .any(|name| name == "golang" || name == "msft-golang" || name.starts_with("golang-"))
        || super::generators::uses(spec, "gomod")
}

/// The names of the spec's build dependencies, in order.
pub fn build_dependencies(spec: &Spec) -> impl Iterator<Item = &str> {
    spec.dependencies
        .iter()
        .flat_map(|d| d.build.iter())
        .flat_map(|list| list.0.keys())
        .map(|name| -> &str { name })
}

/// Go's build cache, shared, as `GOCACHE`.
fn go_build_cache(exec: Exec, key: &str) -> Exec {
    exec.mount(Mount::cache(
        GO_BUILD_CACHE,
        &format!("kiln-gobuild-{key}"),
        Sharing::Shared,
    ))
    .env("GOCACHE", GO_BUILD_CACHE)
}

/// Bazel's disk cache, shared, named in a system bazelrc, and the `bazel-default` SSH socket
/// when the build forwards one (the bazelrc then names it as the remote cache).
fn bazel(exec: Exec, builder: &State, key: &str, distro: &Distro) -> Exec {
    let lines = |option: &str| format!("echo 'build {option}'; echo 'fetch {option}'");
    let script = format!(
        "set -e\n{{\n{}\nif [ -S {BAZEL_SOCKET} ]; then\n{}\nfi\n}} > /kiln-bazel/bazelrc\n",
        lines(&format!("--disk_cache={BAZEL_CACHE}")),
        lines(&format!("--remote_cache=unix:{BAZEL_SOCKET}")),
    );
    // Run on every build: whether --ssh bazel-default is given is not part of any cache key.
    // The build itself is keyed on the file's content, so it stays cached.
    let rc = builder
        .run(
            Exec::shell(script)
                .network(NetMode::None)
                .mount(Mount::ssh_optional(BAZEL_SOCKET, BAZEL_SOCKET_ID))
                .mount(Mount::bind("/kiln-bazel", State::scratch()))
                .name(format!(
                    "[kiln {}] bazelrc: the disk cache, and --ssh {BAZEL_SOCKET_ID} as the remote cache",
                    distro.key
                )),
        )
        .output("/kiln-bazel")
        .unwrap_or_default()
        .never_cached();
    exec.mount(Mount::bind(BAZELRC, rc).selector("bazelrc").readonly())
        .mount(Mount::cache(
            BAZEL_CACHE,
            &format!("kiln-bazel-{key}"),
            Sharing::Shared,
        ))
        .mount(Mount::ssh_optional(BAZEL_SOCKET, BAZEL_SOCKET_ID))
}

/// sccache as `RUSTC_WRAPPER` with a shared cache: the build dependencies' own `sccache`
/// when they have one, else Dalec's pinned release (its digest checked), for the worker's
/// architecture.
fn sccache(
    exec: Exec,
    builder: &State,
    key: &str,
    spec: &Spec,
    distro: &Distro,
    ctx: &Context,
) -> Result<Exec, String> {
    let exec = exec
        .mount(Mount::cache(
            SCCACHE_DIR,
            &format!("kiln-rustsccache-{key}"),
            Sharing::Shared,
        ))
        .env("SCCACHE_DIR", SCCACHE_DIR);
    if build_dependencies(spec).any(|name| name == "sccache") {
        return Ok(exec.env("RUSTC_WRAPPER", "sccache"));
    }
    let platform = ctx.platform();
    let (triple, digest) = match (platform.architecture.as_str(), platform.variant.as_str()) {
        ("amd64", _) => (
            "x86_64-unknown-linux-musl",
            "1fbb35e135660d04a2d5e42b59c7874d39b3deb17de56330b25b713ec59f849b",
        ),
        ("arm64", _) => (
            "aarch64-unknown-linux-musl",
            "d6a1ce4acd02b937cd61bc675a8be029a60f7bc167594c33d75732bbc0a07400",
        ),
        ("arm", "v7") => (
            "armv7-unknown-linux-musleabi",
            "ab7af4e5c78aa71f38145e7bed41dd944d99ce5a00339424d927f8bbd8b61b78",
        ),
        (arch, variant) => {
            let arch = if variant.is_empty() {
                arch.to_string()
            } else {
                format!("{arch}/{variant}")
            };
            return Err(format!(
                "the rustsccache cache needs sccache, which has no {SCCACHE_VERSION} release for linux/{arch}: add sccache to dependencies.build to use the distro's"
            ));
        }
    };
    let name = format!("sccache-{SCCACHE_VERSION}-{triple}");
    let download = State::http(
        &format!(
            "https://github.com/mozilla/sccache/releases/download/{SCCACHE_VERSION}/{name}.tar.gz"
        ),
        HttpOptions {
            checksum: Some(format!("sha256:{digest}")),
            filename: Some("sccache.tar.gz".into()),
            ..Default::default()
        },
    );
    let unpacked = builder
        .run(
            Exec::shell(format!(
                "set -e\ntar -xzf /kiln-download/sccache.tar.gz -C /tmp\ninstall -m 0755 /tmp/{name}/sccache /kiln-sccache/sccache\n"
            ))
            .network(NetMode::None)
            .mount(Mount::bind("/kiln-download", download).readonly())
            .mount(Mount::bind("/kiln-sccache", State::scratch()))
            .name(format!(
                "[kiln {}] sccache {SCCACHE_VERSION} for the rustsccache cache",
                distro.key
            )),
        )
        .output("/kiln-sccache")
        .unwrap_or_default();
    Ok(exec
        .mount(
            Mount::bind(SCCACHE_BIN, unpacked)
                .selector("sccache")
                .readonly(),
        )
        .env("RUSTC_WRAPPER", SCCACHE_BIN))
}
