//! `build.caches` that need a tool's help: Bazel's disk cache (kept across builds, named in
//! the system bazelrc, with `--ssh bazel-default` as the remote cache) and sccache (Debian's,
//! whose cache a second build hits).

#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use kiln_e2e::*;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A cache scope no earlier run of this test used (the engine keeps cache mounts). BuildKit
/// leaves cache ids out of its cache keys, so the specs also put it in `build.env`: else an
/// earlier run's results would come from the cache without touching this scope.
fn fresh_scope() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("e2e-{nanos}")
}

/// Builds `spec_text` for `target` with `extra` arguments; returns the output directory
/// and the log (the build must succeed).
fn build_ok(spec_text: &str, target: &str, extra: &[&str]) -> (tempfile::TempDir, String) {
    let (dir, spec) = spec_in_tempdir(spec_text);
    let (out, o) = build_into(&spec, target, dir.path(), extra);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    (out, log)
}

/// The text of `/usr/share/doc/<package>/<file>` in the package's `.deb` in `out`.
fn doc(out: &Path, package: &str, file: &str) -> String {
    let deb = deb_of(out, package, "1.0");
    let unpacked = tempfile::tempdir().unwrap();
    let o = run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(out.join(&deb))
        .arg(unpacked.path()));
    assert!(o.status.success(), "{}", text(&o));
    let path = unpacked
        .path()
        .join(format!("usr/share/doc/{package}/{file}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bazel_spec(scope: &str, run: &str) -> String {
    format!(
        r#"# syntax=kiln/frontend:dev
name: kiln-bazel-cache
version: "1.0"
revision: "1"
license: MIT
packager: kiln e2e <e2e@example.invalid>
description: What a build with a bazel cache sees
build:
  env:
    RUN: "{run}"
    SCOPE: {scope}
  caches:
    - bazel:
        scope: {scope}
  steps:
    - command: |
        cp /etc/bazel.bazelrc bazelrc.txt
        ls /var/cache/kiln/bazel > seen.txt
        touch /var/cache/kiln/bazel/from-run-$RUN
        if [ -S /run/kiln/bazel-remote.sock ]; then echo forwarded; else echo absent; fi > socket.txt
artifacts:
  docs:
    bazelrc.txt: {{}}
    seen.txt: {{}}
    socket.txt: {{}}
"#
    )
}

#[test]
fn the_bazel_cache_outlives_a_build_and_the_remote_cache_is_named_only_when_forwarded() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let scope = fresh_scope();
    let disk_only =
        "build --disk_cache=/var/cache/kiln/bazel\nfetch --disk_cache=/var/cache/kiln/bazel\n";
    let (out, _) = build_ok(&bazel_spec(&scope, "1"), "bookworm/deb", &[]);
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "bazelrc.txt"),
        disk_only
    );
    assert_eq!(doc(out.path(), "kiln-bazel-cache", "seen.txt"), "");
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "socket.txt"),
        "absent\n"
    );

    // A second build sees the first one's file; with --ssh bazel-default, the socket and
    // the bazelrc lines that name it as the remote cache.
    let agent = SshAgent::start();
    let ssh = format!("bazel-default={}", agent.socket().display());
    let (out, _) = build_ok(&bazel_spec(&scope, "2"), "bookworm/deb", &["--ssh", &ssh]);
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "bazelrc.txt"),
        format!(
            "{disk_only}build --remote_cache=unix:/run/kiln/bazel-remote.sock\nfetch --remote_cache=unix:/run/kiln/bazel-remote.sock\n"
        )
    );
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "seen.txt"),
        "from-run-1\n"
    );
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "socket.txt"),
        "forwarded\n"
    );
    drop(agent);

    // The first spec again, without --ssh: the first build's result, from the cache (the
    // bazelrc is made anew and is the same), not the second's remote cache settings.
    let (out, log) = build_ok(&bazel_spec(&scope, "1"), "bookworm/deb", &[]);
    assert_eq!(
        doc(out.path(), "kiln-bazel-cache", "bazelrc.txt"),
        disk_only
    );
    let uncached = uncached_kiln_steps(&log);
    assert!(
        !uncached.iter().any(|s| s.contains("dpkg-buildpackage")),
        "{uncached:?}"
    );
}

fn sccache_spec(scope: &str, run: &str) -> String {
    format!(
        r#"# syntax=kiln/frontend:dev
name: kiln-sccache-demo
version: "1.0"
revision: "1"
license: MIT
packager: kiln e2e <e2e@example.invalid>
description: A Rust program built through sccache
dependencies:
  build:
    cargo:
    sccache:
sources:
  src:
    inline:
      dir:
        files:
          Cargo.toml:
            contents: |
              [package]
              name = "greet"
              version = "0.1.0"
              edition = "2021"

              [lib]
              path = "lib.rs"

              [[bin]]
              name = "greet"
              path = "main.rs"
          lib.rs:
            contents: |
              pub fn greeting() -> &'static str {{
                  "Hello from a cached crate"
              }}
          main.rs:
            contents: |
              fn main() {{
                  println!("{{}}", greet::greeting());
              }}
build:
  env:
    RUN: "{run}"
    SCOPE: {scope}
    CARGO_HOME: /tmp/cargo-home
  caches:
    - rustsccache:
        scope: {scope}
  steps:
    - command: |
        cd src
        cargo build --release --offline
        sccache --show-stats > ../stats.txt
        cp target/release/greet ../greet
artifacts:
  binaries:
    greet: {{}}
  docs:
    stats.txt: {{}}
"#
    )
}

/// The number on the `Cache hits` line of `sccache --show-stats`.
fn cache_hits(stats: &str) -> u32 {
    stats
        .lines()
        .find_map(|l| l.strip_prefix("Cache hits "))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Cache hits line in:\n{stats}"))
}

#[test]
fn a_second_rust_build_hits_the_sccache_cache_of_the_first() {
    if !engine_ready() || !image_ready("kiln/frontend:dev", "image") {
        return;
    }
    let scope = fresh_scope();
    let (first, _) = build_ok(&sccache_spec(&scope, "1"), "trixie/deb", &[]);
    let stats = doc(first.path(), "kiln-sccache-demo", "stats.txt");
    assert_eq!(cache_hits(&stats), 0, "{stats}");
    let (second, _) = build_ok(&sccache_spec(&scope, "2"), "trixie/deb", &[]);
    let stats = doc(second.path(), "kiln-sccache-demo", "stats.txt");
    assert!(cache_hits(&stats) >= 1, "{stats}");

    let deb = deb_of(second.path(), "kiln-sccache-demo", "1.0");
    let o = install_and_run(second.path(), "trixie", &deb, "greet");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Hello from a cached crate\n",
        "{}",
        text(&o)
    );
}
